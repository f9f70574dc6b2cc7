"""Redis is a cache, never a dependency: with it dead or killed mid-run every page still works, and caching
comes back by itself when Redis does."""
from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from kroi.cache.client import SafeRedis, make_redis
from kroi.embedded import redis_server_binary
from support import DEAD_REDIS, HX, SeedCar, get_ok, is_full_page, result_ids, service, with_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def every_page_works(c, car: SeedCar) -> None:  # noqa: ANN001
    home = await get_ok(c, "/")
    assert is_full_page(home.text)
    page = await get_ok(c, "/cars?sort=price_asc")
    assert len(result_ids(page.text)) == 4
    frag = await get_ok(c, "/cars?fuel=diesel", headers=HX)
    assert not is_full_page(frag.text) and len(result_ids(frag.text)) == 3
    detail = await get_ok(c, car.url)
    assert f'data-car-id="{car.id}"' in detail.text
    # home, /cars, contact, privacy, terms and the 9 cars, each in Finnish and English
    assert (await get_ok(c, "/sitemap.xml")).text.count("<url>") == (5 + 9) * 2
    assert (await get_ok(c, "/robots.txt")).text.startswith("User-agent")


async def test_dead_redis_url_serves_every_page(settings, reset, make_client, by_key) -> None:  # noqa: ANN001
    async with make_client(with_settings(settings, redis_url=DEAD_REDIS)) as c:
        await every_page_works(c, by_key["golf"])
        more = await get_ok(c, "/cars")
        assert "cursor=" in more.text
        health = await c.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok" and body["database"] == "ok" and body["cache"] == "down"
        assert body["cache_stats"]["hits"] == 0
        assert body["cache_stats"]["errors"] + body["cache_stats"]["skipped"] > 0
        # Writes still work (their cache invalidation is kept for later) and show at once.
        async with service(c) as svc:
            await svc.change_price(by_key["golf"].id, 1_111_100)
        assert "11 111 €" in (await get_ok(c, by_key["golf"].url)).text


async def test_cache_disabled_serves_every_page(settings, reset, make_client, by_key) -> None:  # noqa: ANN001
    async with make_client(with_settings(settings, cache_enabled=False)) as c:
        await every_page_works(c, by_key["golf"])
        assert c.app.state.kroi.cache.stats.hits == 0


