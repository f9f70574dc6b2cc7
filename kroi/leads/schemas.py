"""Lead forms: which fields each type has, and validation with per-field messages (pure, no I/O)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import phonenumbers

from kroi.db.models.inventory import REGISTRATION_RE
from kroi.parsing import clean_lines, clean_text

FORM_TYPES = ("contact", "inquiry", "test-drive", "trade-in", "financing")
LEAD_TYPE = {"contact": "general", "inquiry": "car_inquiry", "test-drive": "test_drive", "trade-in": "trade_in",
             "financing": "financing"}
# RFC 5322 dot-atom in ASCII: no leading, trailing or doubled dots in the local part, and no letters such as
# "ä" there (few mail servers accept them, and the address becomes an unusable Reply-To). The domain is ASCII
# here; normalize_email turns an internationalised domain into its ASCII (punycode) form first.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"^(?=[^@]{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*@{_LABEL}(?:\.{_LABEL})+$")
LIMITS = {"name": 120, "email": 254, "phone": 40, "message": 4000, "trade_make": 60, "trade_model": 80,
          "registration": 10}
# Fields shown per form, in order (common contact fields come first in every form).
FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("name", "email", "phone", "message"),
    "inquiry": ("name", "email", "phone", "message"),
    "test-drive": ("name", "email", "phone", "preferred_date", "preferred_time", "message"),
    "trade-in": ("name", "email", "phone", "registration", "trade_make", "trade_model", "trade_year",
                 "trade_mileage", "message"),
    "financing": ("name", "email", "phone", "down_payment", "term_months", "message"),
}
REQUIRED: dict[str, set[str]] = {
    "contact": {"name", "email", "message"},
    "inquiry": {"name", "email"},
    "test-drive": {"name", "email", "phone", "preferred_date", "preferred_time"},
    "trade-in": {"name", "email", "registration", "trade_make", "trade_model", "trade_year", "trade_mileage"},
    "financing": {"name", "email", "down_payment", "term_months"},
}
TEST_DRIVE_DAYS_AHEAD = 60
TERM_STEP_MONTHS = 12  # loan terms are offered in whole years (12, 24, … up to the dealer's maximum)


@dataclass(frozen=True)
class FormContext:
    """What validation needs to know about the world."""

    now: datetime  # local time of the dealership
    opening_hours: Mapping[str, Any]  # "0".."6" -> [opens, closes] or None
    max_months: int = 84
    car_price_cents: int | None = None


@dataclass
class LeadInput:
    form_type: str
    name: str
    email: str
    phone: str | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def lead_type(self) -> str:
        return LEAD_TYPE[self.form_type]


def normalize_phone(raw: str) -> str | None:
    """A Finnish or international number in E.164 (+358401234567), or None when it is not a valid number."""
    text = raw.strip()
    if not text or len(text) > LIMITS["phone"] or not re.fullmatch(r"[0-9+()\-.\s/]+", text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "FI")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> tuple[str | None, str | None]:
    """(the address in lower case with an ASCII domain, None) or (None, message key of what is wrong)."""
    local, at, domain = raw.strip().lower().rpartition("@")
    if not at or not local or not domain:
        return None, "form.error.email"
    if not local.isascii():
        return None, "form.error.email_ascii"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None, "form.error.email_dots"
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")  # nameprep + punycode: ääkköset.fi -> xn--kkset-fraa0m.fi
        except UnicodeError:
            return None, "form.error.email"
    email = f"{local}@{domain}"
    if len(email) > LIMITS["email"] or not EMAIL_RE.match(email):
        return None, "form.error.email"
    return email, None


def normalize_registration(raw: str) -> str | None:
    text = raw.strip().upper().replace(" ", "-")
    if re.fullmatch(r"[A-ZÅÄÖ]{1,3}[0-9]{1,3}", text):
        text = re.sub(r"([A-ZÅÄÖ]+)([0-9]+)", r"\1-\2", text)
    return text if re.fullmatch(REGISTRATION_RE.strip("^$"), text) else None


def time_slots(opening_hours: Mapping[str, Any], day: date, now: datetime | None = None) -> list[str]:
    """Hourly test-drive slots on a day: from opening until an hour before closing; with `now` (dealership
    time), today's slots that have already begun are left out."""
    hours = opening_hours.get(str(day.weekday()))
    if not hours:
        return []
    opens, closes = (time.fromisoformat(h) for h in hours)
    slots, current = [], datetime.combine(day, opens)
    end = datetime.combine(day, closes) - timedelta(hours=1)
    while current <= end:
        slots.append(current.strftime("%H:%M"))
        current += timedelta(hours=1)
    if now is not None and day == now.date():
        slots = [slot for slot in slots if slot > now.strftime("%H:%M")]  # the same rule as form.error.time_past
    return slots


def _int(raw: str) -> int | None:
    text = raw.replace(" ", "").replace("\u00a0", "").replace("€", "").removesuffix("km")
    return int(text) if re.fullmatch(r"\d{1,9}", text) else None


