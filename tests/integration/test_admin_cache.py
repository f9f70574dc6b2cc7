"""Changes made in the admin show on the next public request, and only the caches they affect are renewed:
price, sold, main photo and dealer settings, with the public pages warmed in the cache first."""
from __future__ import annotations

import io
import re

import httpx
import pytest
from PIL import Image
from redis.asyncio import Redis

from admin_support import HX, as_admin, as_data, change, field_errors, form_pairs, post
from kroi.cache import keys
from support import SeedCar, car_ids, get_ok, result_ids

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
__all__ = ["as_admin"]


@pytest.fixture
async def redis(redis_url: str):  # noqa: ANN201
    r = Redis.from_url(redis_url)
    yield r
    await r.aclose()


async def gen(redis: Redis, car: SeedCar) -> int:
    value = await redis.get(keys.generation(keys.car_scope(car.id)))
    assert value is not None, "the car's page was cached, so its generation exists"
    return int(value)


def misses(client: httpx.AsyncClient) -> int:
    return client.app.state.kroi.cache.stats.misses


def card_price(page: str, car_id: int) -> str:
    card = page.split(f'data-car-id="{car_id}"', 1)[1].split("</article>", 1)[0]
    return re.search(r'class="card-price price">([^<]+)<', card).group(1)


def big_price(page: str) -> str:
    return re.search(r'<p class="big-price price">([^<]+)</p>', page).group(1)


async def warm(client: httpx.AsyncClient, *paths: str) -> None:
    """Each page twice: the second answer comes from the cache, so a later change must invalidate it."""
    for path in paths:
        await get_ok(client, path)
        before = misses(client)
        await get_ok(client, path)
        assert misses(client) == before, f"{path} is served from the cache"


async def edit_car(client: httpx.AsyncClient, car_id: int, **values: str) -> None:
    page = await get_ok(client, f"/admin/cars/{car_id}")
    r = await post(client, f"/admin/cars/{car_id}", as_data(change(form_pairs(page.text, action=f"/admin/cars/{car_id}"),
                                                                    **values)))
    assert r.status_code == 303, field_summary(r)


def field_summary(r: httpx.Response) -> str:
    return f"{r.status_code} {field_errors(r.text)}"


async def test_price_change_shows_at_once_and_spares_other_cars(client, as_admin, by_key, redis) -> None:  # noqa: ANN001
    golf, corolla = by_key["golf"], by_key["corolla"]
    await warm(client, "/cars?brand=volkswagen", golf.url, corolla.url, "/")
    assert card_price((await get_ok(client, "/cars?brand=volkswagen")).text, golf.id) == "24 500 €"
    golf_gen, corolla_gen = await gen(redis, golf), await gen(redis, corolla)
    await edit_car(client, golf.id, price="22 990")
    assert card_price((await get_ok(client, "/cars?brand=volkswagen")).text, golf.id) == "22 990 €"
    assert big_price((await get_ok(client, golf.url)).text) == "22 990 €"
    assert await gen(redis, golf) > golf_gen and await gen(redis, corolla) == corolla_gen
    # The unrelated car's page comes from its cached fragments; only the "related cars" list, which lists
    # other cars, is drawn again.
    before = misses(client)
    page = await get_ok(client, corolla.url)
    assert misses(client) == before + 1
    assert big_price(page.text) == "21 900 €"
    before = misses(client)
    await get_ok(client, golf.url)
    assert misses(client) == before, "the changed car's page was already drawn once, and cached"


async def test_sold_shows_myyty_and_leaves_the_listings(client, as_admin, by_key, redis) -> None:  # noqa: ANN001
    corolla, golf = by_key["corolla"], by_key["golf"]  # corolla is featured on the home page
    await warm(client, "/cars?brand=toyota", corolla.url, "/", golf.url)
    assert corolla.id in car_ids((await get_ok(client, "/")).text)
    assert "Myyty" not in (await get_ok(client, corolla.url)).text
    golf_gen = await gen(redis, golf)
    r = await post(client, "/admin/cars/bulk", {"ids": [str(corolla.id)], "action": "sell"}, headers=HX)
    assert r.status_code == 200
    page = await get_ok(client, corolla.url)
    assert '<p class="status-note status-sold" role="status"><strong>Myyty.</strong>' in page.text
    assert 'data-form="inquiry"' not in page.text, "no inquiry form for a sold car"
    assert result_ids((await get_ok(client, "/cars?brand=toyota")).text) == []
    assert corolla.id not in car_ids((await get_ok(client, "/")).text)
    assert await gen(redis, golf) == golf_gen


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (250, 200, 0)).save(buf, "JPEG")
    return buf.getvalue()


async def test_new_main_photo_shows_on_the_car_page_and_the_cards(client, as_admin, by_key, db) -> None:  # noqa: ANN001
    xc60 = by_key["xc60"]
    await warm(client, xc60.url, "/cars?brand=volvo")
    assert f'src="/media/seed/{xc60.key}-1-full.webp"' in (await get_ok(client, xc60.url)).text
    r = await post(client, f"/admin/cars/{xc60.id}/images", files=[("images", ("new.jpg", jpeg(), "image/jpeg"))],
                   headers=HX)
    assert r.status_code == 200
    shown = re.findall(r'<li class="image-item" data-image-id="(\d+)"[^>]*>\s*<img src="/media/([^"]+)-thumb\.webp"',
                       r.text)
    image_id, path = shown[-1]
    assert path.startswith(f"cars/{xc60.id}/") and len(shown) == 4
    page = await get_ok(client, xc60.url)
    first = re.search(r'<figure class="slide"[^>]*>\s*(?:<a [^>]*>)?<img src="([^"]+)"', page.text).group(1)
    assert first == f"/media/seed/{xc60.key}-1-full.webp", "a new photo goes last"
    r = await post(client, f"/admin/cars/{xc60.id}/images/{image_id}/first", headers=HX)
    assert r.status_code == 200
    page = await get_ok(client, xc60.url)
    first = re.search(r'<figure class="slide"[^>]*>\s*(?:<a [^>]*>)?<img src="([^"]+)"', page.text).group(1)
    assert first == f"/media/{path}-full.webp"
    assert f'content="http://testserver/media/{path}-full.webp"' in page.text  # og:image
    card = (await get_ok(client, "/cars?brand=volvo")).text.split(f'data-car-id="{xc60.id}"', 1)[1]
    assert f'src="/media/{path}-card.webp"' in card.split("</article>", 1)[0]


async def test_settings_change_shows_in_the_footer_of_every_page(client, as_admin, by_key) -> None:  # noqa: ANN001
    golf = by_key["golf"]
    await warm(client, "/", "/cars", golf.url)
    assert "+358 40 123 4567" in (await get_ok(client, "/")).text
    page = await get_ok(client, "/admin/settings")
    pairs = change(form_pairs(page.text, action="/admin/settings"), dealer_phone="+358 50 765 4321")
    r = await post(client, "/admin/settings", as_data(pairs))
    assert r.status_code == 303 and r.headers["location"] == "/admin/settings?saved=1"
    for path in ("/", "/cars", golf.url, "/contact"):
        text = (await get_ok(client, path)).text
        assert 'href="tel:+358507654321">+358 50 765 4321</a>' in text, path
        assert "+358 40 123 4567" not in text, path
