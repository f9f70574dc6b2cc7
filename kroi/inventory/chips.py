"""The active filters of a search as removable chips: a label and the URL of the same search without it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kroi.inventory.search import MULTI, CarQuery
from kroi.web import formatting, i18n

# The vocabulary each multi-valued filter is labelled with (kroi.web.i18n.VOCABULARY).
_VOCABULARY = {"category": "body_type", "fuel": "fuel", "transmission": "transmission", "drive": "drive",
               "colour": "colour"}


@dataclass(frozen=True)
class Chip:
    label: str
    url: str


def active_chips(query: CarQuery, lang: str, names: dict[str, Any]) -> list[Chip]:
    """Chips for every active filter, in the order of the filter panel.

    `names` holds what the query alone cannot say: {"brand": name, "model": name, "features": {code: (fi, en)}}.
    Removing a chip keeps the sort and starts from page 1.
    """
    t = lambda key, **p: i18n.translate(lang, key, **p)  # noqa: E731

    def url(**change: Any) -> str:
        return query.url("/cars", page=1, cursor=None, **change)

    chips: list[Chip] = []
    if query.q:
        chips.append(Chip(t("chip.q", value=query.q), url(q=None)))
    if query.brand and names.get("brand"):
        chips.append(Chip(names["brand"], url(brand=None, model=None)))
    if query.model and names.get("model"):
        chips.append(Chip(names["model"], url(model=None)))
    for name in MULTI:
        chosen = getattr(query, name)
        for value in chosen:
            if name == "seats":
                text = t("cars.seats_n", n=value)
            else:
                text = i18n.label(lang, _VOCABULARY[name], value)
            chips.append(Chip(text, url(**{name: tuple(v for v in chosen if v != value)})))
    features = names.get("features", {})
    for code in query.equipment:
        fi, en = features.get(code, (code, code))
        chips.append(Chip(en if lang == "en" else fi,
                          url(equipment=tuple(c for c in query.equipment if c != code))))
    if query.vat:
        chips.append(Chip(t("cars.vat"), url(vat=False)))
    money = lambda euros: formatting.money(euros * 100)  # noqa: E731
    power = lambda kw: formatting.power(kw, lang)  # noqa: E731
    for low, high, label_key, fmt in (
        ("price_min", "price_max", "cars.price_chip", money),
        ("year_min", "year_max", "cars.year", str),
        ("reg_year_min", "reg_year_max", "cars.reg_year", str),
        ("power_min", "power_max", "cars.power_chip", power),
    ):
        chip = _range_chip(query, lang, low, high, t(label_key), fmt, url)
        if chip:
            chips.append(chip)
    if query.mileage_max is not None:
        chips.append(Chip(t("chip.mileage", high=formatting.km(query.mileage_max)), url(mileage_max=None)))
    return chips


def _range_chip(query: CarQuery, lang: str, low: str, high: str, field: str, fmt, url) -> Chip | None:  # noqa: ANN001
    a, b = getattr(query, low), getattr(query, high)
    if a is None and b is None:
        return None
    removed = url(**{low: None, high: None})
    if a is not None and b is not None:
        return Chip(i18n.translate(lang, "chip.range", field=field, low=fmt(a), high=fmt(b)), removed)
    if a is not None:
        return Chip(i18n.translate(lang, "chip.min", field=field, low=fmt(a)), removed)
    return Chip(i18n.translate(lang, "chip.max", field=field, high=fmt(b)), removed)
