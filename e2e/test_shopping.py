"""A shopper narrows the list, goes back, and opens a car: with JavaScript (htmx) and without it."""
from __future__ import annotations

import re
from typing import Callable

from playwright.sync_api import BrowserContext, Locator, Page, expect

from helpers import LISTED, PAGE_SIZE, brand_slug, card_titles, count_text, euros, title, titles

MAX_PRICE = 25_000
CHEAP = [c for c in LISTED if c["price_eur"] <= MAX_PRICE]
CHOSEN = next(c for c in CHEAP if c["key"] == "corolla")  # Toyota: the only one of its make in the seed
CHOSEN_BRAND = [c for c in CHEAP if c["brand"] == CHOSEN["brand"]]


def test_seed_gives_these_tests_something_to_see() -> None:
    assert PAGE_SIZE < len(CHEAP) < len(LISTED), "the price filter must change the list and still span pages"
    assert len(CHOSEN_BRAND) == 1 and len({c["brand"] for c in CHEAP}) > 1


# The slide whose photo fills the gallery track's visible box (the track scrolls sideways).
SHOWN_PHOTO = """() => {
  const track = document.querySelector('.gallery-track').getBoundingClientRect();
  const shown = [...document.querySelectorAll('.gallery-track .slide')].filter(s => {
    const r = s.getBoundingClientRect();
    return Math.abs(r.left - track.left) < 3 && Math.abs(r.right - track.right) < 3;
  });
  return shown.length === 1 ? shown[0].id : null;
}"""


def shown_photo(page: Page) -> str | None:
    return page.evaluate(SHOWN_PHOTO)


APPLY = re.compile(r"^Näytä [\d ]+ autoa?$")  # the apply button says how many cars it will show


def _count(page: Page) -> Locator:
    return page.locator("#result-count")


def test_filters_update_without_reload_back_restores_and_a_car_opens(page: Page) -> None:
    page.goto("/cars")
    expect(_count(page)).to_have_text(count_text(len(LISTED)))
    assert card_titles(page) == titles(LISTED[:PAGE_SIZE])
    page.evaluate("window.__marker = 1")  # gone if anything reloads the page

    page.fill("input[name=price_max]", str(MAX_PRICE))
    expect(_count(page)).to_have_text(count_text(len(CHEAP)))
    expect(page).to_have_url(re.compile(rf"/cars\?price_max={MAX_PRICE}$"))
    assert card_titles(page) == titles(CHEAP[:PAGE_SIZE])
    # the make list now offers only makes with cars at this price, each with its count (the others stay, disabled)
    brands = sorted({c["brand"] for c in CHEAP})
    expect(page.locator("select[name=brand] option:not([disabled])")).to_have_text(
        ["Kaikki merkit", *[f"{b} ({sum(c['brand'] == b for c in CHEAP)})" for b in brands]])

    page.select_option("select[name=brand]", brand_slug(CHOSEN))
    expect(_count(page)).to_have_text(count_text(len(CHOSEN_BRAND)))
    expect(page).to_have_url(re.compile(rf"/cars\?brand={brand_slug(CHOSEN)}&price_max={MAX_PRICE}$"))
    assert card_titles(page) == titles(CHOSEN_BRAND)
    expect(page.locator("select[name=model]")).to_be_enabled()  # a make is chosen: its models can be
    assert page.evaluate("window.__marker") == 1, "the page reloaded"

    page.go_back()
    expect(page).to_have_url(re.compile(rf"/cars\?price_max={MAX_PRICE}$"))
    expect(_count(page)).to_have_text(count_text(len(CHEAP)))
    assert card_titles(page) == titles(CHEAP[:PAGE_SIZE])
    expect(page.locator("input[name=price_max]")).to_have_value(str(MAX_PRICE))
    expect(page.locator("select[name=brand]")).to_have_value("")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/cars$"))
    expect(_count(page)).to_have_text(count_text(len(LISTED)))
    assert card_titles(page) == titles(LISTED[:PAGE_SIZE])
    expect(page.locator("input[name=price_max]")).to_have_value("")
    expect(page.locator("#facet-fuel input[type=checkbox]")).not_to_have_count(0)  # the facets came back too
    assert page.evaluate("window.__marker") == 1, "going back reloaded the page"

    page.locator("#result-list article", has_text=title(CHOSEN)).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/cars/\d+-toyota-corolla-"))
    expect(page.locator("h1")).to_contain_text(title(CHOSEN))
    expect(page.locator(".big-price")).to_have_text(euros(CHOSEN["price_eur"]))

    gallery = page.get_by_role("region", name="Kuvat")
    expect(gallery.locator(".gallery-track img")).to_have_count(3)
    counter = gallery.locator("[data-gallery-counter]")
    expect(counter).to_have_text("Kuva 1 / 3")
    assert shown_photo(page) == "photo-1"
    gallery.get_by_role("button", name="Seuraava kuva").click()
    expect(counter).to_have_text("Kuva 2 / 3")
    page.wait_for_function(f"() => ({SHOWN_PHOTO})() === 'photo-2'")  # the track scrolled to it
    gallery.locator(".gallery-track").focus()
    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text("Kuva 3 / 3")
    page.wait_for_function(f"() => ({SHOWN_PHOTO})() === 'photo-3'")
    page.keyboard.press("Home")
    expect(counter).to_have_text("Kuva 1 / 3")
    page.wait_for_function(f"() => ({SHOWN_PHOTO})() === 'photo-1'")


