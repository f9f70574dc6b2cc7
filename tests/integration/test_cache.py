"""The Redis fragment cache: pages are cached, writes through the service layer invalidate, one render per key."""
from __future__ import annotations

import asyncio
import gzip

import pytest
from redis.asyncio import Redis
from sqlalchemy import select, text

from kroi.cache import keys
from kroi.cache.client import SafeRedis, make_redis
from kroi.cache.fragments import FragmentCache
from kroi.db.models import SearchQuery
from support import HX, SeedCar, all_pages, get_ok, json_ld, result_count, result_ids, service

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def redis(redis_url: str):  # noqa: ANN201
    r = Redis.from_url(redis_url)
    yield r
    await r.aclose()


def card_price(text: str, car_id: int) -> str:
    card = text.split(f'data-car-id="{car_id}"', 1)[1].split("</article>", 1)[0]
    return card.split('class="card-price price">', 1)[1].split("<", 1)[0]


def stats(client) -> dict:  # noqa: ANN001
    return dict(client.app.state.kroi.cache.stats.as_dict())


async def test_pages_are_cached_under_versioned_keys(client, redis, by_key: dict[str, SeedCar]) -> None:
    assert await redis.keys("kroi:v1:*") == []
    await get_ok(client, "/cars")
    await get_ok(client, by_key["golf"].url)
    found = {k.decode() for k in await redis.keys("kroi:v1:*")}
    assert any(k.startswith("kroi:v1:inventory:") and ":results:" in k for k in found)
    assert any(k.startswith("kroi:v1:inventory:") and ":facets:" in k for k in found)
    assert any(k.startswith(f"kroi:v1:car:{by_key['golf'].id}:") for k in found)
    assert keys.generation(keys.INVENTORY) in found
    assert not any(k.endswith(":lock") for k in found), "render locks are released"
    for k in found:
        if not k.startswith("kroi:v1:gen:") and not k.startswith("kroi:v1:views:"):
            assert 0 < await redis.ttl(k) <= keys.TTL_SETTINGS, k


async def test_second_identical_request_is_served_from_cache(client, by_key: dict[str, SeedCar]) -> None:
    first = await get_ok(client, "/cars?fuel=diesel")
    before = stats(client)
    second = await get_ok(client, "/cars?fuel=diesel")
    after = stats(client)
    assert after["hits"] >= before["hits"] + 2  # facets and results
    assert after["misses"] == before["misses"]
    assert second.text == first.text
    await get_ok(client, by_key["golf"].url)
    before = stats(client)
    await get_ok(client, by_key["golf"].url)
    assert stats(client)["hits"] > before["hits"] and stats(client)["misses"] == before["misses"]
    health = (await client.get("/health")).json()
    assert health["cache_stats"]["hits"] == stats(client)["hits"] > 0


