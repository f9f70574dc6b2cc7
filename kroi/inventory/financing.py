"""The car page's financing calculator: terms from settings, a quote for a down payment and a term, and the
effective annual rate with fees (todellinen vuosikorko) solved from the cash flows. Pure, no I/O."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kroi.leads.schemas import TERM_STEP_MONTHS
from kroi.parsing import parse_int
from kroi.web.formatting import monthly_payment_cents

MIN_PRICE_CENTS = 300_000  # financing is offered from 3 000 €


@dataclass(frozen=True)
class Terms:
    """The dealer's financing settings (settings table, DEFAULTS["financing"])."""

    rate_pct: float
    opening_fee_cents: int
    monthly_fee_cents: int
    months: int
    down_payment_pct: float
    max_months: int

    @classmethod
    def from_settings(cls, f: Mapping[str, Any]) -> Terms:
        return cls(rate_pct=float(f["rate_pct"]), opening_fee_cents=int(f["opening_fee_cents"]),
                   monthly_fee_cents=int(f["monthly_fee_cents"]), months=int(f["months"]),
                   down_payment_pct=float(f["down_payment_pct"]), max_months=int(f.get("max_months", 84)))

    def term_options(self) -> list[int]:
        """Whole years up to the maximum, as the financing lead form offers them."""
        return list(range(TERM_STEP_MONTHS, self.max_months + 1, TERM_STEP_MONTHS)) or [TERM_STEP_MONTHS]

    def default_months(self) -> int:
        options = self.term_options()
        return self.months if self.months in options else options[-1]

    def default_down_cents(self, price_cents: int) -> int:
        return round(price_cents * self.down_payment_pct / 100 / 100) * 100  # whole euros, like the form field


@dataclass(frozen=True)
class Quote:
    """One financing example, in cents. The opening fee is added to the credit and paid in the instalments."""

    price_cents: int
    down_cents: int
    months: int
    rate_pct: float
    opening_fee_cents: int
    monthly_fee_cents: int
    monthly_cents: int  # instalment including the monthly fee
    apr_pct: float  # todellinen vuosikorko

    @property
    def credit_cents(self) -> int:
        """Luoton määrä: what the buyer borrows (the price less the down payment)."""
        return self.price_cents - self.down_cents

    @property
    def total_repaid_cents(self) -> int:
        """Yhteensä maksettava määrä: every instalment."""
        return self.monthly_cents * self.months

    @property
    def credit_cost_cents(self) -> int:
        """Luottokustannukset: interest and fees."""
        return self.total_repaid_cents - self.credit_cents

    @property
    def credit_price_cents(self) -> int:
        """Osamaksuhinta: the down payment plus every instalment."""
        return self.down_cents + self.total_repaid_cents


def apr_pct(flows: Sequence[float]) -> float:
    """The effective annual rate (%) of monthly cash flows, flows[k] at month k from the borrower's side:
    the credit received at 0 is positive, payments negative. Solves Σ flows[k]·(1+r)^-k = 0 for the monthly
    rate r (the internal rate of return) and annualises it as (1+r)^12 − 1, as the EU consumer-credit
    directive 2008/48/EC annex I does with equal months."""
    if not flows or flows[0] <= 0 or sum(flows[1:]) >= 0 or any(f > 0 for f in flows[1:]):
        raise ValueError("one credit first, then payments")

    def npv(r: float) -> float:
        return sum(f / (1 + r) ** k for k, f in enumerate(flows))

    low, high = -0.99, 1.0  # npv grows with r: a rate that makes the payments worth less than the credit
    while npv(high) < 0:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if npv(mid) < 0:
            low = mid
        else:
            high = mid
        if high - low < 1e-13:
            break
    return ((1 + (low + high) / 2) ** 12 - 1) * 100


def quote(price_cents: int, down_cents: int, months: int, terms: Terms) -> Quote:
    credit = price_cents - down_cents
    monthly = monthly_payment_cents(credit, down_pct=0, rate_pct=terms.rate_pct, months=months,
                                    opening_fee_cents=terms.opening_fee_cents,
                                    monthly_fee_cents=terms.monthly_fee_cents)
    return Quote(price_cents=price_cents, down_cents=down_cents, months=months, rate_pct=terms.rate_pct,
                 opening_fee_cents=terms.opening_fee_cents, monthly_fee_cents=terms.monthly_fee_cents,
                 monthly_cents=monthly, apr_pct=apr_pct([credit, *([-monthly] * months)]))


@dataclass(frozen=True)
class Calculation:
    """What the calculator shows: the values as typed, the quote when they are valid, else per-field errors."""

    down: str
    months: str
    quote: Quote | None
    errors: dict[str, str]
    options: list[int]


def calculate(price_cents: int, terms: Terms, down: str | None = None, months: str | None = None) -> Calculation:
    """The calculator for raw query values (None: the default); bad values give message keys, never raise."""
    options = terms.term_options()
    down_text = (down if down is not None else str(terms.default_down_cents(price_cents) // 100)).strip()
    months_text = (months if months is not None else str(terms.default_months())).strip()
    errors: dict[str, str] = {}
    down_eur = parse_int(down_text.replace(" ", "").replace("\u00a0", "") or "0")
    if down_eur is None:
        errors["down"] = "fin.error.down_number"
    elif down_eur * 100 >= price_cents:
        errors["down"] = "fin.error.down_too_big"
    term = parse_int(months_text)
    if term not in options:
        errors["months"] = "fin.error.term"
    result = None
    if not errors and down_eur is not None and term is not None:
        result = quote(price_cents, down_eur * 100, term, terms)
    return Calculation(down=down_text[:20], months=months_text[:20], quote=result, errors=errors, options=options)


def offered(price_cents: int, status: str) -> bool:
    """Financing is shown for cars still for sale from the minimum price up."""
    return status != "sold" and price_cents >= MIN_PRICE_CENTS


def example_monthly_cents(price_cents: int, settings: Mapping[str, Any]) -> int | None:
    """The monthly payment of the dealer's default example (the calculator's starting values), shown on car cards
    as "alk. 184 €/kk"; None below the financing minimum."""
    if price_cents < MIN_PRICE_CENTS:
        return None
    terms = Terms.from_settings(settings)
    return quote(price_cents, terms.default_down_cents(price_cents), terms.default_months(), terms).monthly_cents
