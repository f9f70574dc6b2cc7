"""parse_query: every /cars parameter, bad input turned into notes; cursors; CarQuery.params/url."""
import base64
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from kroi.inventory.search import (
    DEFAULT_SORT, MAX_PAGE, Q_MAX, SORTS, CarQuery, Cursor, Note, parse_query, search_tokens,
)

pytestmark = pytest.mark.unit


def parse(**params):  # noqa: ANN003, ANN201
    """parse_query over keyword arguments; a list value means a repeated parameter."""
    return parse_query({k: v if isinstance(v, list) else [v] for k, v in params.items()})


def keys_of(notes: list[Note]) -> list[tuple[str, str | None]]:
    return [(n.key, n.field) for n in notes]


def test_no_parameters_is_the_default_query_without_notes() -> None:
    query, notes = parse_query({})
    assert query == CarQuery()
    assert notes == []
    assert query.sort == DEFAULT_SORT and query.page == 1 and query.cursor is None
    assert not query.is_filtered


# --- brand and model --------------------------------------------------------------------------------------

def test_brand_and_model_slugs_are_lowercased() -> None:
    query, notes = parse(brand=" Toyota ", model="COROLLA")
    assert (query.brand, query.model) == ("toyota", "corolla")
    assert notes == []


@pytest.mark.parametrize("raw", ["toy ota", "<script>", "a" * 81, "ä-auto", "x/y"])
def test_brand_that_is_not_a_slug_is_dropped_with_a_note(raw: str) -> None:
    query, notes = parse(brand=raw)
    assert query.brand is None
    assert keys_of(notes) == [("note.unknown_value", "brand")]
    assert len(notes[0].value) <= 40


def test_only_the_first_brand_counts() -> None:
    query, _ = parse(brand=["kia", "ford"])
    assert query.brand == "kia"


# --- multi-value filters ----------------------------------------------------------------------------------

def test_comma_lists_and_repeated_parameters_are_the_same() -> None:
    a, _ = parse(fuel="diesel,hybrid")
    b, _ = parse(fuel=["diesel", "hybrid"])
    c, _ = parse(fuel=["hybrid", "diesel,hybrid", " DIESEL "])
    assert a.fuel == b.fuel == c.fuel == ("diesel", "hybrid")


def test_multi_values_are_kept_in_vocabulary_order_without_duplicates() -> None:
    query, notes = parse(category="van,estate,estate,suv", drive=["awd", "fwd"], transmission="automatic")
    assert query.category == ("estate", "suv", "van")
    assert query.drive == ("fwd", "awd")
    assert query.transmission == ("automatic",)
    assert notes == []


def test_unknown_multi_values_are_dropped_with_a_note_each() -> None:
    query, notes = parse(fuel="diesel,steam", category="tank", drive="4wd")
    assert query.fuel == ("diesel",)
    assert query.category == () and query.drive == ()
    assert sorted(keys_of(notes)) == [("note.unknown_value", "category"), ("note.unknown_value", "drive"),
                                      ("note.unknown_value", "fuel")]
    assert {n.value for n in notes} == {"steam", "tank", "4wd"}


def test_empty_comma_items_are_ignored() -> None:
    query, notes = parse(fuel=",,diesel,, ,")
    assert query.fuel == ("diesel",)
    assert notes == []


# --- numbers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [("15000", 15000), ("15 000", 15000), ("15\u00a0000", 15000), ("15\u202f000 €", 15000), ("15000€", 15000),
     ("15000,4", 15000), ("15000.6", 15001), ("0", 0), ("10000000", 10_000_000)],
)
def test_prices_accept_finnish_ways_of_writing_numbers(raw: str, expected: int) -> None:
    query, notes = parse(price_min=raw)
    assert query.price_min == expected
    assert notes == []


def test_mileage_accepts_a_km_suffix() -> None:
    query, notes = parse(mileage_max="85 000 km")
    assert query.mileage_max == 85000
    assert notes == []


