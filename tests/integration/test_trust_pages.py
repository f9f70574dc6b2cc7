"""Trust and contact: privacy policy and terms editable by an admin (FI/EN), privacy links next to every consent,
dealer facts from the settings, the car page's trust block, the contact page, 404/410 in the normal layout,
shareable English addresses (?lang=en, hreflang, canonical), English units and colours, and the fixed texts."""
from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import as_admin, as_data, change, form_pairs, post
from kroi.db.models import Car
from kroi.system import texts
from kroi.web import i18n
from support import SeedCar, canonical, get_ok, service

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
__all__ = ["as_admin"]

FORMS = ("contact", "test-drive", "trade-in", "financing")


def fi(key: str, **params: object) -> str:
    return i18n.translate("fi", key, **params)


def en(key: str, **params: object) -> str:
    return i18n.translate("en", key, **params)


def hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'\shref="([^"]*)"', page)]


def alternates(page: str) -> dict[str, str]:
    return {code: html.unescape(href) for code, href in
            re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page)}


def consent_blocks(page: str) -> list[str]:
    return re.findall(r'<div class="field consent.*?</div>', page, re.S)


# --- privacy policy and terms ------------------------------------------------------------------------------

async def test_privacy_page_names_the_dealer_from_the_settings_and_explains_the_storage(client) -> None:  # noqa: ANN001
    page = (await get_ok(client, "/privacy")).text
    assert f"<h1>{fi('pages.privacy')}</h1>" in page
    for fact in ("Kroi Auto Center", "1234567-8", "Teollisuustie 12", "33330 Tampere", 'href="tel:+358401234567"',
                 'href="mailto:myynti@kroiautocenter.fi"'):
        assert fact in page, fact
    assert "[" not in re.sub(r"<script.*?</script>", "", page, flags=re.S).split("<main", 1)[1].split("</main>")[0]
    for words in ("Koeajovaraus", "Rahoitushakemus", "Vaihtoauton arvio", "Uutiskirje", "Hakuvahdit",
                  "localStorage", "tietosuoja-asetus", "24 kuukautta"):
        assert words in page, words
    english = (await get_ok(client, "/privacy?lang=en")).text
    assert f"<h1>{en('pages.privacy')}</h1>" in english and "localStorage" in english
    assert "Saved-search e-mail alerts" in english and "Business ID: 1234567-8" in english


async def test_an_admin_edits_privacy_and_terms_in_both_languages_and_they_show_escaped(
        client: httpx.AsyncClient, as_admin: int, db: AsyncSession) -> None:
    settings = await get_ok(client, "/admin/settings")
    assert texts.PRIVACY_FI.split("\n")[0] in html.unescape(settings.text)  # the default text is there to edit
    pairs = change(form_pairs(settings.text, action="/admin/settings"),
                   page_privacy_fi="## Oma otsikko\n\nEnsimmäinen <b>kappale</b>.\n\nToinen kappale.",
                   page_terms_en="Our own terms.", dealer_business_id="7654321-0")
    r = await post(client, "/admin/settings", as_data(pairs))
    assert r.status_code == 303
    privacy = (await get_ok(client, "/privacy")).text
    assert "<h2>Oma otsikko</h2>" in privacy and "<p>Ensimmäinen &lt;b&gt;kappale&lt;/b&gt;.</p>" in privacy
    assert "<p>Toinen kappale.</p>" in privacy and "7654321-0" in privacy and "1234567-8" not in privacy
    assert "Our own terms." in (await get_ok(client, "/terms?lang=en")).text
    assert "Our own terms." not in (await get_ok(client, "/terms?lang=fi")).text  # Finnish: default
    # Emptied, a text falls back to the default instead of an empty page.
    pairs = change(form_pairs((await get_ok(client, "/admin/settings")).text, action="/admin/settings"),
                   page_privacy_fi="")
    assert (await post(client, "/admin/settings", as_data(pairs))).status_code == 303
    assert "Koeajovaraus" in (await get_ok(client, "/privacy")).text


async def test_a_too_long_page_text_is_refused_at_its_field(client: httpx.AsyncClient, as_admin: int) -> None:
    pairs = change(form_pairs((await get_ok(client, "/admin/settings")).text, action="/admin/settings"),
                   page_terms_fi="x" * 20001)
    r = await post(client, "/admin/settings", as_data(pairs))
    assert r.status_code == 422 and fi("admin.settings.error.too_long") in r.text


async def test_footer_links_the_privacy_terms_and_contact_pages(client) -> None:  # noqa: ANN001
    for path in ("/", "/cars", "/privacy"):
        links = hrefs((await get_ok(client, path)).text)
        assert {"/privacy", "/terms", "/contact"} <= set(links), path


