"""The car page on a phone (390 × 844, touch) and on a desktop (1366 × 900): the action bar, the fullscreen
photo viewer (click, keyboard, swipe, pinch, double tap), share by copying the link, the financing calculator
and the form it prefills, print media, the calculator without JavaScript, axe with the viewer open, and no
sideways scrolling at 360 px. Screenshots land in /tmp/e2e-shots/ for a person to look at."""
from __future__ import annotations

import re
from typing import Any, Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from helpers import AXE, SEED, SHOTS, title

CAR = next(c for c in SEED if c["key"] == "corolla")
CAR_PATH = "/cars/1"  # the first seeded car; redirects to its canonical address
SCREENS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
DEFAULT_MONTHLY = "352,66\u00a0€/kk"  # 21 900 €, 4 380 € down, 60 months at the settings' 5.9 % and fees


def open_car(new_context: Callable[..., BrowserContext], screen: str, **extra: Any) -> Page:
    page = new_context(**SCREENS[screen], **extra).new_page()
    page.set_default_timeout(10_000)
    page.goto(CAR_PATH)
    expect(page.locator("h1")).to_contain_text(title(CAR))
    page.wait_for_function("() => !document.querySelector('[data-share]') || !document.querySelector('[data-share]').hidden"
                           " || !(navigator.share || navigator.clipboard)")  # the car page's scripts have run
    return page


def counter(page: Page):  # noqa: ANN201
    return page.locator("[data-lightbox-counter]")


def viewer_img(page: Page):  # noqa: ANN201
    return page.locator("[data-lightbox-img]")


def transform(page: Page) -> str:
    return viewer_img(page).evaluate("e => e.style.transform")


def scale_of(page: Page) -> float:
    m = re.search(r"scale\(([\d.]+)\)", transform(page))
    return float(m.group(1)) if m else 1.0


@pytest.mark.parametrize("screen", SCREENS)
def test_action_bar_on_phones_only(new_context: Callable[..., BrowserContext], screen: str) -> None:
    page = open_car(new_context, screen)
    bar = page.get_by_role("navigation", name="Toiminnot")
    if screen == "desktop":
        expect(bar).to_be_hidden()
        expect(page.locator(".price-box").get_by_role("link", name="Kysy tästä autosta")).to_be_visible()
        return
    expect(bar).to_be_visible()
    call, message, drive = (bar.get_by_role("link", name=n) for n in ("Soita", "Viesti", "Koeajo"))
    expect(call).to_have_attribute("href", "tel:+358401234567")
    expect(drive).to_have_attribute("href", re.compile(r"^/contact\?type=test-drive&car=1$"))
    for link in (call, message, drive):
        box = link.bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 44, box
    box = bar.bounding_box()
    assert box and abs(box["y"] + box["height"] - 844) < 1  # stuck to the bottom of the screen
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "car-phone-bar.png"))

    # "Viesti" goes to the inquiry form with its first field focused.
    message.click()
    expect(page.locator("#inquiry-name")).to_be_focused()
    expect(page.locator("#inquiry-name")).to_be_in_viewport()

    # At the very bottom the bar covers nothing: the footer's last line ends above it.
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => Math.ceil(scrollY + innerHeight) >= document.documentElement.scrollHeight")
    last = page.locator(".site-footer .wrap > section").last.bounding_box()
    bar_top = bar.bounding_box()["y"]
    assert last and last["y"] + last["height"] <= bar_top + 1, (last, bar_top)

    drive.click()
    expect(page).to_have_url(re.compile(r"/contact\?type=test-drive&car=1$"))
    expect(page.locator("#form-test-drive")).to_contain_text(title(CAR))


