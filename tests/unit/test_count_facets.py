"""count_facets: each facet counts the rows that every *other* filter accepts; the brand facet ignores the model."""
from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from kroi.inventory.repositories import FACET_DIMENSIONS, count_facets

pytestmark = pytest.mark.unit

# brand, model, body, fuel, transmission, drive, count
ROWS = [
    (1, 10, "estate", "diesel", "manual", "fwd", 5),
    (1, 10, "estate", "hybrid", "automatic", "fwd", 3),
    (1, 11, "suv", "hybrid", "automatic", "awd", 2),
    (2, 20, "suv", "electric", "automatic", "awd", 4),
    (2, 21, "sedan", "petrol", "manual", "rwd", 1),
]
NONE = {d: None for d in FACET_DIMENSIONS}


def reference(rows, chosen):  # noqa: ANN001, ANN201 - the rule spelled out, slowly
    counts = {d: Counter() for d in FACET_DIMENSIONS}
    total = 0
    for row in rows:
        ok = {d: chosen[d] is None or row[i] in chosen[d] for i, d in enumerate(FACET_DIMENSIONS)}
        total += row[6] if all(ok.values()) else 0
        for i, d in enumerate(FACET_DIMENSIONS):
            others = [o for o in FACET_DIMENSIONS if o != d and not (d == "brand" and o == "model")]
            if all(ok[o] for o in others):
                counts[d][row[i]] += row[6]
    return total, {d: dict(c) for d, c in counts.items()}


def test_without_filters_every_row_counts_everywhere() -> None:
    facets = count_facets(ROWS, NONE)
    assert facets.total == 15
    assert facets.counts["brand"] == {1: 10, 2: 5}
    assert facets.counts["fuel"] == {"diesel": 5, "hybrid": 5, "electric": 4, "petrol": 1}


def test_a_facet_ignores_its_own_filter_but_obeys_the_others() -> None:
    facets = count_facets(ROWS, NONE | {"fuel": {"hybrid"}, "category": {"suv"}})
    assert facets.total == 2
    assert facets.counts["fuel"] == {"hybrid": 2, "electric": 4}  # suvs of every fuel
    assert facets.counts["category"] == {"estate": 3, "suv": 2}  # hybrids of every body type
    assert facets.counts["brand"] == {1: 2}


def test_the_brand_facet_ignores_the_model_filter() -> None:
    facets = count_facets(ROWS, NONE | {"brand": {1}, "model": {10}})
    assert facets.total == 8
    assert facets.counts["brand"] == {1: 10, 2: 5}
    assert facets.counts["model"] == {10: 8, 11: 2}


def test_matches_the_rule_for_random_filter_sets() -> None:
    rng = random.Random(3)
    rows = [(b, b * 10 + m, body, fuel, tr, dr, rng.randint(1, 9))
            for b, m, body, fuel, tr, dr in itertools.product((1, 2, 3), (0, 1), ("suv", "estate"),
                                                             ("diesel", "hybrid", "electric"),
                                                             ("manual", "automatic"), ("fwd", "awd"))]
    values = [sorted({r[i] for r in rows}) for i in range(6)]
    for _ in range(300):
        chosen = {d: (set(rng.sample(values[i], rng.randint(1, 2))) if rng.random() < 0.5 else None)
                  for i, d in enumerate(FACET_DIMENSIONS)}
        facets = count_facets(rows, chosen)
        assert (facets.total, facets.counts) == reference(rows, chosen)
