"""/cars with htmx: numbered pages, "show more", and a checkbox facet that keeps keyboard focus."""
from __future__ import annotations

import math
import re

from playwright.sync_api import Page, expect

from helpers import LISTED, PAGE_SIZE, card_ids, card_titles, count_text, titles

PAGES = math.ceil(len(LISTED) / PAGE_SIZE)


def test_numbered_pages_swap_the_results_without_reload(page: Page) -> None:
    assert PAGES >= 3, "the seed must make at least three pages"
    page.goto("/cars")
    page.evaluate("window.__marker = 1")
    pager = page.get_by_role("navigation", name="Sivut")
    expect(pager.locator("[aria-current=page]")).to_have_text("1")

    pager.get_by_role("link", name="Sivu 2").click()
    expect(page).to_have_url(re.compile(r"/cars\?page=2$"))
    expect(pager.locator("[aria-current=page]")).to_have_text("2")
    assert card_titles(page) == titles(LISTED[PAGE_SIZE:2 * PAGE_SIZE])
    expect(page.locator("#results")).to_be_focused()  # after a page change, focus moves to the results

    pager.get_by_role("link", name="Seuraava").click()
    expect(page).to_have_url(re.compile(rf"/cars\?page={PAGES}$"))
    expect(pager.locator("[aria-current=page]")).to_have_text(str(PAGES))
    assert card_titles(page) == titles(LISTED[(PAGES - 1) * PAGE_SIZE:])
    expect(pager.get_by_role("link", name="Seuraava")).to_have_count(0)  # no next page after the last

    pager.get_by_role("link", name="Edellinen").click()
    expect(pager.locator("[aria-current=page]")).to_have_text(str(PAGES - 1))
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/cars\?page={PAGES}$"))
    assert card_titles(page) == titles(LISTED[(PAGES - 1) * PAGE_SIZE:])
    expect(page.locator("#result-count")).to_have_text(count_text(len(LISTED)))  # same search, all pages
    assert page.evaluate("window.__marker") == 1, "the page reloaded"


def test_show_more_appends_every_car_once_and_moves_focus_to_the_first_new_one(page: Page) -> None:
    page.goto("/cars")
    page.evaluate("window.__marker = 1")
    more = page.locator("a[data-more]")
    expected_ids: list[str] = card_ids(page)
    assert len(expected_ids) == PAGE_SIZE

    while len(expected_ids) < len(LISTED):
        shown = len(expected_ids)
        more.click()
        expect(page.locator("#result-list article")).to_have_count(min(shown + PAGE_SIZE, len(LISTED)))
        ids = card_ids(page)
        assert ids[:shown] == expected_ids, "cards already shown stay in place"
        assert len(set(ids)) == len(ids), f"a car is shown twice: {ids}"
        expect(page.locator(f"#result-list article[data-car-id='{ids[shown]}'] a")).to_be_focused()
        expected_ids = ids

    assert card_titles(page) == titles(LISTED)
    expect(more).to_have_count(0)  # nothing more to show
    expect(page.locator("#pager")).to_be_hidden()  # page numbers make no sense after appending
    expect(page).to_have_url(re.compile(r"/cars$"))
    assert page.evaluate("window.__marker") == 1, "the page reloaded"


def test_checkbox_facet_filters_counts_and_keeps_keyboard_focus(page: Page) -> None:
    diesel = [c for c in LISTED if c["fuel"] == "diesel"]
    estate_diesel = [c for c in diesel if c["body_type"] == "estate"]
    assert 1 < len(diesel) < len(LISTED) and 0 < len(estate_diesel) < len(diesel)
    page.goto("/cars")
    page.evaluate("window.__marker = 1")
    box = page.locator("#fuel-diesel")
    estate_count = page.locator("label[for=category-estate] .count")
    expect(page.locator("label[for=fuel-diesel] .count")).to_have_text(str(len(diesel)))
    expect(estate_count).to_have_text(str(sum(c["body_type"] == "estate" for c in LISTED)))

    box.focus()
    page.keyboard.press("Space")
    expect(page.locator("#result-count")).to_have_text(count_text(len(diesel)))
    expect(page).to_have_url(re.compile(r"/cars\?fuel=diesel$"))
    assert card_titles(page) == titles(diesel[:PAGE_SIZE])
    expect(estate_count).to_have_text(str(len(estate_diesel)))  # other facets count within the choice
    expect(page.locator("#fuel-diesel")).to_be_checked()
    expect(page.locator("#fuel-diesel")).to_be_focused()

    page.keyboard.press("Space")  # still focused, so the same key clears the choice
    expect(page.locator("#result-count")).to_have_text(count_text(len(LISTED)))
    expect(page.locator("#fuel-diesel")).not_to_be_checked()
    expect(page.locator("#fuel-diesel")).to_be_focused()
    assert page.evaluate("window.__marker") == 1, "the page reloaded"
