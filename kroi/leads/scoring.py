"""Lead scoring: each rule adds points for one signal; the sum (0–100) gives the priority. See docs/leads.md."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Signals:
    """What is known about a lead when it arrives."""

    lead_type: str
    has_phone: bool
    has_car: bool
    car_price_cents: int | None
    has_trade_in: bool
    returning: bool  # the same e-mail address sent a lead before
    message_length: int


TYPE_POINTS = {"test_drive": 35, "financing": 30, "trade_in": 25, "car_inquiry": 20, "general": 5}


def rule_type(s: Signals) -> int:
    """Ready-to-buy requests first: a test drive or financing beats a general question."""
    return TYPE_POINTS.get(s.lead_type, 0)


def rule_phone(s: Signals) -> int:
    """A phone number means the visitor can be reached at once."""
    return 15 if s.has_phone else 0


def rule_car(s: Signals) -> int:
    """Asking about a specific car is more concrete than browsing."""
    return 10 if s.has_car else 0


def rule_price_band(s: Signals) -> int:
    """Dearer cars are worth a faster answer."""
    if s.car_price_cents is None:
        return 0
    if s.car_price_cents >= 30_000_00:
        return 10
    if s.car_price_cents >= 15_000_00:
        return 5
    return 0


def rule_trade_in(s: Signals) -> int:
    """A trade-in usually comes with a purchase."""
    return 10 if s.has_trade_in else 0


def rule_returning(s: Signals) -> int:
    """Someone who wrote before is still interested."""
    return 10 if s.returning else 0


def rule_message(s: Signals) -> int:
    """A thoughtful message signals intent; an empty one a little less."""
    if s.message_length >= 200:
        return 10
    if s.message_length >= 40:
        return 5
    return 0


RULES: tuple[Callable[[Signals], int], ...] = (
    rule_type, rule_phone, rule_car, rule_price_band, rule_trade_in, rule_returning, rule_message,
)
HIGH, NORMAL = 60, 30


def score(signals: Signals) -> tuple[int, dict[str, int]]:
    """Total score (capped at 100) and the points each rule gave, for the lead's timeline."""
    parts = {rule.__name__.removeprefix("rule_"): rule(signals) for rule in RULES}
    return min(100, sum(parts.values())), parts


def priority(total: int) -> str:
    if total >= HIGH:
        return "high"
    if total >= NORMAL:
        return "normal"
    return "low"