@pytest.mark.parametrize("name", ["price_min", "price_max", "year_min", "year_max", "mileage_max"])
@pytest.mark.parametrize("raw", ["abc", "-5", "1e6", "12.345", "0x10", "1" * 13, "∞", "NaN", "12a", "--1"])
def test_bad_numbers_are_ignored_with_a_note(name: str, raw: str) -> None:
    query, notes = parse(**{name: raw})
    assert getattr(query, name) is None
    assert keys_of(notes) == [("note.bad_number", name)]
    assert notes[0].value == raw[:40]


@pytest.mark.parametrize(
    ("name", "raw"),
    [("price_min", "10000001"), ("price_max", "999999999999"), ("year_min", "1949"), ("year_max", "2101"),
     ("year_min", "0"), ("mileage_max", "5000001")],
)
def test_out_of_range_numbers_are_ignored_with_a_note(name: str, raw: str) -> None:
    query, notes = parse(**{name: raw})
    assert getattr(query, name) is None
    assert keys_of(notes) == [("note.out_of_range", name)]


def test_range_limits_themselves_are_accepted() -> None:
    query, notes = parse(year_min="1950", year_max="2100", mileage_max="5000000", price_min="0")
    assert (query.year_min, query.year_max, query.mileage_max, query.price_min) == (1950, 2100, 5_000_000, 0)
    assert notes == []


def test_swapped_price_and_year_ranges_are_put_right_with_a_note() -> None:
    query, notes = parse(price_min="30000", price_max="10000", year_min="2022", year_max="2015")
    assert (query.price_min, query.price_max) == (10000, 30000)
    assert (query.year_min, query.year_max) == (2015, 2022)
    assert sorted(keys_of(notes)) == [("note.swapped", "price"), ("note.swapped", "year")]


def test_equal_min_and_max_are_not_swapped() -> None:
    query, notes = parse(price_min="20000", price_max="20000")
    assert query.price_min == query.price_max == 20000
    assert notes == []


def test_blank_numbers_are_simply_absent() -> None:
    query, notes = parse(price_min="", price_max="   ", year_min=[])
    assert query.price_min is None and query.price_max is None and query.year_min is None
    assert notes == []


# --- q ----------------------------------------------------------------------------------------------------

def test_q_is_trimmed_and_white_space_folded() -> None:
    query, notes = parse(q="  toyota \t\n  hybrid  ")
    assert query.q == "toyota hybrid"
    assert notes == []


def test_q_loses_nul_and_control_characters() -> None:
    query, notes = parse(q="to\x00yo\x07ta\x1b[31m \ud800hy\u200bbrid\x7f")
    assert "\x00" not in query.q and "\x07" not in query.q and "\x1b" not in query.q and "\x7f" not in query.q
    assert "\ud800" not in query.q
    assert query.q.startswith("toyota")
    assert notes == []


def test_q_of_only_control_characters_is_no_search() -> None:
    query, notes = parse(q="\x00\x01\x02   \x03")
    assert query.q is None
    assert not query.is_filtered


def test_very_long_q_is_truncated_with_a_note() -> None:
    query, notes = parse(q="vetokoukku " * 500)
    assert query.q is not None and len(query.q) <= Q_MAX
    assert query.q.startswith("vetokoukku vetokoukku")
    assert query.q == query.q.strip()
    assert keys_of(notes) == [("note.q_too_long", None)]
    assert notes[0].n == Q_MAX


def test_q_of_exactly_the_limit_is_kept_whole() -> None:
    query, notes = parse(q="a" * Q_MAX)
    assert query.q == "a" * Q_MAX and notes == []


def test_repeated_q_parameters_are_joined() -> None:
    query, _ = parse(q=["tow", "bar"])
    assert query.q == "tow bar"


def test_search_tokens_are_lowercased_words_at_most_eight() -> None:
    assert search_tokens("Toyo, CORolla!") == ["toyo", "corolla"]
    assert search_tokens("a b c d e f g h i j") == list("abcdefgh")
    assert search_tokens("&|!:*()") == []


# --- sort and page ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("sort", SORTS)
def test_known_sorts_are_kept(sort: str) -> None:
    query, notes = parse(sort=sort)
    assert query.sort == sort and notes == []


@pytest.mark.parametrize("raw", ["zzz", "PRICE_ASC", "price", "newest;drop table cars"])
def test_unknown_sort_falls_back_to_newest_with_a_note(raw: str) -> None:
    query, notes = parse(sort=raw)
    assert query.sort == DEFAULT_SORT
    assert keys_of(notes) == [("note.unknown_value", "sort")]


