"""The car page on a phone: the financing calculator (/cars/{ref}/financing, page and fragment, bad input),
the financing form it prefills, the price-history chart, the action bar, the photo viewer and what print needs."""
from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from kroi.inventory.editing import CarEditService
from kroi.web import i18n
from support import HX, SeedCar, canonical, get_ok, is_full_page

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def fi(key: str, **params: object) -> str:
    return html.escape(i18n.translate("fi", key, **params), quote=False)


@asynccontextmanager
async def editor(client: httpx.AsyncClient) -> AsyncIterator[CarEditService]:
    k = client.app.state.kroi  # type: ignore[attr-defined]
    async with k.sessionmaker() as session:
        yield CarEditService(session, k.cache)


def monthly(text: str) -> str:
    return html.unescape(re.search(r"<dd class=\"price\" data-monthly>([^<]*)</dd>", text).group(1))


def apr(text: str) -> str:
    return html.unescape(re.search(r"<dd data-apr>([^<]*)</dd>", text).group(1))


def apply_href(text: str) -> str:
    return html.unescape(re.search(r'<a class="button" data-finance-apply href="([^"]+)"', text).group(1))


async def test_the_car_page_shows_the_calculator_with_the_dealers_defaults(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["corolla"]
    r = await get_ok(client, car.url)
    # 21 900 €, 20 % down = 4 380 €, 60 months at 5.9 % + 299 € opening fee + 9 €/month (settings defaults).
    assert f'action="{car.url}/financing#financing"' in r.text and f'hx-get="{car.url}/financing"' in r.text
    assert 'id="fin-down" name="down" value="4380"' in r.text
    assert re.search(r'<option value="60" selected>60\xa0kk \(5\xa0v\)</option>', r.text)
    assert [m for m in re.findall(r'<option value="(\d+)"', r.text.split('id="fin-months"', 1)[1].split("</select>")[0])] \
        == ["12", "24", "36", "48", "60", "72", "84"]
    assert monthly(r.text) == "352,66\xa0€/kk" and apr(r.text) == "7,97\xa0%"
    example = html.unescape(re.search(r'<p class="finance-example small">(.*?)</p>', r.text, re.S).group(1))
    for part in ("Esimerkki: käteishinta 21\xa0900\xa0€", "käsiraha 4\xa0380\xa0€", "luoton määrä 17\xa0520\xa0€",
                 "todellinen vuosikorko 7,97\xa0%", "avausmaksu 299\xa0€", "käsittelymaksu 9\xa0€/kk",
                 "luottokustannukset yhteensä 3\xa0639,60\xa0€", "maksettava yhteensä 21\xa0159,60\xa0€"):
        assert part in example, part
    assert apply_href(r.text) == f"/contact?type=financing&car={car.id}&down_payment=4380&term_months=60"
    # The price box's summary says the APR too (an instalment in marketing needs it) and links to the calculator.
    assert "todellinen vuosikorko 7,97\xa0%" in html.unescape(r.text.split('class="price-box"', 1)[1].split("</aside>")[0])


async def test_the_endpoint_answers_htmx_with_the_result_fragment(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["corolla"]
    r = await get_ok(client, f"{car.url}/financing?down=2000&months=36", headers=HX)
    assert not is_full_page(r.text) and "<form" not in r.text
    assert "HX-Request" in r.headers["vary"]
    # 19 900 € + 299 € over 36 months at 5.9 % = 613.58 € + 9 € = 622.58 €.
    assert monthly(r.text) == "622,58\xa0€/kk"
    assert apr(r.text) == "8,18\xa0%"
    assert apply_href(r.text) == f"/contact?type=financing&car={car.id}&down_payment=2000&term_months=36"
    # The fields' message slots come along out of band, emptied (a message from before goes away).
    assert '<p class="field-error" id="fin-down-error" hx-swap-oob="true"></p>' in r.text
    assert '<p class="field-error" id="fin-months-error" hx-swap-oob="true"></p>' in r.text
    more_down = await get_ok(client, f"{car.url}/financing?down=8000&months=36", headers=HX)
    longer = await get_ok(client, f"{car.url}/financing?down=2000&months=84", headers=HX)
    assert monthly(more_down.text) < monthly(r.text) and monthly(longer.text) < monthly(r.text)


async def test_without_javascript_the_form_gives_the_whole_car_page_with_the_result(client, by_key) -> None:  # noqa: ANN001
    car = by_key["corolla"]
    r = await get_ok(client, f"{car.url}/financing?down=2000&months=36")
    assert is_full_page(r.text)
    assert f'data-car-id="{car.id}"' in r.text and "Tekniset tiedot" in r.text and 'id="form-inquiry"' in r.text
    assert canonical(r.text) == f"http://testserver{car.url}"  # the calculator's URL is not another page
    assert 'name="down" value="2000"' in r.text and '<option value="36" selected>' in r.text
    assert monthly(r.text) == "622,58\xa0€/kk"
    # The cached page body keeps the defaults for everyone else.
    again = await get_ok(client, car.url)
    assert monthly(again.text) == "352,66\xa0€/kk" and 'name="down" value="4380"' in again.text


@pytest.mark.parametrize("query, field, message", [
    ("down=abc&months=60", "down", fi("fin.error.down_number")),
    ("down=-500&months=60", "down", fi("fin.error.down_number")),
    ("down=12.5&months=60", "down", fi("fin.error.down_number")),
    ("down=21900&months=60", "down", fi("fin.error.down_too_big")),
    ("down=50000&months=60", "down", fi("fin.error.down_too_big")),
    ("down=99999999999999999999999&months=60", "down", fi("fin.error.down_number")),
    ("down=3000&months=13", "months", fi("fin.error.term", low=12, high=84)),
    ("down=3000&months=96", "months", fi("fin.error.term", low=12, high=84)),
    ("down=3000&months=abc", "months", fi("fin.error.term", low=12, high=84)),
    ("down=3000&months=", "months", fi("fin.error.term", low=12, high=84)),
    ("down=%00&months=%FF", "down", fi("fin.error.down_number")),
])
async def test_bad_input_gets_a_message_at_the_field_never_a_500(client, by_key, query, field, message) -> None:  # noqa: ANN001
    car = by_key["corolla"]
    for headers in (HX, {}):
        r = await client.get(f"{car.url}/financing?{query}", headers=headers)
        assert r.status_code == 422, (query, r.status_code, r.text[:300])
        # At the field: in the page's form, or out of band to it in the htmx answer.
        oob = ' hx-swap-oob="true"' if headers else ""
        assert re.search(rf'<p class="field-error" id="fin-{field}-error"{oob}>{re.escape(message)}</p>', r.text), query
        assert "data-monthly" not in r.text and "data-finance-apply" not in r.text
        assert is_full_page(r.text) == (headers == {})
    page = await client.get(f"{car.url}/financing?{query}")
    assert f'id="fin-{field}" name="{field}"' in page.text or f'id="fin-{field}"' in page.text
    assert re.search(rf'id="fin-{field}"[^>]*aria-invalid="true"', page.text)


async def test_missing_values_take_the_defaults_and_a_wrong_slug_redirects(client, by_key) -> None:  # noqa: ANN001
    car = by_key["corolla"]
    r = await get_ok(client, f"{car.url}/financing", headers=HX)
    assert monthly(r.text) == "352,66\xa0€/kk"
    moved = await client.get(f"/cars/{car.id}-old-name/financing?down=1000&months=24")
    assert moved.status_code == 301 and moved.headers["location"] == f"{car.url}/financing?down=1000&months=24"
    assert (await client.get("/cars/999999-x/financing")).status_code == 404
    assert (await client.get("/cars/abc/financing")).status_code == 404


async def test_english_calculator(client, by_key) -> None:  # noqa: ANN001
    car = by_key["corolla"]
    r = await get_ok(client, f"{car.url}/financing?down=2000&months=36&lang=en", headers=HX)
    # Money is written the one way the site writes it (the money filter), the rate the English way.
    assert monthly(r.text) == "622,58\xa0€/month" and apr(r.text) == "8.18\xa0%"
    assert "Example: cash price 21\xa0900\xa0€" in html.unescape(r.text)
    bad = await client.get(f"{car.url}/financing?down=x&months=36&lang=en", headers=HX)
    assert bad.status_code == 422 and "Give the down payment in whole euros" in bad.text


async def test_the_prefill_link_opens_the_financing_form_with_the_values(client, by_key) -> None:  # noqa: ANN001
    car = by_key["corolla"]
    r = await get_ok(client, f"/contact?type=financing&car={car.id}&down_payment=2000&term_months=36")
    form = r.text.split('id="form-financing"', 1)[1]
    assert re.search(r'id="financing-down_payment" name="down_payment" value="2000"', form)
    assert '<option value="36" selected>36</option>' in form
    assert f'name="car_id" value="{car.id}"' in form
    # Values that are not whole numbers are ignored (the defaults stay); the form still validates on send.
    odd = await get_ok(client, f"/contact?type=financing&car={car.id}&down_payment=abc&term_months=x")
    assert 'name="down_payment" value=""' in odd.text and '<option value="60" selected>60</option>' in odd.text
    # A term the form does not offer is not taken either (the select would silently show another).
    for term in ("13", "96", "0"):
        odd = await get_ok(client, f"/contact?type=financing&car={car.id}&down_payment=1000&term_months={term}")
        assert 'value="1000"' in odd.text and '<option value="60" selected>60</option>' in odd.text, term
    # Other forms do not take them.
    other = await get_ok(client, f"/contact?type=test-drive&car={car.id}&down_payment=2000")
    assert 'name="down_payment"' not in other.text


async def test_sold_cars_have_no_calculator_and_only_a_call_button(client, by_key) -> None:  # noqa: ANN001
    car = by_key["golf"]
    async with editor(client) as svc:
        await svc.set_status([car.id], "sold")
    r = await get_ok(client, car.url)
    assert 'id="financing"' not in r.text
    bar = re.search(r'<nav class="action-bar".*?</nav>', r.text, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', bar) == ["tel:+358401234567"]
    assert (await client.get(f"{car.url}/financing?down=1000&months=24", headers=HX)).status_code == 404
    reserved = await get_ok(client, by_key["bmw320"].url)  # reserved: ask, but no test drive
    bar = re.search(r'<nav class="action-bar".*?</nav>', reserved.text, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', bar) == ["tel:+358401234567", "#form-inquiry"]


async def test_action_bar_gallery_share_and_print_markup(client, by_key) -> None:  # noqa: ANN001
    car = by_key["corolla"]
    r = await get_ok(client, car.url)
    bar = re.search(r'<nav class="action-bar" aria-label="Toiminnot">(.*?)</nav>', r.text, re.S).group(1)
    assert re.findall(r'href="([^"]+)"', html.unescape(bar)) == [
        "tel:+358401234567", "#form-inquiry", f"/contact?type=test-drive&car={car.id}"]
    assert 'id="form-inquiry"' in r.text  # the message button's target is on the page
    # Photos: without JavaScript each is a link to its full-size file; the viewer is a real <dialog>.
    links = re.findall(r'<a class="slide-link" href="([^"]+)" data-lightbox-open="(\d+)">', r.text)
    assert len(links) == 3 and all(href.endswith("-full.webp") for href, _ in links)
    assert [i for _, i in links] == ["0", "1", "2"]
    assert re.search(r'<dialog class="lightbox" id="lightbox" aria-labelledby="lightbox-title" data-lightbox>', r.text)
    assert 'data-lightbox-close aria-label="Sulje kuvat"' in r.text and "data-lightbox-prev" in r.text
    # Share: hidden until the script knows it can share or copy; the status is announced.
    assert re.search(r'<div class="share" data-share hidden>', r.text)
    assert f'data-url="http://testserver{car.url}"' in r.text and 'role="status" data-share-status' in r.text
    # Print: the dealer's contact and the page's address, from settings.
    contact = html.unescape(re.search(r'<div class="print-contact">(.*?)</div>', r.text, re.S).group(1))
    for part in ("Kroi Auto Center", "Teollisuustie 12, 33330 Tampere", "+358 40 123 4567",
                 "myynti@kroiautocenter.fi", f"http://testserver{car.url}"):
        assert part in contact, part
    assert '/static/js/gallery.js?v=' in r.text and '/static/js/carpage.js?v=' in r.text


async def test_print_stylesheet_hides_what_paper_cannot_use(client) -> None:
    css = (await get_ok(client, "/static/css/site.css")).text
    rules = css.split("@media print {", 1)[1]
    hidden = rules.split("{ display: none !important; }", 1)[0]
    for selector in (".site-header", ".site-footer", ".action-bar", ".lightbox", ".share", ".inquiry-section",
                     ".related", "form", "button", ".breadcrumb", ".finance-calc"):
        assert re.search(rf"(^|[\s,]){re.escape(selector)}(,|\s|$)", hidden), selector
    assert ".print-contact { display: block;" in rules
    assert re.search(r"\.action-bar, \.print-contact \{ display: none; \}", css)  # neither on screen by default


async def test_price_history_chart_appears_when_the_price_changes(client, by_key) -> None:  # noqa: ANN001
    car = by_key["octavia"]
    before = await get_ok(client, car.url)  # also caches the page body
    assert 'class="price-history"' not in before.text  # the seed price has never changed
    async with editor(client) as svc:
        await svc.set_price(car.id, 1_850_000)
        await svc.set_price(car.id, 1_790_000)
    r = await get_ok(client, car.url)
    section = re.search(r'<section class="price-history".*?</section>', r.text, re.S).group(0)
    assert "<svg" in section and 'role="img"' in section and len(re.findall(r"<circle ", section)) == 3
    rows = [(html.unescape(d), html.unescape(p)) for d, p in re.findall(r"<tr><td>([^<]*)</td><td class=\"price\">([^<]*)</td></tr>", section)]
    assert [p for _, p in rows] == ["19 900 €", "18 500 €", "17 900 €"]
    assert all(re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", d) for d, _ in rows)
    assert '<p class="big-price price">17 900 €</p>' in r.text