async def test_htmx_answer_is_cached_whole_and_compressed_once(client, redis) -> None:
    target = "/cars?fuel=diesel&sort=price_asc"
    first = await get_ok(client, target, headers=HX)
    before = stats(client)
    async with client.stream("GET", target, headers=HX | {"Accept-Encoding": "gzip"}) as r:
        assert r.status_code == 200
        raw = b"".join([chunk async for chunk in r.aiter_raw()])
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["content-length"] == str(len(raw))
        assert "Accept-Encoding" in r.headers["vary"] and "HX-Request" in r.headers["vary"]
        assert r.headers["hx-push-url"] == target
    after = stats(client)
    assert after["hits"] == before["hits"] + 1 and after["misses"] == before["misses"], "one read of the whole answer"
    assert gzip.decompress(raw).decode() == first.text
    plain = await get_ok(client, target, headers=HX | {"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == first.text
    assert result_count(plain.text) == 3 and len(result_ids(plain.text)) == 3
    assert any(b":htmx:" in k for k in await redis.keys("kroi:v1:inventory:*"))


async def test_price_change_shows_on_the_next_htmx_answer(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["golf"]
    await get_ok(client, "/cars?brand=volkswagen", headers=HX)
    r = await get_ok(client, "/cars?brand=volkswagen", headers=HX)  # served whole from the cache
    assert card_price(r.text, car.id) == "24 500 €"
    async with service(client) as svc:
        await svc.change_price(car.id, 2_299_000)
    r = await get_ok(client, "/cars?brand=volkswagen", headers=HX)
    assert card_price(r.text, car.id) == "22 990 €"


async def test_text_searches_are_logged_when_the_answer_comes_from_the_cache(client, db) -> None:  # noqa: ANN001
    # Two shoppers (one shopper's repeat within seconds counts once: search.collapse_typing).
    for agent in ("first shopper", "second shopper"):
        r = await get_ok(client, "/cars?q=toyota", headers=HX | {"User-Agent": agent})
    found = result_count(r.text)
    assert found > 0
    async with service(client) as svc:
        assert await svc.flush_searches() == 2
    rows = (await db.execute(select(SearchQuery.query, SearchQuery.results_count))).all()
    assert [tuple(row) for row in rows] == [("toyota", found), ("toyota", found)]


async def test_price_change_shows_on_the_list_and_the_car_page(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["golf"]
    r = await get_ok(client, "/cars?brand=volkswagen")
    assert card_price(r.text, car.id) == "24 500 €"
    page = await get_ok(client, car.url)
    assert "24 500 €" in page.text
    await get_ok(client, "/cars?brand=volkswagen")  # cached now
    async with service(client) as svc:
        await svc.change_price(car.id, 2_299_000)
    r = await get_ok(client, "/cars?brand=volkswagen")
    assert card_price(r.text, car.id) == "22 990 €"
    page = await get_ok(client, car.url)
    assert '<p class="big-price price">22 990 €</p>' in page.text
    assert float(json_ld(page.text)["offers"]["price"]) == 22990
    # Sorting by price follows the new price too.
    ids = await all_pages(client, {"sort": "price_asc", "price_min": "22000", "price_max": "23000"})
    assert car.id in ids


async def test_sold_car_leaves_the_list_and_its_page_says_sold(client, cars, by_key: dict[str, SeedCar]) -> None:
    car = by_key["corolla"]  # featured on the home page too
    assert car.id in await all_pages(client)
    home = await get_ok(client, "/")
    assert f'data-car-id="{car.id}"' in home.text
    await get_ok(client, car.url)
    async with service(client) as svc:
        await svc.set_status(car.id, "sold")
    ids = await all_pages(client)
    assert car.id not in ids and len(ids) == 8
    assert "Tämä auto on myyty" in (await get_ok(client, car.url)).text
    assert f'data-car-id="{car.id}"' not in (await get_ok(client, "/")).text
    assert car.id not in await all_pages(client, {"brand": "toyota"})


async def test_deleted_car_leaves_the_list_and_its_page_is_gone(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["xc60"]
    assert car.id in await all_pages(client, {"fuel": "plug_in_hybrid"})
    await get_ok(client, car.url)
    async with service(client) as svc:
        await svc.soft_delete(car.id)
    assert await all_pages(client, {"fuel": "plug_in_hybrid"}) == []
    assert car.id not in await all_pages(client)
    assert (await client.get(car.url)).status_code == 410
    sitemap = (await get_ok(client, "/sitemap.xml")).text
    assert car.url not in sitemap


async def test_new_car_appears_at_once(client) -> None:
    from support import add_car

    await all_pages(client)
    car_id = await add_car(client, variant="Aivan uusi", price_cents=1_990_000)
    ids = await all_pages(client)
    assert ids[0] == car_id and len(ids) == 10


async def test_a_write_bumps_the_generation(client, redis, by_key: dict[str, SeedCar]) -> None:
    await get_ok(client, "/cars")
    gen = int(await redis.get(keys.generation(keys.INVENTORY)))
    car_gen_key = keys.generation(keys.car_scope(by_key["golf"].id))
    await get_ok(client, by_key["golf"].url)
    car_gen = int(await redis.get(car_gen_key))
    async with service(client) as svc:
        await svc.change_price(by_key["golf"].id, 100_000)
    assert int(await redis.get(keys.generation(keys.INVENTORY))) == gen + 1
    assert int(await redis.get(car_gen_key)) == car_gen + 1


async def test_a_car_published_behind_the_services_back_answers_at_once(client, db) -> None:  # noqa: ANN001
    # A 404 is not remembered: a seed or import that writes without bumping the car's scope would
    # otherwise leave a listed car answering "not found" for a day.
    from support import add_car

    car_id = await add_car(client, status="draft", variant="Piilossa")
    assert (await client.get(f"/cars/{car_id}")).status_code == 404
    await db.execute(text("UPDATE cars SET status = 'available', published_at = now() WHERE id = :id"), {"id": car_id})
    await db.commit()
    r = await client.get(f"/cars/{car_id}", follow_redirects=True)
    assert r.status_code == 200 and "Piilossa" in r.text


async def test_generation_keys_expire_and_restart_above_the_old_one(client, redis) -> None:  # noqa: ANN001
    assert (await client.get("/cars/987654321-nobody")).status_code == 404
    unknown = keys.generation(keys.car_scope(987654321))
    assert 0 < await redis.ttl(unknown) <= keys.TTL_GENERATION, "an unknown id must not leave a key forever"
    await get_ok(client, "/cars")
    inventory = keys.generation(keys.INVENTORY)
    assert 0 < await redis.ttl(inventory) <= keys.TTL_GENERATION
    old = int(await redis.get(inventory))
    await redis.delete(inventory)  # as if it had expired
    async with service(client) as svc:
        await svc.change_price((await all_pages(client))[0], 123_400)
    assert int(await redis.get(inventory)) > old, "a bump of a lost generation starts from the clock, not from 1"
    assert 0 < await redis.ttl(inventory) <= keys.TTL_GENERATION


# --- stampede guard ---------------------------------------------------------------------------------------

@pytest.fixture
async def fragment_cache(redis_url: str, reset):  # noqa: ANN001, ANN201
    # Generous timeouts: a busy CI machine once took over 0.5 s to open a loopback connection here.
    safe = SafeRedis(make_redis(redis_url, 2.0), breaker_seconds=0.2)
    yield FragmentCache(safe)
    await safe.close()


async def test_concurrent_misses_render_once(fragment_cache: FragmentCache) -> None:
    calls = 0

    async def render() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.15)  # slow next to the waiters' 10 ms polling, well inside their 1 s patience
        return "<p>rendered once</p>"

    key = keys.fragment("test", 1, "stampede")
    results = await asyncio.gather(*(fragment_cache.get_or_render(key, 60, render) for _ in range(20)))
    assert calls == 1
    assert results == ["<p>rendered once</p>"] * 20
    assert fragment_cache.stats.errors == 0
    # And now it is simply cached.
    assert await fragment_cache.get_or_render(key, 60, render) == "<p>rendered once</p>"
    assert calls == 1
    assert not await fragment_cache.safe.redis.exists(keys.lock(key))


async def test_failed_render_releases_the_lock(fragment_cache: FragmentCache) -> None:
    key = keys.fragment("test", 1, "failing")

    async def broken() -> str:
        raise RuntimeError("template error")

    with pytest.raises(RuntimeError):
        await fragment_cache.get_or_render(key, 60, broken)
    assert not await fragment_cache.safe.redis.exists(keys.lock(key))

    async def fine() -> str:
        return "ok"

    assert await fragment_cache.get_or_render(key, 60, fine) == "ok"


async def test_a_waiter_renders_itself_when_the_lock_holder_never_finishes(fragment_cache: FragmentCache) -> None:
    key = keys.fragment("test", 1, "orphan-lock")
    await fragment_cache.safe.redis.set(keys.lock(key), b"1", px=60_000)  # a renderer that died
    calls = 0

    async def render() -> str:
        nonlocal calls
        calls += 1
        return "fallback"

    assert await fragment_cache.get_or_render(key, 60, render) == "fallback"
    assert calls == 1


async def test_no_key_means_no_cache(fragment_cache: FragmentCache) -> None:
    calls = 0

    async def render() -> str:
        nonlocal calls
        calls += 1
        return "x"

    await fragment_cache.get_or_render(None, 60, render)
    await fragment_cache.get_or_render(None, 60, render)
    assert calls == 2
