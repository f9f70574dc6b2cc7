"""Visitor inquiries in the browser: blur validation, HTMX submission, errors and focus, the form without
JavaScript, test-drive time slots, axe-core on the forms; the stored lead and both e-mails it sends."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, Locator, Page, expect

from helpers import AXE, LISTED, title
from kroi.leads.schemas import time_slots
from kroi.system.services import DEFAULTS
from smtp import Mailbox, Received

HELSINKI = ZoneInfo("Europe/Helsinki")
HOURS: dict[str, Any] = DEFAULTS["opening_hours"]  # the seeded settings: Sunday ("6") is closed
REFERENCE = re.compile(r"Viitenumero: (\d+)")
EMAIL_ERROR = "Tarkista sähköpostiosoite"
REQUIRED = "Tämä kenttä on pakollinen."
CONSENT_ERROR = "Tarvitsemme suostumuksesi"
CLOSED_DAY = "Olemme suljettuina sinä päivänä."

Rows = Callable[..., list[dict[str, Any]]]


def open_car_page(page: Page) -> dict[str, Any]:
    """Go from /cars to the page of the newest available car; returns that car's seed entry and id."""
    car = next(c for c in LISTED if c["status"] == "available")
    page.goto("/cars")
    card = page.locator("#result-list article").filter(has_text=title(car)).first
    car_id = int(card.get_attribute("data-car-id") or 0)
    page.goto(card.locator("a").first.get_attribute("href") or "")
    expect(page).to_have_url(re.compile(rf"/cars/{car_id}-[a-z0-9-]+$"))
    expect(page.locator("#form-inquiry[data-form=inquiry]")).to_be_visible()
    return {**car, "id": car_id}


def error_for(form: Locator, field: str) -> Locator:
    return form.locator(f"[data-error-for={field}]")


def next_day(weekday: int) -> date:
    """The next date (after today, in the dealership's time zone) that falls on weekday (Monday = 0)."""
    today = datetime.now(HELSINKI).date()
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def slot_options(page: Page) -> list[str]:
    return page.locator("#slots-test-drive option").evaluate_all("os => os.map(o => o.value).filter(v => v)")


def axe_problems(page: Page) -> str:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run()")
    assert result["passes"], "axe ran no checks"
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(n["target"]) + ": " + (n.get("failureSummary") or "").replace("\n", " ")
                    for n in v["nodes"][:5])
        for v in bad)


def test_inquiry_validates_on_blur_sends_without_reload_stores_the_lead_and_mails_both(
        page: Page, db_rows: Rows, mailbox: Mailbox) -> None:
    car = open_car_page(page)
    url = page.url
    page.evaluate("window.__marker = 1")
    form = page.locator("#form-inquiry")
    email = form.get_by_label("Sähköposti")
    address = "matti.meikalainen@example.fi"

    form.get_by_label("Nimi").fill("Matti Meikäläinen")
    email.fill("matti@")
    page.keyboard.press("Tab")
    expect(error_for(form, "email")).to_contain_text(EMAIL_ERROR)
    expect(email).to_have_attribute("aria-invalid", "true")

    email.fill(address)
    page.keyboard.press("Tab")
    expect(error_for(form, "email")).to_have_text("")
    expect(email).not_to_have_attribute("aria-invalid", "true")

    form.get_by_label("Viesti").fill("Onko auto vielä myynnissä?")
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name="Lähetä").click()

    confirmation = page.locator("[data-confirmation]")
    expect(confirmation).to_be_visible()
    expect(confirmation).to_contain_text(address)
    expect(confirmation).to_be_focused()
    expect(page.locator("#form-inquiry[data-form]")).to_have_count(0)  # the form was replaced
    assert page.evaluate("window.__marker") == 1, "the page reloaded"
    assert page.url == url
    match = REFERENCE.search(confirmation.inner_text())
    assert match, f"no reference number in {confirmation.inner_text()!r}"
    lead_id = int(match.group(1))

    leads = db_rows("SELECT id, type, car_id, score, priority, assignee_id, name, message FROM leads "
                    "WHERE email = :email", email=address)
    assert [lead["id"] for lead in leads] == [lead_id], f"expected exactly lead {lead_id} for {address}: {leads}"
    lead = leads[0]
    assert lead["type"] == "car_inquiry"
    assert lead["car_id"] == car["id"]
    assert lead["score"] > 0
    assert lead["priority"] in ("low", "normal", "high")
    sales = {row["id"] for row in db_rows("SELECT id FROM users WHERE role = 'sales' AND is_active")}
    assert lead["assignee_id"] in sales, f"assignee {lead['assignee_id']} is not one of the sales users {sales}"
    assert (lead["name"], lead["message"]) == ("Matti Meikäläinen", "Onko auto vielä myynnissä?")

    dealer = mailbox.wait_for(lambda m: f"Uusi liidi #{lead_id}" in m.subject, f"to the dealer about lead {lead_id}")
    adf = [a for a in dealer.attachments() if (a.get_filename() or "").endswith(".xml")]
    assert len(adf) == 1 and adf[0].get_content_type() == "application/xml", \
        f"no ADF/XML attachment: {[(a.get_filename(), a.get_content_type()) for a in dealer.attachments()]}"
    xml = adf[0].get_content()
    xml = xml.decode() if isinstance(xml, bytes) else xml
    assert "<adf>" in xml and address in xml, xml[:500]
    assert address not in dealer.rcpt_tos

    def confirms(m: Received) -> bool:
        return address in m.rcpt_tos and "Uusi liidi" not in m.subject

    visitor = mailbox.wait_for(confirms, f"confirming lead {lead_id} to {address}")
    assert visitor.message["To"] == address


