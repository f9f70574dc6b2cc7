"""Compare as a shopper uses it, on a phone (390 x 844) and a desktop (1366 x 900): "Vertaa" on cards and the car
page, the tray (and that it never covers the phone's results bar or the car page's action bar), /compare with
3 columns, the cap of 4, cards loaded by htmx, a browser restart (the same storage state), axe, and 360 px."""
from __future__ import annotations

import re
from typing import Any, Callable

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from helpers import SHOTS, axe_problems, scrolls_sideways

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
NewContext = Callable[..., BrowserContext]


def _page(new_context: NewContext, viewport: dict[str, int], **kw: Any) -> Page:
    page = new_context(viewport=viewport, **kw).new_page()
    page.set_default_timeout(10_000)
    return page


def _overlap(a: Locator, b: Locator) -> bool:
    ra, rb = a.bounding_box(), b.bounding_box()
    assert ra and rb
    return not (ra["y"] + ra["height"] <= rb["y"] or rb["y"] + rb["height"] <= ra["y"]
                or ra["x"] + ra["width"] <= rb["x"] or rb["x"] + rb["width"] <= ra["x"])


@pytest.mark.parametrize("size", SIZES)
def test_choose_three_with_vertaa_then_the_tray_opens_the_comparison(new_context: NewContext, size: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _page(new_context, SIZES[size])
    page.goto("/cars")
    cards = page.locator("#result-list article")
    tray = page.locator("[data-cmp-tray]")
    expect(tray).to_be_hidden()
    ids = []
    for n in range(2):
        toggle = cards.nth(n).locator("button.cmp-toggle")
        expect(toggle).to_have_attribute("aria-pressed", "false")
        expect(toggle).to_have_accessible_name(re.compile(r"^Vertaa: \S+"))
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        ids.append(cards.nth(n).get_attribute("data-car-id"))
        if n == 0:
            expect(tray).to_be_visible()
            expect(tray.get_by_role("link")).to_have_text("Vertaa (1) →")
            expect(tray.locator("[data-cmp-hint]")).to_have_text("Valitse vielä ainakin yksi auto.")
    expect(page.locator("[data-cmp-status]")).to_have_text("Lisätty vertailuun (2/4).")
    expect(tray.locator("[data-cmp-hint]")).to_be_hidden()
    if size == "phone":
        assert not _overlap(tray, page.locator(".results-bar")), "the tray keeps clear of the sticky results bar"
        page.mouse.wheel(0, 600)
        assert not _overlap(tray, page.locator(".results-bar"))
    page.screenshot(path=str(SHOTS / f"compare-tray-cars-{size}.png"))

    # the third from its own page: the tray sits above the phone's call / message / test drive bar
    cards.nth(2).locator("a.card-link").click()
    expect(page.locator(".big-price")).to_be_visible()
    ids.append(page.locator("article.car-page").get_attribute("data-car-id"))
    big = page.locator(".price-box button.cmp-toggle")
    expect(big).to_have_text("Lisää vertailuun")
    big.click()
    expect(big).to_have_attribute("aria-pressed", "true")
    expect(big).to_have_text("Poista vertailusta")
    expect(tray.get_by_role("link")).to_have_text("Vertaa (3) →")
    if size == "phone":
        bar = page.locator(".action-bar")
        expect(bar).to_be_visible()
        assert not _overlap(tray, bar), "the tray must not cover the action bar"
        # the end of the page is still reachable above both bars
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        last = page.locator(".site-footer p").last
        tray_top = tray.bounding_box()["y"]
        assert last.bounding_box()["y"] + last.bounding_box()["height"] <= tray_top + 1
    page.screenshot(path=str(SHOTS / f"compare-tray-car-{size}.png"))

    page.reload()  # the choice survives a reload
    expect(page.locator(".price-box button.cmp-toggle")).to_have_attribute("aria-pressed", "true")
    tray.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/compare\?ids={','.join(ids)}$"))
    table = page.locator("table.compare")
    expect(table.locator("thead th[scope=col]")).to_have_count(3)
    expect(table.locator("tr.differs").first).to_be_visible()
    expect(table.locator("tr.differs th .diff-mark").first).to_have_text("eroaa")  # in words, not colour alone
    expect(tray).to_be_hidden()  # no tray on the comparison itself
    assert not scrolls_sideways(page)
    if size == "phone":
        box = page.locator(".compare-scroll")
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")
        first_col = table.locator("tbody th[scope=row]").first
        x = first_col.bounding_box()["x"]
        box.evaluate("e => { e.scrollLeft = 300; }")
        assert abs(first_col.bounding_box()["x"] - x) < 1, "the row headings stay put (sticky)"
        assert page.evaluate("scrollX") == 0
    page.screenshot(path=str(SHOTS / f"compare-3-{size}.png"), full_page=True)

    # back on the list: clear empties the choice and hides the tray, focus goes to the main content
    page.goto("/cars")
    expect(page.locator("#result-list button.cmp-toggle[aria-pressed=true]")).to_have_count(3)
    tray.get_by_role("button", name="Tyhjennä vertailu").click()
    expect(tray).to_be_hidden()
    expect(page.locator("#result-list button.cmp-toggle[aria-pressed=true]")).to_have_count(0)
    expect(page.locator("#main")).to_be_focused()


def test_at_most_four_and_cards_loaded_by_htmx_get_their_state(new_context: NewContext) -> None:
    page = _page(new_context, SIZES["desktop"])
    page.goto("/cars")
    cards = page.locator("#result-list article")
    page.get_by_role("link", name="Näytä lisää autoja").click()  # the next page of cards, by htmx
    expect(cards).to_have_count(8)
    for n in (0, 1, 2, 5):
        cards.nth(n).locator("button.cmp-toggle").click()
    fifth = cards.nth(6).locator("button.cmp-toggle")
    expect(fifth).to_be_visible()  # a card that came by htmx has its toggle shown and set
    fifth.click()
    expect(fifth).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-cmp-status]")).to_have_text("Vertailuun mahtuu enintään 4 autoa. Poista ensin jokin.")
    expect(page.locator("[data-cmp-tray] a")).to_have_text("Vertaa (4) →")
    # hearts on cards loaded by htmx too; a new search (htmx) keeps both states
    heart = cards.nth(5).locator("button.fav-heart")
    expect(heart).to_be_visible()
    heart.click()
    expect(heart).to_have_attribute("aria-pressed", "true")
    chosen = cards.nth(5).get_attribute("data-car-id")
    page.goto("/cars?sort=price_desc")
    card = page.locator(f'#result-list article[data-car-id="{chosen}"]')
    if not card.count():
        page.get_by_role("link", name="Näytä lisää autoja").click()
    expect(card.locator("button.fav-heart")).to_have_attribute("aria-pressed", "true")
    expect(card.locator("button.cmp-toggle")).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize("size", SIZES)
