"""The five lead forms end to end: HTMX and plain submissions, stored values, errors at the field, blur checks."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import Car
from kroi.system.repositories import SettingsRepository
from kroi.web import i18n
from leadforms import (HX, TZ, activities, confirmation_reference, error_fields, field_error, get_form,
                       is_confirmation, is_full_page, lead_form, new_leads, next_weekday, open_day, outbox_rows, post,
                       seeded_car, valid_input)
from leadforms import lead_client, lead_settings, redis_url  # noqa: F401 - fixtures used by name

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CONSENT_FI = i18n.translate("fi", "form.consent")


# form kind -> (URL of the page with the form, seeded car it is about, expected type, expected score, details)
# Scores: type + phone 15 + car 10 + price band (21 900 € -> 5, 36 900 € -> 10) + trade-in 10; messages are short.
CASES = {
    "contact": ("/contact", None, "general", 5 + 15, {}),
    "inquiry": ("{car_url}", "VLV-60", "car_inquiry", 20 + 15 + 10 + 10, {}),
    "test-drive": ("/contact?type=test-drive&car={car_id}", "KRO-120", "test_drive", 35 + 15 + 10 + 5,
                   {"preferred_date": "<open day>", "preferred_time": "10:00"}),
    "trade-in": ("/contact?type=trade-in", None, "trade_in", 25 + 15 + 10,
                 {"registration": "ABC-123", "make": "Toyota", "model": "Corolla", "year": 2015, "mileage_km": 150000}),
    "financing": ("/contact?type=financing&car={car_id}", "VLV-60", "financing", 30 + 15 + 10 + 10,
                  {"down_payment_cents": 200000, "term_months": 48}),
}


def priority_of(score: int) -> str:
    return "high" if score >= 60 else "normal" if score >= 30 else "low"


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize("kind", list(CASES))
async def test_each_form_creates_one_complete_lead(lead_client: httpx.AsyncClient, db: AsyncSession,
                                                   kind: str, htmx: bool) -> None:
    url, registration, lead_type, score, details = CASES[kind]
    the_car = await seeded_car(db, registration) if registration else None
    page = url.format(car_url=the_car.url if the_car else "", car_id=the_car.id if the_car else "")
    page += ("&" if "?" in page else "?") + "utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    form = await get_form(lead_client, page, kind)
    assert form.attrs["method"] == "post" and form.attrs["action"] == "/leads"
    assert form.attrs["hx-post"] == "/leads"
    if the_car:
        assert form.values["car_id"] == str(the_car.id)
    email = f"{kind}.{'htmx' if htmx else 'plain'}@example.fi"
    before = datetime.now(timezone.utc)

    r = await post(lead_client, form.data(**valid_input(kind, email)), htmx=htmx)

    after = datetime.now(timezone.utc)
    [lead] = await new_leads(db)
    if htmx:
        assert r.status_code == 200, r.text[:500]
        assert not is_full_page(r.text)
        assert is_confirmation(r.text)
        assert f'id="{form.attrs["id"]}"' in r.text  # the fragment replaces the form it came from
        shown = r.text
    else:
        assert r.status_code == 303, r.text[:500]
        target = r.headers["location"]
        assert urlsplit(target).path == "/contact" and "done" in parse_qs(urlsplit(target).query)
        shown = (await lead_client.get(target)).text
        assert is_full_page(shown) and is_confirmation(shown)
    assert confirmation_reference(shown) == lead["id"]
    assert email in shown

    assert lead["type"] == lead_type
    assert lead["status"] == "new"
    assert lead["email"] == email
    assert lead["name"] == "Maija Meikäläinen"
    assert lead["phone"] == "+358401234567"
    assert lead["message"] == "Onko auto vielä myynnissä?"
    assert lead["language"] == "fi"
    assert lead["score"] == score
    assert lead["priority"] == priority_of(score)
    assert lead["consent_text"] == CONSENT_FI
    assert before - timedelta(seconds=1) <= lead["consent_at"] <= after + timedelta(seconds=1)
    assert lead["source_page"] == urlsplit(page).path
    assert (lead["utm_source"], lead["utm_medium"], lead["utm_campaign"]) == ("newsletter", "email", "spring")
    assert lead["idempotency_key"] == form.values["idempotency_key"]
    assert lead["client_ip"]
    if the_car:
        assert lead["car_id"] == the_car.id
        assert lead["car_price_cents"] == the_car.price_cents
    else:
        assert lead["car_id"] is None and lead["car_price_cents"] is None
    expected_details = dict(details)
    if kind == "test-drive":
        expected_details["preferred_date"] = open_day().isoformat()
    assert lead["details"] == expected_details

    kinds = [a["kind"] for a in await activities(db, lead["id"])]
    assert kinds[:2] == ["created", "scored"]
    mails = await outbox_rows(db, lead_id=lead["id"])
    assert sorted(m["kind"] for m in mails) == ["lead_dealer", "lead_visitor"]


async def test_the_car_price_at_the_time_of_the_lead_is_kept(lead_client: httpx.AsyncClient,
                                                            db: AsyncSession) -> None:
    the_car = await seeded_car(db, "KRO-120")
    form = await get_form(lead_client, the_car.url, "inquiry")
    r = await post(lead_client, form.data(**valid_input("inquiry", "price@example.fi")), htmx=True)
    assert is_confirmation(r.text)
    await db.execute(update(Car).where(Car.id == the_car.id).values(price_cents=19_900_00))
    await db.commit()
    [lead] = await new_leads(db)
    assert lead["car_price_cents"] == 21_900_00


async def test_referrer_is_recorded_from_the_form_page(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    r = await lead_client.get("/contact", headers={"Referer": "https://www.google.com/search?q=kroi"})
    form = lead_form(r.text, "contact")
    assert form.values["referrer"] == "https://www.google.com/search?q=kroi"
    await post(lead_client, form.data(**valid_input("contact", "ref@example.fi")), htmx=True)
    [lead] = await new_leads(db)
    assert lead["referrer"] == "https://www.google.com/search?q=kroi"
    assert lead["utm_source"] is None


LANDING = "http://testserver/cars?utm_source=google&utm_medium=cpc&utm_campaign=kevat-2025&sort=price_asc"


async def test_campaign_tags_of_the_page_before_the_form_reach_the_lead(lead_client: httpx.AsyncClient,
                                                                     db: AsyncSession) -> None:
    volvo = await seeded_car(db, "VLV-60")
    # The shopper landed on a campaign link and clicked a car: its form carries the landing page's tags.
    r = await lead_client.get(volvo.url, headers={"Referer": LANDING + "&utm_source=" + "x" * 300})
    form = lead_form(r.text, "inquiry")
    assert (form.values["utm_source"], form.values["utm_medium"], form.values["utm_campaign"]) == (
        "google", "cpc", "kevat-2025")
    assert not any(c.startswith("kroi_utm") for c in r.headers.get_list("set-cookie")), "no tracking cookie"
    await post(lead_client, form.data(**valid_input("inquiry", "utm@example.fi")), htmx=True)
    [lead] = await new_leads(db)
    assert (lead["utm_source"], lead["utm_medium"], lead["utm_campaign"]) == ("google", "cpc", "kevat-2025")


async def test_the_form_pages_own_campaign_tags_win_and_other_sites_tags_are_not_ours(
        lead_client: httpx.AsyncClient) -> None:
    r = await lead_client.get("/contact?utm_source=newsletter&utm_medium=email", headers={"Referer": LANDING})
    form = lead_form(r.text, "contact")
    assert (form.values["utm_source"], form.values["utm_medium"]) == ("newsletter", "email")
    assert not form.values.get("utm_campaign")
    r = await lead_client.get("/contact", headers={"Referer": "https://other.example/?utm_source=spam"})
    assert not lead_form(r.text, "contact").values.get("utm_source")


async def test_a_visitor_writing_in_english_gets_english_forms_and_consent(lead_client: httpx.AsyncClient,
                                                                          db: AsyncSession) -> None:
    lead_client.cookies.set("kroi_lang", "en")
    form = await get_form(lead_client, "/contact", "contact")
    r = await post(lead_client, form.data(**valid_input("contact", "en@example.com")), htmx=True)
    assert "Thank you, we have your message!" in r.text
    [lead] = await new_leads(db)
    assert lead["language"] == "en"
    assert lead["consent_text"] == i18n.translate("en", "form.consent")


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
async def test_the_language_of_the_page_with_the_form_is_the_language_of_the_lead(
        lead_client: httpx.AsyncClient, db: AsyncSession, htmx: bool) -> None:
    """A car page opened with ?lang=en posts to a bare /leads: the lead, its consent text,
    the answer and the confirmation mail are still English."""
    volvo = await seeded_car(db, "VLV-60")
    r = await lead_client.get(f"{volvo.url}?lang=en")
    assert i18n.translate("en", "form.consent") in r.text
    form = lead_form(r.text, "inquiry")
    assert form.values["lang"] == "en"
    # ?lang= also sets the language cookie; without it (blocked cookies) the form's hidden field is enough.
    lead_client.cookies.delete("kroi_lang")
    r = await post(lead_client, form.data(**valid_input("inquiry", "english@example.com")), htmx=htmx, follow=True)
    assert r.status_code == 200
    assert "Thank you, we have your message!" in r.text
    [lead] = await new_leads(db)
    assert lead["language"] == "en"
    assert lead["consent_text"] == i18n.translate("en", "form.consent")
    [visitor_mail] = await outbox_rows(db, kind="lead_visitor")
    assert visitor_mail["payload"]["subject"] == i18n.translate("en", "mail.confirm.subject",
                                                                dealer="Kroi Auto Center")


async def test_a_refused_form_keeps_its_language_and_a_made_up_one_is_ignored(lead_client: httpx.AsyncClient,
                                                                              db: AsyncSession) -> None:
    form = await get_form(lead_client, "/contact?lang=en", "contact")
    lead_client.cookies.delete("kroi_lang")  # the hidden field alone carries the language
    r = await post(lead_client, form.data(**valid_input("contact", "not-an-address")), htmx=True)
    assert field_error(r.text, "email") == i18n.translate("en", "form.error.email")
    assert lead_form(r.text, "contact").values["lang"] == "en"
    r = await post(lead_client, form.data(**valid_input("contact", "sv@example.com"), lang="sv"), htmx=True)
    assert is_confirmation(r.text)
    [lead] = await new_leads(db)
    assert (lead["language"], lead["consent_text"]) == ("fi", CONSENT_FI)  # no cookie, no ?lang=: Finnish


async def test_a_returning_visitor_scores_higher(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    # john.smith@example.com sent one of the seeded sample leads.
    form = await get_form(lead_client, "/contact", "contact")
    await post(lead_client, form.data(**valid_input("contact", "John.Smith@example.com")), htmx=True)
    [lead] = await new_leads(db)
    assert lead["email"] == "john.smith@example.com"
    assert lead["score"] == 5 + 15 + 10


async def test_a_sold_or_unknown_car_is_refused_with_the_input_kept(lead_client: httpx.AsyncClient,
                                                                    db: AsyncSession) -> None:
    the_car = await seeded_car(db, "KRO-120")
    form = await get_form(lead_client, the_car.url, "inquiry")
    await db.execute(update(Car).where(Car.id == the_car.id).values(status="sold", sold_at=datetime.now(timezone.utc)))
    await db.commit()
    r = await post(lead_client, form.data(**valid_input("inquiry", "sold@example.fi")), htmx=True)
    assert r.status_code == 422
    assert field_error(r.text, "form") == i18n.translate("fi", "form.error.car_unavailable")
    assert lead_form(r.text, "inquiry").values["email"] == "sold@example.fi"
    assert await new_leads(db) == []


# --- errors -------------------------------------------------------------------------------------------------

async def test_an_odd_digit_as_car_id_is_no_server_error(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    # '²'.isdigit() is true but int('²') fails: the car is simply unknown.
    form = await get_form(lead_client, "/contact?type=test-drive&car=²", "test-drive")
    r = await post(lead_client, form.data(**valid_input("test-drive", "odd@example.fi"), car_id="²"), htmx=True)
    assert r.status_code < 500
    assert [lead["car_id"] for lead in await new_leads(db)] in ([], [None])


TYPED = {"name": 'Maija "M" <Meikäläinen>', "email": "maija(at)example.fi", "phone": "+358 40 123 4567",
         "message": 'Rivi yksi & <b>kaksi</b>\nRivi "kolme"'}


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
async def test_bad_email_is_answered_at_the_field_with_everything_kept(lead_client: httpx.AsyncClient,
                                                                       db: AsyncSession, htmx: bool) -> None:
    form = await get_form(lead_client, "/contact?type=trade-in", "trade-in")
    typed = {**valid_input("trade-in", "x"), **TYPED}
    r = await post(lead_client, form.data(**typed), htmx=htmx)
    assert r.status_code == 422
    assert is_full_page(r.text) != htmx
    assert error_fields(r.text) == {"email": i18n.translate("fi", "form.error.email")}
    assert field_error(r.text, "form") == i18n.translate("fi", "form.error.summary")
    again = lead_form(r.text, "trade-in")
    for name, value in typed.items():
        if name == "consent":
            assert again.checkboxes["consent"] is True
        else:
            assert again.values[name] == value, name
    # The same idempotency key and the same source data, so fixing the e-mail sends the same submission.
    for hidden in ("idempotency_key", "form_type", "form_id", "source_page"):
        assert again.values[hidden] == form.values[hidden]
    assert 'aria-invalid="true"' in r.text and "autofocus" in r.text
    assert await new_leads(db) == []

    fixed = await post(lead_client, again.data(email="maija@example.fi"), htmx=True)
    assert fixed.status_code == 200 and is_confirmation(fixed.text)
    [lead] = await new_leads(db)
    assert lead["name"] == TYPED["name"] and lead["message"] == TYPED["message"]


async def test_missing_fields_and_consent_are_all_reported(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    form = await get_form(lead_client, "/contact?type=test-drive", "test-drive")
    r = await post(lead_client, form.data(), htmx=True)
    assert r.status_code == 422
    required = i18n.translate("fi", "form.error.required")
    assert error_fields(r.text) == {"name": required, "email": required, "phone": required,
                                    "preferred_date": required, "preferred_time": required,
                                    "consent": i18n.translate("fi", "form.error.consent")}
    assert await new_leads(db) == []


async def test_blur_check_returns_the_one_field_error(lead_client: httpx.AsyncClient) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    # Several fields are wrong, but only the one that lost focus is answered.
    data = form.data(name="M", email="not-an-address", phone="12", field="email")
    r = await lead_client.post("/leads/validate", data=data, headers=HX)
    assert r.status_code == 200
    assert not is_full_page(r.text)
    assert r.text.count("data-error-for=") == 1
    assert f'id="err-{form.values["form_id"]}-email"' in r.text
    assert field_error(r.text, "email") == i18n.translate("fi", "form.error.email")

    r = await lead_client.post("/leads/validate", data={**data, "field": "phone"}, headers=HX)
    assert r.text.count("data-error-for=") == 1
    assert field_error(r.text, "phone") == i18n.translate("fi", "form.error.phone")

    r = await lead_client.post("/leads/validate", data={**data, "field": "name"}, headers=HX)
    assert field_error(r.text, "name") == i18n.translate("fi", "form.error.too_short")


async def test_blur_check_of_a_good_or_untouched_field_is_empty(lead_client: httpx.AsyncClient) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    r = await lead_client.post("/leads/validate", data=form.data(email="maija@example.fi", field="email"),
                               headers=HX)
    assert r.status_code == 200 and field_error(r.text, "email") == ""
    r = await lead_client.post("/leads/validate", data=form.data(name="", field="name"), headers=HX)
    assert field_error(r.text, "name") == ""


async def test_blur_check_in_english(lead_client: httpx.AsyncClient) -> None:
    lead_client.cookies.set("kroi_lang", "en")
    form = await get_form(lead_client, "/contact", "contact")
    r = await lead_client.post("/leads/validate", data=form.data(email="x@", field="email"), headers=HX)
    assert field_error(r.text, "email") == "Check the e-mail address, e.g. name@example.com."


async def test_blur_check_of_an_unknown_field_or_form_is_refused(lead_client: httpx.AsyncClient) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    r = await lead_client.post("/leads/validate", data=form.data(field="password"), headers=HX)
    assert r.status_code == 400
    r = await lead_client.post("/leads/validate", data=form.data(field="email", form_type="survey"), headers=HX)
    assert r.status_code == 400


async def test_unknown_form_type_is_a_400(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    r = await post(lead_client, form.data(**valid_input("contact", "a@example.fi"), form_type="survey"))
    assert r.status_code == 400
    assert await new_leads(db) == []


@pytest.mark.parametrize("term", ["13", "30"])
async def test_a_loan_term_the_form_does_not_offer_is_refused_at_the_field(lead_client: httpx.AsyncClient,
                                                                          db: AsyncSession, term: str) -> None:
    form = await get_form(lead_client, "/contact?type=financing", "financing")
    assert term not in form.options["term_months"]
    r = await post(lead_client, form.data(**valid_input("financing", "term@example.fi", term_months=term)),
                   htmx=True)
    assert r.status_code == 422
    assert error_fields(r.text) == {"term_months": i18n.translate("fi", "form.error.term_step")}
    assert await new_leads(db) == []


# --- test drive ---------------------------------------------------------------------------------------------

def _yesterday() -> str:
    return (datetime.now(TZ).date() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(("day", "slot", "field", "key"), [
    ("past", "10:00", "preferred_date", "form.error.date_past"),
    ("sunday", "12:00", "preferred_date", "form.error.closed_day"),
    ("open", "08:00", "preferred_time", "form.error.closed_hour"),
    ("open", "18:00", "preferred_time", "form.error.closed_hour"),
    ("saturday", "15:00", "preferred_time", "form.error.closed_hour"),
    ("far", "10:00", "preferred_date", "form.error.date_far"),
])
async def test_test_drive_outside_opening_hours_is_refused(lead_client: httpx.AsyncClient, db: AsyncSession,
                                                           day: str, slot: str, field: str, key: str) -> None:
    dates = {"past": _yesterday(), "sunday": next_weekday(6).isoformat(), "open": open_day().isoformat(),
             "saturday": next_weekday(5).isoformat(), "far": open_day(open_day() + timedelta(days=61)).isoformat()}
    form = await get_form(lead_client, "/contact?type=test-drive", "test-drive")
    r = await post(lead_client, form.data(**valid_input("test-drive", "td@example.fi", preferred_date=dates[day],
                                                        preferred_time=slot)), htmx=True)
    assert r.status_code == 422
    assert error_fields(r.text) == {field: i18n.translate("fi", key)}
    assert lead_form(r.text, "test-drive").values["preferred_date"] == dates[day]
    assert await new_leads(db) == []


async def test_slots_follow_the_chosen_day(lead_client: httpx.AsyncClient) -> None:
    saturday = (await lead_client.get(f"/leads/slots?preferred_date={next_weekday(5).isoformat()}",
                                      headers=HX)).text
    assert '<option value="10:00"' in saturday and '<option value="14:00"' in saturday
    assert '<option value="15:00"' not in saturday and '<option value="09:00"' not in saturday
    sunday = (await lead_client.get(f"/leads/slots?preferred_date={next_weekday(6).isoformat()}", headers=HX)).text
    assert sunday.count("<option") == 1  # no times, and it says why
    assert '<option value="">Suljettu tänä päivänä</option>' in sunday
    english = (await lead_client.get(f"/leads/slots?preferred_date={next_weekday(6).isoformat()}&lang=en",
                                     headers=HX)).text
    assert '<option value="">Closed on this day</option>' in english


async def _open_all_day_today(db: AsyncSession) -> None:
    """Today open 00:00–24:00, so some of today's hours have passed whenever the test runs (after 01:00)."""
    hours = {str(d): ["09:00", "18:00"] for d in range(7)}
    hours[str(datetime.now(TZ).weekday())] = ["00:00", "23:59"]
    await SettingsRepository(db).upsert("opening_hours", hours)
    await db.commit()