# --- consent links ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("form_type", FORMS)
async def test_every_consent_checkbox_has_the_privacy_link(client, form_type: str) -> None:  # noqa: ANN001
    page = (await get_ok(client, f"/contact?type={form_type}")).text
    blocks = consent_blocks(page)
    assert blocks, form_type
    for block in blocks:
        assert 'href="/privacy"' in block and fi("pages.privacy_link") in block
    news = page.split('class="newsletter"', 1)[1].split("</form>", 1)[0]
    assert 'href="/privacy"' in news


async def test_the_car_page_inquiry_consent_has_the_privacy_link_in_english(client, by_key) -> None:  # noqa: ANN001
    page = (await get_ok(client, by_key["golf"].url + "?lang=en")).text
    blocks = consent_blocks(page)
    assert blocks and all('href="/privacy?lang=en"' in b and en("pages.privacy_link") in b for b in blocks)



async def test_the_saved_search_consent_has_the_privacy_link(client) -> None:  # noqa: ANN001
    for url, link, label in (("/alerts/new?fuel=electric", 'href="/privacy"', fi("pages.privacy_link")),
                             ("/alerts/new?fuel=electric&lang=en", 'href="/privacy?lang=en"', en("pages.privacy_link"))):
        blocks = consent_blocks((await get_ok(client, url)).text)
        assert blocks and all(link in b and label in b for b in blocks), url

# --- trust block and contact page ---------------------------------------------------------------------------

async def test_car_page_shows_the_trust_block_from_the_settings(client, as_admin, by_key) -> None:  # noqa: ANN001
    car: SeedCar = by_key["golf"]
    page = (await get_ok(client, car.url)).text
    assert fi("trust.title") in page and texts.RETURNS_FI in page and texts.INSPECTION_FI in page
    assert en("trust.title") in (await get_ok(client, car.url + "?lang=en")).text
    pairs = change(form_pairs((await get_ok(client, "/admin/settings")).text, action="/admin/settings"),
                   page_warranty_fi="12 kuukauden takuu kaikille autoille.")
    assert (await post(client, "/admin/settings", as_data(pairs))).status_code == 303
    assert "12 kuukauden takuu kaikille autoille." in (await get_ok(client, car.url + "?lang=fi")).text  # cache follows


async def test_contact_page_has_address_hours_phone_directions_and_the_form(client) -> None:  # noqa: ANN001
    page = (await get_ok(client, "/contact")).text
    assert f">{fi('contact.title')}</h1>" in page
    assert "Teollisuustie 12" in page and "33330 Tampere" in page
    assert 'href="tel:+358401234567"' in page
    directions = next(h for h in hrefs(page) if h.startswith("https://www.google.com/maps/search/"))
    assert "Teollisuustie%2012" in directions and "Tampere" in directions
    assert page.index("Teollisuustie 12") < page.index('id="form-contact"')
    assert "09:00–18:00" in page and "10:00–15:00" in page and fi("dealer.closed") in page


async def test_navigation_reaches_the_trade_in_financing_and_contact_pages(client) -> None:  # noqa: ANN001
    links = hrefs((await get_ok(client, "/")).text)
    assert {"/contact?type=trade-in", "/contact?type=financing", "/contact"} <= set(links)
    assert "#contact" not in links


# --- error pages ----------------------------------------------------------------------------------------------

async def test_404_has_the_layout_search_links_and_phone(client) -> None:  # noqa: ANN001
    r = await client.get("/no-such-page")
    assert r.status_code == 404
    page = r.text
    assert 'class="site-header"' in page and 'class="site-footer"' in page
    assert re.search(r'<form class="error-search" method="get" action="/cars"', page) and 'name="q"' in page
    assert 'href="tel:+358401234567"' in page and 'href="/cars"' in page and 'href="/contact"' in page
    english = await client.get("/no-such-page?lang=en")
    assert english.status_code == 404 and en("error.search") in english.text
    assert 'href="/cars?lang=en"' in english.text


async def test_410_of_a_deleted_car_has_the_layout_search_and_phone(client, by_key) -> None:  # noqa: ANN001
    car = by_key["golf"]
    async with service(client) as svc:
        await svc.soft_delete(car.id)
    r = await client.get(car.url)
    assert r.status_code == 410
    assert 'class="site-header"' in r.text and 'class="error-search"' in r.text and "tel:+358401234567" in r.text
    frag = await client.get(car.url, headers={"HX-Request": "true"})
    assert frag.status_code == 410 and "site-header" not in frag.text


# --- shareable English ----------------------------------------------------------------------------------------

