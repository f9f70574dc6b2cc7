# Production image: the app only; PostgreSQL and Redis run as their own services (docker-compose.yml).
FROM python:3.12-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 KROI_ENV=production
WORKDIR /app
RUN useradd --system --create-home --home-dir /home/kroi kroi
COPY pyproject.toml requirements.lock ./
COPY kroi ./kroi
# Every package at the version and hash of the lock file (make lock), then Kroi itself without resolving again.
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
CMD ["sh", "-c", "uvicorn kroi.app:create_app_from_env --factory --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --proxy-headers --forwarded-allow-ips ${FORWARDED_ALLOW_IPS:-127.0.0.1}"]