async def test_todays_slots_leave_out_hours_that_have_passed(lead_client: httpx.AsyncClient,
                                                             db: AsyncSession) -> None:
    now = datetime.now(TZ)
    if now.hour >= 22:
        pytest.skip("the last slot of today (22:00) has begun")
    await _open_all_day_today(db)
    today = (await lead_client.get(f"/leads/slots?preferred_date={now.date().isoformat()}", headers=HX)).text
    offered = re.findall(r'<option value="(\d\d:\d\d)"', today)
    assert offered and all(slot > now.strftime("%H:%M") for slot in offered), (now, offered)
    assert offered[-1] == "22:00"
    if now.hour >= 1:
        assert "00:00" not in offered
    # The form page with today chosen offers the same (its re-render after an error, say).
    form = await get_form(lead_client, "/contact?type=test-drive", "test-drive")
    r = await post(lead_client, form.data(**valid_input("test-drive", "today@example.fi",
                                                        preferred_date=now.date().isoformat(), phone="")), htmx=True)
    assert lead_form(r.text, "test-drive").options["preferred_time"][1:] == offered


async def test_a_day_whose_hours_have_all_passed_says_so(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    now = datetime.now(TZ)
    hours = {str(d): None for d in range(7)}
    if now.hour < 1:
        pytest.skip("no hour of today has passed yet")
    hours[str(now.weekday())] = ["00:00", "01:00"]  # one slot, 00:00, already begun
    await SettingsRepository(db).upsert("opening_hours", hours)
    await db.commit()
    r = await lead_client.get(f"/leads/slots?preferred_date={now.date().isoformat()}", headers=HX)
    assert r.text.count("<option") == 1
    assert '<option value="">Ei enää vapaita aikoja tänään</option>' in r.text


async def test_car_page_answers_the_inquiry_form_for_a_listed_car(lead_client: httpx.AsyncClient,
                                                                  db: AsyncSession) -> None:
    volvo = await seeded_car(db, "VLV-60")
    r = await lead_client.get(volvo.url)
    form = lead_form(r.text, "inquiry")
    assert form.values["car_id"] == str(volvo.id)
    assert form.values["_csrf_token"] == lead_client.cookies["csrftoken"]
    assert len(form.values["idempotency_key"]) == 32
    # Every page view gets its own idempotency key.
    again = lead_form((await lead_client.get(volvo.url)).text, "inquiry")
    assert again.values["idempotency_key"] != form.values["idempotency_key"]


@pytest.mark.parametrize(("typed", "stored"), [
    ("040 123 4567", "+358401234567"),
    ("040 12", None),
    ("0046 70-123 45 67", "+46701234567"),
    ("+1 650 253 0000", "+16502530000"),
])
async def test_phone_numbers_are_stored_in_e164(lead_client: httpx.AsyncClient, db: AsyncSession, typed: str,
                                                stored: str | None) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    r = await post(lead_client, form.data(**valid_input("contact", "phone@example.fi", phone=typed)), htmx=True)
    if stored is None:
        assert r.status_code == 422
        assert error_fields(r.text) == {"phone": i18n.translate("fi", "form.error.phone")}
        assert await new_leads(db) == []
    else:
        assert r.status_code == 200
        [lead] = await new_leads(db)
        assert lead["phone"] == stored


async def test_too_long_values_are_refused_at_the_field(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    r = await post(lead_client, form.data(**valid_input("contact", "long@example.fi", name="N" * 121,
                                                        message="m" * 4001)), htmx=True)
    assert r.status_code == 422
    too_long = i18n.translate("fi", "form.error.too_long")
    assert error_fields(r.text) == {"name": too_long, "message": too_long}
    assert await new_leads(db) == []


async def test_answers_vary_on_hx_request_and_are_not_stored(lead_client: httpx.AsyncClient) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    bad = await post(lead_client, form.data(**valid_input("contact", "x")), htmx=True)
    good = await post(lead_client, form.data(**valid_input("contact", "vary@example.fi")), htmx=True)
    for r in (bad, good):
        assert "HX-Request" in r.headers["vary"]
        assert r.headers["cache-control"] == "no-store"
