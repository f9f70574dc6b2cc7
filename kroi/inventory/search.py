"""Parse and normalize /cars query parameters into a CarQuery; bad values become notes, never errors."""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from kroi.db.models.inventory import BODY_TYPES, COLOUR_GROUPS, DRIVES, FUELS, SEAT_COUNTS, TRANSMISSIONS
from kroi.parsing import clean_text

SORTS = ("newest", "price_asc", "price_desc", "mileage_asc", "year_desc")
DEFAULT_SORT = "newest"
Q_MAX = 100
MAX_PAGE = 10_000
MULTI = {"category": BODY_TYPES, "fuel": FUELS, "transmission": TRANSMISSIONS, "drive": DRIVES,
         "colour": COLOUR_GROUPS, "seats": SEAT_COUNTS}
NUMBERS = {  # name: (min, max)
    "price_min": (0, 10_000_000), "price_max": (0, 10_000_000),
    "year_min": (1950, 2100), "year_max": (1950, 2100),
    "reg_year_min": (1950, 2100), "reg_year_max": (1950, 2100),
    "mileage_max": (0, 5_000_000),
    "power_min": (0, 2000), "power_max": (0, 2000),  # kW
}
# (low, high, label): a pair given the wrong way round is swapped, with a note.
RANGES = (("price_min", "price_max", "price"), ("year_min", "year_max", "year"),
          ("reg_year_min", "reg_year_max", "reg_year"), ("power_min", "power_max", "power"))
SLUG_RE = re.compile(r"^[a-z0-9-]{1,80}$")
FEATURE_CODE_RE = re.compile(r"^[a-z0-9_]{1,60}$")
MAX_EQUIPMENT = 12
TRUE_WORDS = ("1", "true", "on", "yes", "kylla", "kyllä")
FIELD_LABEL_KEYS = {
    "price_min": "cars.price_min", "price_max": "cars.price_max", "year_min": "cars.year_min",
    "year_max": "cars.year_max", "mileage_max": "cars.mileage_max", "category": "cars.category",
    "fuel": "cars.fuel", "transmission": "cars.transmission", "drive": "cars.drive", "sort": "cars.sort",
    "brand": "cars.brand", "model": "cars.model", "price": "cars.price", "year": "cars.year",
    "colour": "cars.colour", "seats": "cars.seats", "equipment": "cars.equipment", "vat": "cars.vat",
    "power_min": "cars.power_min", "power_max": "cars.power_max", "power": "cars.power",
    "reg_year_min": "cars.reg_year_min", "reg_year_max": "cars.reg_year_max", "reg_year": "cars.reg_year",
}


@dataclass(frozen=True)
class Note:
    """Something in the request that was ignored or changed, told to the shopper."""

    key: str
    field: str | None = None
    value: str | None = None
    n: int | None = None


