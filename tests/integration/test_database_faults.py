"""Database failures a visitor can meet: refused, "shutting down" / "starting up", a connection cut in the middle
of a request, a pool that has no free connection. Each is the "try again" answer (503 with Retry-After, the input
kept on forms), never a 500."""
from __future__ import annotations

import asyncio
import signal

import asyncpg
import pytest
from sqlalchemy import text

from faultsupport import ensure_running, private_pg  # noqa: F401 - a fixture
from leadforms import client_for, fast, get_form, lead_form, post, valid_input
from support import HX

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_a_database_shutting_down_answers_try_again(settings, private_pg) -> None:  # noqa: ANN001, F811
    """A smart shutdown waits for open sessions and meanwhile refuses new ones with "the database system is shutting
    down" (asyncpg's CannotConnectNowError, SQLSTATE 57P03), as a restart does for a moment."""
    server, url = private_pg
    ensure_running(server)
    async with client_for(fast(settings, database_url=url)) as c:
        form = await get_form(c, "/contact", "contact")
        held = await asyncpg.connect(_plain(url))  # keeps the smart shutdown waiting
        try:
            server.send(signal.SIGTERM)
            with pytest.raises(asyncpg.CannotConnectNowError):
                while True:  # the postmaster takes the signal asynchronously
                    probe = await asyncpg.connect(_plain(url))
                    await probe.close()
                    await asyncio.sleep(0.02)
            await c.app.state.kroi.engine.dispose()  # the pool's open connections would still work
            for path, headers in (("/cars?fuel=diesel", {}), ("/cars?fuel=petrol", HX), ("/", {})):
                r = await c.get(path, headers=headers)
                assert r.status_code == 503, (path, r.status_code, r.text[:300])
                assert r.headers["retry-after"] == "30"
            data = form.data(**valid_input("contact", "restart@example.fi", message="Soittakaa huomenna"))
            r = await post(c, data, htmx=True)
            assert r.status_code == 503, r.text[:300]
            assert lead_form(r.text, "contact").values["message"] == "Soittakaa huomenna"
        finally:
            await held.close()
            server.stop()


async def terminate_when_waiting(watch: asyncpg.Connection) -> int:
    """pg_terminate_backend the app's backends that wait for the lock `watch` holds, once there is one."""
    while True:
        cut = await watch.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'kroi' AND wait_event_type = 'Lock'")
        if cut:
            return cut
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
async def test_a_connection_cut_in_the_middle_of_a_page_answers_try_again(settings, reset, headers) -> None:  # noqa: ANN001
    async with client_for(fast(settings)) as c:
        assert (await c.get("/cars?fuel=petrol")).status_code == 200  # the pool has its connection
        watch = await asyncpg.connect(_plain(settings.database_url))
        try:
            async with watch.transaction():
                await watch.execute("LOCK TABLE cars IN ACCESS EXCLUSIVE MODE")  # the listing's query waits
                request = asyncio.create_task(c.get("/cars?fuel=diesel", headers=headers))
                assert await terminate_when_waiting(watch) >= 1
                r = await request
        finally:
            await watch.close()
        assert r.status_code == 503, r.text[:300]
        assert r.headers["retry-after"] == "30"
        assert "Traceback" not in r.text
        # The pool replaces the cut connection: the next request is served.
        assert (await c.get("/cars?fuel=diesel", headers=headers)).status_code == 200


async def test_connections_cut_during_40_concurrent_submissions_lose_no_lead(settings, reset, db) -> None:  # noqa: ANN001
    """pg_terminate_backend of the app's backends, again and again, while 40 visitors send the contact form: each
    submission is stored exactly once or answered "try again" with its input kept; sent again, it is stored once."""
    s = fast(settings, rate_limit_ip=1000, rate_limit_email=1000, db_pool_size=10, db_max_overflow=10)
    async with client_for(s) as c:
        forms = [await get_form(c, "/contact", "contact") for _ in range(40)]
        sent = [f.data(**valid_input("contact", f"cut{i}@example.fi", message=f"Viesti numero {i}"))
                for i, f in enumerate(forms)]
        watch = await asyncpg.connect(_plain(settings.database_url))
        done = asyncio.Event()
        cuts = 0

        async def cut_again_and_again() -> None:
            nonlocal cuts
            while not done.is_set():
                cuts += await watch.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'kroi' AND state <> 'idle'")
                await asyncio.sleep(0.15)

        killer = asyncio.create_task(cut_again_and_again())
        try:
            answers = await asyncio.gather(*(post(c, data, htmx=True) for data in sent))
        finally:
            done.set()
            await killer
            await watch.close()
        retry = []
        for data, r in zip(sent, answers):
            assert r.status_code in (200, 503), (r.status_code, r.text[:300])
            if r.status_code == 503:
                kept = lead_form(r.text, "contact")
                assert kept.values["message"] == data["message"]
                assert kept.values["idempotency_key"] == data["idempotency_key"]
                retry.append(kept.data())
        for data in retry:
            r = await post(c, data, htmx=True)
            assert r.status_code == 200, r.text[:300]
        # Every answer "sent" once more (a visitor pressing send again): still one lead each.
        for data in sent[:5]:
            assert (await post(c, data, htmx=True)).status_code == 200
    stored = (await db.execute(text("SELECT email, count(*) FROM leads WHERE email LIKE 'cut%@example.fi' "
                                    "GROUP BY email"))).all()
    assert {email: n for email, n in stored} == {f"cut{i}@example.fi": 1 for i in range(40)}
    outbox = (await db.execute(text("SELECT count(*) FROM outbox_messages m JOIN leads l ON l.id = m.lead_id "
                                    "WHERE l.email LIKE 'cut%@example.fi'"))).scalar()
    assert outbox == 2 * 40  # a lead is never stored without its mails, nor its mails twice
    assert cuts >= 1 and retry, (cuts, len(retry))  # the test did cut submissions



