"""Search that understands what shoppers type, on the demo inventory (2000 cars): filter words become the filters
they name, makes and models survive typos and spacing, a search without results offers what would find cars,
the search box's suggestions, and the analytics' "searches without results" without everyday words."""
from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import testing
from kroi.analytics.repositories import AnalyticsRepository
from kroi.db.models import Lead, SearchQuery
from kroi.seeding.demo import load_demo
from kroi.storage import LocalStorage
from kroi.web import i18n
from support import checked, get_ok, notes, result_count, result_ids, service, url

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

HX = {"HX-Request": "true"}
DEMO = 2000


@pytest.fixture
async def demo(db: AsyncSession) -> None:
    await load_demo(db, DEMO, LocalStorage(testing.ROOT / "var" / "test-demo-media"))


async def listing(client, params: dict) -> tuple[int, list[int], str]:  # noqa: ANN001
    r = await get_ok(client, url("/cars", params))
    return result_count(r.text), result_ids(r.text), r.text


def q_value(page: str) -> str:
    m = re.search(r'<input type="search" id="q" name="q" value="([^"]*)"', page)
    assert m
    return html.unescape(m.group(1))


async def test_words_act_as_the_filters_they_name(client, demo) -> None:  # noqa: ANN001
    cases = [
        ({"q": "neliveto"}, {"drive": "awd"}),
        ({"q": "4x4"}, {"drive": "awd"}),
        ({"q": "maasturi"}, {"category": "suv"}),
        ({"q": "katumaasturit"}, {"category": "suv"}),
        ({"q": "sähköauto"}, {"fuel": "electric"}),
        ({"q": "täyssähkö"}, {"fuel": "electric"}),
        ({"q": "farmari diesel"}, {"category": "estate", "fuel": "diesel"}),
        ({"q": "hybridi automaatti suv"}, {"fuel": "hybrid", "transmission": "automatic", "category": "suv"}),
        ({"q": "Lataushybridi AWD"}, {"fuel": "plug_in_hybrid", "drive": "awd"}),
    ]
    for typed, filters in cases:
        n_typed, ids_typed, page = await listing(client, typed)
        n_filters, ids_filters, _ = await listing(client, filters)
        assert n_filters > 0, filters
        assert (n_typed, ids_typed) == (n_filters, ids_filters), typed
        # The understood words show as the filters they became; the search box keeps only the leftover.
        for name, value in filters.items():
            assert value in checked(page, name), (typed, name)
        assert q_value(page) == ""


async def test_makes_and_models_tolerate_typos_and_spacing_and_say_so(client, demo) -> None:  # noqa: ANN001
    for typed, brand, model, shown in (
        ("corola", "toyota", "corolla", "Toyota Corolla"),
        ("RAV 4", "toyota", "rav4", "Toyota RAV4"),
        ("xc 60", "volvo", "xc60", "Volvo XC60"),
        ("skooda oktavia", "skoda", "octavia", "Skoda Octavia"),  # the demo spells it Skoda
    ):
        n_typed, ids_typed, page = await listing(client, {"q": typed})
        n_exact, ids_exact, _ = await listing(client, {"brand": brand, "model": model})
        assert n_exact > 0 and (n_typed, ids_typed) == (n_exact, ids_exact), typed
        assert i18n.translate("fi", "note.showing_for", value=shown) in notes(page)
    # The name written as it is needs no notice.
    _, _, page = await listing(client, {"q": "Toyota Corolla"})
    assert not any("Näytetään tulokset" in n for n in notes(page))


async def test_leftover_text_stays_a_full_text_search(client, demo) -> None:  # noqa: ANN001
    n_typed, ids_typed, page = await listing(client, {"q": "maasturi vetokoukku"})
    n_same, ids_same, _ = await listing(client, {"category": "suv", "q": "vetokoukku"})
    n_suv, _, _ = await listing(client, {"category": "suv"})
    assert (n_typed, ids_typed) == (n_same, ids_same)
    assert 0 < n_typed < n_suv
    assert q_value(page) == "vetokoukku"
    # Removing the body type chip does not bring the word back: its link carries only the leftover text.
    chip = re.search(r'<a class="chip" data-sync-filters href="([^"]+)"[^>]*aria-label="[^"]*Maasturi', page)
    assert chip
    assert parse_qs(urlsplit(html.unescape(chip.group(1))).query) == {"q": ["vetokoukku"]}
    # The HTMX answer's pushed address (the search box follows it) also holds only the leftover.
    r = await get_ok(client, "/cars?q=maasturi+vetokoukku", headers=HX)
    assert parse_qs(urlsplit(r.headers["HX-Push-Url"]).query) == {"category": ["suv"], "q": ["vetokoukku"]}