@pytest.mark.parametrize("raw", ["-1", "0", "abc", "1.5", "2e3", str(MAX_PAGE + 1), "9" * 7, "＋3", "+3", "3a"])
def test_bad_page_is_page_one_with_a_note(raw: str) -> None:
    query, notes = parse(page=raw)
    assert query.page == 1
    assert keys_of(notes) == [("note.bad_page", None)]


def test_good_pages() -> None:
    assert parse(page="3")[0].page == 3
    assert parse(page=str(MAX_PAGE))[0].page == MAX_PAGE
    assert parse(page="1")[1] == []


# --- cursors ----------------------------------------------------------------------------------------------

CURSORS = [
    Cursor("newest", datetime(2025, 3, 1, 12, 30, tzinfo=timezone.utc), 7),
    Cursor("newest", datetime(2025, 3, 1, 12, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2))), 1),
    Cursor("price_asc", 2190000, 1),
    Cursor("price_desc", 0, 9),
    Cursor("mileage_asc", 68000, 2**40),
    Cursor("year_desc", 2020, 8),
]


@pytest.mark.parametrize("cursor", CURSORS, ids=lambda c: c.sort)
def test_cursor_round_trip(cursor: Cursor) -> None:
    token = cursor.encode()
    assert "=" not in token and "+" not in token and "/" not in token  # URL-safe, unpadded
    assert Cursor.decode(token) == cursor


def test_cursor_survives_parse_query_with_the_same_sort() -> None:
    cursor = Cursor("price_asc", 2190000, 1)
    query, notes = parse(sort="price_asc", cursor=cursor.encode())
    assert query.cursor == cursor and notes == []


def test_cursor_for_another_sort_is_refused() -> None:
    cursor = Cursor("price_asc", 2190000, 1)
    query, notes = parse(sort="price_desc", cursor=cursor.encode())
    assert query.cursor is None
    assert keys_of(notes) == [("note.bad_cursor", None)]


def _token(value: object) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


TAMPERED = [
    "", "!!!!", "not base64 at all", "AAAA", _token(b"\xff\xfe\x00garbage"), _token("just a string"),
    _token(5), _token(None), _token([]), _token(["price_asc", 100]), _token(["price_asc", 100, 1, 2]),
    _token(["bogus", 100, 1]), _token(["price_asc", "100", 1]), _token(["price_asc", 1.5, 1]),
    _token(["price_asc", True, 1]), _token(["price_asc", 100, True]), _token(["price_asc", 100, 0]),
    _token(["price_asc", 100, -3]), _token(["price_asc", 100, 2**62]), _token(["price_asc", 2**62, 1]),
    _token(["price_asc", 100, "1"]), _token(["price_asc", None, 1]), _token(["newest", "yesterday", 1]),
    _token(["newest", "2025-03-01T12:30:00", 1]),  # no time zone
    _token(["newest", 1700000000, 1]), _token({"sort": "price_asc", "value": 1, "id": 1}),
    _token([["price_asc"], 100, 1]), _token([{"a": 1}, 100, 1]), _token("[" * 200 + "]" * 200),
]


@pytest.mark.parametrize("token", TAMPERED)
def test_tampered_cursors_decode_to_nothing(token: str) -> None:
    assert Cursor.decode(token) is None


@pytest.mark.parametrize("token", TAMPERED[1:])
def test_tampered_cursor_in_a_request_is_a_note_not_an_error(token: str) -> None:
    query, notes = parse(sort="price_asc", cursor=token)
    assert query.cursor is None
    assert ("note.bad_cursor", None) in keys_of(notes)


def test_overlong_cursor_is_refused() -> None:
    query, notes = parse(cursor="A" * 10_000)
    assert query.cursor is None and keys_of(notes) == [("note.bad_cursor", None)]


def test_cursor_wins_over_page_in_params() -> None:
    cursor = Cursor("newest", datetime(2025, 1, 1, tzinfo=timezone.utc), 3)
    query, _ = parse(cursor=cursor.encode(), page="3")
    pairs = query.params()
    assert ("cursor", cursor.encode()) in pairs
    assert all(name != "page" for name, _ in pairs)


