# Production image: the app only; PostgreSQL and Redis run as their own services (docker-compose.yml).
FROM python:3.12-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 KROI_ENV=production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/kroi-prometheus
WORKDIR /app
RUN useradd --system --create-home --home-dir /home/kroi kroi
COPY pyproject.toml ./
COPY kroi ./kroi
# The sentry extra: error reports only start when KROI_SENTRY_DSN is set.
RUN pip install --no-cache-dir '.[sentry]'
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