async def test_english_links_keep_the_language_and_the_page_has_hreflang(client, by_key) -> None:  # noqa: ANN001
    page = (await get_ok(client, "/cars?lang=en")).text
    assert '<html lang="en">' in page
    site_links = [h for h in hrefs(page) if h.startswith("/") and not h.startswith(("/static/", "/media/", "/lang/"))]
    assert site_links and all("lang=en" in h for h in site_links), [h for h in site_links if "lang=en" not in h]
    assert canonical(page).endswith("/cars?lang=en")
    alt = alternates(page)
    assert alt["fi"].endswith("/cars") and alt["en"].endswith("/cars?lang=en") and alt["x-default"] == alt["fi"]
    finnish = (await get_ok(client, "/cars?lang=fi")).text  # ?lang=en above left an English cookie
    assert "lang=en" not in " ".join(h for h in hrefs(finnish) if h.startswith("/") and not h.startswith("/lang/"))
    assert canonical(finnish).endswith("/cars") and alternates(finnish)["en"].endswith("/cars?lang=en")
    car = (await get_ok(client, by_key["golf"].url + "?lang=en")).text
    assert canonical(car).endswith(by_key["golf"].url + "?lang=en")
    assert 'name="lang" value="en"' in car.split('class="site-footer"')[0]  # the GET forms carry it too


async def test_the_language_switch_puts_the_language_in_the_address(client) -> None:  # noqa: ANN001
    r = await client.get("/lang/en?next=/cars%3Fsort%3Dprice_asc")
    assert r.status_code == 303 and r.headers["location"] == "/cars?sort=price_asc&lang=en"
    r = await client.get("/lang/fi?next=/cars%3Fsort%3Dprice_asc%26lang%3Den")
    assert r.headers["location"] == "/cars?sort=price_asc"
    page = (await client.get("/cars?lang=en")).text
    switch = next(h for h in hrefs(page) if h.startswith("/lang/fi"))
    assert "lang%3Den" not in switch


async def test_the_english_cache_is_not_served_to_finnish_pages(client, by_key) -> None:  # noqa: ANN001
    for _ in range(2):
        english = (await get_ok(client, "/?lang=en")).text
        finnish = (await get_ok(client, "/?lang=fi")).text
        assert 'href="/cars?lang=en"' in english and 'href="/cars?lang=en"' not in finnish
        fragment = await client.get("/cars?lang=en&sort=price_asc", headers={"HX-Request": "true"})
        assert fragment.headers["hx-push-url"].endswith("lang=en")
        assert "lang=en" not in (await client.get("/cars?sort=price_asc&lang=fi",
                                                   headers={"HX-Request": "true"})).headers["hx-push-url"]


# --- English words and units --------------------------------------------------------------------------------

async def test_english_car_page_shows_hp_translated_colour_and_a_labelled_fallback(
        client, by_key, db: AsyncSession) -> None:  # noqa: ANN001
    car = by_key["golf"]  # Harmaa metallic, 110 kW
    await db.execute(update(Car).where(Car.id == car.id).values(description_en=""))
    await db.commit()
    page = (await get_ok(client, car.url + "?lang=en")).text
    assert "110 kW (148 hp)" in page and " hv)" not in page
    assert "<dd>Grey metallic</dd>" in page and "Harmaa" not in page.split("<dt>Colour</dt>", 1)[1][:40]
    assert en("car.description_fi_only") in page
    finnish = (await get_ok(client, car.url + "?lang=fi")).text
    assert "110 kW (150 hv)" in finnish and "<dd>Harmaa metallic</dd>" in finnish
    assert fi("car.description_fi_only") not in finnish
    other = (await get_ok(client, by_key["octavia"].url + "?lang=en")).text
    assert en("car.description_fi_only") not in other and "<dd>Blue metallic</dd>" in other


# --- fixed texts -----------------------------------------------------------------------------------------------

async def test_the_fixed_texts(client, db: AsyncSession, as_admin) -> None:  # noqa: ANN001
    assert "Centerlle" not in fi("mail.confirm.body", dealer="Kroi Auto Center")
    assert fi("lead.type.trade_in") != fi("cars.title").rstrip("t") and fi("lead.type.trade_in") == "Vaihtokauppa"
    assert "prioriteetti" not in open("templates/mail/dealer_lead.txt").read()
    page = (await get_ok(client, "/contact")).text
    assert "4 tunnin sisällä" in page and "tunnin sisällä." not in page.replace("4 tunnin sisällä.", "")
    pairs = change(form_pairs((await get_ok(client, "/admin/settings")).text, action="/admin/settings"),
                   response_target_hours="1")
    assert (await post(client, "/admin/settings", as_data(pairs))).status_code == 303
    assert "yleensä tunnin sisällä" in (await get_ok(client, "/contact")).text
    assert "within an hour" in (await get_ok(client, "/contact?lang=en")).text
    assert i18n.response_within("fi", 2.5) == "2,5 tunnin sisällä"
    assert i18n.response_within("en", 24) == "within 24 hours"
