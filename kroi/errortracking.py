"""Optional error reporting to Sentry (or a compatible service such as GlitchTip) when KROI_SENTRY_DSN is set.

sentry-sdk is imported only then (the `sentry` extra); without a DSN nothing of it is loaded.
"""
from __future__ import annotations

import logging

from kroi.settings import Settings

log = logging.getLogger("kroi")


def init(settings: Settings) -> None:
    try:
        import sentry_sdk
        from sentry_sdk.integrations.litestar import LitestarIntegration
    except ImportError as exc:  # a start-up error, not a silent loss of every error report
        raise RuntimeError("KROI_SENTRY_DSN is set but sentry-sdk is not installed: pip install 'kroi[sentry]'") \
            from exc
    if sentry_sdk.get_client().is_active():  # every worker builds one app; a test process builds many
        return
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else None,
        environment=settings.env,
        integrations=[LitestarIntegration()],
        # Errors only: no performance traces, and no visitor data (form fields, cookies, addresses) sent along.
        traces_sample_rate=0.0,
        send_default_pii=False,
    )
    log.info("error reports go to Sentry")
