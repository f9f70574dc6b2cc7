"""The public site on a phone (390 x 844, touch) as a demanding designer looks at it: a compact header, the search
alert beside the result count, at least two cars side by side on /compare, and where focus goes after a search
suggestion is chosen."""
from __future__ import annotations

import re
from typing import Any, Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from helpers import LISTED, active_element, scrolls_sideways

PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
NewContext = Callable[..., BrowserContext]


def phone(new_context: NewContext, path: str, width: int = 390) -> Page:
    page = new_context(**(PHONE | {"viewport": {"width": width, "height": 844}})).new_page()
    page.set_default_timeout(10_000)
    page.goto(path)
    return page


def box(page: Page, selector: str) -> dict[str, float]:
    b = page.locator(selector).first.bounding_box()
    assert b, f"{selector} is not shown"
    return b


@pytest.mark.parametrize("width", [360, 390])
@pytest.mark.parametrize("path", ["/", "/cars?lang=en", "/contact"])
def test_the_header_is_one_compact_row(new_context: NewContext, path: str, width: int) -> None:
    page = phone(new_context, path, width)
    name = box(page, ".brand-name")
    line = page.locator(".brand-name").evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert name["height"] <= line * 1.5, f"the dealer's name wraps: {name['height']} px for lines of {line} px"
    assert box(page, ".header-row")["height"] <= 64
    # every link of the menus is on the screen and a thumb's size
    links = page.locator(".site-header a:visible")
    assert links.count() >= 6
    for i in range(links.count()):
        b = links.nth(i).bounding_box()
        assert b and b["x"] >= 0 and b["x"] + b["width"] <= width + 0.5, (links.nth(i).inner_text(), b)
        assert b["height"] >= 44, (links.nth(i).inner_text(), b)
    expect(page.locator(".site-header").get_by_role("link", name="Contact" if "lang=en" in path else "Yhteystiedot",
                                                    exact=True)).to_be_visible()
    assert scrolls_sideways(page) == []


@pytest.mark.parametrize("width", [360, 390])
def test_compare_shows_two_cars_beside_the_labels(new_context: NewContext, width: int,
                                                  db_rows: Callable[..., list[dict[str, Any]]]) -> None:
    cars = db_rows("SELECT id FROM cars WHERE deleted_at IS NULL AND status = 'available' ORDER BY id LIMIT 3")
    page = phone(new_context, "/compare?ids=" + ",".join(str(c["id"]) for c in cars), width)
    scroller = box(page, ".compare-scroll")
    label = box(page, ".compare tbody th[scope=row]")
    heads = page.locator(".compare thead th[scope=col]")
    expect(heads).to_have_count(3)
    assert label["width"] <= scroller["width"] * 0.33, (label, scroller)
    for i in range(2):  # the first two cars wholly inside the box, beside the labels
        b = heads.nth(i).bounding_box()
        assert b and b["x"] >= label["x"] + label["width"] - 1 and b["x"] + b["width"] <= scroller["x"] + scroller["width"] + 1, (i, b, scroller)
    # the third is reached by scrolling the table's own box, never the page
    assert page.locator(".compare-scroll").evaluate("e => e.scrollWidth > e.clientWidth")
    assert scrolls_sideways(page) == []
    page.locator(".compare-scroll").evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    expect(page.locator(".compare tbody th[scope=row]").first).to_be_in_viewport()  # the labels stay (sticky)
    assert box(page, ".compare tbody th[scope=row]")["x"] == pytest.approx(label["x"], abs=1)


