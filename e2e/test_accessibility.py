"""Keyboard use and automated accessibility checks (axe-core) on the public pages."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from helpers import LISTED, active_element, axe_problems, title

MAX_TABS = 80


def tab_until(page: Page, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = active_element(page)
        if wanted(focused):
            return focused
        seen.append(focused["id"] or focused["text"][:20] or focused["tag"])
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached {what}; focus went through {seen}")


def test_keyboard_reaches_skip_link_search_and_a_car_and_opens_it(page: Page, base_url: str) -> None:
    page.goto("/cars")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Siirry sisältöön")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # hidden off-screen until focused, then shown

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the first control in the content is the search field
    expect(page.get_by_label("Hakusana")).to_be_focused()

    car = tab_until(page, lambda f: f["tag"] == "a" and f["carId"] is not None, "a car link")
    assert car["carId"] == page.locator("#result-list article").first.get_attribute("data-car-id")
    expect(page.locator(":focus")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(base_url + car["href"])
    expect(page.locator("h1")).to_contain_text(title(LISTED[0]))


AXE_PAGES = {
    "home": lambda: "/",
    "cars": lambda: "/cars",
    "cars filtered": lambda: "/cars?fuel=diesel&price_max=25000",
    "car": lambda: "/cars/1",  # redirects to the car's canonical address
}


@pytest.mark.parametrize("name", AXE_PAGES)
def test_no_serious_or_critical_axe_violations(new_context: Callable[..., BrowserContext], name: str) -> None:
    # The site's CSP (script-src 'self') would block the injected axe script; bypass it for the scan only.
    page = new_context(bypass_csp=True).new_page()
    page.set_default_timeout(10_000)
    page.goto(AXE_PAGES[name]())
    report = axe_problems(page)
    assert not report, f"axe found serious/critical problems on {page.url}:\n{report}"
