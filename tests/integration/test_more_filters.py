"""Issue 8's further filters (colour, seats, power, equipment, VAT, first registration), the active-filter chips,
disabled empty options and the monthly estimate on cards, against the nine seeded cars."""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from kroi.system import services as site_settings
from kroi.inventory.financing import example_monthly_cents
from kroi.web.formatting import money
from support import HX, SeedCar, all_pages, element_ids_with_oob, facet_counts, get_ok, notes, result_count, result_ids, url

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def ids(by_key: dict[str, SeedCar], *names: str) -> set[int]:
    return {by_key[n].id for n in names}


async def listed(client, params: dict) -> set[int]:  # noqa: ANN001
    found = await all_pages(client, params)  # the tests list 4 cars a page
    assert len(found) == len(set(found))
    return set(found)


# Colours as seeded: corolla "Valkoinen helmiäis", golf "Harmaa metallic", octavia "Sininen metallic",
# xc60 "Musta metallic", model3 "Punainen metallic", bmw320 "Valkoinen", sportage "Vihreä metallic",
# transit "Valkoinen", c200 "Hopea metallic".
@pytest.mark.parametrize("params, want", [
    ({"colour": "white"}, ("corolla", "bmw320", "transit")),
    ({"colour": ["white", "black"]}, ("corolla", "bmw320", "transit", "xc60")),
    ({"colour": "silver"}, ("c200",)),
    ({"colour": "grey"}, ("golf",)),
    ({"seats": ["3", "4"]}, ("transit", "c200")),
    ({"seats": "5", "colour": "white"}, ("corolla", "bmw320")),
    ({"equipment": "tow_bar"}, ("corolla", "octavia", "xc60", "bmw320", "transit")),
    # AND: every item chosen is required (the Transit has a tow bar but no heated seats)
    ({"equipment": ["tow_bar", "heated_seats"]}, ("corolla", "octavia", "xc60", "bmw320")),
    ({"vat": "1"}, ("model3", "transit")),
    ({"power_min": "130"}, ("xc60", "model3", "bmw320", "sportage", "c200")),
    ({"power_max": "100"}, ("corolla", "transit")),
    ({"power_min": "100", "power_max": "135"}, ("golf", "octavia", "sportage", "c200")),
    ({"reg_year_min": "2021"}, ("golf", "model3", "sportage")),
    ({"reg_year_max": "2018"}, ("bmw320", "c200")),
    ({"reg_year_min": "2019", "reg_year_max": "2019"}, ("octavia", "xc60")),
])
async def test_each_new_filter_gives_exactly_its_cars(client, by_key, params: dict, want: tuple) -> None:
    assert await listed(client, params) == ids(by_key, *want)


async def test_new_filters_combine_with_the_old_ones(client, by_key) -> None:
    got = await listed(client, {"fuel": "diesel", "equipment": "tow_bar", "vat": "1"})
    assert got == ids(by_key, *(k for k, c in by_key.items() if c.fuel == "diesel" and c.vat_deductible
                                 and "tow_bar" in c.features))
    assert got  # the Transit


async def test_new_facets_count_what_choosing_them_gives(client, by_key) -> None:
    shown = facet_counts((await get_ok(client, "/cars")).text)
    assert shown["colour"]["white"] == 3 and shown["colour"]["black"] == 1 and shown["colour"]["orange"] == 0
    assert shown["seats"] == {"2": 0, "3": 1, "4": 1, "5": 7, "6": 0, "7": 0, "8": 0, "9": 0}
    assert shown["vat"] == {"1": 2}
    assert shown["equipment"]["tow_bar"] == 5
    # With heated seats required, each other item counts the cars that have both.
    with_heated = facet_counts((await get_ok(client, url("/cars", {"equipment": "heated_seats"}))).text)
    assert with_heated["equipment"]["tow_bar"] == 4
    assert with_heated["equipment"]["heated_seats"] == 8
    # A colour choice leaves the colour counts as they were and narrows the others.
    white = facet_counts((await get_ok(client, url("/cars", {"colour": "white"}))).text)
    assert white["colour"] == shown["colour"]
    assert white["seats"]["5"] == 2 and white["seats"]["3"] == 1
    assert white["vat"] == {"1": 1}


async def test_empty_options_stay_visible_and_disabled(client) -> None:
    r = await get_ok(client, url("/cars", {"colour": "white"}))
    assert re.search(r'id="colour-orange" name="colour" value="orange"\s+disabled', r.text)
    assert re.search(r'id="colour-white" name="colour" value="white" checked>', r.text)
    # a chosen value that no car has any more stays enabled, so it can be unticked
    r = await get_ok(client, url("/cars", {"colour": "orange"}))
    assert re.search(r'id="colour-orange" name="colour" value="orange" checked>', r.text)
    assert result_count(r.text) == 0


def chips(text: str) -> dict[str, str]:
    """Chip label -> the URL it leads to."""
    block = re.search(r'<div id="chips"[^>]*>(.*?)</div>', text, re.S).group(1)
    return {html.unescape(label): html.unescape(href)
            for href, label in re.findall(r'<a class="chip[^"]*" data-sync-filters href="([^"]+)"[^>]*>(?:<span>)?([^<]+)', block)}