@dataclass(frozen=True)
class Cursor:
    sort: str
    value: Any  # the sort key of the last car shown
    id: int

    def encode(self) -> str:
        # decode() turns a "newest" value into a datetime; encode it back the way CarCard.sort_value gives it.
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        raw = json.dumps([self.sort, value, self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor | None":
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            sort, value, car_id = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            return None
        if sort not in SORTS or not isinstance(car_id, int) or isinstance(car_id, bool) or not 0 < car_id < 2**62:
            return None
        if sort == "newest":
            try:
                value = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                return None
            if value is None or value.tzinfo is None:
                return None
        elif not isinstance(value, int) or isinstance(value, bool) or not -(2**62) < value < 2**62:
            return None
        return cls(sort, value, car_id)


@dataclass(frozen=True)
class CarQuery:
    brand: str | None = None
    model: str | None = None
    category: tuple[str, ...] = ()
    fuel: tuple[str, ...] = ()
    transmission: tuple[str, ...] = ()
    drive: tuple[str, ...] = ()
    colour: tuple[str, ...] = ()  # colour groups (COLOUR_GROUPS), not the free-text colour
    seats: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()  # feature codes, every one required
    vat: bool = False  # VAT-deductible cars only
    price_min: int | None = None  # euros
    price_max: int | None = None
    year_min: int | None = None
    year_max: int | None = None
    mileage_max: int | None = None
    reg_year_min: int | None = None  # year of first registration
    reg_year_max: int | None = None
    power_min: int | None = None  # kW
    power_max: int | None = None
    q: str | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    cursor: Cursor | None = field(default=None, compare=False)

    def filters(self) -> dict[str, Any]:
        """The filter part only (what facet counts depend on), JSON-able and order-independent."""
        return {
            "brand": self.brand, "model": self.model, "category": self.category, "fuel": self.fuel,
            "transmission": self.transmission, "drive": self.drive, "price_min": self.price_min,
            "price_max": self.price_max, "year_min": self.year_min, "year_max": self.year_max,
            "mileage_max": self.mileage_max, "colour": self.colour, "seats": self.seats,
            "equipment": self.equipment, "vat": self.vat, "reg_year_min": self.reg_year_min,
            "reg_year_max": self.reg_year_max, "power_min": self.power_min, "power_max": self.power_max, "q": self.q,
        }

    def cache_identity(self) -> dict[str, Any]:
        ident = self.filters() | {"sort": self.sort, "page": self.page}
        if self.cursor is not None:
            ident["cursor"] = self.cursor.encode()
        return ident

    @property
    def is_filtered(self) -> bool:
        return any(v not in (None, (), False) for v in self.filters().values())

    def params(self, **overrides: Any) -> list[tuple[str, str]]:
        """Query-string pairs for this query (defaults left out), with overrides applied."""
        query = replace(self, **overrides) if overrides else self
        pairs: list[tuple[str, str]] = []
        for name in ("q", "brand", "model"):
            value = getattr(query, name)
            if value:
                pairs.append((name, value))
        for name in MULTI:
            pairs.extend((name, v) for v in getattr(query, name))
        pairs.extend(("equipment", code) for code in query.equipment)
        if query.vat:
            pairs.append(("vat", "1"))
        for name in NUMBERS:
            value = getattr(query, name)
            if value is not None:
                pairs.append((name, str(value)))
        if query.sort != DEFAULT_SORT:
            pairs.append(("sort", query.sort))
        if query.cursor is not None:
            pairs.append(("cursor", query.cursor.encode()))
        elif query.page != 1:
            pairs.append(("page", str(query.page)))
        return pairs

    def url(self, base: str, **overrides: Any) -> str:
        qs = urlencode(self.params(**overrides))
        return f"{base}?{qs}" if qs else base


def _number(raw: str) -> int | None:
    text = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "").lower()
    text = text.removesuffix("km").replace(",", ".")
    if not re.fullmatch(r"\d{1,12}(\.\d{0,2})?", text):
        return None
    return round(float(text))


def _first(values: Sequence[str]) -> str:
    return values[0].strip() if values else ""


def parse_query(args: Mapping[str, Sequence[str]]) -> tuple[CarQuery, list[Note]]:
    """Turn raw query parameters (name -> list of values) into a CarQuery and notes about what was dropped."""
    notes: list[Note] = []
    values: dict[str, Any] = {}

    for name in ("brand", "model"):
        raw = _first(args.get(name, ())).lower()
        if raw:
            if SLUG_RE.match(raw):
                values[name] = raw
            else:
                notes.append(Note("note.unknown_value", name, raw[:40]))

    for name, allowed in MULTI.items():
        chosen: list[str] = []
        for raw in _split_values(args.get(name, ())):
            if raw in allowed:
                if raw not in chosen:
                    chosen.append(raw)
            else:
                notes.append(Note("note.unknown_value", name, raw[:40]))
        values[name] = tuple(sorted(chosen, key=allowed.index))

    for name, (low, high) in NUMBERS.items():
        raw = _first(args.get(name, ()))
        if not raw:
            continue
        number = _number(raw)
        if number is None:
            notes.append(Note("note.bad_number", name, raw[:40]))
        elif not low <= number <= high:
            notes.append(Note("note.out_of_range", name, raw[:40]))
        else:
            values[name] = number
    for low, high, label in RANGES:
        if values.get(low) is not None and values.get(high) is not None and values[low] > values[high]:
            values[low], values[high] = values[high], values[low]
            notes.append(Note("note.swapped", label))

    equipment: list[str] = []
    for raw in _split_values(args.get("equipment", ())):
        if not FEATURE_CODE_RE.match(raw):
            notes.append(Note("note.unknown_value", "equipment", raw[:40]))
        elif raw not in equipment:
            equipment.append(raw)
    if len(equipment) > MAX_EQUIPMENT:
        notes.append(Note("note.too_many", "equipment", n=MAX_EQUIPMENT))
        equipment = equipment[:MAX_EQUIPMENT]
    values["equipment"] = tuple(sorted(equipment))  # known codes are checked against the features (resolve)

    raw_vat = _first(args.get("vat", ())).lower()
    if raw_vat:
        if raw_vat in TRUE_WORDS:
            values["vat"] = True
        elif raw_vat not in ("0", "false", "off", "no", "ei"):
            notes.append(Note("note.unknown_value", "vat", raw_vat[:40]))

    raw_q = clean_text(" ".join(args.get("q", ())))
    if len(raw_q) > Q_MAX:
        raw_q = raw_q[:Q_MAX].rstrip()
        notes.append(Note("note.q_too_long", n=Q_MAX))
    if raw_q:
        values["q"] = raw_q

    raw_sort = _first(args.get("sort", ()))
    if raw_sort and raw_sort not in SORTS:
        notes.append(Note("note.unknown_value", "sort", raw_sort[:40]))
    sort = raw_sort if raw_sort in SORTS else DEFAULT_SORT

    raw_page = _first(args.get("page", ()))
    page = 1
    if raw_page:
        if re.fullmatch(r"\d{1,6}", raw_page) and 1 <= int(raw_page) <= MAX_PAGE:
            page = int(raw_page)
        else:
            notes.append(Note("note.bad_page", value=raw_page[:40]))

    cursor = None
    raw_cursor = _first(args.get("cursor", ()))
    if raw_cursor:
        cursor = Cursor.decode(raw_cursor[:300])
        if cursor is None or cursor.sort != sort:
            cursor = None
            notes.append(Note("note.bad_cursor"))

    if len(notes) > MAX_NOTES:
        # A link with thousands of junk values gets a few notes and a count, not a page of them.
        notes = notes[:MAX_NOTES - 1] + [Note("note.more_ignored", n=len(notes) - (MAX_NOTES - 1))]
    return CarQuery(**values, sort=sort, page=page, cursor=cursor), notes


MAX_NOTES = 8


def _split_values(raw: Iterable[str]) -> list[str]:
    """Repeated parameters and comma lists both work: fuel=diesel&fuel=hybrid or fuel=diesel,hybrid."""
    out: list[str] = []
    for item in raw:
        out.extend(part.strip().lower() for part in item.split(",") if part.strip())
    return out


def search_tokens(q: str) -> list[str]:
    """Word tokens of a search, for the prefix query (letters and digits only, at most 8)."""
    return [t.lower() for t in re.findall(r"\w+", q)][:8]


TYPING_PAUSE_S = 30


def collapse_typing(records: Sequence[dict]) -> list[dict]:
    """Drop the searches a shopper typed on through: "to", "toyo", "toyota" within seconds is one search.

    The listing answers as the shopper types (after a short pause), so each pause is recorded; a record
    is kept only when the same searcher's next one, if any, is not a continuation or correction of it.
    """
    last_by_who: dict[str, int] = {}
    keep = [True] * len(records)
    for i, rec in enumerate(records):
        who = rec.get("who")
        if who is None:
            continue
        j = last_by_who.get(who)
        if j is not None:
            prev = records[j]
            a, b = prev["q"].casefold(), rec["q"].casefold()
            if rec.get("at", 0) - prev.get("at", 0) <= TYPING_PAUSE_S and (b.startswith(a) or a.startswith(b)):
                keep[j] = False
        last_by_who[who] = i
    return [r for r, k in zip(records, keep) if k]
