"""One settings tree for the whole app, read from the environment (prefix KROI_, plus DATABASE_URL/REDIS_URL).

Passed into create_app(); never a module-level singleton. In production a missing secret or server URL is a
start-up error, never a default.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KROI_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "KROI_DATABASE_URL")
    )
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "KROI_REDIS_URL"))
    # --- Redis roles (issue 9 §3) ---
    # REDIS_URL holds the fragment cache, which may evict (allkeys-lru). What must never be evicted — staff
    # sessions, rate-limit counters, the buffered view counts and searches — goes to KROI_STATE_REDIS_URL, a
    # Redis with noeviction and persistence; without it, REDIS_URL serves both (one-server set-ups).
    state_redis_url: str | None = None
    secret_key: SecretStr | None = None
    public_url: str | None = None  # e.g. https://kroiautocenter.fi; canonical URLs and sitemap
    var_dir: Path = Path("var")
    media_dir: Path | None = None  # default: {var_dir}/media

    # Uploaded images: local folder (media_dir) unless an S3 bucket is set; media_url is their public base URL.
    media_url: str = "/media"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    upload_max_mb: int = Field(default=15, ge=1, le=100)
    upload_max_megapixels: int = Field(default=40, ge=1, le=200)

    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=5, ge=0, le=200)
    # Seconds a request waits for a free pooled connection. SQLAlchemy's 30 s default keeps a visitor staring
    # at a spinner when the database is slow; a few seconds, then the form's clear "try again" answer.
    db_pool_timeout: float = Field(default=5.0, gt=0, le=60)

    cache_enabled: bool = True
    # A Redis that cannot be reached is given up on after 50 ms. A reply is waited for longer: under load a
    # worker's event loop (or the whole process, on a busy machine) can stall for more than 50 ms, and a
    # reply that arrived in time but was read late would count as a timeout (measured in docs/performance.md).
    redis_connect_timeout: float = Field(default=0.05, gt=0, le=5)
    redis_timeout: float = Field(default=0.25, gt=0, le=5)
    redis_breaker_seconds: float = Field(default=3.0, ge=0, le=600)

    view_flush_seconds: float = Field(default=10.0, gt=0)
    page_size: int = Field(default=24, ge=1, le=100)

    admin_email: str | None = None
    admin_password: SecretStr | None = None

    # Staff sessions
    session_idle_minutes: int = Field(default=60, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=24 * 30)

    # Visitor forms and leads
    form_min_seconds: float = Field(default=2.0, ge=0, le=60)  # faster submissions are treated as bots
    rate_limit_ip: int = Field(default=20, ge=1)  # lead submissions per IP per rate_limit_window
    rate_limit_email: int = Field(default=5, ge=1)  # per e-mail address per rate_limit_window
    rate_limit_window: int = Field(default=600, ge=1)  # seconds
    idempotency_window: int = Field(default=86400, ge=1)

    # Mail: with no SMTP host, messages are written as .eml files under {var_dir}/mail/
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_tls: bool = False  # implicit TLS (port 465)
    smtp_timeout: float = Field(default=10.0, gt=0)
    mail_from: str = "Kroi Auto Center <noreply@kroiautocenter.fi>"
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_poll_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_seconds: float = Field(default=30.0, gt=0)  # first retry; doubles each time
    run_worker: bool = True  # run the outbox worker inside the web process (kroi serve); production: kroi worker
    # --- saved searches (hakuvahti) ---
    alerts_poll_seconds: float = Field(default=300.0, gt=0)  # how often the worker matches new and cheaper cars
    # --- backups (issue 9 §1) ---
    # Where `kroi backup` writes and `kroi backup list` / `kroi restore` / the monitor look: a folder, or
    # s3://bucket/prefix (with the KROI_S3_* endpoint and credentials). Default {var_dir}/backups.
    backup_dir: str | None = None
    backup_keep_days: int = Field(default=30, ge=0, le=3650)  # older backups are pruned after a new good one

    # --- monitoring, metrics, logs (issue 9 §2) ---
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line
    # Take X-Request-ID from the request (else a new id each time): only when the proxy in front sets or
    # overwrites it on every request, since otherwise a visitor chooses what the logs call their request.
    trust_request_id: bool = False
    metrics_token: SecretStr | None = None  # /metrics answers `Authorization: Bearer <token>`
    metrics_allow: str | None = None  # and/or direct connections from these addresses/networks (comma list)
    sentry_dsn: SecretStr | None = None  # report unhandled errors to Sentry (pip install 'kroi[sentry]')

    @field_validator("metrics_allow")
    @classmethod
    def _networks_parse(cls, value: str | None) -> str | None:
        """A typo in KROI_METRICS_ALLOW is a start-up error, not a 500 at every scrape."""
        import ipaddress

        for part in (value or "").replace(" ", ",").split(","):
            if part:
                ipaddress.ip_network(part, strict=False)  # ValueError names the bad part
        return value
    # --- hostile input (issue 9 §4) ---
    body_max_kb: int = Field(default=256, ge=16, le=10240)  # any request body but photo uploads (KROI_BODY_MAX_KB)
    # --- faults (issue 9 §4) ---
    # A claimed mail is leased this long and the lease renewed while it is being sent: a worker that dies
    # mid-send gives its mails back to the others within about this time.
    outbox_lease_seconds: float = Field(default=30.0, ge=1, le=3600)

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _fail_fast_in_production(self) -> "Settings":
        if self.env == "production":
            missing = [
                name
                for name, value in (
                    ("DATABASE_URL", self.database_url),
                    ("REDIS_URL", self.redis_url),
                    ("KROI_SECRET_KEY", self.secret_key),
                    ("KROI_PUBLIC_URL", self.public_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"production needs these environment variables: {', '.join(missing)}")
            if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("KROI_SECRET_KEY must be at least 32 characters")
        return self

    def secret(self) -> str:
        """The signing secret. Production requires KROI_SECRET_KEY; development keeps a random one in var/."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.env == "production":  # unreachable: the validator refuses this
            raise RuntimeError("KROI_SECRET_KEY is not set")
        path = self.var_dir / "dev-secret-key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def state_redis(self) -> str | None:
        """The URL of the Redis for state (sessions, counters, buffers): its own, or the cache's."""
        return self.state_redis_url or self.redis_url

    @property
    def mail_dir(self) -> Path:
        return (self.var_dir / "mail").resolve()

    @property
    def media_root(self) -> Path:
        return (self.media_dir or self.var_dir / "media").resolve()

    @property
    def backup_location(self) -> str:
        return self.backup_dir or str((self.var_dir / "backups").resolve())

    @property
    def is_development(self) -> bool:
        return self.env == "development"