# --- CarQuery.params / url --------------------------------------------------------------------------------

def test_default_query_url_is_bare() -> None:
    assert CarQuery().url("/cars") == "/cars"
    assert CarQuery().params() == []


def test_params_leave_defaults_out_and_keep_a_stable_order() -> None:
    query = CarQuery(brand="toyota", model="corolla", fuel=("diesel", "hybrid"), price_max=30000, q="tow bar",
                     sort="price_asc", page=2)
    assert query.params() == [
        ("q", "tow bar"), ("brand", "toyota"), ("model", "corolla"), ("fuel", "diesel"), ("fuel", "hybrid"),
        ("price_max", "30000"), ("sort", "price_asc"), ("page", "2"),
    ]


def test_url_encodes_and_overrides() -> None:
    query = CarQuery(q="ä & b", category=("estate",), page=3)
    url = query.url("/cars", page=1)
    assert url.startswith("/cars?")
    assert parse_qs(urlsplit(url).query) == {"q": ["ä & b"], "category": ["estate"]}
    assert query.url("/cars", category=(), q=None, page=1) == "/cars"
    assert query.page == 3  # overrides do not change the query itself


@pytest.mark.parametrize(
    "raw",
    [
        {"brand": ["kia"], "model": ["sportage"], "fuel": ["hybrid,diesel"], "price_min": ["10 000"],
         "price_max": ["40000"], "year_min": ["2018"], "year_max": ["2023"], "mileage_max": ["150000"],
         "q": ["  heated   seats "], "sort": ["mileage_asc"], "page": ["2"], "category": ["suv"],
         "transmission": ["automatic"], "drive": ["awd"]},
        {"sort": ["year_desc"], "cursor": [Cursor("year_desc", 2020, 8).encode()]},
        {},
    ],
)
def test_params_round_trip_through_parse_query(raw: dict) -> None:
    query, _ = parse_query(raw)
    again, notes = parse_query(parse_qs(urlsplit(query.url("/cars")).query))
    assert again == query and again.cursor == query.cursor
    assert notes == []


def test_filters_and_cache_identity() -> None:
    a = CarQuery(fuel=("diesel",), sort="price_asc", page=2)
    b = CarQuery(fuel=("diesel",))
    assert a.filters() == b.filters()  # facets do not depend on sort or page
    assert a.cache_identity() != b.cache_identity()
    with_cursor = CarQuery(sort="price_asc", cursor=Cursor("price_asc", 1, 1))
    assert with_cursor.cache_identity()["cursor"] == Cursor("price_asc", 1, 1).encode()
    assert CarQuery(q="x").is_filtered and CarQuery(fuel=("gas",)).is_filtered
    assert not CarQuery(sort="price_asc", page=4).is_filtered


def test_typing_on_collapses_to_the_last_search_per_searcher() -> None:
    from kroi.inventory.search import collapse_typing

    def rec(q: str, who: str, at: float) -> dict:
        return {"q": q, "who": who, "at": at}

    records = [rec("to", "a", 0), rec("vo", "b", 1), rec("toyo", "a", 2), rec("Toyota", "a", 3),
               rec("volvo", "b", 4), rec("toyot", "a", 5),  # a backspace is a correction, not a new search
               rec("bmw", "a", 6), rec("bmw", "a", 100)]  # the same words much later: searched again
    assert [(r["q"], r["who"]) for r in collapse_typing(records)] == [
        ("volvo", "b"), ("toyot", "a"), ("bmw", "a"), ("bmw", "a")]
    # Records without a searcher (written while Redis was away) are all kept.
    assert collapse_typing([{"q": "a"}, {"q": "ab"}]) == [{"q": "a"}, {"q": "ab"}]


def test_notes_are_capped_with_a_count_of_the_rest() -> None:
    from kroi.inventory.search import MAX_NOTES

    query, notes = parse_query({"fuel": [f"x{i}" for i in range(50)], "price_min": ["abc"]})
    assert len(notes) == MAX_NOTES and notes[-1].key == "note.more_ignored" and notes[-1].n == 51 - (MAX_NOTES - 1)
    assert query.fuel == ()
