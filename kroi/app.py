"""create_app(settings) -> Litestar: services on app.state, routes per domain, headers, compression, errors."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar import Router
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.datastructures import CacheControlHeader, Cookie, MutableScopeHeaders, State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import logs, metrics
from kroi.cache.client import SafeRedis, make_redis
from kroi.cache.fragments import FragmentCache
from kroi.db.session import Outage, make_engine, make_sessionmaker
from kroi.accounts import admin as accounts_admin
from kroi.api import controllers as api
from kroi.admin import controllers as admin
from kroi.analytics import admin as analytics_admin
from kroi.favourites import controllers as favourites
from kroi.inventory import admin as inventory_admin
from kroi.inventory import controllers as inventory
from kroi.leads import admin as leads_admin
from kroi.leads import controllers as leads
from kroi.mail import admin as mail_admin
from kroi.mail import worker as mail_worker
from kroi.alerts import controllers as alerts
from kroi.alerts import worker as alerts_worker
from kroi.newsletter import controllers as newsletter
from kroi.inventory.services import InventoryService
from kroi.security.csrf import CSRFMiddleware
from kroi.settings import Settings
from kroi.system import admin as system_admin
from kroi.system import pages as system_pages
from kroi.storage import make_storage
from kroi.web import i18n, meta
from kroi.web.guard import InputGuard
from kroi.web.head import HeadAsGet
from kroi.web.context import Kroi
from kroi.web import observability
from kroi.web.errors import EXCEPTION_HANDLERS
from kroi.web.templating import STATIC, Templates

log = logging.getLogger("kroi")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(https: bool):  # noqa: ANN202
    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if Outage.since is not None and message["status"] < 300:
            # Answered from the fragment cache while the database is away: possibly out of date.
            headers["X-Kroi-Stale"] = "database-unavailable"

    return before_send


def _remember_language(https: bool):  # noqa: ANN202
    """A page opened with ?lang=en (a shared link) keeps its language for the HTMX requests and pages after it."""
    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("type") != "http":
            return
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
        if asked not in i18n.LANGUAGES:
            return
        cookies = SimpleCookie()
        with contextlib.suppress(CookieError):
            cookies.load(MutableScopeHeaders(scope).get("cookie") or "")
        if i18n.COOKIE in cookies and cookies[i18n.COOKIE].value == asked:
            return
        cookie = Cookie(key=i18n.COOKIE, value=asked, max_age=365 * 86400, httponly=True, samesite="lax",
                        secure=https)
        MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))

    return before_send


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    async with state.kroi.sessionmaker() as session:
        yield session


def _settle_garbage_collector() -> None:
    """Keep the objects that live as long as the worker out of the cyclic garbage collector's scans.

    Litestar, SQLAlchemy, the templates and the settings make a large heap at start-up that every full
    collection walked again: those pauses were the tail of the warm /cars fragment (2 workers, 50 connections,
    100,000 cars: p90 39 -> 12.6 ms, p99 99 -> 16 ms; docs/performance.md). Young collections also run less
    often, as the request path allocates many short-lived objects.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


async def _flush_views_forever(k: Kroi) -> None:
    while True:
        await asyncio.sleep(k.settings.view_flush_seconds)
        try:
            async with k.sessionmaker() as session:
                await InventoryService.of(k, session).flush_views()
                await InventoryService.of(k, session).flush_searches()
        except Exception:  # keep flushing later; the counts stay in Redis
            log.exception("flushing view counts failed")


