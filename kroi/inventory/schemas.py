"""The staff car form: cleaning and validation with per-field message keys (pure, no I/O)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from kroi.db.models.inventory import BODY_TYPES, DRIVES, FUELS, REGISTRATION_RE, STATUSES, TRANSMISSIONS, VIN_RE
from kroi.leads.schemas import normalize_registration
from kroi.parsing import clean_lines, clean_text, parse_int

TEXT_LIMITS = {"brand": 60, "model": 80, "variant": 120, "colour": 60, "description_fi": 20000,
               "description_en": 20000}
CHOICES = {"fuel": FUELS, "transmission": TRANSMISSIONS, "drive": DRIVES, "body_type": BODY_TYPES,
           "status": STATUSES}
INT_RANGES = {"model_year": (1950, 2100), "mileage_km": (0, 4_999_999), "power_kw": (1, 2000),
              "displacement_cc": (50, 10000), "doors": (1, 7), "seats": (1, 12)}
REQUIRED = ("brand", "model", "model_year", "price", "mileage_km", "fuel", "transmission", "drive", "body_type",
            "status")
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))),
              **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}


def vin_check_digit(vin: str) -> str:
    total = sum(VIN_VALUES[c] * w for c, w in zip(vin, VIN_WEIGHTS))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def vin_problem(vin: str) -> str | None:
    """Format always; the check digit (position 9) where it is mandatory: North American makers (WMI 1–5)."""
    if not re.fullmatch(VIN_RE.strip("^$"), vin):
        return "car.error.vin_format"
    if vin[0] in "12345" and vin[8] != vin_check_digit(vin):
        return "car.error.vin_check"
    return None


def parse_price_cents(raw: str) -> int | None:
    text = raw.replace(" ", "").replace("\u00a0", "").replace("€", "").replace(",", ".")
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", text):
        return None
    euros, _, cents = text.partition(".")
    return int(euros) * 100 + int((cents + "00")[:2])


def validate_car(data: Mapping[str, str], today: date) -> tuple[dict[str, Any] | None, dict[str, str]]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("brand", "model", "variant", "colour"):
        values[name] = clean_text(data.get(name, ""))
    for name in ("description_fi", "description_en"):
        values[name] = clean_lines(data.get(name, ""))
    for name, limit in TEXT_LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = "form.error.too_long"
    for name, choices in CHOICES.items():
        raw = data.get(name, "")
        if raw in choices:
            values[name] = raw
        elif raw:
            errors[name] = "car.error.choice"
    for name, (low, high) in INT_RANGES.items():
        raw = data.get(name, "").replace(" ", "")
        if not raw:
            values[name] = None
            continue
        number = parse_int(raw, low, high)
        if number is None:
            errors[name] = "car.error.range"
        else:
            values[name] = number
    if values.get("model_year") and values["model_year"] > today.year + 1:
        errors["model_year"] = "car.error.year_future"
    price = data.get("price", "")
    if price:
        cents = parse_price_cents(price)
        if cents is None or cents > 10_000_000_00:
            errors["price"] = "car.error.price"
        else:
            values["price_cents"] = cents
    reg = data.get("registration_number", "").strip()
    values["registration_number"] = None
    if reg:
        normalized = normalize_registration(reg)
        if normalized is None or not re.fullmatch(REGISTRATION_RE, normalized):
            errors["registration_number"] = "form.error.registration"
        else:
            values["registration_number"] = normalized
    vin = data.get("vin", "").strip().upper()
    values["vin"] = None
    if vin:
        problem = vin_problem(vin)
        if problem:
            errors["vin"] = problem
        else:
            values["vin"] = vin
    first = data.get("first_registration", "").strip()
    values["first_registration"] = None
    if first:
        try:
            values["first_registration"] = date.fromisoformat(first)
        except ValueError:
            errors["first_registration"] = "form.error.date"
        else:
            if values["first_registration"] > today:
                errors["first_registration"] = "car.error.date_future"
    values["vat_deductible"] = data.get("vat_deductible") in ("on", "true", "1")
    values["featured"] = data.get("featured") in ("on", "true", "1")
    for name in REQUIRED:
        key = "price_cents" if name == "price" else name
        if name not in errors and values.get(key) in (None, ""):
            errors[name] = "form.error.required"
    return (None, errors) if errors else (values, {})
