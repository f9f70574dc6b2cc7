"""/metrics (Prometheus text, counters that move, not public), request ids and the per-request log line."""
from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.app import create_app
from kroi.settings import Settings
from kroi.web.head import HeadAsGet
from leadforms import fast, get_form, post, valid_input

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, parsed by prometheus-client's own parser: (name, labels) -> value."""
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(body: str, name: str, **labels: str) -> float:
    return samples(body).get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient) -> str:
    r = await client.get("/metrics")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] in {"text/plain; version=1.0.0; charset=utf-8",
                                         "text/plain; version=0.0.4; charset=utf-8"}
    return r.text


async def test_metrics_parse_and_requests_are_counted_by_route_template(client: httpx.AsyncClient,
                                                                        cars) -> None:  # noqa: ANN001
    before = await scrape(client)
    car = cars[0]
    for _ in range(2):
        assert (await client.get("/cars")).status_code == 200
    assert (await client.get(f"/cars/{car.id}-{car.slug}")).status_code == 200
    assert (await client.get("/cars/99999999-nothing")).status_code == 404
    assert (await client.head("/cars")).status_code == 200
    for junk in ("/no/such/page", "/wp-login.php", "/x" * 30):
        assert (await client.get(junk)).status_code == 404
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    total = "kroi_http_requests_total"
    assert moved(total, route="/cars", method="GET", status="200") == 2
    assert moved(total, route="/cars", method="HEAD", status="200") == 1
    # The car page's template, never its address: one series for every car, found or not.
    [car_route] = {dict(k[1])["route"] for k in samples(after) if k[0] == total
                   and dict(k[1]).get("status") == "404" and dict(k[1])["route"].startswith("/cars/")
                   and moved(total, **dict(k[1]))}  # other tests of this process counted other routes
    assert "{" in car_route and str(car.id) not in car_route
    assert moved(total, route=car_route, method="GET", status="200") == 1
    assert moved(total, route=car_route, method="GET", status="404") == 1
    assert moved(total, route="<unmatched>", method="GET", status="404") == 3
    assert not [k for k in samples(after) if "wp-login" in str(k) or "/no/such" in str(k)]
    assert moved("kroi_http_request_duration_seconds_count", route="/cars", method="GET") == 2
    assert moved("kroi_http_request_duration_seconds_bucket", route="/cars", method="GET", le="+Inf") == 2
    # The second /cars came from the fragment cache (the first rendered and stored it).
    assert moved("kroi_fragment_cache_total", result="hit") >= 1
    assert moved("kroi_fragment_cache_total", result="miss") >= 1
    for name in ("kroi_db_pool_connections_in_use", "kroi_db_pool_overflow", "kroi_db_pool_timeouts_total",
                 "kroi_redis_breaker_openings_total", "kroi_view_buffer_cars", "kroi_outbox_oldest_queued_seconds"):
        assert any(k[0] == name for k in samples(after)), name
    assert value(after, "kroi_database_up") == 1 and value(after, "kroi_redis_up") == 1
    # The car page's view waits in the Redis buffer (flushed every KROI_VIEW_FLUSH_SECONDS, an hour in tests).
    assert value(after, "kroi_view_buffer_cars") == 1


async def test_outbox_gauges_come_from_the_database(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await db.execute(text(
        "INSERT INTO outbox_messages (kind, payload, status, attempts, created_at) VALUES "
        "('test', '{}', 'dead', 8, now()), ('test', '{}', 'pending', 0, now() - interval '15 minutes'), "
        "('test', '{}', 'pending', 2, now() - interval '1 minute'), ('test', '{}', 'sent', 1, now())"))
    await db.commit()
    body = await scrape(client)
    queued_before = (await db.execute(text(
        "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'sent') "
        "FROM outbox_messages"))).one()
    assert value(body, "kroi_outbox_messages", state="dead") == 1
    assert value(body, "kroi_outbox_messages", state="queued") == queued_before[0]
    assert value(body, "kroi_outbox_messages", state="retrying") == 1
    assert value(body, "kroi_outbox_messages", state="sent") == queued_before[1]
    assert 15 * 60 <= value(body, "kroi_outbox_oldest_queued_seconds") < 30 * 60


async def test_db_pool_gauges_follow_checked_out_connections(client: httpx.AsyncClient) -> None:
    engine = client.app.state.kroi.engine  # type: ignore[attr-defined]
    base = value(await scrape(client), "kroi_db_pool_connections_in_use")
    async with engine.connect() as c1, engine.connect() as c2:
        await c1.execute(text("SELECT 1"))
        await c2.execute(text("SELECT 1"))
        assert value(await scrape(client), "kroi_db_pool_connections_in_use") == base + 2
    assert value(await scrape(client), "kroi_db_pool_connections_in_use") == base


async def test_pool_overflow_and_timeouts_are_counted(settings: Settings, reset: None) -> None:
    small = settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 1, "db_pool_timeout": 0.3,
                                        "cache_enabled": False})
    app = create_app(small)
    async with app.lifespan():
        engine = app.state.kroi.engine
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            before = await scrape(c)
            async with engine.connect() as c1, engine.connect() as c2:
                await c1.execute(text("SELECT 1"))
                await c2.execute(text("SELECT 1"))
                busy = await scrape(c)  # its own outbox query finds no connection either: database_up 0
                r = await c.get("/cars")
            after = await scrape(c)
    assert r.status_code == 503
    assert value(busy, "kroi_db_pool_overflow") - value(before, "kroi_db_pool_overflow") == 1
    assert value(busy, "kroi_database_up") == 0
    assert value(after, "kroi_db_pool_timeouts_total") - value(before, "kroi_db_pool_timeouts_total") >= 2
    assert value(after, "kroi_db_pool_overflow") == value(before, "kroi_db_pool_overflow")


