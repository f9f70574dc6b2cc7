"""Request ids, one log line and the metrics of every request, and the /metrics endpoint (not public)."""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
import secrets
import time
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import text

from kroi import logs, metrics
from kroi.cache import keys
from kroi.settings import Settings

log = logging.getLogger("kroi.request")

HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:@+=-]{1,128}")
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Polled by health checks and scrapers every few seconds: logged at DEBUG, not one INFO line each.
_QUIET_PATHS = {"/health", "/metrics"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(path: str) -> str:
    """The path for a text log line: control characters (a %0A in the URL) could forge a line of their own."""
    return _CONTROL.sub("?", path[:500])


def incoming_request_id(scope: Scope, trusted: bool) -> str:
    """The proxy's X-Request-ID when the proxy is trusted to set it and it is a sane token, else a new id."""
    if trusted:
        for name, value in scope.get("headers") or ():
            if name == HEADER and _VALID_ID.fullmatch(value):
                return value.decode("ascii")
    return secrets.token_hex(8)


class RequestObserver:
    """Wraps Litestar's ASGI handler (inside the exception handling, outside the routes), so it sees every
    request, 404s included, with the route template Litestar matched: the request id (contextvar for the log
    lines, X-Request-ID on the answer), one log line, and the request counter and latency histogram."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.trust_request_id = settings.trust_request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope, self.trust_request_id)
        token = logs.request_id.set(rid)
        start = time.perf_counter()
        status = 500  # when nothing was sent at all

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            duration = time.perf_counter() - start
            route = scope.get("path_template") or metrics.UNMATCHED
            asked = scope.get("kroi.method") or scope["method"]  # HEAD, answered as GET by HeadAsGet
            method = asked if asked in _METHODS else "OTHER"
            metrics.REQUESTS.labels(route, method, str(status)).inc()
            metrics.LATENCY.labels(route, method).observe(duration)
            level = (logging.DEBUG if scope["path"] in _QUIET_PATHS and status < 500
                     else logging.WARNING if status >= 500 else logging.INFO)
            method_text, path = _printable(asked), _printable(scope["path"])
            log.log(level, "%s %s %s %.1f ms", method_text, path, status, duration * 1000,
                    extra={"method": method_text, "path": path, "status": status,
                           "duration_ms": round(duration * 1000, 1)})
            logs.request_id.reset(token)


# --- /metrics ---------------------------------------------------------------------------------------------

def _networks(spec: str | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for part in (spec or "").replace(" ", ",").split(","):
        if part:
            out.append(ipaddress.ip_network(part, strict=False))
    return out


_LOOPBACK = _networks("127.0.0.0/8,::1/128")


def metrics_allowed(request: Request, settings: Settings) -> bool | None:
    """True: answer. False: a token is configured but this request lacks it (401). None: invisible (404).

    A bearer token (KROI_METRICS_TOKEN) is accepted from anywhere; addresses (KROI_METRICS_ALLOW) only on a
    direct connection, since an address that came through a proxy may have been named by the visitor.
    Without either, development and test allow loopback; production answers 404.
    """
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token:
        sent = request.headers.get("authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode("utf-8", "replace"),
                                                              token.encode()):
            return True
    networks = _networks(settings.metrics_allow)
    if not networks and not token and settings.env != "production":
        networks = _LOOPBACK
    proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    if networks and request.client and not proxied:
        try:
            address = ipaddress.ip_address(request.client.host)
        except ValueError:
            address = None
        if address is not None and any(address in n for n in networks):
            return True
    return False if token else None


async def _database_gauges(request: Request) -> list:
    """Outbox counts and the oldest queued message's age, read now with a short timeout; never raises."""
    from kroi.mail.outbox import OutboxRepository

    k = request.app.state.kroi
    try:
        async with asyncio.timeout(2):
            async with k.sessionmaker() as session:
                await session.execute(text("SET LOCAL statement_timeout = '1500ms'"))
                backlog = await OutboxRepository(session).backlog()
                await session.rollback()
    except Exception as exc:  # the database is down or slow: the rest of the metrics still answer
        logging.getLogger("kroi.metrics").warning("outbox metrics not read: %s", type(exc).__name__)
        return [metrics.gauge("kroi_database_up", "1 when the database answered the scrape's query", 0)]
    outbox = metrics.GaugeMetricFamily("kroi_outbox_messages",
                                       "Outbox messages by state (queued = pending, retrying = pending after a "
                                       "failed attempt)", labels=["state"])
    for state in ("queued", "retrying", "sending", "sent", "dead"):
        outbox.add_metric([state], backlog[state])
    return [metrics.gauge("kroi_database_up", "1 when the database answered the scrape's query", 1), outbox,
            metrics.gauge("kroi_outbox_oldest_queued_seconds", "Age of the oldest queued (pending) message",
                          backlog["oldest_queued_seconds"])]


async def _redis_gauges(request: Request) -> list:
    k = request.app.state.kroi

    async def op(r):  # noqa: ANN001, ANN202
        async with r.pipeline(transaction=False) as p:
            p.hlen(keys.pending_views())
            p.llen(keys.pending_searches())
            return await p.execute()

    sizes = await k.safe_redis.run(op, None) if k.safe_redis.available else None
    if sizes is None:
        return [metrics.gauge("kroi_redis_up", "1 when Redis answered the scrape", 0)]
    return [metrics.gauge("kroi_redis_up", "1 when Redis answered the scrape", 1),
            metrics.gauge("kroi_view_buffer_cars", "Cars with view counts waiting in Redis for the next flush",
                          sizes[0]),
            metrics.gauge("kroi_search_buffer_records", "Search log records waiting in Redis", sizes[1])]


@get("/metrics", name="metrics", include_in_schema=False)
async def metrics_endpoint(request: Request) -> Response:
    settings: Settings = request.app.state.kroi.settings
    allowed = metrics_allowed(request, settings)
    if allowed is None:
        raise NotFoundException()
    if allowed is False:
        return Response("unauthorized\n", status_code=401, media_type="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"})
    metrics.mark_dead_workers()
    extra: list[Any] = [*await _database_gauges(request), *await _redis_gauges(request)]
    body = metrics.render(extra)
    # Litestar adds the charset of a text/* type itself.
    return Response(body, media_type=metrics.CONTENT_TYPE.split("; charset")[0], headers={"Cache-Control": "no-store"})


ROUTES = [metrics_endpoint]
