"""The car ids of a favourites or compare address: `ids=12,34:1990000,56` (id, optionally `:saved price in cents`)."""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_FAVOURITES = 50
COMPARE_MIN = 2
COMPARE_MAX = 4
MAX_ID = 2**63 - 1  # cars.id is a BIGINT
# ASCII digits only: str.isdigit() also accepts "²" and other digits int() cannot read.
_ITEM = re.compile(r"([0-9]{1,19})(?::([0-9]{1,12}))?", re.ASCII)


@dataclass(frozen=True)
class Wanted:
    """The ids asked for, in order and without repeats, each with the price it was saved at (if given)."""

    ids: list[int]
    saved_prices: dict[int, int]
    ignored: int  # items that were not an id, repeats, and ids past the cap
    capped: bool


def parse_ids(values: list[str], cap: int = MAX_FAVOURITES) -> Wanted:
    """Read `ids` query values (comma-separated, possibly repeated) into at most `cap` ids; never raises."""
    ids: list[int] = []
    prices: dict[int, int] = {}
    ignored = 0
    capped = False
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            m = _ITEM.fullmatch(item)
            car_id = int(m.group(1)) if m else 0
            if not m or not 0 < car_id <= MAX_ID or car_id in prices or car_id in ids:
                ignored += 1
                continue
            if len(ids) >= cap:
                capped = True
                ignored += 1
                continue
            ids.append(car_id)
            if m.group(2) is not None:
                prices[car_id] = int(m.group(2))
    return Wanted(ids=ids, saved_prices=prices, ignored=ignored, capped=capped)


def ids_param(ids: list[int], saved_prices: dict[int, int] | None = None) -> str:
    """The normalised `ids` value: `12:1990000,34`."""
    prices = saved_prices or {}
    return ",".join(f"{i}:{prices[i]}" if i in prices else str(i) for i in ids)
