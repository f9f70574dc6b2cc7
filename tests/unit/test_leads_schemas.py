"""Lead form validation: phone and registration normalization, test-drive slots, every error key per form."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kroi.leads.schemas import (FIELDS, FORM_TYPES, LIMITS, REQUIRED, FormContext, normalize_email, normalize_phone,
                                normalize_registration, time_slots, validate)
from kroi.system.services import DEFAULTS
from kroi.web import i18n

pytestmark = pytest.mark.unit

TZ = ZoneInfo("Europe/Helsinki")
HOURS = DEFAULTS["opening_hours"]
# Wednesday 2025-06-11, 11:30 in Helsinki.
NOW = datetime(2025, 6, 11, 11, 30, tzinfo=TZ)
CTX = FormContext(now=NOW, opening_hours=HOURS, max_months=84)
MONDAY = date(2025, 6, 16)
FRIDAY = date(2025, 6, 13)
SATURDAY = date(2025, 6, 14)
SUNDAY = date(2025, 6, 15)


def good(form_type: str, **changes: str) -> dict[str, str]:
    data = {"name": "Maija Meikäläinen", "email": "Maija@Example.fi", "phone": "040 123 4567",
            "message": "Hei!", "consent": "on"}
    if form_type == "test-drive":
        data |= {"preferred_date": MONDAY.isoformat(), "preferred_time": "10:00"}
    elif form_type == "trade-in":
        data |= {"registration": "abc123", "trade_make": "Toyota", "trade_model": "Corolla", "trade_year": "2015",
                 "trade_mileage": "150 000"}
    elif form_type == "financing":
        data |= {"down_payment": "2 000 €", "term_months": "48"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(form_type: str, ctx: FormContext = CTX, **changes: str) -> dict[str, str]:
    clean, errors = validate(form_type, good(form_type, **changes), ctx)
    assert (clean is None) == bool(errors)
    return errors


# --- phone -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "e164"), [
    ("040 123 4567", "+358401234567"),
    ("040-1234567", "+358401234567"),
    ("  050 1234 567 ", "+358501234567"),
    ("(09) 123 4567", "+35891234567"),
    ("+358 40 123 4567", "+358401234567"),
    ("+358401234567", "+358401234567"),
    ("00358 40 123 4567", "+358401234567"),
    ("0046 70 123 45 67", "+46701234567"),
    ("+46 70-123 45 67", "+46701234567"),
    ("+1 650 253 0000", "+16502530000"),
    ("+44 20 7946 0018", "+442079460018"),
])
def test_normalize_phone_gives_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", [
    "", "   ", "abc", "12", "+358 40", "040 123 4567 ext 5", "040 123 4567 x", "+999 1234567", "1" * 41,
    "040<script>", "+358 40 123 4567 8901 2345",
])
def test_normalize_phone_refuses_junk(raw: str) -> None:
    assert normalize_phone(raw) is None


# --- registration ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("ABC-123", "ABC-123"), ("abc-123", "ABC-123"), ("abc123", "ABC-123"), (" xyz 999 ", "XYZ-999"),
    ("AB 12", "AB-12"), ("a-1", "A-1"), ("öäå-1", "ÖÄÅ-1"), ("CD99", "CD-99"),
])
def test_normalize_registration(raw: str, expected: str) -> None:
    assert normalize_registration(raw) == expected


@pytest.mark.parametrize("raw", ["", "ABC-1234", "ABCD-123", "abc--123", "123-ABC", "ABC-012", "ABC", "123",
                                 "AB-C12", "ABC_123"])
def test_normalize_registration_refuses_other_shapes(raw: str) -> None:
    assert normalize_registration(raw) is None


# --- time slots --------------------------------------------------------------------------------------------

def test_time_slots_run_hourly_until_an_hour_before_closing() -> None:
    assert time_slots(HOURS, MONDAY) == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00",
                                         "17:00"]
    assert time_slots(HOURS, FRIDAY) == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    assert time_slots(HOURS, SATURDAY) == ["10:00", "11:00", "12:00", "13:00", "14:00"]


def test_todays_slots_that_have_begun_are_left_out() -> None:
    # NOW is Wednesday 11:30: 11:00 has begun, 12:00 has not.
    assert time_slots(HOURS, NOW.date(), NOW)[0] == "12:00"
    assert time_slots(HOURS, NOW.date(), NOW.replace(hour=12, minute=0))[0] == "13:00"
    assert time_slots(HOURS, NOW.date(), NOW.replace(hour=17, minute=1)) == []
    assert time_slots(HOURS, MONDAY, NOW)[0] == "09:00"  # another day: all of them


def test_time_slots_are_empty_on_a_closed_day() -> None:
    assert time_slots(HOURS, SUNDAY) == []
    assert time_slots({}, MONDAY) == []


def test_time_slots_follow_custom_hours() -> None:
    hours = {str(MONDAY.weekday()): ["09:30", "12:00"]}
    assert time_slots(hours, MONDAY) == ["09:30", "10:30"]
    assert time_slots({str(MONDAY.weekday()): ["09:00", "09:30"]}, MONDAY) == []


# --- validate: success per form type ------------------------------------------------------------------------

def test_contact_form_cleans_values() -> None:
    clean, errors = validate("contact", good("contact", name="  Maija   Meikäläinen ",
                                             message="Rivi 1\r\nRivi\x00 2\n"), CTX)
    assert errors == {}
    assert clean.lead_type == "general"
    assert clean.name == "Maija Meikäläinen"
    assert clean.email == "maija@example.fi"
    assert clean.phone == "+358401234567"
    assert clean.message == "Rivi 1\nRivi 2"
    assert clean.details == {}


def test_inquiry_form_needs_only_name_email_and_consent() -> None:
    clean, errors = validate("inquiry", {"name": "Jo", "email": "jo@example.fi", "consent": "on"}, CTX)
    assert errors == {}
    assert clean.lead_type == "car_inquiry"
    assert clean.phone is None and clean.message == ""


def test_test_drive_form_keeps_day_and_time() -> None:
    clean, errors = validate("test-drive", good("test-drive"), CTX)
    assert errors == {}
    assert clean.lead_type == "test_drive"
    assert clean.details == {"preferred_date": "2025-06-16", "preferred_time": "10:00"}


def test_test_drive_later_today_is_accepted() -> None:
    clean, errors = validate("test-drive", good("test-drive", preferred_date=NOW.date().isoformat(),
                                                preferred_time="12:00"), CTX)
    assert errors == {}
    assert clean.details["preferred_date"] == "2025-06-11"


def test_trade_in_form_normalizes_registration_and_numbers() -> None:
    clean, errors = validate("trade-in", good("trade-in"), CTX)
    assert errors == {}
    assert clean.lead_type == "trade_in"
    assert clean.details == {"registration": "ABC-123", "make": "Toyota", "model": "Corolla", "year": 2015,
                             "mileage_km": 150000}


def test_financing_form_stores_cents_and_months() -> None:
    clean, errors = validate("financing", good("financing"), FormContext(NOW, HOURS, car_price_cents=20_000_00))
    assert errors == {}
    assert clean.lead_type == "financing"
    assert clean.details == {"down_payment_cents": 200000, "term_months": 48}


@pytest.mark.parametrize("value", ["on", "yes", "1", "true"])
def test_consent_values_a_checkbox_may_send(value: str) -> None:
    assert "consent" not in errors_of("contact", consent=value)


# --- validate: every error key ------------------------------------------------------------------------------

def test_unknown_form_type() -> None:
    assert validate("survey", good("contact"), CTX) == (None, {"form": "form.error.unknown_form"})


@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_every_required_field_is_reported_when_empty(form_type: str) -> None:
    _, errors = validate(form_type, {}, CTX)
    expected = {name: "form.error.required" for name in REQUIRED[form_type]}
    expected["consent"] = "form.error.consent"
    assert errors == expected


@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_blank_text_counts_as_empty(form_type: str) -> None:
    assert errors_of(form_type, name=" \t\n ")["name"] == "form.error.required"


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_too_long_values(name: str) -> None:
    form_type = "trade-in" if name in FIELDS["trade-in"] and name not in FIELDS["contact"] else "contact"
    value = "a" * (LIMITS[name] + 1)
    assert errors_of(form_type, **{name: value})[name] == "form.error.too_long"


def test_values_at_the_limit_are_not_too_long() -> None:
    assert "message" not in errors_of("contact", message="a" * LIMITS["message"])
    assert "name" not in errors_of("contact", name="a" * LIMITS["name"])


def test_one_letter_name_is_too_short() -> None:
    assert errors_of("contact", name="M") == {"name": "form.error.too_short"}


@pytest.mark.parametrize("email", ["maija", "maija@", "@example.fi", "maija@example", "maija@@example.fi",
                                   "maija example@x.fi", "maija@exa_mple.fi", "<maija>@example.fi",
                                   "maija@-example.fi", "a" * 65 + "@example.fi"])
def test_bad_email(email: str) -> None:
    assert errors_of("contact", email=email) == {"email": "form.error.email"}


@pytest.mark.parametrize("email", ["maija@example.fi", "MAIJA.M+leads@sub.example.co.uk", "o'brien@example.ie"])
def test_good_email(email: str) -> None:
    assert errors_of("contact", email=email) == {}


@pytest.mark.parametrize("email", [".a..b.@example.com", ".maija@example.fi", "maija.@example.fi",
                                   "maija..m@example.fi"])
def test_dots_at_the_ends_or_doubled_in_the_local_part_are_refused(email: str) -> None:
    assert errors_of("contact", email=email) == {"email": "form.error.email_dots"}


@pytest.mark.parametrize("email", ["ÄÄ@example.com", "jyrki.mäkelä@example.fi", "åsa@example.se"])
def test_a_local_part_must_be_ascii_and_the_visitor_is_told_so(email: str) -> None:
    assert errors_of("contact", email=email) == {"email": "form.error.email_ascii"}
    assert "ääkkösiä" in i18n.translate("fi", "form.error.email_ascii")


def test_an_internationalised_domain_is_stored_in_its_ascii_form() -> None:
    clean, errors = validate("contact", good("contact", email="Maija@Ääkköset.fi"), CTX)
    assert errors == {}
    assert clean.email == "maija@xn--kkset-fraa0m.fi"
    assert clean.email.isascii()


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Maija.M@Example.FI ", ("maija.m@example.fi", None)),
    ("maija@ä.fi", ("maija@xn--4ca.fi", None)),
    ("maija@exa mple.fi", (None, "form.error.email")),
    ("maija@" + "a" * 250 + ".fi", (None, "form.error.email")),
])
def test_normalize_email(raw: str, expected: tuple) -> None:
    assert normalize_email(raw) == expected


def test_bad_phone() -> None:
    assert errors_of("contact", phone="12") == {"phone": "form.error.phone"}


def test_missing_consent() -> None:
    assert errors_of("contact", consent="") == {"consent": "form.error.consent"}
    assert errors_of("contact", consent="off") == {"consent": "form.error.consent"}


def test_errors_from_several_fields_come_together() -> None:
    assert errors_of("contact", name="", email="x", phone="1", consent="") == {
        "name": "form.error.required", "email": "form.error.email", "phone": "form.error.phone",
        "consent": "form.error.consent"}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"preferred_date": "16.6.2025"}, {"preferred_date": "form.error.date"}),
    ({"preferred_date": "2025-06-10"}, {"preferred_date": "form.error.date_past"}),
    ({"preferred_date": (NOW.date() + timedelta(days=61)).isoformat()}, {"preferred_date": "form.error.date_far"}),
    ({"preferred_date": SUNDAY.isoformat()}, {"preferred_date": "form.error.closed_day"}),
    ({"preferred_time": "08:00"}, {"preferred_time": "form.error.closed_hour"}),
    ({"preferred_time": "18:00"}, {"preferred_time": "form.error.closed_hour"}),
    ({"preferred_time": "10:30"}, {"preferred_time": "form.error.closed_hour"}),
    ({"preferred_date": FRIDAY.isoformat(), "preferred_time": "17:00"}, {"preferred_time": "form.error.closed_hour"}),
    ({"preferred_date": NOW.date().isoformat(), "preferred_time": "11:00"}, {"preferred_time": "form.error.time_past"}),
    ({"preferred_date": NOW.date().isoformat(), "preferred_time": "09:00"}, {"preferred_time": "form.error.time_past"}),
    ({"preferred_time": ""}, {"preferred_time": "form.error.required"}),
    ({"phone": ""}, {"phone": "form.error.required"}),
])
def test_test_drive_errors(changes: dict[str, str], expected: dict[str, str]) -> None:
    assert errors_of("test-drive", **changes) == expected


def test_test_drive_sixty_days_ahead_is_still_allowed() -> None:
    day = NOW.date() + timedelta(days=60)
    while not time_slots(HOURS, day):
        day -= timedelta(days=1)
    assert errors_of("test-drive", preferred_date=day.isoformat()) == {}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"registration": "ABCD-1234"}, {"registration": "form.error.registration"}),
    ({"trade_year": "1949"}, {"trade_year": "form.error.year"}),
    ({"trade_year": str(NOW.year + 2)}, {"trade_year": "form.error.year"}),
    ({"trade_year": "vanha"}, {"trade_year": "form.error.year"}),
    ({"trade_mileage": "2000001"}, {"trade_mileage": "form.error.mileage"}),
    ({"trade_mileage": "-5"}, {"trade_mileage": "form.error.mileage"}),
    ({"trade_mileage": "paljon"}, {"trade_mileage": "form.error.mileage"}),
])
def test_trade_in_errors(changes: dict[str, str], expected: dict[str, str]) -> None:
    assert errors_of("trade-in", **changes) == expected


def test_trade_in_accepts_edge_values() -> None:
    clean, errors = validate("trade-in", good("trade-in", trade_year=str(NOW.year + 1), trade_mileage="0 km"), CTX)
    assert errors == {}
    assert clean.details["year"] == NOW.year + 1 and clean.details["mileage_km"] == 0


@pytest.mark.parametrize(("changes", "expected"), [
    ({"down_payment": "paljon"}, {"down_payment": "form.error.number"}),
    ({"down_payment": "-100"}, {"down_payment": "form.error.number"}),
    ({"term_months": "6"}, {"term_months": "form.error.term"}),
    ({"term_months": "96"}, {"term_months": "form.error.term"}),
    ({"term_months": "kolme"}, {"term_months": "form.error.term"}),
    ({"term_months": "13"}, {"term_months": "form.error.term_step"}),
    ({"term_months": "30"}, {"term_months": "form.error.term_step"}),
])
def test_financing_errors(changes: dict[str, str], expected: dict[str, str]) -> None:
    assert errors_of("financing", **changes) == expected


def test_financing_down_payment_may_not_exceed_the_car_price() -> None:
    ctx = FormContext(NOW, HOURS, car_price_cents=1_500_00)
    assert errors_of("financing", ctx, down_payment="1501") == {"down_payment": "form.error.down_too_big"}
    assert errors_of("financing", ctx, down_payment="1500") == {}


def test_financing_term_follows_the_dealers_maximum() -> None:
    ctx = FormContext(NOW, HOURS, max_months=60)
    assert errors_of("financing", ctx, term_months="72") == {"term_months": "form.error.term"}
    assert errors_of("financing", ctx, term_months="60") == {}