async def test_redis_errors_skips_and_the_breaker_are_counted(settings: Settings,
                                                              client: httpx.AsyncClient) -> None:
    before = await scrape(client)  # this process's counters, through an app whose Redis works
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0", "redis_breaker_seconds": 60})
    app = create_app(down)
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            assert (await c.get("/cars")).status_code == 200  # rendered from PostgreSQL
            assert (await c.get("/cars")).status_code == 200
            assert value(await scrape(c), "kroi_redis_up") == 0
    after = await scrape(client)
    assert value(after, "kroi_redis_breaker_openings_total", redis="shared") - \
        value(before, "kroi_redis_breaker_openings_total", redis="shared") >= 1
    for result in ("error", "skip"):
        assert value(after, "kroi_fragment_cache_total", result=result) > \
            value(before, "kroi_fragment_cache_total", result=result), result
    assert value(after, "kroi_redis_breaker_open_until_seconds", redis="shared") > time.time() + 30


async def test_metrics_answer_without_the_database(settings: Settings, reset: None) -> None:
    down = settings.model_copy(update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none"})
    app = create_app(down)
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/metrics")
    assert r.status_code == 200
    assert value(r.text, "kroi_database_up") == 0
    assert not any(k[0] == "kroi_outbox_messages" for k in samples(r.text))


async def test_leads_created_are_counted_by_type(settings: Settings, reset: None) -> None:
    from leadforms import client_for

    async with client_for(fast(settings, metrics_allow="10.0.0.0/8")) as c:  # its client is a 10.x address
        before = await scrape(c)
        form = await get_form(c, "/contact?type=contact", "contact")
        r = await post(c, form.data(**valid_input("contact", "metrics@example.fi")), htmx=True)
        assert r.status_code == 200
        r = await post(c, form.data(**valid_input("contact", "metrics@example.fi")), htmx=True)  # the same form
        after = await scrape(c)
    [lead_type] = {dict(k[1])["type"] for k in samples(after) if k[0] == "kroi_leads_created_total"
                   and value(after, k[0], **dict(k[1])) != value(before, k[0], **dict(k[1]))}
    assert value(after, "kroi_leads_created_total", type=lead_type) - \
        value(before, "kroi_leads_created_total", type=lead_type) == 1


# --- not public ---------------------------------------------------------------------------------------------

def production(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(update={"env": "production", "public_url": "https://kroi.example",
                                       "secret_key": SecretStr("s" * 40), **update})


async def get_metrics(settings: Settings, client: tuple[str, int] = ("127.0.0.1", 5000),
                      **headers: str | bytes) -> httpx.Response:
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=HeadAsGet(app), client=client)
        async with httpx.AsyncClient(transport=transport, base_url="https://kroi.example") as c:
            return await c.get("/metrics", headers=headers)


async def test_metrics_are_not_public_in_production(settings: Settings, reset: None) -> None:
    # Nothing configured: not there at all, not even from loopback.
    assert (await get_metrics(production(settings))).status_code == 404
    with_token = production(settings, metrics_token=SecretStr("scrape-me-0123456789"))
    assert (await get_metrics(with_token)).status_code == 401
    assert (await get_metrics(with_token, authorization="Bearer wrong")).status_code == 401
    assert (await get_metrics(with_token, authorization="Bearer sçrape-me".encode())).status_code == 401  # no 500
    r = await get_metrics(with_token, authorization="Bearer scrape-me-0123456789")
    assert r.status_code == 200 and "kroi_http_requests_total" in r.text
    assert "set-cookie" not in r.headers
    # An internal network: direct connections from it, never a request that came through the proxy.
    internal = production(settings, metrics_allow="10.0.0.0/8, fd00::/8")
    assert (await get_metrics(internal, client=("10.1.2.3", 4000))).status_code == 200
    assert (await get_metrics(internal, client=("192.0.2.1", 4000))).status_code == 404
    assert (await get_metrics(internal, client=("10.1.2.3", 4000),
                              **{"x-forwarded-for": "10.9.9.9"})).status_code == 404


# --- request ids and log lines ------------------------------------------------------------------------------

@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What Kroi's own log handler (installed by create_app) writes, whatever pytest does with stderr."""
    buffer = io.StringIO()
    root = logging.getLogger()

    def point() -> None:
        for h in root.handlers:
            if getattr(h, "_kroi_handler", False):
                h.setStream(buffer)

    buffer.point = point  # type: ignore[attr-defined]
    yield buffer


async def test_request_id_in_header_and_every_log_line_as_json(settings: Settings, reset: None,
                                                              log_output: io.StringIO) -> None:
    from leadforms import client_for

    async with client_for(fast(settings, log_format="json", log_level="INFO")) as c:
        log_output.point()  # type: ignore[attr-defined]
        assert logging.getLogger("uvicorn.access").disabled
        form = await get_form(c, "/contact?type=contact", "contact")
        r = await post(c, form.data(**valid_input("contact", "ids@example.fi")), htmx=True)
        ignored = await c.get("/cars", headers={"X-Request-ID": "chosen-by-visitor"})
    rid = r.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", rid)
    assert ignored.headers["x-request-id"] != "chosen-by-visitor"  # not trusted unless configured
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    of_post = [line for line in lines if line["request_id"] == rid]
    request_line = [line for line in of_post if line["logger"] == "kroi.request"]
    assert len(request_line) == 1, of_post
    [line] = request_line
    assert line["level"] == "INFO" and line["method"] == "POST" and line["path"] == "/leads"
    assert line["status"] == 200 and line["duration_ms"] >= 0
    # The app's own line about the lead carries the same id.
    assert any(line["logger"].startswith("kroi.") and "lead" in line["message"] and "created" in line["message"]
               for line in of_post), of_post
    assert len([line for line in lines if line["logger"] == "kroi.request"]) == 3


async def test_trusted_request_id_is_kept_and_junk_replaced(settings: Settings, reset: None,
                                                           log_output: io.StringIO) -> None:
    app = create_app(settings.model_copy(update={"trust_request_id": True}))
    async with app.lifespan():
        log_output.point()  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            kept = await c.get("/cars", headers={"X-Request-ID": "proxy-42.abc"})
            junk = await c.get("/cars", headers={"X-Request-ID": "a b" + "x" * 200})
            forged = await c.get("/cars%0A2026-01-01 ERROR kroi fake line")
    assert kept.headers["x-request-id"] == "proxy-42.abc"
    assert re.fullmatch(r"[0-9a-f]{16}", junk.headers["x-request-id"])
    text_lines = log_output.getvalue().splitlines()
    assert any("[proxy-42.abc]" in line and "GET /cars 200" in line and " kroi.request " in line
               for line in text_lines), text_lines
    assert forged.status_code == 404
    assert not any(line.startswith("2026-01-01 ERROR") for line in text_lines)


# --- KROI_IDEMPOTENCY_WINDOW --------------------------------------------------------------------------------

async def test_a_form_sent_again_after_the_idempotency_window_is_a_new_lead(settings: Settings, reset: None,
                                                                          db: AsyncSession) -> None:
    from leadforms import client_for, new_leads

    async with client_for(fast(settings, idempotency_window=3600)) as c:
        form = await get_form(c, "/contact?type=contact", "contact")
        data = form.data(**valid_input("contact", "window@example.fi"))
        assert (await post(c, data, htmx=True)).status_code == 200
        assert (await post(c, data, htmx=True)).status_code == 200  # within the window: the same lead
        assert len(await new_leads(db)) == 1
        await db.execute(text("UPDATE leads SET created_at = now() - interval '2 hours' WHERE email = :e"),
                         {"e": "window@example.fi"})
        await db.commit()
        assert (await post(c, data, htmx=True)).status_code == 200  # a tab left open past the window
        assert (await post(c, data, htmx=True)).status_code == 200  # and its double click
    leads = await new_leads(db)
    assert len(leads) == 2
    assert leads[0]["idempotency_key"] is None and leads[1]["idempotency_key"] == data["idempotency_key"]
