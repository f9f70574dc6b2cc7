"""Finnish number formats and the financing example's annuity."""
from datetime import date

import pytest

from kroi.web.formatting import date_fi, decimal, group_thousands, km, money, monthly_payment_cents

pytestmark = pytest.mark.unit

NBSP_LIKE = ("\u00a0", "\u202f", ",")


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (1290000, "12 900 €"),
        (2190000, "21 900 €"),
        (0, "0 €"),
        (99900, "999 €"),
        (100000, "1 000 €"),
        (123456700, "1 234 567 €"),
        (-150000, "-1 500 €"),
    ],
)
def test_money_groups_thousands_with_a_space_and_puts_euro_last(cents: int, expected: str) -> None:
    assert money(cents) == expected


def test_money_without_cents_rounds_to_whole_euros() -> None:
    assert money(1290049) == "12 900 €"
    assert money(1290051) == "12 901 €"
    assert money(12850) == "129 €"  # half a euro rounds up, not to even
    assert money(-12850) == "-129 €"


@pytest.mark.parametrize(
    ("cents", "expected"),
    [(1290050, "12 900,50 €"), (905, "9,05 €"), (-150, "-1,50 €"), (90000, "900 €")],
)
def test_money_with_cents_uses_a_decimal_comma_only_when_there_are_cents(cents: int, expected: str) -> None:
    assert money(cents, with_cents=True) == expected


def test_money_of_nothing_is_empty() -> None:
    assert money(None) == ""


@pytest.mark.parametrize(("value", "expected"), [(85000, "85 000 km"), (0, "0 km"), (999, "999 km"),
                                                  (1234567, "1 234 567 km")])
def test_km(value: int, expected: str) -> None:
    assert km(value) == expected


def test_km_of_nothing_is_empty() -> None:
    assert km(None) == ""


def test_formats_use_a_plain_space_not_a_comma_or_nbsp() -> None:
    text = group_thousands(1234567)
    assert text == "1 234 567"
    assert not any(ch in text for ch in NBSP_LIKE)


def test_decimal_and_date_fi() -> None:
    assert decimal(5.9) == "5,9" and decimal(5.9, "en") == "5.9"
    assert decimal(5.0, "fi", 2) == "5,00"
    assert date_fi(date(2020, 5, 4)) == "4.5.2020"
    assert date_fi(None) == ""


def test_monthly_payment_textbook_annuity() -> None:
    # 10 000 € at 12 %/year over 12 months: 888.49 € a month.
    assert monthly_payment_cents(1_000_000, down_pct=0, rate_pct=12, months=12) == 88849


def test_monthly_payment_finances_price_minus_down_payment_plus_opening_fee() -> None:
    # 12 500 € with 20 % down leaves 10 000 €, the same loan as above.
    assert monthly_payment_cents(1_250_000, down_pct=20, rate_pct=12, months=12) == 88849
    # The opening fee is financed too: 9 700 € + 300 € fee is again a 10 000 € loan.
    assert monthly_payment_cents(970_000, down_pct=0, rate_pct=12, months=12, opening_fee_cents=30_000) == 88849


def test_monthly_payment_adds_the_monthly_fee_once() -> None:
    base = monthly_payment_cents(1_000_000, down_pct=0, rate_pct=12, months=12)
    assert monthly_payment_cents(1_000_000, down_pct=0, rate_pct=12, months=12, monthly_fee_cents=900) == base + 900


def test_monthly_payment_at_zero_interest_divides_evenly() -> None:
    assert monthly_payment_cents(1_200_000, down_pct=0, rate_pct=0, months=12) == 100_000


def test_monthly_payment_is_never_negative_or_undefined() -> None:
    assert monthly_payment_cents(1_000_000, down_pct=0, rate_pct=5, months=0) == 0
    assert monthly_payment_cents(1_000_000, down_pct=100, rate_pct=5, months=60) == 0


def test_monthly_payment_falls_with_a_longer_term_and_rises_with_the_rate() -> None:
    short = monthly_payment_cents(2_000_000, down_pct=20, rate_pct=5.9, months=36)
    long = monthly_payment_cents(2_000_000, down_pct=20, rate_pct=5.9, months=84)
    dearer = monthly_payment_cents(2_000_000, down_pct=20, rate_pct=9.9, months=84)
    assert short > long
    assert dearer > long
    # Paying it all back costs at least the financed amount.
    assert long * 84 >= 2_000_000 * 0.8
