"""Full-text search on /cars: Finnish inflections, English words, brand prefixes, and nothing for nonsense."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from support import SeedCar, all_pages, expected, get_ok, notes, result_count, result_ids, url

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def having(cars: list[SeedCar], feature: str, *, fi: str | None = None, en: str | None = None) -> set[int]:
    """Cars with this equipment, or whose description mentions the given word stem."""
    return {
        c.id for c in cars
        if feature in c.features
        or (fi and fi in c.description_fi.lower())
        or (en and en in c.description_en.lower())
    }


async def test_the_finnish_stemmer_reduces_inflections_to_the_stored_stem(db) -> None:
    """Check the assumption the Finnish search tests rest on, straight in PostgreSQL."""
    row = (await db.execute(text(
        "SELECT to_tsvector('finnish', 'Vetokoukku Talvirenkaat vanteilla') @@ websearch_to_tsquery('finnish', 'vetokoukulla'),"
        " to_tsvector('finnish', 'Talvirenkaat vanteilla') @@ websearch_to_tsquery('finnish', 'talvirenkailla'),"
        " to_tsvector('finnish', 'Istuinlämmittimet') @@ websearch_to_tsquery('finnish', 'istuinlämmittimillä')"
    ))).one()
    assert tuple(row) == (True, True, True)


@pytest.mark.parametrize(
    ("q", "feature", "fi", "en"),
    [
        ("vetokoukulla", "tow_bar", "vetokouk", None),  # "with a tow bar"
        ("vetokoukku", "tow_bar", "vetokouk", None),
        ("talvirenkailla", "winter_tyres", "talviren", None),  # "with winter tyres"
        ("talvirenkaat", "winter_tyres", "talviren", None),
        ("istuinlämmittimillä", "heated_seats", None, None),
        ("tow bar", "tow_bar", None, "tow bar"),
        ("heated seats", "heated_seats", None, None),
        ("Heated Seats", "heated_seats", None, None),
        ("parking sensors", "parking_sensors", None, None),
    ],
)
async def test_words_find_the_cars_that_have_them(client, cars: list[SeedCar], q: str, feature: str,
                                                  fi: str | None, en: str | None) -> None:
    want = having(cars, feature, fi=fi, en=en)
    assert 0 < len(want) < len(cars), "a search test must tell cars apart"
    ids = await all_pages(client, {"q": q})
    assert set(ids) == want
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("q", ["toyo", "Toyota", "TOYOTA", "toy"])
async def test_brand_prefix_finds_the_brand(client, cars: list[SeedCar], q: str) -> None:
    r = await get_ok(client, url("/cars", {"q": q}))
    assert set(result_ids(r.text)) == {c.id for c in cars if c.brand == "Toyota"}


async def test_model_name_and_prefix(client, cars: list[SeedCar]) -> None:
    for q in ("octavia", "octa", "skoda octavia"):
        r = await get_ok(client, url("/cars", {"q": q}))
        assert set(result_ids(r.text)) == {c.id for c in cars if c.model == "Octavia"}, q


@pytest.mark.parametrize("q", ["xyzzyqwerty", "zebra unicorn", "vetokoukku xyzzyqwerty"])
async def test_nonsense_finds_nothing_and_shows_the_empty_state(client, q: str) -> None:
    r = await get_ok(client, url("/cars", {"q": q}))
    assert result_ids(r.text) == []
    assert result_count(r.text) == 0
    assert "Hakuehdoilla ei löytynyt autoja" in r.text
    assert '<a class="button" href="/cars">' in r.text  # a way out
    assert notes(r.text) == []


async def test_search_combines_with_filters(client, cars: list[SeedCar]) -> None:
    want = having(cars, "tow_bar", fi="vetokouk") & expected(cars, {"fuel": "diesel"})
    assert want
    assert set(await all_pages(client, {"q": "vetokoukku", "fuel": "diesel"})) == want


@pytest.mark.parametrize("q", ["!!!", "&|:*()", "'", '"', "a & | b", "-", "_", "²", "toyota -corolla", "or",
                               "\\", "%", "<script>alert(1)</script>", "ä", "😀"])
async def test_odd_search_text_is_safe(client, q: str) -> None:
    r = await client.get(url("/cars", {"q": q}))
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert result_count(r.text) == len(await all_pages(client, {"q": q}))


async def test_search_text_is_shown_back_escaped(client) -> None:
    r = await get_ok(client, url("/cars", {"q": '"><b>x</b>'}))
    assert 'value="&#34;&gt;&lt;b&gt;x&lt;/b&gt;"' in r.text or 'value="&quot;&gt;&lt;b&gt;x&lt;/b&gt;"' in r.text
    assert "<b>x</b>" not in r.text
