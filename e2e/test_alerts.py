"""Saved searches (hakuvahti) as a shopper uses them on a phone (390 x 844) and a desktop (1366 x 900): from a
/cars search to "Tallenna hakuvahti", subscribe, open the confirmation link from the mail, see the confirmation;
axe scans of the new pages and no sideways scroll at 360 px, of the whole page (header, compare tray and footer
included)."""
from __future__ import annotations

import re
from typing import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from helpers import axe_problems, scrolls_sideways
from smtp import Mailbox

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
NewContext = Callable[..., BrowserContext]


def _page(new_context: NewContext, viewport: dict[str, int]) -> Page:
    page = new_context(viewport=viewport, bypass_csp=True).new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.mark.parametrize("size", SIZES)
def test_save_a_search_and_confirm_it_from_the_mail(new_context: NewContext, mailbox: Mailbox, size: str) -> None:
    page = _page(new_context, SIZES[size])
    page.goto("/cars?fuel=diesel")
    link = page.get_by_role("link", name="Tallenna hakuvahti")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hakuvahti")
    expect(page.locator(".alert-search")).to_contain_text("Diesel")
    assert axe_problems(page) == ""
    address = f"e2e-alert-{size}@example.fi"
    page.get_by_label("Sähköposti", exact=True).fill(address)
    page.get_by_label("Kerran päivässä (koonti)").check()
    page.locator("#alert-consent").check()
    page.get_by_role("button", name="Tallenna hakuvahti").click()
    expect(page.get_by_role("status").filter(has_text="Tarkista sähköpostisi")).to_be_visible()

    mail = mailbox.wait_for(lambda m: address in m.rcpt_tos and "Vahvista hakuvahti" in m.subject,
                            f"confirming the alert of {address}")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = mail.message.get_body(("plain",)).get_content()
    confirm = re.search(r"https?://\S+/alerts/confirm\?\S+", body)
    assert confirm, body
    page.goto(confirm.group(0))
    expect(page.get_by_role("status").filter(has_text="Hakuvahti on nyt päällä")).to_be_visible()
    assert axe_problems(page) == ""

    manage = re.search(r"https?://\S+/alerts/manage\?\S+", body)
    assert manage, body
    page.goto(manage.group(0))
    expect(page.locator(".alert-item")).to_have_count(1)
    expect(page.locator(".alert-item")).to_contain_text("Diesel")
    assert axe_problems(page) == ""


def test_bad_address_shows_the_error_at_the_field(new_context: NewContext) -> None:
    page = _page(new_context, SIZES["phone"])
    page.goto("/alerts/new?fuel=diesel")
    page.get_by_label("Sähköposti", exact=True).fill("ei-osoite")
    page.locator("#alert-consent").check()
    page.get_by_role("button", name="Tallenna hakuvahti").click()
    expect(page.locator("#err-alert-email")).to_contain_text("Tarkista sähköpostiosoite")
    expect(page.get_by_label("Sähköposti", exact=True)).to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize("path", ["/alerts/new?fuel=diesel&brand=toyota&price_max=20000&mileage_max=150000",
                                  "/alerts/sent", "/alerts/manage?token=bad", "/alerts/unsubscribe?token=x"])
def test_no_sideways_scroll_at_360(new_context: NewContext, path: str) -> None:
    page = _page(new_context, {"width": 360, "height": 740})
    page.goto(path)
    assert scrolls_sideways(page) == []
    assert axe_problems(page) == ""
