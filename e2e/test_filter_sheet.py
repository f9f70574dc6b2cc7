"""/cars as a shopper meets it on a phone (390 x 844) and a desktop (1366 x 900): results first, the filters in a
sheet with a live count, removable chips, disabled empty options, the further filters; and the same without
JavaScript."""
from __future__ import annotations

import re
from typing import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from helpers import LISTED, SHOTS, active_element, axe_problems, count_text, scrolls_sideways

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
N_LISTED = len(LISTED)
N_DIESEL = sum(1 for c in LISTED if c["fuel"] == "diesel")
N_WHITE = sum(1 for c in LISTED if c["colour"].lower().startswith("valkoi"))


def phone(new_context: Callable[..., BrowserContext], **kw) -> Page:  # noqa: ANN003
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True, **kw)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def in_first_screen(page: Page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + 40 <= page.viewport_size["height"]


def test_phone_shows_count_sort_and_a_car_first(new_context) -> None:  # noqa: ANN001
    page = phone(new_context)
    page.goto("/cars")
    expect(page.locator("#result-count")).to_have_text(count_text(N_LISTED))
    for selector in ("#result-count", "#sort", "#result-list article .card-title", "[data-sheet-open]"):
        assert in_first_screen(page, selector), f"{selector} is not on the first screen"
    expect(page.locator("#filter-sheet")).to_be_hidden()  # the filters wait in the sheet
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "cars-phone-first-screen.png"))
    # the filter button stays at hand while the shopper scrolls through the cars
    page.mouse.wheel(0, 1500)
    page.wait_for_function("() => scrollY > 1000")
    assert in_first_screen(page, "[data-sheet-open]")


def test_phone_filter_sheet_live_count_escape_and_chips(new_context) -> None:  # noqa: ANN001
    page = phone(new_context)
    page.goto("/cars")
    opener = page.get_by_role("link", name=re.compile("^Suodata"))
    opener.click()
    sheet = page.get_by_role("dialog", name="Suodata")
    expect(sheet).to_be_visible()
    assert page.evaluate("document.getElementById('filter-sheet').matches(':modal')")
    # focus is inside the sheet and stays there
    for _ in range(40):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('filter-sheet').contains(document.activeElement)"), \
            active_element(page)
    apply = sheet.locator("[data-sheet-apply]")
    expect(apply).to_have_text(f"Näytä {N_LISTED} autoa")
    sheet.get_by_role("checkbox", name="Diesel").check()
    expect(apply).to_have_text(f"Näytä {N_DIESEL} autoa")  # the live count, while the sheet is open
    expect(sheet.get_by_role("checkbox", name="Diesel")).to_be_checked()
    page.screenshot(path=str(SHOTS / "cars-phone-sheet.png"))
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(opener).to_be_focused()  # focus returns to the button that opened it
    expect(opener).to_contain_text("(1)")
    expect(page.locator("#result-count")).to_have_text(count_text(N_DIESEL))
    assert page.evaluate("document.querySelector('.results-area').getBoundingClientRect().top") < 80
    expect(page).to_have_url(re.compile(r"fuel=diesel"))
    chip = page.get_by_role("link", name="Poista rajaus: Diesel")
    expect(chip).to_be_visible()

    # the apply button closes the sheet too and shows the results from the top
    opener.click()
    sheet.get_by_label("Hinta enintään (€)").fill("30000")
    sheet.get_by_role("button", name=re.compile("^Näytä")).click()
    expect(sheet).to_be_hidden()
    expect(page.get_by_role("link", name="Poista rajaus: Hinta enintään 30 000 €")).to_be_visible()
    n_cheap_diesel = sum(1 for c in LISTED if c["fuel"] == "diesel" and c["price_eur"] <= 30000)
    expect(page.locator("#result-count")).to_have_text(count_text(n_cheap_diesel))

    # a chip removes its filter with one tap; the sheet's fields follow
    page.get_by_role("link", name="Poista rajaus: Hinta enintään 30 000 €").click()
    expect(page.locator("#result-count")).to_have_text(count_text(N_DIESEL))
    expect(page).not_to_have_url(re.compile("price_max"))
    opener.click()
    expect(sheet.get_by_label("Hinta enintään (€)")).to_have_value("")
    expect(sheet.get_by_role("checkbox", name="Diesel")).to_be_checked()
    sheet.get_by_role("button", name="Sulje suodattimet").click()
    expect(sheet).to_be_hidden()
    expect(opener).to_be_focused()

    # reload and back keep what the URL says
    page.reload()
    expect(page.locator("#result-count")).to_have_text(count_text(N_DIESEL))
    expect(page.get_by_role("link", name="Poista rajaus: Diesel")).to_be_visible()
    page.get_by_role("link", name="Poista rajaus: Diesel").click()
    expect(page.locator("#result-count")).to_have_text(count_text(N_LISTED))
    page.go_back()
    expect(page.locator("#result-count")).to_have_text(count_text(N_DIESEL))
    assert not scrolls_sideways(page)


