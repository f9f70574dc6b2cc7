"""Trust and contact pages in a browser at 390 × 844 (touch) and 1366 × 900: from a form's consent link to the
privacy policy, the contact page's call and directions links, the 404 page's search, a shared ?lang=en link
opened in a fresh browser, axe on /privacy, /terms, /contact and the 404 page, no sideways scroll at 360 px."""
from __future__ import annotations

import re
from typing import Any, Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from helpers import LISTED, SHOTS, axe_problems, scrolls_sideways, title

SCREENS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}


def open_page(new_context: Callable[..., BrowserContext], screen: str, path: str, **extra: Any) -> Page:
    page = new_context(**SCREENS[screen], **extra).new_page()
    page.set_default_timeout(10_000)
    page.goto(path)
    return page


@pytest.mark.parametrize("screen", SCREENS)
def test_the_consent_link_opens_the_privacy_policy(new_context: Callable[..., BrowserContext], screen: str) -> None:
    page = open_page(new_context, screen, "/contact?type=financing")
    consent = page.locator("#form-financing .consent")
    link = consent.get_by_role("link", name=re.compile("^Tietosuojaseloste"))
    link.scroll_into_view_if_needed()
    expect(link).to_be_visible()
    page.get_by_label("Nimi").fill("Testi Henkilö")  # the form keeps its input: the policy opens beside it
    with page.context.expect_page() as opened:
        link.click()
    policy = opened.value
    policy.wait_for_load_state()
    expect(policy.locator("h1")).to_have_text("Tietosuojaseloste")
    expect(policy.get_by_role("heading", name="Rekisterinpitäjä")).to_be_visible()
    expect(policy.locator("main")).to_contain_text("localStorage")
    expect(page.get_by_label("Nimi")).to_have_value("Testi Henkilö")
    policy.screenshot(path=str(SHOTS / f"trust-privacy-{screen}.png"), full_page=False)


@pytest.mark.parametrize("screen", SCREENS)
def test_contact_page_has_call_and_directions(new_context: Callable[..., BrowserContext], screen: str) -> None:
    page = open_page(new_context, screen, "/")
    page.get_by_role("link", name="Yhteystiedot", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/contact$"))
    expect(page.locator("h1")).to_have_text("Yhteystiedot")
    call = page.locator("[data-contact=tel]")
    expect(call).to_be_visible()
    expect(call).to_have_attribute("href", "tel:+358401234567")
    directions = page.get_by_role("link", name="Reittiohjeet kartalla")
    expect(directions).to_be_visible()
    assert re.match(r"https://www\.google\.com/maps/search/\?api=1&query=.*Teollisuustie", directions.get_attribute("href"))
    expect(page.locator("#form-contact")).to_be_attached()
    box = call.bounding_box()
    assert box and box["height"] >= 44
    page.screenshot(path=str(SHOTS / f"trust-contact-{screen}.png"), full_page=True)
    # The trade-in and financing forms are in the navigation (on phones the row under the header)
    page.get_by_role("link", name="Myy tai vaihda autosi").first.click() if screen == "desktop" else \
        page.locator(".sub-nav").get_by_role("link", name="Myy tai vaihda").click()
    expect(page.locator("#form-trade-in")).to_be_visible()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_404_page_search_finds_cars(new_context: Callable[..., BrowserContext], screen: str) -> None:
    page = open_page(new_context, screen, "/no-such-page")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".site-header")).to_be_visible()
    expect(page.locator("main").get_by_role("link", name="+358 40 123 4567")).to_be_visible()
    car = LISTED[0]
    page.get_by_role("searchbox", name="Hae autoja").fill(car["brand"])
    page.get_by_role("button", name="Hae", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cars\?q="))
    expect(page.locator("#result-list article", has_text=title(car)).first).to_be_visible()


def test_a_shared_english_link_is_english_in_a_fresh_browser(new_context: Callable[..., BrowserContext]) -> None:
    page = open_page(new_context, "desktop", "/cars?lang=en")
    car = LISTED[0]
    page.locator("#result-list article", has_text=title(car)).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Specifications")).to_be_visible()
    shared = page.url
    assert "lang=en" in shared
    fresh = open_page(new_context, "phone", shared)  # someone else opens the link: no cookie, no history
    expect(fresh.locator("html")).to_have_attribute("lang", "en")
    expect(fresh.get_by_role("heading", name="Specifications")).to_be_visible()
    expect(fresh.get_by_role("heading", name="A safe purchase")).to_be_visible()
    fresh.locator(".trust").screenshot(path=str(SHOTS / "trust-block-phone-en.png"))
    fresh.locator("section[aria-labelledby=specs-heading], .specs").first.screenshot(path=str(SHOTS / "trust-specs-en.png"))
    assert fresh.locator('link[rel=alternate][hreflang="fi"]').count() == 1
    fresh.get_by_role("link", name="Contact", exact=True).first.click()
    expect(fresh.locator("h1")).to_have_text("Contact")
    assert "lang=en" in fresh.url


@pytest.mark.parametrize("path", ["/privacy", "/terms", "/contact", "/no-such-page", "/privacy?lang=en"])
@pytest.mark.parametrize("screen", SCREENS)
def test_axe_is_clean(new_context: Callable[..., BrowserContext], screen: str, path: str) -> None:
    page = open_page(new_context, screen, path, bypass_csp=True)
    assert axe_problems(page) == ""


@pytest.mark.parametrize("path", ["/privacy", "/terms", "/contact", "/contact?type=trade-in", "/no-such-page",
                                  "/cars/1?lang=en"])
def test_no_sideways_scroll_at_360(new_context: Callable[..., BrowserContext], path: str) -> None:
    page = new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True).new_page()
    page.goto(path)
    assert scrolls_sideways(page) == []
    page.screenshot(path=str(SHOTS / f"trust-360-{path.strip('/').replace('/', '-').replace('?', '-') or 'home'}.png"),
                    full_page=True)