async def test_cached_pages_are_served_stale_during_an_outage(settings, private_pg) -> None:  # noqa: ANN001, F811
    """PostgreSQL stopped: the pages whose fragments are cached are still served, marked X-Kroi-Stale; a page
    that is not cached is the friendly 503; with the database back, the mark goes."""
    server, url = private_pg
    ensure_running(server)
    async with client_for(fast(settings, database_url=url)) as c:
        from sqlalchemy import select

        from kroi.db.models import Car

        async with c.app.state.kroi.sessionmaker() as session:
            car = (await session.execute(select(Car.id, Car.slug).order_by(Car.id).limit(1))).one()
        cached = [("/", {}), ("/cars", {}), (f"/cars/{car.id}-{car.slug}", {}), ("/cars?fuel=diesel", HX)]
        for path, headers in cached:
            r = await c.get(path, headers=headers)
            assert r.status_code == 200 and "x-kroi-stale" not in r.headers
        server.stop()
        await c.app.state.kroi.engine.dispose()
        r = await c.get("/cars?fuel=electric")  # never cached
        assert r.status_code == 503 and r.headers["retry-after"] == "30"
        for path, headers in cached:
            r = await c.get(path, headers=headers)
            assert r.status_code == 200, (path, r.status_code)
            assert r.headers["x-kroi-stale"] == "database-unavailable"
        server.start()
        r = await c.get("/cars?fuel=electric")
        assert r.status_code == 200 and "x-kroi-stale" not in r.headers
        assert "x-kroi-stale" not in (await c.get("/cars")).headers


async def test_a_postgresql_restart_under_load_is_never_a_500(settings, private_pg) -> None:  # noqa: ANN001, F811
    """Visitors keep loading pages while PostgreSQL is stopped (fast shutdown: connections cut) and started again:
    every answer is a page (cached or not) or a 503 with Retry-After, never a 500; after the restart all is served."""
    server, url = private_pg
    ensure_running(server)
    paths = ["/", "/cars", "/cars?fuel=diesel", "/cars?fuel=petrol&sort=price_asc", "/contact", "/cars?fuel=electric"]
    async with client_for(fast(settings, database_url=url, db_pool_timeout=2)) as c:
        for path in paths[:3]:
            assert (await c.get(path)).status_code == 200
        stop = asyncio.Event()
        statuses: list[tuple[str, int, str | None]] = []

        async def visitor(n: int) -> None:
            i = n
            while not stop.is_set():
                # Every other request a listing never asked before: it needs the database.
                path = paths[i % len(paths)] if i % 2 else f"/cars?price_max={1_000_000 + i * 100}"
                r = await c.get(path, headers=HX if i % 3 == 0 else {})
                statuses.append((path, r.status_code, r.headers.get("retry-after")))
                i += 1
                await asyncio.sleep(0.01)

        visitors = [asyncio.create_task(visitor(n)) for n in range(6)]
        try:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(server.stop)  # SIGINT: fast shutdown, open connections are cut
            await asyncio.sleep(1.0)
            await asyncio.to_thread(server.start)
            await asyncio.sleep(0.5)
        finally:
            stop.set()
            await asyncio.gather(*visitors)
        assert all(status in (200, 503) for _, status, _ in statuses), [s for s in statuses if s[1] not in (200, 503)]
        assert all(retry == "30" for _, status, retry in statuses if status == 503)
        assert any(status == 503 for _, status, _ in statuses)  # the restart was met
        for path in paths:
            assert (await c.get(path)).status_code == 200, path
