"""kroi.parsing: numbers, dates and text from untrusted input, never an exception."""
from datetime import date

import pytest

from kroi.parsing import clean_lines, clean_text, parse_date, parse_int, parse_ints

pytestmark = pytest.mark.unit


def test_parse_int_takes_ascii_digits_in_range_only() -> None:
    assert parse_int("42") == 42 and parse_int(" 7 ") == 7 and parse_int("0") == 0
    for bad in ("²", "١٢", "", None, "-1", "1.5", "1e3", "x", "9" * 19, str(2**31)):
        assert parse_int(bad) is None, bad
    assert parse_int("5", 1, 4) is None and parse_int("0", 1) is None


def test_parse_ints_keeps_the_valid_ids() -> None:
    assert parse_ints(["3", "²", "", "0", "12"]) == [3, 12]
    assert parse_ints([str(i) for i in range(1, 10)], limit=3) == [1, 2, 3]


def test_parse_date_refuses_the_last_year_and_nonsense() -> None:
    assert parse_date("2024-01-15") == date(2024, 1, 15)
    assert parse_date("9998-12-31") == date(9998, 12, 31)
    for bad in ("9999-12-31", "2024-02-30", "", None, "²"):
        assert parse_date(bad) is None, bad


def test_clean_text() -> None:
    assert clean_text("a\x00b\u00a0c\u2028d") == "ab c d"
    assert clean_text("\ue000private") == "private"


def test_clean_lines_keeps_line_breaks_only() -> None:
    assert clean_lines(" hello\x00world \r\n  second\tline \n") == "helloworld\nsecond line"
