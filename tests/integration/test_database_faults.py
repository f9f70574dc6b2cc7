"""Database failures a visitor can meet: refused, "shutting down" / "starting up", a connection cut in the middle
of a request, a pool that has no free connection. Each is the "try again" answer (503 with Retry-After, the input
kept on forms), never a 500."""
from __future__ import annotations

import asyncio
import signal

import asyncpg
import pytest

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
