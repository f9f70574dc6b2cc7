"""The word → filter reading of a search (kroi.inventory.understand): vocabulary words, typos, spacing, leftovers."""
from __future__ import annotations

from types import SimpleNamespace as S

import pytest

from kroi.inventory.search import parse_query
from kroi.inventory.understand import names, nearest_name, suggest, understand

pytestmark = pytest.mark.unit

BRANDS = [S(id=1, name="Toyota", slug="toyota"), S(id=2, name="Škoda", slug="skoda"), S(id=3, name="Volvo", slug="volvo"),
          S(id=4, name="Ford", slug="ford"), S(id=5, name="Fiat", slug="fiat")]
MODELS = [S(id=1, brand_id=1, name="Corolla", slug="corolla"), S(id=2, brand_id=1, name="RAV4", slug="rav4"),
          S(id=3, brand_id=2, name="Octavia", slug="octavia"), S(id=4, brand_id=3, name="XC60", slug="xc60"),
          S(id=5, brand_id=4, name="Mustang", slug="mustang"), S(id=6, brand_id=3, name="XC90", slug="xc90")]
KNOWN = names(BRANDS, MODELS)


def read(q: str, **args: list[str]):  # noqa: ANN201
    query, _ = parse_query({"q": [q], **args})
    return understand(query, KNOWN)


@pytest.mark.parametrize(("q", "filters"), [
    ("maasturi", {"category": ("suv",)}),
    ("Katumaasturit", {"category": ("suv",)}),
    ("SUV", {"category": ("suv",)}),
    ("farmari", {"category": ("estate",)}),
    ("tila-auto", {"category": ("mpv",)}),
    ("pakettiauto", {"category": ("van",)}),
    ("sähköauto", {"fuel": ("electric",)}),
    ("sahkoauto", {"fuel": ("electric",)}),
    ("täyssähkö", {"fuel": ("electric",)}),
    ("lataushybridi", {"fuel": ("plug_in_hybrid",)}),
    ("plug-in hybrid", {"fuel": ("plug_in_hybrid",)}),
    ("dieselit", {"fuel": ("diesel",)}),
    ("automaatti", {"transmission": ("automatic",)}),
    ("manuaali", {"transmission": ("manual",)}),
    ("neliveto", {"drive": ("awd",)}),
    ("4x4", {"drive": ("awd",)}),
    ("AWD", {"drive": ("awd",)}),
    ("hybridi automaatti suv", {"fuel": ("hybrid",), "transmission": ("automatic",), "category": ("suv",)}),
    ("diesel bensiini", {"fuel": ("petrol", "diesel")}),
])
def test_vocabulary_words_become_filters(q: str, filters: dict) -> None:
    u = read(q)
    got = {k: v for k, v in u.query.filters().items() if v}
    assert got == filters
    assert u.query.q is None and u.corrected is None


@pytest.mark.parametrize(("q", "brand", "model", "corrected"), [
    ("Toyota Corolla", "toyota", "corolla", None),
    ("corolla", "toyota", "corolla", None),
    ("corola", "toyota", "corolla", "Toyota Corolla"),
    ("RAV 4", "toyota", "rav4", "Toyota RAV4"),
    ("rav-4", "toyota", "rav4", "Toyota RAV4"),
    ("xc 60", "volvo", "xc60", "Volvo XC60"),
    ("skooda oktavia", "skoda", "octavia", "Škoda Octavia"),
    ("skoda", "skoda", None, "Škoda"),
    ("volvo", "volvo", None, None),
    ("corolla toyota", "toyota", "corolla", None),
])
def test_makes_and_models_tolerate_typos_spacing_and_hyphens(q: str, brand: str, model: str | None,
                                                             corrected: str | None) -> None:
    u = read(q)
    assert (u.query.brand, u.query.model, u.query.q, u.corrected) == (brand, model, None, corrected)


def test_short_or_ambiguous_words_are_not_guessed() -> None:
    assert read("musta").query.brand is None  # a colour, not "Mustang"
    assert read("fort").query.q == "fort"  # too short to correct: Ford or Fiat?
    assert read("xc70").query.model is None  # as near to XC60 as to XC90


def test_leftover_stays_full_text_and_other_filters_are_kept() -> None:
    u = read("maasturi vetokoukku punainen", fuel=["diesel"], price_max=["20000"])
    assert u.query.category == ("suv",) and u.query.fuel == ("diesel",) and u.query.price_max == 20000
    assert u.query.q == "vetokoukku punainen" and u.words == ["maasturi"]
    assert not read("vetokoukku").changed


def test_a_make_after_a_model_of_another_make_drops_the_model() -> None:
    u = read("corolla volvo")
    assert (u.query.brand, u.query.model) == ("volvo", None)


def test_nearest_name_for_did_you_mean() -> None:
    assert nearest_name("qorollx", KNOWN).label == "Toyota Corolla"
    assert nearest_name("zz", KNOWN) is None


def test_suggestions_complete_names_and_words_with_counts() -> None:
    counts = {"brand": {1: 40, 3: 12}, "model": {1: 20, 2: 9, 4: 5}, "category": {"suv": 30}}
    labels = {"category": {"suv": "Maasturi / SUV"}}
    got = suggest("toy", KNOWN, counts, labels)
    assert [(s.kind, s.label, s.count) for s in got] == [("brand", "Toyota", 40), ("model", "Toyota Corolla", 20),
                                                          ("model", "Toyota RAV4", 9)]
    assert [(s.label, s.text) for s in suggest("maas", KNOWN, counts, labels)] == [("Maasturi / SUV", "Maasturi")]
    assert [s.text for s in suggest("hybridi rav", KNOWN, counts, labels)] == ["hybridi Toyota RAV4"]
    assert suggest("skoda", KNOWN, counts, labels) == []  # no Škoda for sale: no suggestion
    assert suggest("x", KNOWN, counts, labels) == []