# --- a real redis-server, killed and restarted ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProcess:
    """A redis-server of our own on a TCP port; append-only with fsync always, so a kill loses nothing."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port, self.dir, self.proc = port, directory, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir),
             "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            assert self.proc.poll() is None, (self.dir / "redis.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def own_redis(tmp_path: Path):  # noqa: ANN201
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    yield server
    server.kill()


def card_price(text: str, car_id: int) -> str:
    card = text.split(f'data-car-id="{car_id}"', 1)[1].split("</article>", 1)[0]
    return card.split('class="card-price price">', 1)[1].split("<", 1)[0]


LIST = "/cars?brand=volkswagen"


async def test_killing_and_restarting_redis(settings, reset, make_client, own_redis: RedisProcess,
                                            by_key) -> None:  # noqa: ANN001
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    car = by_key["golf"]
    direct = Redis.from_url(url)
    try:
        async with make_client(with_settings(settings, redis_url=url)) as c:
            stats = c.app.state.kroi.cache.stats
            # Up: cached.
            await get_ok(c, LIST)
            await get_ok(c, car.url)
            hits = stats.hits
            first = await get_ok(c, LIST)
            assert stats.hits > hits
            assert card_price(first.text, car.id) == "24 500 €"
            assert await direct.dbsize() > 0

            # Killed: every page still answers.
            own_redis.kill()
            for _ in range(2):
                await every_page_works(c, car)
            assert (await c.get("/health")).json()["cache"] == "down"
            # A price change while Redis is away (its invalidation cannot reach Redis now).
            async with service(c) as svc:
                await svc.change_price(car.id, 2_000_000)
            assert card_price((await get_ok(c, LIST)).text, car.id) == "20 000 €"

            # Restarted on the same port, with the fragments cached before the outage still in it.
            own_redis.start()
            await direct.aclose()
            direct = Redis.from_url(url)
            assert await direct.dbsize() > 0
            resumed = False
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                await asyncio.sleep(settings.redis_breaker_seconds + 0.05)
                page = await get_ok(c, LIST)
                # Never the stale price from before the outage.
                assert card_price(page.text, car.id) == "20 000 €"
                before = stats.hits
                await get_ok(c, LIST)
                if stats.hits > before:
                    resumed = True
                    break
            assert resumed, "caching did not come back after Redis did"
            assert card_price((await get_ok(c, LIST)).text, car.id) == "20 000 €"
            assert "20 000 €" in (await get_ok(c, car.url)).text
            assert any(k.startswith(b"kroi:v1:inventory:") for k in await direct.keys("kroi:v1:*"))
            assert (await c.get("/health")).json()["cache"] == "ok"
    finally:
        await direct.aclose()


# --- the circuit breaker against a slow and a dead Redis ----------------------------------------------------

async def ping(safe: SafeRedis) -> bool:
    return await safe.run(lambda r: r.ping(), False)


async def test_a_slow_redis_opens_the_breaker_after_three_timeouts_in_a_row(own_redis: RedisProcess) -> None:
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    direct = Redis.from_url(url)
    safe = SafeRedis(make_redis(url, 0.05), breaker_seconds=30)
    try:
        assert await ping(safe)
        # CLIENT PAUSE holds every other client's commands: a really slow Redis, not a stand-in.
        await direct.execute_command("CLIENT", "PAUSE", 5000, "ALL")
        assert not await ping(safe) and not await ping(safe)
        assert safe.available, "two slow replies (a busy event loop looks the same) must not switch the cache off"
        assert safe.stats.errors == 2
        assert not await ping(safe)
        assert not safe.available
        assert not await ping(safe)
        assert safe.stats.skipped == 1 and safe.stats.errors == 3
    finally:
        await direct.execute_command("CLIENT", "UNPAUSE")
        await direct.aclose()
        await safe.close()


async def test_an_answer_in_time_resets_the_timeout_count(own_redis: RedisProcess) -> None:
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    direct = Redis.from_url(url)
    safe = SafeRedis(make_redis(url, 0.05), breaker_seconds=30)
    try:
        for _ in range(3):
            await direct.execute_command("CLIENT", "PAUSE", 5000, "ALL")
            assert not await ping(safe) and not await ping(safe)
            await direct.execute_command("CLIENT", "UNPAUSE")
            assert await ping(safe)
        assert safe.available and safe.stats.errors == 6
    finally:
        await direct.execute_command("CLIENT", "UNPAUSE")
        await direct.aclose()
        await safe.close()


async def test_a_refused_connection_opens_the_breaker_at_once() -> None:
    safe = SafeRedis(make_redis(DEAD_REDIS, 0.05), breaker_seconds=30)
    try:
        assert not await ping(safe)
        assert not safe.available
        assert not await ping(safe)
        assert safe.stats.errors == 1 and safe.stats.skipped == 1
    finally:
        await safe.close()


async def test_killing_redis_under_load_every_request_is_still_answered(settings, reset, make_client,
                                                                        own_redis: RedisProcess, by_key) -> None:  # noqa: ANN001
    """Six visitors keep loading pages (cached, uncached, HTMX, a car page) while Redis is killed and started
    again: every answer is a 200 page; caching comes back."""
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    car = by_key["golf"]
    paths = [("/", {}), (LIST, {}), ("/cars?fuel=diesel", HX), (car.url, {}), ("/contact", {})]
    async with make_client(with_settings(settings, redis_url=url)) as c:
        stop = asyncio.Event()
        answers: list[tuple[str, int]] = []

        async def visitor(n: int) -> None:
            i = n
            while not stop.is_set():
                path, headers = paths[i % len(paths)]
                answers.append((path, (await c.get(path, headers=headers)).status_code))
                i += 1
                await asyncio.sleep(0.01)

        visitors = [asyncio.create_task(visitor(n)) for n in range(6)]
        try:
            await asyncio.sleep(0.5)
            own_redis.kill()
            killed_at = len(answers)
            await asyncio.sleep(1.0)
            assert len(answers) > killed_at  # served while Redis was away
            own_redis.start()
            await asyncio.sleep(settings.redis_breaker_seconds + 0.5)
        finally:
            stop.set()
            await asyncio.gather(*visitors)
        assert [a for a in answers if a[1] != 200] == []
        hits = c.app.state.kroi.cache.stats.hits
        await get_ok(c, LIST)
        await get_ok(c, LIST)
        assert c.app.state.kroi.cache.stats.hits > hits  # caching is back
