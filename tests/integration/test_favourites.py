"""Favourites and compare: lists built from the ids in the address, price changes, sold and gone cars, bad ids."""
from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from support import HX, SeedCar, add_car, car_ids, get_ok, is_full_page, notes, service

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def fav_ids(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="fav-item" data-fav-item="(\d+)"', text)]


def share_link(text: str) -> str:
    return html.unescape(re.search(r'id="fav-share-url" type="text" readonly value="([^"]*)"', text).group(1))


def item(text: str, car_id: int) -> str:
    """The markup of one saved car on the favourites page (up to the next one, or the end of the list)."""
    start = text.find(f'<li class="fav-item" data-fav-item="{car_id}">')
    assert start >= 0, f"no favourite {car_id}"
    end = min(i for i in (text.find('<li class="fav-item"', start + 1), text.find("</fieldset>", start)) if i > 0)
    return text[start:end]


def no_new_cookie(r) -> bool:  # noqa: ANN001
    """No cookie but the site-wide CSRF cookie every page already sets (favourites and compare add none)."""
    return all(c.startswith("csrftoken=") for c in r.headers.get_list("set-cookie"))


def compare_columns(text: str) -> list[int]:
    thead = re.search(r"<thead>(.*?)</thead>", text, re.S).group(1)
    return [int(i) for i in re.findall(r'<th scope="col" data-car-id="(\d+)"', thead)]


def compare_rows(text: str) -> dict[str, tuple[bool, list[str]]]:
    """Row heading -> (marked as differing, cell texts) for every body row of the compare table."""
    rows = {}
    for cls, head, cells in re.findall(
            r'<tr( class="differs")?>\s*<th scope="row">(.*?)</th>(.*?)</tr>', text, re.S):
        label = html.unescape(re.sub(r"<span class=\"diff-mark\">.*?</span>", "", head)).strip()
        values = [html.unescape(re.sub(r'<span class="visually-hidden">.*?</span>|<[^>]+>', "", c)).strip()
                  for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        differs = bool(cls)
        assert differs == ('class="diff-mark"' in head), f"{label}: highlighted and marked in words together"
        rows[label] = (differs, values)
    return rows


async def test_the_list_comes_from_the_address_in_its_order_with_a_share_link(client, by_key) -> None:
    cars = [by_key["golf"], by_key["corolla"], by_key["xc60"]]
    ids = ",".join(str(c.id) for c in cars)
    r = await get_ok(client, f"/favourites?ids={ids}")
    assert is_full_page(r.text)
    assert fav_ids(r.text) == [c.id for c in cars]
    assert share_link(r.text) == f"http://testserver/favourites?ids={ids}"
    assert "3 tallennettua autoa" in r.text
    # every saved car has its card (with the heart, rendered hidden for the script), a remove link without it,
    # and a compare checkbox in a plain GET form to /compare
    golf = item(r.text, cars[0].id)
    assert f'data-car-id="{cars[0].id}"' in golf and f'href="{cars[0].url}"' in golf
    assert re.search(rf'<button type="button" class="fav-heart" data-fav="{cars[0].id}"[^>]*aria-pressed="false"[^>]*hidden>',
                     golf.replace("\n", " "))
    others = f"{cars[1].id},{cars[2].id}"
    assert f'href="/favourites?ids={others}"' in golf and "Poista" in golf
    assert f'<input type="checkbox" name="ids" value="{cars[0].id}">' in golf
    assert '<form method="get" action="/compare"' in r.text
    assert no_new_cookie(r), "favourites set no cookie"


async def test_htmx_gets_the_list_fragment_only(client, by_key) -> None:
    ids = f"{by_key['golf'].id},{by_key['octavia'].id}"
    page = await get_ok(client, f"/favourites?ids={ids}")
    fragment = await get_ok(client, f"/favourites?ids={ids}", headers=HX)
    assert not is_full_page(fragment.text)
    assert fragment.text.lstrip().startswith('<div id="favourites"')
    assert fav_ids(fragment.text) == fav_ids(page.text) == [by_key["golf"].id, by_key["octavia"].id]
    assert "HX-Request" in fragment.headers["vary"]


async def test_english(client, by_key) -> None:
    r = await get_ok(client, f"/favourites?ids={by_key['golf'].id}:2000000&lang=en")
    assert "1 saved car" in r.text and "Price up 4 500 €" in r.text and "Share the list" in r.text


async def test_price_change_since_saved(client, by_key) -> None:
    golf, corolla, octavia = by_key["golf"], by_key["corolla"], by_key["octavia"]
    async with service(client) as svc:
        await svc.change_price(golf.id, (golf.price_eur - 1000) * 100)
    saved = f"{golf.id}:{golf.price_eur * 100},{corolla.id}:{(corolla.price_eur - 500) * 100},{octavia.id}:{octavia.price_eur * 100}"
    r = await get_ok(client, f"/favourites?ids={saved}")
    assert "Hinta laskenut 1 000 €" in item(r.text, golf.id)
    assert "23 500 €" in item(r.text, golf.id)  # the current price on its card
    assert "Hinta noussut 500 €" in item(r.text, corolla.id)
    assert "Hinta ennallaan" in item(r.text, octavia.id)
    # the saved prices travel in the share link, so another device shows the same changes
    assert share_link(r.text) == f"http://testserver/favourites?ids={saved}"
    # without a saved price (an older link) nothing is said about the price
    plain = await get_ok(client, f"/favourites?ids={golf.id}")
    assert "Hinta laskenut" not in plain.text and "Hinta ennallaan" not in plain.text


async def test_sold_reserved_deleted_and_draft_cars(client, by_key) -> None:
    sold, reserved, deleted, draft, fine = (by_key[k] for k in ("model3", "bmw320", "transit", "c200", "golf"))
    async with service(client) as svc:
        await svc.set_status(sold.id, "sold")
        await svc.soft_delete(deleted.id)
        await svc.set_status(draft.id, "draft")
    ids = ",".join(str(c.id) for c in (sold, reserved, deleted, draft, fine)) + ",99999999"
    r = await get_ok(client, f"/favourites?ids={ids}:1000")
    assert fav_ids(r.text) == [sold.id, reserved.id, fine.id]
    sold_item = item(r.text, sold.id)
    assert "<strong>Myyty</strong>" in sold_item and "ei ole enää myynnissä" in sold_item
    assert f'href="{sold.url}"' in sold_item, "a sold car keeps its link (its page stays up)"
    assert "Hinta laskenut" not in sold_item
    assert "<strong>Varattu</strong>" in item(r.text, reserved.id)
    assert "Pois jätettiin poistetut tai tuntemattomat autot: 3 kpl." in notes(r.text)
    assert share_link(r.text) == f"http://testserver/favourites?ids={sold.id},{reserved.id},{fine.id}"
    sold_page = await client.get(sold.url)
    assert sold_page.status_code == 200


@pytest.mark.parametrize("ids", [
    "abc", "²", "1²", "-1", "0", "1.5", "%00", "9" * 40, "1:abc", "1:" + "9" * 30, ",,,", "١٢", "1e3",
    ",".join(str(i) for i in range(1, 10_001)), "x" * 5000,
])
async def test_bad_ids_never_fail(client, ids: str) -> None:
    for path in ("/favourites", "/compare"):
        r = await client.get(f"{path}?ids={quote(ids, safe=',:')}")
        assert r.status_code == 200, (path, ids[:40], r.status_code)
        assert is_full_page(r.text)
        r = await client.get(f"{path}?ids={quote(ids, safe=',:')}", headers=HX)
        assert r.status_code == 200


async def test_bad_and_repeated_ids_are_skipped_with_a_note(client, by_key) -> None:
    golf = by_key["golf"]
    r = await get_ok(client, "/favourites", params={"ids": f"abc,{golf.id},²,{golf.id},-4"})
    assert fav_ids(r.text) == [golf.id]
    assert "Osoitteessa oli 4 virheellistä tai toistuvaa tunnistetta, ne ohitettiin." in notes(r.text)


async def test_the_list_is_capped(client, by_key) -> None:
    ids = ",".join(str(i) for i in range(1, 10_001))
    r = await get_ok(client, f"/favourites?ids={ids}")
    assert sorted(fav_ids(r.text)) == sorted(c.id for c in by_key.values())  # ids 1..50 hold the nine seeded cars
    assert "Listalla voi olla enintään 50 autoa, joten loput ohitettiin." in notes(r.text)


async def test_empty_list_explains_itself(client) -> None:
    r = await get_ok(client, "/favourites")
    assert "Ei vielä suosikkeja" in r.text
    assert "data-fav-nojs" in r.text and "Suosikkien tallentaminen tarvitsee JavaScriptin" in r.text
    assert "Jaetut suosikki- ja vertailulinkit toimivat ilmankin." in r.text


async def test_hearts_on_cards_and_car_page_are_off_and_hidden_in_cached_html(client, by_key) -> None:
    r = await get_ok(client, "/cars")
    hearts = re.findall(r'<button type="button" class="fav-heart"[^>]*>', r.text.replace("\n", " "))
    assert len(hearts) == len(car_ids(r.text)) > 0
    assert all('aria-pressed="false"' in h and h.endswith("hidden>") for h in hearts)
    # the heart is outside the card's one big link, so the link stays whole
    card = re.search(r'<article class="card".*?</article>', r.text, re.S).group(0)
    assert card.index("</a>") < card.index('class="fav-heart"')
    page = await get_ok(client, by_key["corolla"].url)
    assert re.search(rf'class="fav-heart fav-heart-text" data-fav="{by_key["corolla"].id}" data-price="2190000"', page.text)
    assert "Tallenna suosikiksi" in page.text
    assert 'href="/favourites" class="fav-nav" data-fav-link' in page.text
    assert no_new_cookie(page)


async def test_compare_toggles_and_tray_are_off_and_hidden_in_cached_html(client, by_key) -> None:
    r = await get_ok(client, "/cars")
    flat = r.text.replace("\n", " ")
    toggles = re.findall(r'<button type="button" class="cmp-toggle" data-cmp="(\d+)"([^>]*)>', flat)
    assert [int(i) for i, _ in toggles] == car_ids(r.text)
    assert all('aria-pressed="false"' in attrs and attrs.endswith("hidden") for _, attrs in toggles)
    assert all(re.search(r'aria-label="Vertaa: [^"]+"', attrs) for _, attrs in toggles), "the name says which car"
    # the toggle is outside the card's link, like the heart
    card = re.search(r'<article class="card".*?</article>', r.text, re.S).group(0)
    assert card.index("</a>") < card.index('class="cmp-toggle"')
    # the tray is in every page, hidden until the script has the visitor's own choice, and links to /compare
    tray = re.search(r'<section class="cmp-tray" data-cmp-tray aria-label="([^"]+)" hidden.*?</section>', r.text, re.S)
    assert tray and tray.group(1) == "Vertailuun valitut autot"
    assert 'href="/compare"' in tray.group(0) and "Tyhjennä" in tray.group(0)
    page = await get_ok(client, by_key["corolla"].url)
    assert re.search(rf'class="cmp-toggle cmp-toggle-text" data-cmp="{by_key["corolla"].id}" aria-pressed="false"\s+'
                     r'data-off="Lisää vertailuun" data-on="Poista vertailusta"', page.text)
    en = await get_ok(client, by_key["corolla"].url + "?lang=en")
    assert 'data-off="Add to comparison" data-on="Remove from comparison"' in en.text and "Compare (0)" in en.text
    assert no_new_cookie(page)


# --- compare ---------------------------------------------------------------------------------------------

async def test_compare_shows_the_cars_side_by_side_with_differences_marked(client, by_key) -> None:
    corolla, golf, xc60 = by_key["corolla"], by_key["golf"], by_key["xc60"]
    r = await get_ok(client, f"/compare?ids={corolla.id},{golf.id},{xc60.id}")
    assert is_full_page(r.text)
    assert compare_columns(r.text) == [corolla.id, golf.id, xc60.id]
    assert re.search(r'<div class="compare-scroll" role="region" aria-labelledby="compare-caption" tabindex="0">', r.text)
    assert '<caption id="compare-caption">3 autoa rinnakkain</caption>' in r.text
    rows = compare_rows(r.text)
    assert rows["Hinta"] == (True, ["21 900 €", "24 500 €", "36 900 €"])
    assert rows["Vuosimalli"][1] == [str(c.model_year) for c in (corolla, golf, xc60)]
    assert rows["Mittarilukema"][1] == [f"{c.mileage_km:,} km".replace(",", " ") for c in (corolla, golf, xc60)]
    assert rows["Käyttövoima"][1] == ["Hybridi", "Bensiini", "Lataushybridi"]
    assert rows["Teho"][1] == ["90 kW (122 hv)", "110 kW (150 hv)", "288 kW (392 hv)"]
    assert rows["Vaihteisto"] == (False, ["Automaatti"] * 3)
    assert all(v.startswith("alk. ") and v.endswith(" €/kk") for v in rows["Kuukausierä"][1])
    # equipment: a row per feature any of them has, ✓ / – per car, differing rows marked
    from support import FEATURES
    names = {FEATURES[code]["name_fi"]: code for code in FEATURES}
    equipment = {label: v for label, v in rows.items() if label in names}
    assert set(equipment) == {FEATURES[f]["name_fi"] for c in (corolla, golf, xc60) for f in c.features}
    for label, (differs, values) in equipment.items():
        expected = ["✓" if names[label] in c.features else "–" for c in (corolla, golf, xc60)]
        assert values == expected, label
        assert differs == (len(set(expected)) > 1), label
    # screen readers hear "on" / "ei" (yes / no), not the signs
    assert '<span class="visually-hidden">on</span>' in r.text and '<span class="visually-hidden">ei</span>' in r.text
    assert any(d for d, _ in equipment.values()) and no_new_cookie(r)


async def test_compare_in_english_shows_hp(client, by_key) -> None:
    r = await get_ok(client, f"/compare?ids={by_key['corolla'].id},{by_key['golf'].id}&lang=en")
    rows = compare_rows(r.text)
    # mechanical hp in English (formatting.power), as on the car page
    assert rows["Power"][1] == ["90 kW (121 hp)", "110 kW (148 hp)"]
    assert rows["Colour"][1] == ["White pearl", "Grey metallic"]
    assert rows["Fuel"][1] == ["Hybrid", "Petrol"]


async def test_compare_form_ids_redirect_to_one_short_address(client, by_key) -> None:
    a, b = by_key["corolla"].id, by_key["golf"].id
    r = await client.get(f"/compare?ids={a}&ids={b}")
    assert r.status_code == 303 and r.headers["location"] == f"/compare?ids={a},{b}"


async def test_compare_takes_two_to_four(client, by_key) -> None:
    ids = [c.id for c in by_key.values()]
    one = await get_ok(client, f"/compare?ids={ids[0]}")
    assert "Vertailuun tarvitaan vähintään kaksi autoa" in one.text and "<table" not in one.text
    assert f'href="/favourites?ids={ids[0]}"' in one.text, "a way back to the list"
    none = await get_ok(client, "/compare")
    assert "Vertailuun tarvitaan vähintään kaksi autoa" in none.text and 'href="/favourites"' in none.text
    four = await get_ok(client, "/compare?ids=" + ",".join(map(str, ids[:4])))
    assert compare_columns(four.text) == ids[:4]
    five = await get_ok(client, "/compare?ids=" + ",".join(map(str, ids[:5])))
    assert compare_columns(five.text) == ids[:4]
    assert "Vertailussa voi olla enintään 4 autoa." in notes(five.text)


async def test_compare_skips_gone_cars_and_shows_sold_ones(client, by_key) -> None:
    sold, deleted, golf = by_key["model3"], by_key["transit"], by_key["golf"]
    async with service(client) as svc:
        await svc.set_status(sold.id, "sold")
        await svc.soft_delete(deleted.id)
    r = await get_ok(client, f"/compare?ids={sold.id},{deleted.id},{golf.id}")
    assert compare_columns(r.text) == [sold.id, golf.id]
    rows = compare_rows(r.text)
    assert rows["Tila"][1] == ["Myyty", "Myynnissä"]
    assert rows["Kuukausierä"][1][0] == "–", "no financing offer for a sold car"
    assert "Pois jätettiin poistetut tai tuntemattomat autot: 1 kpl." in notes(r.text)
    gone = await get_ok(client, f"/compare?ids={deleted.id},{golf.id}")
    assert "Vertailuun tarvitaan vähintään kaksi autoa" in gone.text


async def test_queries_do_not_grow_with_the_list(client, by_key) -> None:
    from sqlalchemy import event

    engine = client.app.state.kroi.engine  # type: ignore[attr-defined]
    counts = []
    for n in (2, 4):
        ids = [await add_car(client, features=["tow_bar"]) for _ in range(n)]
        await get_ok(client, "/compare?ids=" + ",".join(map(str, ids)))  # warm: settings come from Redis after this
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(engine.sync_engine, "before_cursor_execute", listener)
        try:
            await get_ok(client, "/compare?ids=" + ",".join(map(str, ids)))
            await get_ok(client, "/favourites?ids=" + ",".join(map(str, ids)), headers=HX)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", listener)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
