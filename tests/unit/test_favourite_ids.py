"""Reading `ids=` of the favourites and compare addresses: never raises, keeps order, drops junk."""
from __future__ import annotations

import pytest

from kroi.favourites.schemas import ids_param, parse_ids

pytestmark = pytest.mark.unit


def test_ids_with_and_without_saved_prices() -> None:
    w = parse_ids(["12:1990000,34", "56"])
    assert w.ids == [12, 34, 56] and w.saved_prices == {12: 1990000} and w.ignored == 0
    assert ids_param(w.ids, w.saved_prices) == "12:1990000,34,56"


@pytest.mark.parametrize("junk", ["abc", "²", "١", "-1", "0", "1.5", "1e3", "9" * 20, "1:x", "1:" + "9" * 13, " : "])
def test_junk_is_ignored(junk: str) -> None:
    w = parse_ids([f"{junk},7"])
    assert w.ids == [7] and w.ignored == 1


def test_repeats_and_the_cap() -> None:
    w = parse_ids([",".join(["3", "3", *map(str, range(1, 200))])], cap=50)
    assert w.ids == [3, *[i for i in range(1, 51) if i != 3], 51][:50]
    assert w.capped and len(w.ids) == 50
