"""Car page views: counted in a Redis buffer, flushed to car_views; straight to the database without Redis."""
from __future__ import annotations

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from kroi.cache import keys
from support import DEAD_REDIS, SeedCar, get_ok, service, with_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def stored_views(db, car_id: int | None = None) -> int:  # noqa: ANN001
    sql = "SELECT coalesce(sum(views), 0) FROM car_views" + (" WHERE car_id = :id" if car_id else "")
    value = (await db.execute(text(sql), {"id": car_id} if car_id else {})).scalar()
    await db.commit()  # end the snapshot so the next read sees new rows
    return int(value)


@pytest.fixture
async def redis(redis_url: str):  # noqa: ANN201
    r = Redis.from_url(redis_url)
    yield r
    await r.aclose()


async def test_views_are_buffered_in_redis_then_flushed(client, db, redis, by_key: dict[str, SeedCar]) -> None:
    golf, kia = by_key["golf"], by_key["sportage"]
    for _ in range(3):
        await get_ok(client, golf.url)
    await get_ok(client, kia.url)
    pending = await redis.hgetall(keys.pending_views())
    assert {int(k): int(v) for k, v in pending.items()} == {golf.id: 3, kia.id: 1}
    assert await stored_views(db) == 0

    async with service(client) as svc:
        assert await svc.flush_views() == 4
    assert await stored_views(db, golf.id) == 3
    assert await stored_views(db, kia.id) == 1
    assert not await redis.exists(keys.pending_views())
    assert await redis.keys(keys.flushing_views("*")) == []

    # A second flush with nothing new writes nothing; later views add to the same day's row.
    async with service(client) as svc:
        assert await svc.flush_views() == 0
    await get_ok(client, golf.url)
    async with service(client) as svc:
        assert await svc.flush_views() == 1
    assert await stored_views(db, golf.id) == 4
    rows = (await db.execute(text("SELECT count(*) FROM car_views WHERE car_id = :id"), {"id": golf.id})).scalar()
    assert rows == 1


async def test_redirects_and_missing_cars_are_not_counted(client, redis, by_key: dict[str, SeedCar]) -> None:
    await client.get(f"/cars/{by_key['golf'].id}")  # 301
    await client.get("/cars/99999-x")  # 404
    assert await redis.hgetall(keys.pending_views()) == {}


async def test_views_of_a_car_deleted_before_the_flush_are_dropped(client, db, by_key: dict[str, SeedCar]) -> None:
    golf, kia = by_key["golf"], by_key["sportage"]
    await get_ok(client, golf.url)
    await get_ok(client, kia.url)
    async with service(client) as svc:
        await svc.soft_delete(golf.id)
    await db.execute(text("DELETE FROM car_features WHERE car_id = :id"), {"id": golf.id})
    await db.execute(text("DELETE FROM car_images WHERE car_id = :id"), {"id": golf.id})
    await db.execute(text("DELETE FROM car_price_history WHERE car_id = :id"), {"id": golf.id})
    await db.execute(text("DELETE FROM leads WHERE car_id = :id"), {"id": golf.id})
    await db.execute(text("DELETE FROM cars WHERE id = :id"), {"id": golf.id})
    await db.commit()
    async with service(client) as svc:
        await svc.flush_views()
    assert await stored_views(db) == 1
    assert await stored_views(db, kia.id) == 1


async def test_views_still_buffered_are_flushed_when_the_app_stops(settings, reset, db, make_client,
                                                                   by_key: dict[str, SeedCar]) -> None:
    async with make_client(settings) as c:
        await get_ok(c, by_key["golf"].url)
        await get_ok(c, by_key["golf"].url)
        assert await stored_views(db) == 0
    assert await stored_views(db, by_key["golf"].id) == 2


async def test_without_redis_each_view_goes_straight_to_the_database(settings, reset, db, make_client,
                                                                     by_key: dict[str, SeedCar]) -> None:
    golf = by_key["golf"]
    async with make_client(with_settings(settings, redis_url=DEAD_REDIS)) as c:
        await get_ok(c, golf.url)
        assert await stored_views(db, golf.id) == 1
        await get_ok(c, golf.url)
        assert await stored_views(db, golf.id) == 2