async def test_no_results_tells_what_was_tried_and_what_would_find_cars(client, demo) -> None:  # noqa: ANN001
    params = {"q": "sähköauto", "price_max": "3000"}
    n, _, page = await listing(client, params)
    assert n == 0
    text = html.unescape(page)
    assert "Haettiin:" in text and "Sähkö" in text
    # Each constraint dropped in turn, with the count it would give (checked against the listing itself).
    relax = re.findall(r'<li><a data-sync-filters href="([^"]+)"[^>]*>([^<]+)</a></li>', page)
    assert relax
    for href, label in relax:
        count, _, _ = await listing(client, {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(href)).query).items()})
        assert f"{count} autoa" in html.unescape(label) or (count == 1 and "1 auto" in label)
    without_price = [label for href, label in relax if "price_max" not in href]
    electric, _, _ = await listing(client, {"fuel": "electric"})
    assert without_price and f": {electric} autoa" in html.unescape(without_price[0])
    # A saved-search alert for the same search, and a "find me a car" request carrying it.
    alert = re.search(r'href="(/alerts/new\?[^"]+)"', page)
    assert alert and parse_qs(urlsplit(html.unescape(alert.group(1))).query) == {"fuel": ["electric"],
                                                                                 "price_max": ["3000"]}
    find_me = re.search(r'href="(/contact\?[^"]*search=[^"]+)"', page)
    assert find_me
    search = parse_qs(urlsplit(html.unescape(find_me.group(1))).query)["search"][0]
    assert search.startswith("/cars?") and parse_qs(urlsplit(search).query) == {"fuel": ["electric"],
                                                                                "price_max": ["3000"]}
    # The fragment answer carries the same help.
    r = await get_ok(client, url("/cars", params), headers=HX)
    assert "/alerts/new?" in r.text and "data-sync-filters" in r.text


async def test_no_results_offers_the_nearest_spelling(client, demo) -> None:  # noqa: ANN001
    n, _, page = await listing(client, {"q": "qorollx"})
    assert n == 0
    m = re.search(r'<li><a data-sync-filters href="([^"]+)"[^>]*>(Tarkoititko Toyota Corolla\? (\d+) autoa)</a>', page)
    assert m
    count, _, _ = await listing(client, {"brand": "toyota", "model": "corolla"})
    assert int(m.group(3)) == count > 0


async def test_find_me_a_car_prefills_the_message_and_carries_the_search(client, demo) -> None:  # noqa: ANN001
    search = "/cars?fuel=electric&price_max=3000"
    r = await get_ok(client, url("/contact", {"type": "contact", "search": search}))
    text = html.unescape(r.text)
    assert "Etsin autoa tällä haulla: Sähkö" in text
    assert f'name="search_url" value="{search}"' in text
    # Anything but a relative /cars address is not carried.
    for bad in ("https://evil.example/cars", "//evil.example/cars", "/admin?x=1"):
        r = await get_ok(client, url("/contact", {"type": "contact", "search": bad}))
        assert 'name="search_url"' not in r.text


async def test_suggestions_for_makes_models_and_body_types_with_counts(client, demo) -> None:  # noqa: ANN001
    r = await get_ok(client, "/cars/suggest?q=toyo")
    options = re.findall(r'role="option"[^>]*data-value="([^"]+)"><span class="suggest-label">([^<]+)</span> '
                         r'<span class="suggest-kind">([^<]+)</span> <span class="suggest-count">(\d+) autoa', r.text)
    assert options and options[0][:3] == ("Toyota", "Toyota", "Merkki")
    toyota, _, _ = await listing(client, {"brand": "toyota"})
    assert int(options[0][3]) == toyota
    assert any(o[2] == "Malli" and o[1].startswith("Toyota ") for o in options)
    r = await get_ok(client, "/cars/suggest?q=maastur")
    assert 'data-value="Maasturi"' in r.text and "Korimalli" in r.text
    r = await get_ok(client, "/cars/suggest?q=corol")  # a model by its own name
    assert "Toyota Corolla" in r.text
    r = await get_ok(client, "/cars/suggest?q=hybridi%20rav")  # the last word completed
    assert 'data-value="hybridi Toyota RAV4"' in r.text
    r = await get_ok(client, "/cars/suggest?q=SUV&lang=en")
    assert "Body type" in r.text
    for junk in ("", "x", "%00%00", "zzzzqqq", "a" * 500):
        r = await client.get(f"/cars/suggest?q={junk}")
        assert r.status_code == 200 and 'role="option"' not in r.text
    # Cached in Redis like the other fragments: the second answer is the same without the database.
    first = (await get_ok(client, "/cars/suggest?q=vol")).text
    assert first == (await get_ok(client, "/cars/suggest?q=vol")).text


async def test_understood_searches_are_not_searches_without_results(client, db, demo) -> None:  # noqa: ANN001
    for q in ("maasturi", "sähköauto", "hybridi automaatti suv", "corola", "xyzzyq"):
        await get_ok(client, url("/cars", {"q": q}), headers=HX)
    async with service(client) as svc:
        await svc.flush_searches()
    rows = {s.query: s for s in await db.scalars(select(SearchQuery))}
    assert rows["maasturi"].results_count > 0 and rows["maasturi"].filters == {"category": ["suv"]}
    from datetime import datetime, timedelta, timezone

    since = datetime.now(timezone.utc) - timedelta(days=1)
    zero = [q for q, _ in await AnalyticsRepository(db).top_searches(since, zero_results=True)]
    assert zero == ["xyzzyq"]