def validate(form_type: str, data: Mapping[str, str], ctx: FormContext) -> tuple[LeadInput | None, dict[str, str]]:
    """Clean the submitted values; errors map field name -> message key (see kroi.web.i18n)."""
    if form_type not in FORM_TYPES:
        return None, {"form": "form.error.unknown_form"}
    errors: dict[str, str] = {}
    fields = FIELDS[form_type]
    required = REQUIRED[form_type]
    values = {name: clean_text(data.get(name, "")) if name != "message" else clean_lines(data.get(name, ""))
              for name in fields}

    for name in fields:
        if name in required and not values[name]:
            errors[name] = "form.error.required"
        elif name in LIMITS and len(values[name]) > LIMITS[name]:
            errors[name] = "form.error.too_long"
    if len(values.get("name", "")) == 1 and "name" not in errors:
        errors["name"] = "form.error.too_short"
    email = ""
    if values.get("email") and "email" not in errors:
        clean_email, problem = normalize_email(values["email"])
        if problem:
            errors["email"] = problem
        email = clean_email or ""
    phone = None
    if values.get("phone") and "phone" not in errors:
        phone = normalize_phone(values["phone"])
        if phone is None:
            errors["phone"] = "form.error.phone"
    details: dict[str, Any] = {}

    if form_type == "test-drive":
        _validate_test_drive(values, ctx, errors, details)
    elif form_type == "trade-in":
        _validate_trade_in(values, ctx, errors, details)
    elif form_type == "financing":
        _validate_financing(values, ctx, errors, details)

    if data.get("consent") not in ("on", "yes", "1", "true"):
        errors["consent"] = "form.error.consent"
    if errors:
        return None, errors
    return LeadInput(form_type=form_type, name=values["name"], email=email, phone=phone,
                     message=values.get("message", ""), details=details), {}


def _validate_test_drive(values: dict[str, str], ctx: FormContext, errors: dict[str, str],
                         details: dict[str, Any]) -> None:
    raw_date, raw_time = values["preferred_date"], values["preferred_time"]
    if not raw_date or "preferred_date" in errors:
        return
    try:
        day = date.fromisoformat(raw_date)
    except ValueError:
        errors["preferred_date"] = "form.error.date"
        return
    today = ctx.now.date()
    if day < today:
        errors["preferred_date"] = "form.error.date_past"
        return
    if day > today + timedelta(days=TEST_DRIVE_DAYS_AHEAD):
        errors["preferred_date"] = "form.error.date_far"
        return
    slots = time_slots(ctx.opening_hours, day)
    if not slots:
        errors["preferred_date"] = "form.error.closed_day"
        return
    if not raw_time or "preferred_time" in errors:
        return
    if raw_time not in slots:
        errors["preferred_time"] = "form.error.closed_hour"
        return
    if day == today and raw_time <= ctx.now.strftime("%H:%M"):
        errors["preferred_time"] = "form.error.time_past"
        return
    details.update(preferred_date=day.isoformat(), preferred_time=raw_time)


def _validate_trade_in(values: dict[str, str], ctx: FormContext, errors: dict[str, str],
                       details: dict[str, Any]) -> None:
    if values["registration"] and "registration" not in errors:
        reg = normalize_registration(values["registration"])
        if reg is None:
            errors["registration"] = "form.error.registration"
        else:
            details["registration"] = reg
    year = _int(values["trade_year"]) if values["trade_year"] else None
    if values["trade_year"] and (year is None or not 1950 <= year <= ctx.now.year + 1):
        errors["trade_year"] = "form.error.year"
    mileage = _int(values["trade_mileage"]) if values["trade_mileage"] else None
    if values["trade_mileage"] and (mileage is None or mileage > 2_000_000):
        errors["trade_mileage"] = "form.error.mileage"
    if not {"trade_make", "trade_model", "trade_year", "trade_mileage"} & errors.keys():
        details.update(make=values["trade_make"], model=values["trade_model"], year=year, mileage_km=mileage)


def _validate_financing(values: dict[str, str], ctx: FormContext, errors: dict[str, str],
                        details: dict[str, Any]) -> None:
    down = _int(values["down_payment"]) if values["down_payment"] else None
    if values["down_payment"]:
        if down is None:
            errors["down_payment"] = "form.error.number"
        elif ctx.car_price_cents is not None and down * 100 > ctx.car_price_cents:
            errors["down_payment"] = "form.error.down_too_big"
    months = _int(values["term_months"]) if values["term_months"] else None
    if values["term_months"] and (months is None or not 12 <= months <= ctx.max_months):
        errors["term_months"] = "form.error.term"
    elif months is not None and months % TERM_STEP_MONTHS:
        errors["term_months"] = "form.error.term_step"  # the form offers whole years only
    if not {"down_payment", "term_months"} & errors.keys() and down is not None and months is not None:
        details.update(down_payment_cents=down * 100, term_months=months)
