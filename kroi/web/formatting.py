"""Finnish number formats: "12 900 €", "85 000 km"; pure functions used as Jinja filters."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Helsinki")


def group_thousands(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def money(cents: int | None, with_cents: bool = False) -> str:
    if cents is None:
        return ""
    if with_cents and cents % 100:
        euros, rest = divmod(abs(cents), 100)
        sign = "-" if cents < 0 else ""
        return f"{sign}{group_thousands(euros)},{rest:02d} €"
    euros = (abs(cents) + 50) // 100  # half a euro rounds up, as on a price tag (not to even)
    return f"{'-' if cents < 0 and euros else ''}{group_thousands(euros)} €"


def km(value: int | None) -> str:
    return "" if value is None else f"{group_thousands(value)} km"


def decimal(value: float, lang: str = "fi", digits: int = 1) -> str:
    """5,9 in Finnish, 5.9 in English."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "fi" else text


def date_fi(value: date | None) -> str:
    return "" if value is None else f"{value.day}.{value.month}.{value.year}"


def monthly_payment_cents(price_cents: int, *, down_pct: float, rate_pct: float, months: int,
                          opening_fee_cents: int = 0, monthly_fee_cents: int = 0) -> int:
    """Annuity payment for the financed part (price − down payment + opening fee), plus the monthly fee."""
    principal = price_cents * (1 - down_pct / 100) + opening_fee_cents
    if months <= 0 or principal <= 0:
        return 0
    r = rate_pct / 100 / 12
    payment = principal / months if r == 0 else principal * r / (1 - (1 + r) ** -months)
    return round(payment) + monthly_fee_cents


def local_date(value: datetime) -> date:
    """The day of a timestamp in the dealership's time zone."""
    return (value.astimezone(LOCAL) if value.tzinfo else value).date()


def horsepower(kw: int, lang: str = "fi") -> int:
    """Metric horsepower (hv, 1 kW = 1.35962 hv) in Finnish, mechanical hp (1 kW = 1.34102 hp) in English."""
    return round(kw * (1.34102 if lang == "en" else 1.35962))


def power(kw: int | None, lang: str = "fi") -> str:
    """ "110 kW (150 hv)" / "110 kW (148 hp)". """
    if kw is None:
        return ""
    return f"{kw} kW ({horsepower(kw, lang)} {'hp' if lang == 'en' else 'hv'})"


def local_datetime(value: datetime | None) -> str:
    """A timestamp in the dealership's time zone, e.g. "25.11.2026 14:05"."""
    if value is None:
        return ""
    local = value.astimezone(LOCAL) if value.tzinfo else value
    return f"{local.day}.{local.month}.{local.year} {local:%H:%M}"


# trust: the car colours are written in Finnish; English pages translate them word by word.
COLOUR_WORDS_EN = {
    "valkoinen": "white", "helmenvalkoinen": "pearl white", "musta": "black", "mattamusta": "matt black",
    "harmaa": "grey", "tummanharmaa": "dark grey", "vaaleanharmaa": "light grey", "grafiitti": "graphite",
    "grafiitinharmaa": "graphite grey", "hopea": "silver", "hopeanharmaa": "silver grey", "sininen": "blue",
    "tummansininen": "dark blue", "vaaleansininen": "light blue", "punainen": "red", "tummanpunainen": "dark red",
    "viininpunainen": "wine red", "vihreä": "green", "tummanvihreä": "dark green", "ruskea": "brown",
    "tummanruskea": "dark brown", "beige": "beige", "hiekanvärinen": "sand", "keltainen": "yellow",
    "oranssi": "orange", "kulta": "gold", "kullanvärinen": "gold", "violetti": "purple", "turkoosi": "turquoise",
    "helmiäis": "pearl", "helmiäismaali": "pearl", "metallic": "metallic", "metalliväri": "metallic",
    "matta": "matt", "ja": "and",
}


def colour_name(value: str | None, lang: str = "fi") -> str:
    """A car's colour as listed (Finnish); in English each known word translated ("Musta metallic" → "Black
    metallic"), unknown words kept as they are."""
    if not value or lang != "en":
        return value or ""
    words = []
    for word in value.split():
        stripped = word.strip(",.").lower()
        english = COLOUR_WORDS_EN.get(stripped)
        words.append(word.lower().replace(stripped, english) if english else word)
    text = " ".join(words)
    return text[:1].upper() + text[1:]