def test_a_new_make_clears_the_model_any_price_filters_and_back_returns_to_the_search(page: Page) -> None:
    volvo = [c for c in LISTED if c["brand"] == "Volvo"]
    page.goto("/cars")
    page.select_option("select[name=brand]", "toyota")
    expect(page.locator("select[name=model]")).to_be_enabled()
    page.select_option("select[name=model]", "corolla")
    expect(page).to_have_url(re.compile(r"/cars\?brand=toyota&model=corolla$"))
    # Another make: the Corolla goes with Toyota, quietly (no note telling the shopper off).
    page.select_option("select[name=brand]", "volvo")
    expect(page).to_have_url(re.compile(r"/cars\?brand=volvo$"))
    expect(_count(page)).to_have_text(count_text(len(volvo)))
    expect(page.locator("select[name=model]")).to_have_value("")
    expect(page.locator(".note")).to_have_count(0)

    # A price that is not a round hundred still filters (the field used to refuse it silently).
    page.goto("/cars")
    limit = CHOSEN["price_eur"] + 50
    page.fill("input[name=price_max]", str(limit))
    expect(page).to_have_url(re.compile(rf"/cars\?price_max={limit}$"))
    expect(_count(page)).to_have_text(count_text(sum(c["price_eur"] <= limit for c in LISTED)))

    # From a car found this way, "back to results" returns to this search.
    page.locator("#result-list article", has_text=title(CHOSEN)).get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(title(CHOSEN))
    page.get_by_role("link", name="Takaisin hakutuloksiin").click()
    expect(page).to_have_url(re.compile(rf"/cars\?price_max={limit}$"))
    expect(page.locator("input[name=price_max]")).to_have_value(str(limit))


def test_without_javascript_the_form_pages_and_car_are_plain_html(
        new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.set_default_timeout(10_000)
    page.goto("/cars")
    expect(_count(page)).to_have_text(count_text(len(LISTED)))

    page.select_option("select[name=brand]", brand_slug(CHOSEN))
    page.fill("input[name=price_max]", str(MAX_PRICE))
    with page.expect_navigation():
        page.get_by_role("button", name=APPLY).click()
    assert "brand=toyota" in page.url and f"price_max={MAX_PRICE}" in page.url
    expect(_count(page)).to_have_text(count_text(len(CHOSEN_BRAND)))
    assert card_titles(page) == titles(CHOSEN_BRAND)
    expect(page.locator("select[name=brand]")).to_have_value(brand_slug(CHOSEN))
    expect(page.locator("input[name=price_max]")).to_have_value(str(MAX_PRICE))

    # a wider search spans pages; the pager's links are ordinary links
    page.select_option("select[name=brand]", "")
    with page.expect_navigation():
        page.get_by_role("button", name=APPLY).click()
    expect(_count(page)).to_have_text(count_text(len(CHEAP)))
    assert card_titles(page) == titles(CHEAP[:PAGE_SIZE])
    with page.expect_navigation():
        page.get_by_role("navigation", name="Sivut").get_by_role("link", name="Seuraava").click()
    assert "page=2" in page.url and f"price_max={MAX_PRICE}" in page.url
    assert card_titles(page) == titles(CHEAP[PAGE_SIZE:2 * PAGE_SIZE])
    expect(page.locator(".pager [aria-current=page]")).to_have_text("2")

    # "show more" is a link too: the next batch as a page of its own
    page.goto("/cars")
    with page.expect_navigation():
        page.get_by_role("link", name="Näytä lisää autoja").click()
    assert "cursor=" in page.url
    assert card_titles(page) == titles(LISTED[PAGE_SIZE:2 * PAGE_SIZE])
    expect(page.locator(".continued")).to_contain_text("Jatkoa edelliseen")

    car = LISTED[PAGE_SIZE]
    with page.expect_navigation():
        page.locator("#result-list article", has_text=title(car)).get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(title(car))
    expect(page.locator(".big-price")).to_have_text(euros(car["price_eur"]))
    expect(page.locator(".gallery-track img")).to_have_count(3)
    expect(page.locator("[data-gallery-controls]")).to_be_hidden()  # the buttons need the script
    with page.expect_navigation():  # the thumbnails still lead to each photo (same-page anchors)
        page.get_by_role("link", name="Kuva 2 / 3").click()
    assert page.url.endswith("#photo-2")