def test_phone_sheet_has_no_axe_problems(new_context) -> None:  # noqa: ANN001
    page = phone(new_context, bypass_csp=True)
    page.goto("/cars?fuel=diesel&colour=white")
    page.locator("[data-sheet-open]").click()
    expect(page.locator("#filter-sheet")).to_be_visible()
    page.locator(".more-filters summary").click()
    report = axe_problems(page)
    assert not report, report


def test_desktop_side_panel_more_filters_chips_and_clear_all(new_context) -> None:  # noqa: ANN001
    context = new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/cars")
    expect(page.get_by_label("Merkki")).to_be_visible()  # the side panel, no sheet to open
    expect(page.locator("[data-sheet-open]")).to_be_hidden()
    # empty options are there, disabled, so the lists do not jump
    expect(page.get_by_role("checkbox", name="Avoauto")).to_be_disabled()
    page.get_by_text("Lisää rajauksia").click()
    page.get_by_role("checkbox", name="Valkoinen").check()
    expect(page.locator("#result-count")).to_have_text(count_text(N_WHITE))
    page.get_by_role("checkbox", name="Vetokoukku").check()
    n = sum(1 for c in LISTED if c["colour"].lower().startswith("valkoi") and "tow_bar" in c["features"])
    expect(page.locator("#result-count")).to_have_text(count_text(n))
    page.get_by_label("Teho vähintään (kW)").fill("95")
    n = sum(1 for c in LISTED if c["colour"].lower().startswith("valkoi") and "tow_bar" in c["features"]
            and c["power_kw"] >= 95)
    expect(page.locator("#result-count")).to_have_text(count_text(n))
    expect(page.get_by_role("link", name="Poista rajaus: Teho vähintään 95 kW (129 hv)")).to_be_visible()
    page.screenshot(path=str(SHOTS / "cars-desktop-more-filters.png"))
    report = axe_problems(page)
    assert not report, report
    page.get_by_role("link", name="Tyhjennä kaikki").click()
    expect(page.locator("#result-count")).to_have_text(count_text(N_LISTED))
    expect(page.get_by_role("checkbox", name="Valkoinen")).not_to_be_checked()
    expect(page.get_by_label("Teho vähintään (kW)")).to_have_value("")
    # the submit button shows where the results are
    page.get_by_role("checkbox", name="Diesel").check()
    expect(page.locator("#result-count")).to_have_text(count_text(N_DIESEL))
    page.get_by_role("button", name=f"Näytä {N_DIESEL} autoa").click()
    expect(page.locator("#result-count")).to_be_focused()


def test_phone_filters_without_javascript(new_context) -> None:  # noqa: ANN001
    page = phone(new_context, java_script_enabled=False)
    page.goto("/cars")
    assert in_first_screen(page, "#result-list article .card-title")
    page.get_by_role("link", name=re.compile("^Suodata")).click()  # a link to the panel: shown by :target
    panel = page.locator("#filter-sheet")
    expect(panel).to_be_visible()
    panel.get_by_role("checkbox", name="Diesel").check()
    panel.get_by_role("button", name=re.compile("^Näytä")).click()
    expect(page).to_have_url(re.compile(r"fuel=diesel"))
    expect(page.locator("#result-count")).to_have_text(count_text(N_DIESEL))
    expect(panel).to_be_hidden()
    page.get_by_role("link", name="Poista rajaus: Diesel").click()
    expect(page.locator("#result-count")).to_have_text(count_text(N_LISTED))
    assert not scrolls_sideways(page)


@pytest.mark.parametrize("width", [360, 390])
def test_long_chips_never_widen_a_narrow_phone(new_context, width: int) -> None:  # noqa: ANN001
    context = new_context(viewport={"width": width, "height": 800}, is_mobile=True)
    page = context.new_page()
    page.goto("/cars?q=" + "pitkäsanainenhakusanajokaeimahdu" * 3 + "&equipment=tow_bar&equipment=heated_seats"
              "&power_min=100&reg_year_min=2019&reg_year_max=2021")
    expect(page.locator("#chips .chip").first).to_be_visible()
    assert not scrolls_sideways(page), scrolls_sideways(page)