def _overlap_rows(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


@pytest.mark.parametrize("width", [360, 390])
def test_the_search_alert_sits_beside_the_result_count(new_context: NewContext, width: int) -> None:
    page = phone(new_context, "/cars", width)
    link = page.get_by_role("link", name="Tallenna hakuvahti")
    expect(link).to_be_visible()
    count, alert, sheet = box(page, "#result-count"), link.bounding_box(), box(page, "[data-sheet-open]")
    assert alert and _overlap_rows(count, alert) and _overlap_rows(alert, sheet), (count, alert, sheet)
    assert alert["height"] >= 44 and alert["x"] + alert["width"] <= sheet["x"]
    first = box(page, "#result-list article")
    assert first["y"] >= alert["y"] + alert["height"] and first["y"] < 844 - 200, (alert, first)
    # a filter change (an HTMX swap) carries the new search to the link; nothing found: no link in the bar
    page.goto("/cars")
    page.locator("#q").fill("diesel")
    expect(page.locator("#result-count")).not_to_have_text(re.compile(r"^%d " % len(LISTED)))
    expect(link).to_have_attribute("href", re.compile(r"fuel=diesel"))
    page.locator("#q").fill("qqqzzzxx")
    expect(page.locator(".empty")).to_be_visible()
    expect(page.locator("#save-search [data-save-search]")).to_have_count(0)
    assert scrolls_sideways(page) == []


@pytest.mark.parametrize("width", [360, 390])
def test_suggestions_take_the_row_and_focus_goes_to_the_results(new_context: NewContext, width: int) -> None:
    page = phone(new_context, "/cars", width)
    search = page.locator("#q")
    search.click()
    search.press_sequentially("toy")
    options = page.locator("#q-suggest [role=option]")
    expect(options.first).to_be_visible()
    # the list spans the search row (not the half-width box), one line per suggestion
    listbox, row = box(page, "#q-suggest"), box(page, ".search-row")
    assert listbox["width"] >= row["width"] - 2, (listbox, row)
    for i in range(options.count()):
        b = options.nth(i).bounding_box()
        assert b and b["height"] <= 50, (options.nth(i).inner_text(), b)
    # by keyboard: the first suggestion; after the swap focus is on the result count, as after any filter
    page.keyboard.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", re.compile(".+"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"brand=toyota"))
    expect(page.locator("#q-suggest")).to_be_hidden()
    expect(page.locator("#result-count")).to_be_focused()
    expect(page.locator("#result-count")).to_be_in_viewport()
    assert active_element(page)["id"] == "result-count"
    expect(page.locator("#result-list article").first).to_contain_text("Toyota")


SMALL_TARGETS = """() => [...document.querySelectorAll('a[href], button, input, select, summary, textarea')].filter(e => {
  const r = e.getBoundingClientRect();
  if (!r.width || !r.height || e.closest('.site-footer, .visually-hidden, .hp') || e.matches('.skip-link')) return false;
  if (['checkbox', 'radio', 'hidden'].includes(e.type) || getComputedStyle(e).visibility === 'hidden') return false;
  // a link inside running text is sized by its line
  const inText = getComputedStyle(e).display === 'inline' && e.parentElement
    && e.parentElement.textContent.trim().length > e.textContent.trim().length + 3;
  return !inText && r.height < 44;
}).map(e => e.tagName.toLowerCase() + '.' + e.className + ' "' + (e.innerText || e.name || '').trim().slice(0, 30) + '" '
         + Math.round(e.getBoundingClientRect().height))"""


@pytest.mark.parametrize("path", ["/", "/cars", "car", "/contact", "/alerts/new?fuel=diesel", "/no-such-page"])
def test_tap_targets_are_a_thumbs_size(new_context: NewContext, path: str) -> None:
    page = phone(new_context, "/cars" if path == "car" else path)
    if path == "car":
        page.locator("#result-list article .card-link").first.click()
        expect(page.locator(".action-bar")).to_be_visible()
    assert page.evaluate(SMALL_TARGETS) == []


@pytest.mark.parametrize("width", [390, 1366])
def test_the_menu_items_sit_on_one_line(new_context: NewContext, width: int) -> None:
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    page.goto("/cars")
    middles = page.evaluate("""() => [...document.querySelectorAll('.nav a')].filter(a => a.offsetParent)
        .map(a => { const r = a.getBoundingClientRect(); return r.y + r.height / 2; })""")
    assert len(middles) >= 3 and max(middles) - min(middles) <= 1, middles
