"""Lead scoring: each rule on its own, the sum, and the priority thresholds."""
from dataclasses import replace

import pytest

from kroi.leads import scoring
from kroi.leads.scoring import Signals

pytestmark = pytest.mark.unit

# A lead that earns nothing from any rule.
NOTHING = Signals(lead_type="unknown", has_phone=False, has_car=False, car_price_cents=None, has_trade_in=False,
                  returning=False, message_length=0)


def with_(**changes: object) -> Signals:
    return replace(NOTHING, **changes)


def test_a_lead_with_no_signals_scores_zero_and_is_low() -> None:
    total, parts = scoring.score(NOTHING)
    assert total == 0
    assert set(parts.values()) == {0}
    assert scoring.priority(total) == "low"


@pytest.mark.parametrize(("lead_type", "points"), [
    ("test_drive", 35), ("financing", 30), ("trade_in", 25), ("car_inquiry", 20), ("general", 5), ("other", 0),
])
def test_rule_type_ranks_ready_to_buy_requests_first(lead_type: str, points: int) -> None:
    assert scoring.rule_type(with_(lead_type=lead_type)) == points


def test_rule_phone() -> None:
    assert scoring.rule_phone(with_(has_phone=True)) == 15
    assert scoring.rule_phone(with_(has_phone=False)) == 0


def test_rule_car() -> None:
    assert scoring.rule_car(with_(has_car=True)) == 10
    assert scoring.rule_car(with_(has_car=False)) == 0


@pytest.mark.parametrize(("cents", "points"), [
    (None, 0), (0, 0), (14_999_99, 0), (15_000_00, 5), (29_999_99, 5), (30_000_00, 10), (95_000_00, 10),
])
def test_rule_price_band_boundaries(cents: int | None, points: int) -> None:
    assert scoring.rule_price_band(with_(car_price_cents=cents)) == points


def test_rule_trade_in() -> None:
    assert scoring.rule_trade_in(with_(has_trade_in=True)) == 10
    assert scoring.rule_trade_in(with_(has_trade_in=False)) == 0


def test_rule_returning() -> None:
    assert scoring.rule_returning(with_(returning=True)) == 10
    assert scoring.rule_returning(with_(returning=False)) == 0


@pytest.mark.parametrize(("length", "points"), [(0, 0), (39, 0), (40, 5), (199, 5), (200, 10), (4000, 10)])
def test_rule_message_length_boundaries(length: int, points: int) -> None:
    assert scoring.rule_message(with_(message_length=length)) == points


def test_score_is_the_sum_of_the_rules_and_names_each_rule() -> None:
    s = Signals(lead_type="car_inquiry", has_phone=True, has_car=True, car_price_cents=20_000_00, has_trade_in=False,
                returning=True, message_length=50)
    total, parts = scoring.score(s)
    assert parts == {"type": 20, "phone": 15, "car": 10, "price_band": 5, "trade_in": 0, "returning": 10,
                     "message": 5}
    assert total == 65
    assert scoring.priority(total) == "high"


def test_every_signal_at_once_gives_exactly_the_cap() -> None:
    s = Signals(lead_type="test_drive", has_phone=True, has_car=True, car_price_cents=40_000_00, has_trade_in=True,
                returning=True, message_length=500)
    total, parts = scoring.score(s)
    assert sum(parts.values()) == 100
    assert total == 100
    assert scoring.priority(total) == "high"


def test_score_never_exceeds_100_even_if_rules_add_up_to_more(monkeypatch: pytest.MonkeyPatch) -> None:
    def rule_bonus(_: Signals) -> int:
        return 50

    monkeypatch.setattr(scoring, "RULES", (*scoring.RULES, rule_bonus))
    s = with_(lead_type="test_drive", has_phone=True, has_car=True, car_price_cents=40_000_00, has_trade_in=True,
              returning=True, message_length=500)
    total, parts = scoring.score(s)
    assert parts["bonus"] == 50
    assert total == 100


@pytest.mark.parametrize(("total", "expected"), [
    (0, "low"), (29, "low"), (30, "normal"), (59, "normal"), (60, "high"), (100, "high"),
])
def test_priority_thresholds(total: int, expected: str) -> None:
    assert scoring.priority(total) == expected


def test_thresholds_are_the_documented_ones() -> None:
    assert (scoring.HIGH, scoring.NORMAL) == (60, 30)
