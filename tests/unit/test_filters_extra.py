"""The further /cars filters of issue 8 as parsed from the URL, their chips, power in hv/hp and the facet counting
of the colour/seats/VAT dimensions."""
import re
from typing import get_args
from urllib.parse import parse_qs, urlsplit

import pytest

from kroi.api.controllers import Colour, Seats
from kroi.db.models.inventory import COLOUR_GROUP_SQL, COLOUR_GROUPS, SEAT_COUNTS
from kroi.inventory.chips import active_chips
from kroi.inventory.repositories import EXTRA_DIMENSIONS, count_facets
from kroi.inventory.search import CarQuery, parse_query
from kroi.inventory.financing import example_monthly_cents
from kroi.web.formatting import horsepower, power

pytestmark = pytest.mark.unit


def parse(**params):  # noqa: ANN003, ANN201
    return parse_query({k: v if isinstance(v, list) else [v] for k, v in params.items()})


def test_new_parameters_parse_and_round_trip() -> None:
    query, notes = parse(colour="black,white", seats=["7", "5"], equipment=["tow_bar", "heated_seats", "tow_bar"],
                         vat="1", power_min="100", power_max="150", reg_year_min="2018", reg_year_max="2020")
    assert notes == []
    assert query.colour == ("white", "black")  # vocabulary order
    assert query.seats == ("5", "7")
    assert query.equipment == ("heated_seats", "tow_bar")  # sorted, once each: one cache key per set
    assert query.vat is True
    assert (query.power_min, query.power_max, query.reg_year_min, query.reg_year_max) == (100, 150, 2018, 2020)
    assert query.is_filtered
    again, notes = parse_query(parse_qs(urlsplit(query.url("/cars")).query))
    assert again == query and notes == []


@pytest.mark.parametrize("vat, want", [("1", True), ("true", True), ("on", True), ("0", False), ("false", False)])
def test_vat_words(vat: str, want: bool) -> None:
    query, notes = parse(vat=vat)
    assert query.vat is want and notes == []


def test_vat_alone_counts_as_filtered_and_off_is_not() -> None:
    assert parse(vat="1")[0].is_filtered
    assert not parse(vat="0")[0].is_filtered


def test_bad_new_values_become_notes() -> None:
    query, notes = parse(colour="plaid", seats="12", equipment="DROP TABLE", vat="maybe", power_min="-5",
                         power_max="3000", reg_year_min="year")
    assert query == CarQuery()
    assert {(n.key, n.field) for n in notes} == {
        ("note.unknown_value", "colour"), ("note.unknown_value", "seats"), ("note.unknown_value", "equipment"),
        ("note.unknown_value", "vat"), ("note.bad_number", "power_min"), ("note.out_of_range", "power_max"),
        ("note.bad_number", "reg_year_min")}


def test_swapped_ranges_of_the_new_pairs_are_turned_round() -> None:
    query, notes = parse(power_min="200", power_max="100", reg_year_min="2022", reg_year_max="2018")
    assert (query.power_min, query.power_max, query.reg_year_min, query.reg_year_max) == (100, 200, 2018, 2022)
    assert [n.field for n in notes] == ["reg_year", "power"]


def test_the_api_offers_the_same_colours_and_seats() -> None:
    assert get_args(Colour) == COLOUR_GROUPS
    assert get_args(Seats) == SEAT_COUNTS


def test_every_colour_group_is_one_the_sql_can_give() -> None:
    given = set(re.findall(r"THEN '([a-z]+)'", COLOUR_GROUP_SQL)) | set(re.findall(r"ELSE '([a-z]+)'", COLOUR_GROUP_SQL))
    assert given == set(COLOUR_GROUPS)


def test_power_in_hv_and_hp() -> None:
    assert power(110) == "110 kW (150 hv)"
    assert power(110, "en") == "110 kW (148 hp)"
    assert horsepower(100) == 136 and horsepower(100, "en") == 134
    assert power(None) == ""


def test_monthly_estimate_follows_the_settings_and_starts_from_3000_euros() -> None:
    terms = {"rate_pct": 5.9, "opening_fee_cents": 29900, "monthly_fee_cents": 900, "months": 60,
             "down_payment_pct": 20, "max_months": 84}
    assert example_monthly_cents(299_999, terms) is None
    cheap = example_monthly_cents(1_000_000, terms)
    assert cheap and example_monthly_cents(1_000_000, terms | {"rate_pct": 9.9}) > cheap


def test_chips_label_each_filter_and_link_to_the_search_without_it() -> None:
    query, _ = parse(q="hybridi", brand="toyota", model="corolla", fuel="hybrid", colour="white", seats="7",
                     equipment="tow_bar", vat="1", price_min="10000", price_max="20000", year_min="2018",
                     power_max="150", mileage_max="80000", sort="price_asc", page="3")
    chips = active_chips(query, "fi", {"brand": "Toyota", "model": "Corolla",
                                       "features": {"tow_bar": ("Vetokoukku", "Tow bar")}})
    labels = [c.label for c in chips]
    assert labels == ["Hakusana ”hybridi”", "Toyota", "Corolla", "Hybridi", "Valkoinen", "7 paikkaa", "Vetokoukku",
                      "ALV-vähennyskelpoinen", "Hinta 10 000 €–20 000 €", "Vuosimalli vähintään 2018",
                      "Teho enintään 150 kW (204 hv)",
                      "Ajettu enintään 80 000 km"]
    by_label = {c.label: parse_qs(urlsplit(c.url).query) for c in chips}
    assert "brand" not in by_label["Toyota"] and "model" not in by_label["Toyota"]  # a model needs its make
    assert by_label["Corolla"]["brand"] == ["toyota"] and "model" not in by_label["Corolla"]
    assert "price_min" not in by_label["Hinta 10 000 €–20 000 €"] and "price_max" not in by_label["Hinta 10 000 €–20 000 €"]
    for label, left in by_label.items():
        assert left["sort"] == ["price_asc"] and "page" not in left, label
    en = [c.label for c in active_chips(query, "en", {"features": {"tow_bar": ("Vetokoukku", "Tow bar")}})]
    assert "Tow bar" in en and "VAT deductible" in en and "Power at most 150 kW (201 hp)" in en


def test_extra_dimensions_count_each_given_the_others() -> None:
    # (colour, seats, vat, n)
    rows = [("white", "5", False, 3), ("white", "7", True, 1), ("black", "5", True, 2), ("black", "7", False, 4)]
    chosen = {"colour": {"white"}, "seats": None, "vat": {True}}
    facets = count_facets(rows, chosen, EXTRA_DIMENSIONS)
    assert facets.total == 1
    assert facets.counts["colour"] == {"white": 1, "black": 2}  # VAT cars of every colour
    assert facets.counts["vat"] == {False: 3, True: 1}  # white cars with and without VAT
    assert facets.counts["seats"] == {"7": 1}