def test_a_browser_restart_keeps_favourites_and_the_choice(new_context: NewContext, size: str) -> None:
    page = _page(new_context, SIZES[size])
    page.goto("/cars")
    card = page.locator("#result-list article").first
    car_id = card.get_attribute("data-car-id")
    card.locator("button.fav-heart").click()
    card.locator("button.cmp-toggle").click()
    expect(card.locator("button.cmp-toggle")).to_have_attribute("aria-pressed", "true")
    state = page.context.storage_state()
    page.context.close()
    # a new browser with the same profile (what is on disk after a restart)
    again = _page(new_context, SIZES[size], storage_state=state)
    again.goto("/favourites")
    expect(again).to_have_url(re.compile(rf"/favourites\?ids={car_id}:\d+$"))
    expect(again.locator("#fav-list .fav-item")).to_have_count(1)
    again.goto("/cars")
    expect(again.locator("[data-cmp-tray] a")).to_have_text("Vertaa (1) →")
    # a fresh browser has neither
    fresh = _page(new_context, SIZES[size])
    fresh.goto("/cars")
    expect(fresh.locator("[data-cmp-tray]")).to_be_hidden()
    expect(fresh.locator("#result-list button.fav-heart[aria-pressed=true]")).to_have_count(0)


@pytest.mark.parametrize("width", [360, 390])
def test_the_tray_at_small_phones(new_context: NewContext, width: str) -> None:
    page = _page(new_context, {"width": width, "height": 780}, is_mobile=True, has_touch=True)
    page.goto("/cars")
    cards = page.locator("#result-list article")
    cards.nth(0).locator("button.cmp-toggle").click()
    tray = page.locator("[data-cmp-tray]")
    expect(tray).to_be_visible()
    assert not scrolls_sideways(page)
    assert not _overlap(tray, page.locator(".results-bar"))
    assert not _overlap(tray.get_by_role("link"), tray.get_by_role("button"))
    cards.nth(1).locator("a.card-link").click()
    expect(page.locator(".action-bar")).to_be_visible()
    expect(tray).to_be_visible()  # favourites.js shows it once the new page has loaded
    assert not _overlap(tray, page.locator(".action-bar"))
    assert not scrolls_sideways(page)
    page.screenshot(path=str(SHOTS / f"compare-tray-car-{width}.png"))