async def test_chips_name_each_filter_and_remove_only_it(client, by_key) -> None:
    params = {"brand": "toyota", "colour": "white", "equipment": "tow_bar", "vat": "1", "price_max": "40000",
              "power_min": "80", "reg_year_min": "2019", "reg_year_max": "2021", "sort": "price_asc", "q": "vetokoukulla"}
    r = await get_ok(client, url("/cars", params))
    shown = chips(r.text)
    assert set(shown) == {"Hakusana ”vetokoukulla”", "Toyota", "Valkoinen", "Vetokoukku", "ALV-vähennyskelpoinen",
                          "Hinta enintään 40 000 €", "Teho vähintään 80 kW (109 hv)", "Ensirekisteröinti 2019–2021",
                          "Tyhjennä kaikki"}
    for label, href in shown.items():
        left = parse_qs(urlsplit(href).query)
        assert left.get("sort") == ["price_asc"], label  # the sort stays
        assert "page" not in left
    assert "colour" not in parse_qs(urlsplit(shown["Valkoinen"]).query)
    assert parse_qs(urlsplit(shown["Valkoinen"]).query)["equipment"] == ["tow_bar"]
    assert "reg_year_min" not in parse_qs(urlsplit(shown["Ensirekisteröinti 2019–2021"]).query)
    assert parse_qs(urlsplit(shown["Tyhjennä kaikki"]).query) == {"sort": ["price_asc"]}
    assert 'aria-label="Poista rajaus: Valkoinen"' in r.text
    assert re.search(r'id="filter-count"[^>]*>\(8\)<', r.text)  # eight filters, "clear all" is not one


async def test_chips_and_counts_come_out_of_band_in_the_fragment(client) -> None:
    r = await get_ok(client, url("/cars", {"colour": "black", "seats": "5"}), headers=HX)
    assert {"chips", "filter-count", "apply-label", "result-count", "facet-colour", "facet-seats", "facet-vat",
            "facet-equipment"} <= element_ids_with_oob(r.text)
    assert "Näytä 1 auto" in r.text
    assert set(chips(r.text)) == {"Musta", "5 paikkaa", "Tyhjennä kaikki"}
    assert "colour=black" in r.headers["HX-Push-Url"] and "seats=5" in r.headers["HX-Push-Url"]
    plain = await get_ok(client, "/cars", headers=HX)
    assert '<div id="chips" class="chips" hx-swap-oob="true">\n</div>' in plain.text  # emptied, not left stale
    assert "Näytä 9 autoa" in plain.text


@pytest.mark.parametrize("params, note", [
    ({"equipment": "flux_capacitor"}, "flux_capacitor"),
    ({"equipment": "DROP TABLE cars"}, "drop table cars"),
    ({"vat": "maybe"}, "maybe"),
    ({"power_min": "lots"}, "lots"),
    ({"power_max": "99999"}, "99999"),
    ({"reg_year_min": "²"}, "²"),
    ({"seats": "12"}, "12"),
    ({"colour": "plaid"}, "plaid"),
])
async def test_bad_values_are_ignored_with_a_note(client, params: dict, note: str) -> None:
    r = await get_ok(client, url("/cars", params))
    assert result_count(r.text) == 9  # nothing filtered
    assert any(note in n for n in notes(r.text)), notes(r.text)
    f = await get_ok(client, url("/cars", params), headers=HX)
    assert any(note in n for n in notes(f.text))


async def test_too_many_equipment_items_are_capped_with_a_note(client) -> None:
    codes = ["tow_bar", "heated_seats"] + [f"x{i}" for i in range(20)]
    r = await get_ok(client, url("/cars", {"equipment": codes}))
    assert any("enintään 12" in n for n in notes(r.text))


async def test_swapped_power_range_is_turned_round(client, by_key) -> None:
    r = await get_ok(client, url("/cars", {"power_min": "135", "power_max": "100"}))
    assert await listed(client, {"power_min": "135", "power_max": "100"}) == ids(
        by_key, "golf", "octavia", "sportage", "c200")
    assert any("väärin päin" in n for n in notes(r.text))


def monthly_texts(text: str) -> dict[int, str]:
    return {int(i): m for i, m in re.findall(
        r'data-car-id="(\d+)".*?(?:<p class="card-monthly">([^<]*)</p>|</article>)', text, re.S)}


async def test_cards_show_the_monthly_estimate_of_the_financing_example(client, db, by_key) -> None:
    site = await site_settings.load(db, client.app.state.kroi.cache)
    car = by_key["golf"]
    page = f"/cars?brand={car.brand_slug}"
    shown = monthly_texts((await get_ok(client, page)).text)
    want = money(example_monthly_cents(car.price_eur * 100, site.financing))
    assert shown[car.id] == f"alk. {want}/kk"
    assert re.fullmatch(r"alk\. \d[\d ]* €/kk", shown[car.id])  # "alk. 184 €/kk": no stray space before /kk
    assert shown[car.id] in (await get_ok(client, car.url)).text  # the car page's own example says the same
    # The dealer changes the financing terms: the cached cards follow.
    await site_settings.save(db, client.app.state.kroi.cache, "financing", site.financing | {"rate_pct": 12.5})
    site2 = await site_settings.load(db, client.app.state.kroi.cache)
    again = monthly_texts((await get_ok(client, page)).text)
    assert again[car.id] == f"alk. {money(example_monthly_cents(car.price_eur * 100, site2.financing))}/kk"
    assert again[car.id] != shown[car.id]
    en = await get_ok(client, page + "&lang=en")
    assert monthly_texts(en.text)[car.id] == f"from {money(example_monthly_cents(car.price_eur * 100, site2.financing))}/mo"