@pytest.mark.parametrize("screen", SCREENS)
def test_gallery_by_click_and_keyboard(new_context: Callable[..., BrowserContext], screen: str) -> None:
    page = open_car(new_context, screen)
    dialog = page.locator("dialog#lightbox")
    first = page.locator("[data-lightbox-open='0']")
    expect(first).to_have_attribute("href", re.compile(r"corolla-1-full\.webp$"))
    first.click()
    expect(dialog).to_be_visible()
    expect(counter(page)).to_have_text("1 / 3")
    expect(viewer_img(page)).to_have_attribute("src", re.compile(r"corolla-1-full\.webp$"))
    page.wait_for_function("() => document.querySelector('[data-lightbox-img]').complete")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"car-gallery-{screen}.png"))

    page.keyboard.press("ArrowRight")
    expect(counter(page)).to_have_text("2 / 3")
    expect(viewer_img(page)).to_have_attribute("src", re.compile(r"corolla-2-full\.webp$"))
    dialog.get_by_role("button", name="Seuraava kuva").click()
    expect(counter(page)).to_have_text("3 / 3")
    page.keyboard.press("ArrowRight")  # round to the first again
    expect(counter(page)).to_have_text("1 / 3")
    page.keyboard.press("ArrowLeft")
    expect(counter(page)).to_have_text("3 / 3")
    page.keyboard.press("Home")
    expect(counter(page)).to_have_text("1 / 3")

    # Focus stays inside the open viewer.
    for _ in range(5):
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.getElementById('lightbox').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(first).to_be_focused()

    # By keyboard: the second photo's link opens the viewer at it; the close button returns focus there.
    second = page.locator("[data-lightbox-open='1']")
    second.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(counter(page)).to_have_text("2 / 3")
    expect(dialog.get_by_role("button", name="Sulje kuvat")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(second).to_be_focused()


def touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:  # noqa: ANN001
    cdp.send("Input.dispatchTouchEvent", {
        "type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})


def test_swipe_pinch_and_double_tap_on_a_phone(new_context: Callable[..., BrowserContext]) -> None:
    page = open_car(new_context, "phone")
    page.locator("[data-lightbox-open='0']").click()
    expect(counter(page)).to_have_text("1 / 3")
    page.wait_for_function("() => document.querySelector('[data-lightbox-img]').complete")
    cdp = page.context.new_cdp_session(page)
    stage = page.locator("[data-lightbox-stage]").bounding_box()
    cx, cy = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2

    # A swipe to the left shows the next photo, to the right the previous one.
    touch(cdp, "touchStart", [(cx + 120, cy)])
    for dx in (80, 20, -60, -120):
        touch(cdp, "touchMove", [(cx + dx, cy)])
    touch(cdp, "touchEnd", [])
    expect(counter(page)).to_have_text("2 / 3")
    touch(cdp, "touchStart", [(cx - 120, cy)])
    for dx in (-60, 40, 120):
        touch(cdp, "touchMove", [(cx + dx, cy)])
    touch(cdp, "touchEnd", [])
    expect(counter(page)).to_have_text("1 / 3")
    assert scale_of(page) == 1.0

    # A double tap zooms in at the finger; another zooms back out.
    page.touchscreen.tap(cx, cy)
    page.touchscreen.tap(cx, cy)
    page.wait_for_function("() => /scale\\(2\\.5/.test(document.querySelector('[data-lightbox-img]').style.transform)")
    assert scale_of(page) == 2.5
    # While zoomed, a one-finger drag pans the photo instead of changing it.
    before = transform(page)
    touch(cdp, "touchStart", [(cx, cy)])
    for dx in (20, 40, 60):
        touch(cdp, "touchMove", [(cx + dx, cy + dx / 2)])
    touch(cdp, "touchEnd", [])
    assert transform(page) != before and scale_of(page) == 2.5
    expect(counter(page)).to_have_text("1 / 3")
    page.touchscreen.tap(cx, cy)
    page.touchscreen.tap(cx, cy)
    page.wait_for_function("() => /scale\\(1\\)/.test(document.querySelector('[data-lightbox-img]').style.transform)")
    assert scale_of(page) == 1.0

    # Two fingers moving apart zoom in.
    touch(cdp, "touchStart", [(cx - 20, cy), (cx + 20, cy)])
    for d in (40, 70, 100):
        touch(cdp, "touchMove", [(cx - d, cy), (cx + d, cy)])
    touch(cdp, "touchEnd", [])
    assert scale_of(page) > 2
    page.screenshot(path=str(SHOTS / "car-gallery-phone-zoomed.png"))
    page.keyboard.press("Escape")
    expect(page.locator("dialog#lightbox")).to_be_hidden()


def test_double_click_zooms_on_a_desktop(new_context: Callable[..., BrowserContext]) -> None:
    page = open_car(new_context, "desktop")
    page.locator("[data-lightbox-open='0']").click()
    page.wait_for_function("() => document.querySelector('[data-lightbox-img]').complete")
    box = page.locator("[data-lightbox-stage]").bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => /scale\\(2\\.5/.test(document.querySelector('[data-lightbox-img]').style.transform)")
    page.keyboard.press("ArrowRight")  # another photo starts unzoomed
    expect(counter(page)).to_have_text("2 / 3")
    assert scale_of(page) == 1.0


@pytest.mark.parametrize("screen", SCREENS)
def test_share_copies_the_link_where_the_browser_cannot_share(new_context: Callable[..., BrowserContext],
                                                               screen: str, base_url: str) -> None:
    context = new_context(**SCREENS[screen], permissions=["clipboard-read", "clipboard-write"])
    context.add_init_script("delete Navigator.prototype.share")  # as on desktop Linux: no Web Share API
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(CAR_PATH)
    button = page.get_by_role("button", name="Jaa")
    expect(button).to_be_visible()
    button.click()
    expect(page.get_by_role("status").filter(has_text="Linkki kopioitu")).to_be_visible()
    canonical = page.locator("link[rel=canonical]").get_attribute("href")
    assert canonical == page.url.split("?")[0] and canonical.startswith(base_url)
    assert page.evaluate("() => navigator.clipboard.readText()") == canonical


def monthly(page: Page):  # noqa: ANN201
    return page.locator("#financing-result [data-monthly]")


@pytest.mark.parametrize("screen", SCREENS)
def test_calculator_and_the_financing_form_it_prefills(new_context: Callable[..., BrowserContext], screen: str) -> None:
    page = open_car(new_context, screen)
    section = page.locator("#financing")
    section.scroll_into_view_if_needed()
    expect(monthly(page)).to_have_text(DEFAULT_MONTHLY)
    apr = page.locator("#financing-result [data-apr]")
    expect(apr).to_have_text("7,97\u00a0%")

    page.get_by_label("Käsiraha (€)").fill("8000")
    expect(monthly(page)).to_have_text("282,85\u00a0€/kk")  # 13 900 € + 299 € over 60 months, + 9 €
    # A screen reader hears the new payment and rate, not the whole example again.
    expect(page.locator("#financing-announce")).to_have_text(
        re.compile(r"^Kuukausierä 282,85\u00a0€/kk\. Todellinen vuosikorko \d+,\d\d\u00a0%$"))
    page.get_by_label("Laina-aika").select_option("36")
    expect(monthly(page)).to_have_text("440,32\u00a0€/kk")
    expect(apr).not_to_have_text("7,97\u00a0%")
    assert page.url.endswith(CAR_PATH) or "/financing" not in page.url  # the page's address stays the car's

    # A wrong value: a message at the field, the field marked, no result.
    page.get_by_label("Käsiraha (€)").fill("abc")
    error = page.locator("#fin-down-error")
    expect(error).to_have_text("Anna käsiraha kokonaisina euroina, esim. 3000.")
    expect(page.get_by_label("Käsiraha (€)")).to_have_attribute("aria-invalid", "true")
    expect(monthly(page)).to_have_count(0)
    expect(page.locator("#financing-announce")).to_have_text("Anna käsiraha kokonaisina euroina, esim. 3000.")
    page.get_by_label("Käsiraha (€)").fill("5000")
    expect(monthly(page)).to_be_visible()
    expect(page.get_by_label("Käsiraha (€)")).not_to_have_attribute("aria-invalid", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SHOTS / f"car-financing-{screen}.png"))

    page.get_by_role("link", name="Hae rahoitusta näillä ehdoilla").click()
    expect(page).to_have_url(re.compile(r"/contact\?type=financing&car=1&down_payment=5000&term_months=36$"))
    form = page.locator("#form-financing")
    expect(form.get_by_label("Käsiraha (€)")).to_have_value("5000")
    expect(form.get_by_label("Laina-aika (kk)")).to_have_value("36")
    expect(form).to_contain_text(title(CAR))


def test_calculator_without_javascript(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(**SCREENS["phone"], java_script_enabled=False).new_page()
    page.set_default_timeout(10_000)
    page.goto(CAR_PATH)
    expect(monthly(page)).to_have_text(DEFAULT_MONTHLY)
    page.get_by_label("Käsiraha (€)").fill("8000")
    page.get_by_label("Laina-aika").select_option("36")
    with page.expect_navigation():
        page.get_by_role("button", name="Laske").click()
    assert re.search(r"/financing\?down=8000&months=36#financing$", page.url), page.url
    expect(monthly(page)).to_have_text("440,32\u00a0€/kk")
    expect(page.get_by_label("Käsiraha (€)")).to_have_value("8000")
    expect(page.locator("h1")).to_contain_text(title(CAR))
    page.get_by_label("Käsiraha (€)").fill("99999")
    with page.expect_navigation():
        page.get_by_role("button", name="Laske").click()
    expect(page.locator("#fin-down-error")).to_have_text("Käsirahan on oltava pienempi kuin auton hinta.")
    expect(page.get_by_label("Käsiraha (€)")).to_have_value("99999")
    # The photos are plain links to their full-size files.
    expect(page.locator("[data-lightbox-open='0']")).to_have_attribute("href", re.compile(r"-full\.webp$"))
    expect(page.locator("[data-share]")).to_be_hidden()


@pytest.mark.parametrize("screen", SCREENS)
def test_print_shows_the_listing_without_navigation_forms_or_bar(new_context: Callable[..., BrowserContext],
                                                                  screen: str) -> None:
    page = open_car(new_context, screen)
    page.emulate_media(media="print")
    for hidden in (".site-header nav", "#form-inquiry", ".action-bar", "#financing", ".related", ".site-footer",
                   ".breadcrumb", "[data-share]", ".thumbs"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator(".big-price")).to_have_text("21 900 €")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#specs-heading")).to_be_visible()
    expect(page.locator("ul.equipment")).to_be_visible()
    expect(page.locator(".slide").first).to_be_visible()
    assert page.locator(".slide").nth(1).is_hidden()
    contact = page.locator(".print-contact")
    expect(contact).to_be_visible()
    for text in ("Kroi Auto Center", "Teollisuustie 12", "+358 40 123 4567", "myynti@kroiautocenter.fi",
                 page.url.split("?")[0]):
        expect(contact).to_contain_text(text)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"car-print-{screen}.png"), full_page=True)
    if screen == "desktop":
        pdf = page.pdf(format="A4")
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the listing prints on one page"


def test_axe_with_the_viewer_open(new_context: Callable[..., BrowserContext]) -> None:
    for screen in SCREENS:
        # The site's CSP (script-src 'self') would block the injected axe script; bypass it for the scan only.
        page = new_context(**SCREENS[screen], bypass_csp=True).new_page()
        page.set_default_timeout(10_000)
        page.goto(CAR_PATH)
        page.locator("[data-lightbox-open='0']").click()
        expect(page.locator("dialog#lightbox")).to_be_visible()
        page.add_script_tag(path=str(AXE))
        for state in ("viewer open", "page"):
            result = page.evaluate("axe.run()")
            bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
            report = "\n".join(f"- {v['id']}: {v['help']} -> " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
                               for v in bad)
            assert not bad, f"axe ({screen}, {state}):\n{report}"
            assert result["passes"]
            page.keyboard.press("Escape")


@pytest.mark.parametrize("path", [CAR_PATH, "/cars/1-x/financing?down=abc&months=13"])
def test_no_sideways_scroll_at_360(new_context: Callable[..., BrowserContext], path: str) -> None:
    page = new_context(viewport={"width": 360, "height": 800}, is_mobile=True, has_touch=True).new_page()
    page.set_default_timeout(10_000)
    page.goto(path)
    expect(page.locator("h1")).to_contain_text(title(CAR))
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate(
        "document.documentElement.clientWidth")