def test_axe_with_the_tray_and_toggles(new_context: NewContext) -> None:
    page = _page(new_context, SIZES["phone"], bypass_csp=True)
    page.goto("/cars")
    page.locator("#result-list article").first.locator("button.cmp-toggle").click()
    expect(page.locator("[data-cmp-tray]")).to_be_visible()
    assert not (problems := axe_problems(page)), problems
    page.locator("#result-list article").nth(1).locator("a.card-link").click()
    page.locator(".price-box button.cmp-toggle").click()
    expect(page.locator("[data-cmp-tray] a")).to_have_text("Vertaa (2) →")
    assert not (problems := axe_problems(page)), problems
    page.locator("[data-cmp-tray] a").click()
    expect(page.locator("table.compare thead th[scope=col]")).to_have_count(2)
    assert not (problems := axe_problems(page)), problems


LONG = "Allrad-Turbohybrid-Exclusivepaket-Langversion Sportsitze Panoraamalasikatto Vetokoukku Ilmastointi"


@pytest.mark.parametrize("width", [360, 390])
def test_a_long_title_does_not_widen_favourites_or_compare(browser: Browser, admin_server: str,
                                                          admin_rows: Callable[..., list[dict[str, Any]]],
                                                          width: int) -> None:
    # on the admin server's database (a test there may change cars); /favourites and /compare read it live
    cars = admin_rows("SELECT id, variant FROM cars WHERE deleted_at IS NULL AND status <> 'draft' ORDER BY id LIMIT 4")
    long_id = cars[0]["id"]
    admin_rows("UPDATE cars SET variant = :v WHERE id = :id", v=LONG, id=long_id)
    try:
        context = browser.new_context(viewport={"width": width, "height": 780}, base_url=admin_server, is_mobile=True)
        page = context.new_page()
        ids = ",".join(str(c["id"]) for c in cars)
        for path in (f"/favourites?ids={ids}", f"/compare?ids={ids}"):
            page.goto(path)
            expect(page.get_by_text(LONG).first).to_be_visible()
            assert not (wide := scrolls_sideways(page)), f"{path} at {width}: {wide}"
            page.screenshot(path=str(SHOTS / f"long-title-{path[1:8]}-{width}.png"), full_page=True)
        context.close()
    finally:
        admin_rows("UPDATE cars SET variant = :v WHERE id = :id", v=cars[0]["variant"], id=long_id)
