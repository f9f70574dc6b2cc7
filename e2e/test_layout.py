"""Layout at phone and desktop widths: nothing wider than the screen, nothing overlapping in the card grid.

Screenshots land in /tmp/e2e-shots/ for a person to look at; the tests do not compare pixels.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from helpers import OVERFLOW, SHOTS

WIDTHS = {"desktop": 1280, "mobile": 390}

# Pairs of car cards whose boxes intersect.
OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll('#result-list article')].map(e => e.getBoundingClientRect());
  const out = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b, j) => {
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) out.push([i, i + j + 1]);
  }));
  return out;
}"""


@pytest.mark.parametrize("screen", WIDTHS)
def test_cars_and_car_page_fit_the_screen(page: Page, screen: str) -> None:
    width = WIDTHS[screen]
    page.set_viewport_size({"width": width, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto("/cars")
    expect(page.locator("#result-list article")).not_to_have_count(0)
    page.mouse.wheel(0, 10_000)
    page.wait_for_load_state("networkidle")
    page.mouse.wheel(0, -10_000)  # back to the top: the sticky filter panel is drawn where it was scrolled to
    page.wait_for_function("() => scrollY === 0")  # a function: a bare expression is eval()ed, which our CSP forbids
    page.screenshot(path=str(SHOTS / f"cars-{screen}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"cars-{screen}-top.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(OVERFLOW)
    assert not page.evaluate(OVERFLOW)
    assert not page.evaluate(OVERLAPS), "car cards overlap"
    mark = page.locator(".brand-mark").bounding_box()
    assert mark and abs(mark["width"] - mark["height"]) < 1, f"the brand mark is squashed: {mark}"
    price = page.locator("#result-list article .card-price").first
    expect(price).to_be_visible()
    assert page.evaluate("e => e.scrollWidth <= e.clientWidth", price.element_handle()), "the price is cut"

    page.locator("#result-list article a").first.click()
    expect(page.locator(".big-price")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / f"car-{screen}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"car-{screen}-top.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(OVERFLOW)
    assert not page.evaluate(OVERFLOW)