def _redis_roles(settings: Settings) -> tuple[SafeRedis, SafeRedis]:
    """(the fragment cache's Redis, the state Redis): one client for both unless KROI_STATE_REDIS_URL names
    another server. Each has its own breaker: a cache Redis that is down does not sign staff out."""
    def safe(url: str | None, role: str) -> SafeRedis:
        client = make_redis(url, settings.redis_timeout, settings.redis_connect_timeout) if url else None
        return SafeRedis(client, settings.redis_breaker_seconds, role=role)

    if settings.state_redis == settings.redis_url:
        shared = safe(settings.redis_url, "shared")
        return shared, shared
    return safe(settings.redis_url, "cache"), safe(settings.state_redis, "state")


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (kroi serve starts an embedded PostgreSQL for development)")
    # Here, not in a CLI: this runs in every worker under uvicorn --factory, the Docker command and kroi serve.
    logs.configure(settings.log_level, settings.log_format)
    if settings.sentry_dsn:  # before Litestar(...): the integration hooks into the app's construction
        from kroi import errortracking

        errortracking.init(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings)
        cache_redis, state = _redis_roles(settings)
        k = Kroi(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine), safe_redis=state,
                 cache=FragmentCache(cache_redis, enabled=settings.cache_enabled),
                 templates=Templates(settings.media_url), storage=make_storage(settings))
        app.state.kroi = k
        metrics.mark_dead_workers()
        if settings.env != "test":  # a test process starts many apps; freezing each one's leftovers would pile up
            _settle_garbage_collector()
        tasks = [asyncio.create_task(_flush_views_forever(k))]
        if settings.run_worker:
            tasks.append(asyncio.create_task(mail_worker.run_forever(k.sessionmaker, settings)))
            tasks.append(asyncio.create_task(alerts_worker.run_forever(k.sessionmaker, settings)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                async with k.sessionmaker() as session:
                    await InventoryService.of(k, session).flush_views()
            await cache_redis.close()
            if state is not cache_redis:
                await state.close()
            await engine.dispose()
            metrics.process_exiting()

    settings.media_root.mkdir(parents=True, exist_ok=True)
    # Static URLs carry a content hash (static_url), so they can be cached for a year.
    static = create_static_files_router(path="/static", directories=[STATIC], name="static",
                                        include_in_schema=False,
                                        cache_control=CacheControlHeader(max_age=31536000, public=True))
    media = create_static_files_router(path="/media", directories=[settings.media_root], name="media",
                                       include_in_schema=False,
                                       cache_control=CacheControlHeader(max_age=86400, public=True))
    https = (settings.public_url or "").startswith("https://")
    app = Litestar(
        # Only the JSON API is described at /schema; the HTML pages stay out of the OpenAPI document.
        route_handlers=[
            Router(path="/", include_in_schema=False, route_handlers=[
                *inventory.ROUTES, *favourites.ROUTES, *leads.ROUTES, *newsletter.ROUTES, *alerts.ROUTES, *meta.ROUTES,
                *system_pages.ROUTES, *observability.ROUTES, admin.ROUTER,
                inventory_admin.ROUTER, leads_admin.ROUTER, accounts_admin.USERS, accounts_admin.RESET,
                accounts_admin.TOKENS, system_admin.ROUTER, analytics_admin.ROUTER, mail_admin.ROUTER, static, media]),
            api.ROUTER,
        ],
        openapi_config=OpenAPIConfig(title="Kroi Auto Center API", version="1.0.0", path="/schema",
                                     components=api.SECURITY_COMPONENTS, render_plugins=[JsonRenderPlugin()]),
        # Fetch Metadata / Origin checks with a double-submit token as the fallback (kroi/security/csrf.py). The
        # one-click unsubscribes are exempt (RFC 8058: mail clients POST without a token; the signed token in the
        # URL is the authority), and so is the API (bearer tokens, never cookies).
        # The input guard first: it refuses bad headers and oversize bodies and parses forms strictly (its
        # kroi/web/guard.py says why), so the CSRF check reads an already parsed form.
        middleware=[DefineMiddleware(InputGuard, max_body=settings.body_max_kb * 1024,
                                     upload_max_mb=settings.upload_max_mb),
                    DefineMiddleware(CSRFMiddleware, secret=settings.secret(), public_url=settings.public_url,
                                     secure=https,
                                     exclude=["/static", "/media", "/health", "/metrics",
                                              "/newsletter/unsubscribe/one-click", "/alerts/unsubscribe/one-click",
                                              "/api", "/schema"])],
        dependencies={"db_session": Provide(provide_db_session)},
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        compression_config=CompressionConfig(backend="gzip", minimum_size=500, gzip_compress_level=6),
        before_send=[_security_headers(https), _remember_language(https)],
        debug=False,
        logging_config=None,  # logging is configured above (Litestar's own config would replace the handler)
    )
    app.asgi_handler = observability.RequestObserver(app.asgi_handler, settings)
    return app


def create_server_app(settings: Settings | None = None) -> HeadAsGet:
    """The app as a server runs it: create_app, with HEAD answered like GET."""
    return HeadAsGet(create_app(settings))


def create_app_from_env() -> HeadAsGet:
    """Factory for `uvicorn --factory kroi.app:create_app_from_env` (production, external servers)."""
    return create_server_app(Settings())
