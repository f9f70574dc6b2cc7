"""The header's language link switches the site to English and back, and the English site keeps working."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from helpers import LISTED, PAGE_SIZE, card_titles, count_text, euros, title, titles


def test_switch_to_english_filter_open_a_car_and_switch_back(page: Page) -> None:
    page.goto("/cars?fuel=diesel")
    diesel = [c for c in LISTED if c["fuel"] == "diesel"]
    expect(page.locator("h1")).to_have_text("Vaihtoautot")

    page.get_by_role("link", name="In English").click()
    expect(page).to_have_url(re.compile(r"/cars\?fuel=diesel&lang=en$"))  # the same search, now in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Used cars")
    expect(page.locator("#result-count")).to_have_text(count_text(len(diesel), "en"))
    expect(page.get_by_role("button", name=re.compile(r"^Show [\d ,]+ cars?$"))).to_be_visible()
    expect(page.get_by_role("checkbox", name="Diesel")).to_be_checked()

    page.evaluate("window.__marker = 1")
    page.get_by_role("checkbox", name="Diesel").uncheck()  # htmx fragments come in English too
    expect(page.locator("#result-count")).to_have_text(count_text(len(LISTED), "en"))
    assert card_titles(page) == titles(LISTED[:PAGE_SIZE])
    expect(page.locator("#result-list article").first).to_contain_text("Automatic")
    expect(page.locator("label[for=category-estate]")).to_contain_text("Estate")
    expect(page.get_by_role("link", name="Show more cars")).to_be_visible()
    assert page.evaluate("window.__marker") == 1

    car = LISTED[0]
    page.locator("#result-list article", has_text=title(car)).get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(title(car))
    expect(page.locator(".big-price")).to_have_text(euros(car["price_eur"]))
    expect(page.get_by_role("heading", name="Specifications")).to_be_visible()
    expect(page.locator("[data-gallery-counter]")).to_have_text("Photo 1 of 3")
    expect(page.get_by_role("link", name="Back to results")).to_be_visible()

    page.get_by_role("link", name="Suomeksi").click()
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator("h1")).to_contain_text(title(car))  # still the same car
    expect(page.locator("[data-gallery-counter]")).to_have_text("Kuva 1 / 3")
    expect(page.get_by_role("link", name="Takaisin hakutuloksiin")).to_be_visible()
