"""Two Redis roles (KROI_STATE_REDIS_URL): staff sessions, rate-limit counters and the view buffer live in a
Redis that never evicts, the fragment cache in one that may. With the cache Redis full and evicting, no
session, counter or buffered view is lost."""
from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis as SyncRedis

from admin_support import ADMIN_EMAIL, ADMIN_PASSWORD, login
from leadforms import fast, send
from support import get_ok, with_settings
from test_degradation import RedisProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


class EvictingRedis(RedisProcess):
    """A cache Redis as docker-compose runs it, but tiny: allkeys-lru at 2 MB, no persistence."""

    def start(self) -> None:  # started like the others, then made small and evicting
        super().start()
        with SyncRedis(port=self.port) as r:
            r.config_set("maxmemory", "2mb")
            r.config_set("maxmemory-policy", "allkeys-lru")
            r.config_set("appendonly", "no")


@pytest.fixture
def two_redis(tmp_path: Path):  # noqa: ANN201
    (tmp_path / "cache").mkdir()
    (tmp_path / "state").mkdir()
    cache, state = EvictingRedis(free_port(), tmp_path / "cache"), RedisProcess(free_port(), tmp_path / "state")
    cache.start()
    state.start()
    yield cache, state
    cache.kill()
    state.kill()


def keys_of(port: int, pattern: str) -> list[bytes]:
    with SyncRedis(port=port) as r:
        return list(r.scan_iter(pattern))


def fill_until_evicting(port: int) -> int:
    """Write 100 kB values into the cache Redis until it has evicted plenty; returns the evicted count."""
    with SyncRedis(port=port) as r:
        for i in range(400):
            r.set(f"kroi:v1:junk:{i}", b"x" * 100_000)
            if i % 20 == 19 and r.info("stats")["evicted_keys"] >= 100:
                break
        return int(r.info("stats")["evicted_keys"])


async def test_sessions_counters_and_views_survive_an_evicting_cache(settings, reset, make_client, by_key,  # noqa: ANN001
                                                                      two_redis) -> None:
    cache, state = two_redis
    s = fast(with_settings(settings, redis_url=f"redis://127.0.0.1:{cache.port}/0",
                           state_redis_url=f"redis://127.0.0.1:{state.port}/0"), rate_limit_ip=50)
    golf = by_key["golf"]
    async with make_client(s) as c:
        assert (await login(c, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 303
        assert (await c.get("/admin")).status_code == 200
        await get_ok(c, golf.url)  # a buffered view
        await get_ok(c, golf.url)
        r = await send(c, golf.url, "inquiry", "roles@example.fi")  # a rate-limit counter
        assert r.status_code == 200, r.text[:300]
        await get_ok(c, "/cars?fuel=diesel")  # a cached fragment

        # Each thing where it belongs.
        assert keys_of(state.port, "kroi:v1:session:*") and not keys_of(cache.port, "kroi:v1:session:*")
        assert keys_of(state.port, "kroi:v1:rl:*") and not keys_of(cache.port, "kroi:v1:rl:*")
        assert keys_of(state.port, "kroi:v1:views:pending") and not keys_of(cache.port, "kroi:v1:views:*")
        counters = {k: SyncRedis(port=state.port).get(k) for k in keys_of(state.port, "kroi:v1:rl:*")}

        assert fill_until_evicting(cache.port) >= 100
        assert (await c.get("/admin")).status_code == 200  # still signed in
        assert {k: SyncRedis(port=state.port).get(k) for k in counters} == counters
        k = c.app.state.kroi
        async with k.sessionmaker() as session:
            from kroi.inventory.services import InventoryService
            assert await InventoryService.of(k, session).flush_views() == 3  # two visits, and the form page the inquiry was sent from
        health = (await c.get("/health")).json()
        assert health["cache"] == "ok" and health["state"] == "ok"
        # The site still works with the cache evicting what it likes.
        assert (await c.get("/cars?fuel=diesel")).status_code == 200


async def test_one_server_serves_both_roles_when_no_state_redis_is_set(settings, reset, make_client) -> None:  # noqa: ANN001
    async with make_client(settings) as c:
        k = c.app.state.kroi
        assert k.safe_redis is k.cache.safe
        assert (await c.get("/health")).json()["state"] == (await c.get("/health")).json()["cache"]
