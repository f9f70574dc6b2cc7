# Production image: the app only; PostgreSQL and Redis run as their own services (docker-compose.yml).
FROM python:3.12-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 KROI_ENV=production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/kroi-prometheus
WORKDIR /app
RUN useradd --system --create-home --home-dir /home/kroi kroi
COPY pyproject.toml requirements.lock ./
COPY kroi ./kroi
# Every package at the version and hash of the lock file (make lock; runtime with the s3 and sentry extras:
# error reports only start when KROI_SENTRY_DSN is set), then Kroi itself without resolving again.
RUN pip install --no-cache-dir --require-hashes -r requirements.lock && pip install --no-cache-dir --no-deps .
COPY alembic.ini ./
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY seed ./seed
RUN mkdir -p /app/var/media && chown -R kroi /app/var
USER kroi
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"
# --proxy-headers: client addresses come from the reverse proxy in front (set FORWARDED_ALLOW_IPS to it).
# The metrics directory is emptied before the workers start (a restarted container keeps its /tmp), so /metrics
# adds up the workers of this run only; --no-access-log: Kroi writes one line per request itself.
CMD ["sh", "-c", "mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && rm -f \"$PROMETHEUS_MULTIPROC_DIR\"/*.db && exec uvicorn kroi.app:create_app_from_env --factory --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --proxy-headers --forwarded-allow-ips ${FORWARDED_ALLOW_IPS:-127.0.0.1} --no-access-log"]

# The backup service (docker-compose.yml `backup`): the app image plus pg_dump/pg_restore of the server's major
# version from the PostgreSQL project's apt repository (Debian's own client can be older than the server, and
# pg_dump refuses to dump a newer server). Build with --build-arg PG_MAJOR=… to match another server.
FROM base AS backup
ARG PG_MAJOR=16
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSo /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && . /etc/os-release \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-${PG_MAJOR} \
 && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY deploy/backup-daily.sh /usr/local/bin/kroi-backup-daily
RUN mkdir -p /app/var/backups && chown kroi /app/var/backups
USER kroi
HEALTHCHECK NONE
CMD ["kroi-backup-daily"]

# The app (the default, last stage): what `docker build .` and the app, migrate and worker services get.
FROM base AS app
