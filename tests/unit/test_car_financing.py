"""The car page's financing calculator: the effective annual rate (todellinen vuosikorko) solved from the cash
flows, the quote's amounts, and raw input that must give messages instead of errors."""
from __future__ import annotations

import pytest

from kroi.inventory.financing import Terms, apr_pct, calculate, offered, quote
from kroi.system.services import DEFAULTS

pytestmark = pytest.mark.unit

TERMS = Terms.from_settings(DEFAULTS["financing"])  # 5.9 %, 299 € opening fee, 9 €/month, 60 of up to 84 months


def test_one_payment_a_year_later_is_its_plain_interest() -> None:
    # 1 000 € now, 1 100 € back after 12 months: 10 % a year, exactly.
    assert apr_pct([1000, *([0] * 11), -1100]) == pytest.approx(10.0, abs=1e-9)


def test_one_month_compounds_twelve_times() -> None:
    # 10 % a month for one month is 1.1^12 - 1 = 213.84 % a year.
    assert apr_pct([1000, -1100]) == pytest.approx(213.8428377, abs=1e-6)


def test_textbook_annuity_rate() -> None:
    # A spreadsheet's RATE(12; -100; 1000) is 2.9229 % a month: (1.029229)^12 - 1 = 41.30 % a year.
    assert apr_pct([1000, *([-100] * 12)]) == pytest.approx(41.30, abs=0.005)


def test_without_fees_the_apr_is_the_nominal_rate_compounded_monthly() -> None:
    # 12 % nominal, no fees: (1 + 0.01)^12 - 1 = 12.68 %; the cent-rounded instalment moves it by < 0.01.
    no_fees = Terms(rate_pct=12, opening_fee_cents=0, monthly_fee_cents=0, months=12, down_payment_pct=0,
                    max_months=12)
    q = quote(1_000_000, 0, 12, no_fees)
    assert q.monthly_cents == 88849
    assert q.apr_pct == pytest.approx(12.68, abs=0.01)


def test_zero_interest_zero_fees_is_zero() -> None:
    assert apr_pct([1200, *([-100] * 12)]) == pytest.approx(0.0, abs=1e-9)


def test_default_example_with_fees() -> None:
    # 21 900 € car, 4 380 € (20 %) down, 60 months: 17 520 € credit + 299 € fee at 5.9 % is 343.66 €, plus
    # 9 € = 352.66 € a month. Checked by hand: 60 × 352.66 € discounted at (1.07968)^(1/12) - 1 a month is
    # 17 520.00 €, so the APR with fees is 7.97 % against the 5.9 % nominal rate.
    q = calculate(2_190_000, TERMS).quote
    assert q is not None
    assert (q.down_cents, q.months, q.monthly_cents) == (438_000, 60, 35_266)
    assert round(q.apr_pct, 2) == 7.97
    assert q.credit_cents == 1_752_000
    assert q.total_repaid_cents == 60 * 35_266 == 2_115_960
    assert q.credit_cost_cents == 2_115_960 - 1_752_000
    assert q.credit_price_cents == 438_000 + 2_115_960


def test_fees_weigh_more_on_a_short_loan() -> None:
    short = quote(1_000_000, 0, 12, TERMS).apr_pct
    long = quote(1_000_000, 0, 84, TERMS).apr_pct
    assert short > long > 6.06  # 6.06 %: 5.9 % compounded monthly, what the rate alone would give


@pytest.mark.parametrize("flows", [[], [0, -1], [-1000, 1100], [1000, 100], [1000, -500, 200]])
def test_flows_that_are_not_a_loan_are_refused(flows: list[float]) -> None:
    with pytest.raises(ValueError):
        apr_pct(flows)


def test_terms_are_whole_years_up_to_the_maximum() -> None:
    assert TERMS.term_options() == [12, 24, 36, 48, 60, 72, 84]
    assert TERMS.default_months() == 60
    odd = Terms(rate_pct=5, opening_fee_cents=0, monthly_fee_cents=0, months=50, down_payment_pct=10, max_months=60)
    assert odd.term_options() == [12, 24, 36, 48, 60] and odd.default_months() == 60


@pytest.mark.parametrize("down, months, errors", [
    ("abc", "60", {"down": "fin.error.down_number"}),
    ("-500", "60", {"down": "fin.error.down_number"}),
    ("1.5", "60", {"down": "fin.error.down_number"}),
    ("21900", "60", {"down": "fin.error.down_too_big"}),
    ("99999999999999999999", "60", {"down": "fin.error.down_number"}),
    ("3000", "13", {"months": "fin.error.term"}),
    ("3000", "96", {"months": "fin.error.term"}),
    ("3000", "x", {"months": "fin.error.term"}),
    ("x", "", {"down": "fin.error.down_number", "months": "fin.error.term"}),
])
def test_bad_input_gives_messages(down: str, months: str, errors: dict[str, str]) -> None:
    calc = calculate(2_190_000, TERMS, down, months)
    assert calc.errors == errors and calc.quote is None
    assert calc.down == down[:20] and calc.months == months  # kept as typed, for the form


def test_good_input_and_defaults() -> None:
    calc = calculate(2_190_000, TERMS, " 5 000 ", "36")
    assert calc.errors == {} and calc.quote is not None
    assert (calc.quote.down_cents, calc.quote.months) == (500_000, 36)
    assert calculate(2_190_000, TERMS, "", "36").quote.down_cents == 0  # an empty down payment is none
    more_down = calculate(2_190_000, TERMS, "10000", "36").quote
    assert more_down.monthly_cents < calc.quote.monthly_cents
    assert calculate(2_190_000, TERMS, "5000", "84").quote.monthly_cents < calc.quote.monthly_cents


def test_offered_for_cars_for_sale_from_3000_euros() -> None:
    assert offered(300_000, "available") and offered(2_000_000, "reserved")
    assert not offered(299_999, "available") and not offered(2_000_000, "sold")
