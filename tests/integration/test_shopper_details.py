"""Details a shopper notices: the way back to their search, the quick search, links that keep their tags,
page numbers past the end, a language chosen by link, and the search log."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kroi.db.models import SearchQuery
from support import HX, SeedCar, canonical, get_ok, notes, result_ids, service

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def back_link(text: str) -> str:
    m = re.search(r'<p class="breadcrumb"><a href="([^"]+)"', text)
    assert m, "no back link"
    return m.group(1).replace("&amp;", "&")


async def test_back_to_results_returns_to_the_shoppers_own_search(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["golf"]
    search = "http://testserver/cars?fuel=petrol&price_max=30000&sort=price_asc"
    r = await get_ok(client, car.url, headers={"Referer": search})
    assert back_link(r.text) == "/cars?fuel=petrol&price_max=30000&sort=price_asc"
    # Anything else (another site, another page, no referer) leads to the whole inventory.
    for referer in ("https://evil.example/cars?x=1", "http://testserver/contact", None):
        headers = {"Referer": referer} if referer else {}
        assert back_link((await get_ok(client, car.url, headers=headers)).text) == "/cars"


async def test_quick_search_offers_only_brands_with_cars_for_sale(client, by_key: dict[str, SeedCar]) -> None:
    def offered(text: str) -> set[str]:
        select_html = text.split('id="qs-brand"', 1)[1].split("</select>", 1)[0]
        return set(re.findall(r'<option value="([a-z0-9-]+)"', select_html))

    before = offered((await get_ok(client, "/")).text)
    assert {"ford", "skoda", "toyota"} <= before
    async with service(client) as svc:
        await svc.set_status(by_key["octavia"].id, "sold")
        await svc.soft_delete(by_key["transit"].id)
    after = offered((await get_ok(client, "/")).text)
    assert after == before - {"ford", "skoda"}


async def test_wrong_slug_redirect_keeps_the_query_string(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["golf"]
    r = await client.get(f"/cars/{car.id}-old-title?utm_source=fb&lang=en")
    assert r.status_code == 301
    assert r.headers["location"] == f"{car.url}?utm_source=fb&lang=en"


async def test_a_page_past_the_end_shows_the_last_page_and_says_so(client) -> None:
    # 9 cars, 4 a page in the tests: 3 pages.
    last = await get_ok(client, "/cars?page=3")
    r = await get_ok(client, "/cars?page=500")
    assert result_ids(r.text) == result_ids(last.text)
    assert any("Sivua 500 ei ole" in n and "(3)" in n for n in notes(r.text)), notes(r.text)
    assert canonical(r.text).endswith("/cars?page=3")
    frag = await get_ok(client, "/cars?page=500", headers=HX)
    assert frag.headers["hx-push-url"] == "/cars?page=3"
    assert any("Sivua 500 ei ole" in n for n in notes(frag.text))
    assert notes((await get_ok(client, "/cars?page=3")).text) == []


async def test_thousands_of_junk_values_give_a_few_notes(client) -> None:
    junk = "&".join(f"fuel=steam{i}" for i in range(3000))
    r = await get_ok(client, f"/cars?{junk}")
    texts = notes(r.text)
    assert len(texts) == 8 and "2993 muuta" in texts[-1]


async def test_a_language_chosen_by_link_stays_for_the_next_requests(client) -> None:
    r = await get_ok(client, "/cars?lang=en")
    assert '<html lang="en">' in r.text and "kroi_lang=en" in r.headers["set-cookie"]
    # The filter form sends no lang: the htmx answer is still English.
    frag = await get_ok(client, "/cars?fuel=diesel", headers=HX)
    assert "3 cars" in frag.text
    # No cookie is set again while it already says so.
    assert "set-cookie" not in (await get_ok(client, "/cars?lang=en")).headers


async def test_english_car_page_writes_decimals_the_english_way(client, by_key: dict[str, SeedCar]) -> None:
    en = await get_ok(client, by_key["golf"].url + "?lang=en")
    fi = await get_ok(client, by_key["golf"].url + "?lang=fi")
    # the effective rate of the financing example: "4,93&nbsp;%" in Finnish, "4.93&nbsp;%" in English
    rate = re.search(r"data-apr>(\d+[.,]\d+)&nbsp;%", fi.text).group(1)
    assert "," in rate and f"data-apr>{rate.replace(',', '.')}&nbsp;%" in en.text


async def test_typing_on_is_logged_as_one_search(client, db) -> None:  # noqa: ANN001
    for q in ("to", "toyo", "toyota", "toyota hybrid"):
        await get_ok(client, f"/cars?q={q}", headers=HX)
    await get_ok(client, "/cars?q=volvo", headers=HX)
    async with service(client) as svc:
        await svc.flush_searches()
    logged = list(await db.scalars(select(SearchQuery.query).order_by(SearchQuery.id)))
    assert logged == ["toyota hybrid", "volvo"]
