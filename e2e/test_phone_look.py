"""The public site on a phone (390 x 844, touch) as a demanding designer looks at it: a compact header, the search
alert beside the result count, at least two cars side by side on /compare, and where focus goes after a search
suggestion is chosen."""
from __future__ import annotations

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