def test_submitting_with_errors_marks_each_field_keeps_the_text_and_focuses_the_first(page: Page) -> None:
    open_car_page(page)
    page.evaluate("window.__marker = 1")
    form = page.locator("#form-inquiry")
    message = "Sopisiko koeajo lauantaina?\nEntä vaihtoauto?"
    form.get_by_label("Viesti").fill(message)
    form.get_by_role("button", name="Lähetä").click()

    expect(error_for(form, "name")).to_have_text(REQUIRED)
    expect(error_for(form, "email")).to_have_text(REQUIRED)
    expect(error_for(form, "consent")).to_contain_text(CONSENT_ERROR)
    expect(error_for(form, "phone")).to_have_text("")  # optional and empty: fine
    expect(error_for(form, "message")).to_have_text("")
    for field in ("name", "email", "consent"):
        expect(form.locator(f"#inquiry-{field}")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Viesti")).to_have_value(message)
    expect(form.locator("#inquiry-name")).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "inquiry-name"
    assert page.evaluate("window.__marker") == 1, "the page reloaded"


def test_contact_form_without_javascript(new_context: Callable[..., BrowserContext], db_rows: Rows) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.set_default_timeout(10_000)
    page.goto("/contact")
    form = page.locator("#form-contact[data-form=contact]")
    form.get_by_label("Nimi").fill("Liisa Ilman Skriptiä")
    form.get_by_label("Sähköposti").fill("liisa@example")
    form.get_by_label("Viesti").fill("Ostatteko autoja?")
    form.get_by_role("checkbox").check()
    with page.expect_response(lambda r: r.url.endswith("/leads") and r.request.method == "POST") as posted:
        form.get_by_role("button", name="Lähetä").click()
    assert posted.value.status == 422
    page.wait_for_load_state()
    form = page.locator("#form-contact[data-form=contact]")
    expect(error_for(form, "email")).to_contain_text(EMAIL_ERROR)
    expect(form.get_by_label("Sähköposti")).to_have_value("liisa@example")
    expect(form.get_by_label("Sähköposti")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Nimi")).to_have_value("Liisa Ilman Skriptiä")
    expect(form.get_by_label("Viesti")).to_have_value("Ostatteko autoja?")

    form.get_by_label("Sähköposti").fill("liisa@example.fi")
    form.get_by_role("button", name="Lähetä").click()
    expect(page).to_have_url(re.compile(r"/contact\?type=contact&done=[^&]+$"))
    confirmation = page.locator("[data-confirmation]")
    expect(confirmation).to_be_visible()
    expect(confirmation).to_contain_text("liisa@example.fi")
    match = REFERENCE.search(confirmation.inner_text())
    assert match, f"no reference number in {confirmation.inner_text()!r}"
    lead_id = int(match.group(1))
    leads = db_rows("SELECT id, type, car_id FROM leads WHERE email = 'liisa@example.fi'")
    assert leads == [{"id": lead_id, "type": "general", "car_id": None}]


def test_test_drive_time_slots_follow_the_chosen_day_and_sunday_is_closed(page: Page) -> None:
    saturday, friday, sunday = next_day(5), next_day(4), next_day(6)
    assert time_slots(HOURS, saturday) and time_slots(HOURS, friday) != time_slots(HOURS, saturday)
    assert not time_slots(HOURS, sunday), "the default opening hours should close on Sundays"
    page.goto("/contact?type=test-drive")
    page.evaluate("window.__marker = 1")
    form = page.locator("#form-test-drive[data-form=test-drive]")
    day = form.get_by_label("Toivottu päivä")
    slot_requests: list[str] = []
    page.on("request", lambda r: slot_requests.append(r.url) if "/leads/slots" in r.url else None)

    day.fill(saturday.isoformat())
    expect(page.locator("#slots-test-drive option")).to_have_count(len(time_slots(HOURS, saturday)) + 1)
    assert slot_options(page) == time_slots(HOURS, saturday)
    day.fill(friday.isoformat())
    expect(page.locator("#slots-test-drive option")).to_have_count(len(time_slots(HOURS, friday)) + 1)
    assert slot_options(page) == time_slots(HOURS, friday)
    page.locator("#slots-test-drive").select_option(time_slots(HOURS, friday)[0])

    day.fill(sunday.isoformat())
    day.blur()  # Tab would only move between the day, month and year parts of the date input
    expect(page.locator("#slots-test-drive option")).to_have_count(1)  # only "choose a time"
    expect(error_for(form, "preferred_date")).to_have_text(CLOSED_DAY)
    expect(day).to_have_attribute("aria-invalid", "true")
    assert len(slot_requests) == 3, f"one slot request per change of day: {slot_requests}"
    assert page.evaluate("window.__marker") == 1, "the page reloaded"


def test_no_serious_axe_violations_on_the_contact_page(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(bypass_csp=True).new_page()  # the CSP would block the injected axe script
    page.set_default_timeout(10_000)
    page.goto("/contact")
    expect(page.locator("#form-contact")).to_be_visible()
    problems = axe_problems(page)
    assert not problems, f"axe found serious/critical problems on {page.url}:\n{problems}"


def test_no_serious_axe_violations_on_a_car_page_after_a_failed_submission(
        new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(bypass_csp=True).new_page()
    page.set_default_timeout(10_000)
    open_car_page(page)
    form = page.locator("#form-inquiry")
    form.get_by_role("button", name="Lähetä").click()
    expect(error_for(form, "name")).to_have_text(REQUIRED)
    problems = axe_problems(page)
    assert not problems, f"axe found serious/critical problems on {page.url} with form errors:\n{problems}"
