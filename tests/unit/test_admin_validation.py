"""The staff forms' validation, pure: the car form (VIN check digit, registration, years, price) and the dealer
settings form."""
from __future__ import annotations

from datetime import date

import pytest

from kroi.inventory.schemas import parse_price_cents, validate_car, vin_check_digit, vin_problem
from kroi.system.admin import validate as validate_settings

pytestmark = pytest.mark.unit

TODAY = date(2026, 6, 15)
CAR = {"brand": "Ford", "model": "Focus", "model_year": "2019", "price": "12900", "mileage_km": "88000",
       "fuel": "petrol", "transmission": "manual", "drive": "fwd", "body_type": "hatchback", "status": "draft"}


@pytest.mark.parametrize("vin, digit", [
    ("1HGCM82633A004352", "3"),  # the textbook example
    ("5YJ3E7EB8MF123456", "8"),
    ("1M8GDM9AXKP042788", "X"),  # remainder 10 is written as X
    ("11111111111111111", "1"),
])
def test_vin_check_digit(vin: str, digit: str) -> None:
    assert vin_check_digit(vin) == digit
    assert vin_problem(vin) is None


@pytest.mark.parametrize("vin, problem", [
    ("1HGCM82623A004352", "car.error.vin_check"),  # North American (1–5): the check digit is mandatory
    ("5YJ3E7EB9MF123456", "car.error.vin_check"),
    ("WVWZZZCDZMW512345", None),  # European makers need none
    ("SB1ZS3JE30E041236", None),
    ("1HGCM82633A00435", "car.error.vin_format"),  # 16 characters
    ("1HGCM82633A0043521", "car.error.vin_format"),
    ("1HGCM82633A00435I", "car.error.vin_format"),  # I, O and Q are never used
    ("1HGCM82633A00435o", "car.error.vin_format"),
])
def test_vin_problems(vin: str, problem: str | None) -> None:
    assert vin_problem(vin) == problem


@pytest.mark.parametrize("raw, cents", [
    ("12900", 1_290_000), ("12 900", 1_290_000), ("12\u00a0900 €", 1_290_000), ("12900,5", 1_290_050),
    ("12900.99", 1_290_099), ("0", 0), ("abc", None), ("-5", None), ("12,345.6", None), ("1.234", None),
    ("", None), ("1" * 10, None),
])
def test_price_parsing(raw: str, cents: int | None) -> None:
    assert parse_price_cents(raw) == cents


def test_valid_car_is_cleaned() -> None:
    values, errors = validate_car({**CAR, "registration_number": "abc 12", "vin": "wvwzzzcdzmw512345",
                                   "first_registration": "2019-03-01", "vat_deductible": "on", "colour": "  Musta  ",
                                   "description_fi": "Rivi 1\r\nRivi 2\x00"}, TODAY)
    assert errors == {}
    assert values["registration_number"] == "ABC-12" and values["vin"] == "WVWZZZCDZMW512345"
    assert values["price_cents"] == 1_290_000 and values["model_year"] == 2019 and values["mileage_km"] == 88_000
    assert values["first_registration"] == date(2019, 3, 1) and values["vat_deductible"] is True
    assert values["featured"] is False and values["colour"] == "Musta"
    assert values["description_fi"] == "Rivi 1\nRivi 2"


@pytest.mark.parametrize("changes, errors", [
    ({"model_year": "1949"}, {"model_year": "car.error.range"}),
    ({"model_year": "2028"}, {"model_year": "car.error.year_future"}),
    ({"model_year": "2027"}, {}),  # next year's models are sold already
    ({"model_year": "20x9"}, {"model_year": "car.error.range"}),
    ({"price": "12 9OO"}, {"price": "car.error.price"}),
    ({"price": "1000000001"}, {"price": "car.error.price"}),
    ({"registration_number": "12-ABC"}, {"registration_number": "form.error.registration"}),
    ({"registration_number": "ABCD-123"}, {"registration_number": "form.error.registration"}),
    ({"registration_number": "ABC-012"}, {"registration_number": "form.error.registration"}),
    ({"first_registration": "2026-06-16"}, {"first_registration": "car.error.date_future"}),
    ({"first_registration": "16.6.2026"}, {"first_registration": "form.error.date"}),
    ({"fuel": "steam"}, {"fuel": "car.error.choice"}),
    ({"status": "stolen"}, {"status": "car.error.choice"}),
    ({"doors": "9"}, {"doors": "car.error.range"}),
    ({"brand": "", "mileage_km": ""}, {"brand": "form.error.required", "mileage_km": "form.error.required"}),
    ({"price": ""}, {"price": "form.error.required"}),
    ({"model": "x" * 81}, {"model": "form.error.too_long"}),
])
def test_car_errors_per_field(changes: dict[str, str], errors: dict[str, str]) -> None:
    values, found = validate_car({**CAR, **changes}, TODAY)
    assert found == errors
    assert (values is None) == bool(errors)


def settings_form(**changes: str) -> dict[str, str]:
    form = {"dealer_name": "Kroi Auto Center", "dealer_street": "Teollisuustie 12", "dealer_postal_code": "33330",
            "dealer_city": "Tampere", "dealer_phone": "+358 40 123 4567", "dealer_email": "myynti@kroi.fi",
            "dealer_business_id": "1234567-8", "rate_pct": "5,9", "opening_fee_eur": "299", "monthly_fee_eur": "9",
            "months": "60", "down_payment_pct": "20", "max_months": "84", "response_target_hours": "4",
            "notify_email": ""}
    for day in range(6):
        form[f"open_{day}"], form[f"close_{day}"] = "09:00", "17:00"
    form["closed_6"] = "on"
    form.update(changes)
    return form


def test_valid_settings_become_the_stored_groups() -> None:
    values, errors = validate_settings(settings_form())
    assert errors == {}
    assert values["financing"] == {"rate_pct": 5.9, "opening_fee_cents": 29900, "monthly_fee_cents": 900,
                                   "months": 60, "down_payment_pct": 20.0, "max_months": 84}
    assert values["opening_hours"]["6"] is None and values["opening_hours"]["0"] == ["09:00", "17:00"]
    assert values["leads"] == {"response_target_hours": 4.0, "notify_email": "myynti@kroi.fi"}


@pytest.mark.parametrize("changes, errors", [
    ({"dealer_postal_code": "3333"}, {"dealer_postal_code": "admin.settings.error.postal"}),
    ({"dealer_phone": "soita"}, {"dealer_phone": "form.error.phone"}),
    ({"dealer_email": "myynti.kroi.fi"}, {"dealer_email": "form.error.email"}),
    ({"dealer_city": "   "}, {"dealer_city": "form.error.required"}),
    ({"open_1": "17:00", "close_1": "09:00"}, {"open_1": "admin.settings.error.hours"}),
    ({"open_1": "9", "close_1": "17:00"}, {"open_1": "admin.settings.error.hours"}),
    ({"closed_6": "", "open_6": "", "close_6": ""}, {"open_6": "admin.settings.error.hours"}),
    ({"rate_pct": "31"}, {"rate_pct": "car.error.range"}),
    ({"months": "60.5"}, {"months": "car.error.range"}),
    ({"response_target_hours": "0,25"}, {"response_target_hours": "car.error.range"}),
    ({"notify_email": "x@"}, {"notify_email": "form.error.email"}),
])
def test_settings_errors_per_field(changes: dict[str, str], errors: dict[str, str]) -> None:
    values, found = validate_settings(settings_form(**changes))
    assert found == errors and values is None
