"""Every /cars filter returns exactly the seeded cars it should; facet counts agree with the results."""
from __future__ import annotations

import pytest

from support import (
    HX, SeedCar, all_pages, checked, disabled_options, element_ids_with_oob, expected, facet_counts, get_ok, notes,
    result_count, result_ids, url,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_without_filters_every_listed_car_is_shown(client, cars: list[SeedCar]) -> None:
    ids = await all_pages(client)
    assert sorted(ids) == sorted(c.id for c in cars if c.listed)
    assert len(ids) == 9


@pytest.mark.parametrize(
    "params",
    [
        {"brand": "toyota"}, {"brand": "volvo"}, {"brand": "mercedes-benz"},
        {"brand": "toyota", "model": "corolla"}, {"brand": "ford", "model": "transit-custom"},
        {"category": "estate"}, {"category": "estate,suv"}, {"category": ["van", "coupe"]}, {"category": "mpv"},
        {"fuel": "diesel"}, {"fuel": "hybrid,plug_in_hybrid"}, {"fuel": ["electric", "petrol"]},
        {"transmission": "manual"}, {"transmission": "automatic"},
        {"drive": "awd"}, {"drive": "rwd"}, {"drive": "fwd,rwd"},
        {"price_min": "25000"}, {"price_max": "23900"}, {"price_min": "22000", "price_max": "32000"},
        {"year_min": "2020"}, {"year_max": "2019"}, {"year_min": "2019", "year_max": "2020"},
        {"mileage_max": "68000"}, {"mileage_max": "0"},
        {"brand": "volvo", "fuel": "diesel"},
        {"fuel": "diesel", "drive": "awd", "price_max": "25000", "year_min": "2018"},
        {"category": "estate", "transmission": "automatic", "mileage_max": "130000"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
async def test_each_filter_gives_exactly_the_matching_cars(client, cars: list[SeedCar], params: dict) -> None:
    want = expected(cars, params)
    ids = await all_pages(client, params)
    assert len(ids) == len(set(ids))
    assert set(ids) == want
    page = await get_ok(client, url("/cars", params))
    assert notes(page.text) == []
    if not want:
        assert "Hakuehdoilla ei löytynyt autoja" in page.text


async def test_every_brand_and_each_of_its_models(client, cars: list[SeedCar]) -> None:
    for brand in sorted({c.brand_slug for c in cars}):
        assert set(await all_pages(client, {"brand": brand})) == {c.id for c in cars if c.brand_slug == brand}
        for model in sorted({c.model_slug for c in cars if c.brand_slug == brand}):
            params = {"brand": brand, "model": model}
            got = set(result_ids((await get_ok(client, url("/cars", params))).text))
            assert got == expected(cars, params) and got


async def test_model_of_another_brand_is_ignored_with_a_note(client, cars: list[SeedCar]) -> None:
    r = await get_ok(client, url("/cars", {"brand": "toyota", "model": "golf"}))
    assert set(await all_pages(client, {"brand": "toyota", "model": "golf"})) == {
        c.id for c in cars if c.brand_slug == "toyota"}
    texts = notes(r.text)
    assert len(texts) == 1 and "mallirajaus poistettiin" in texts[0]
    # The model select offers only this brand's models, none chosen.
    assert "selected" not in r.text.split('id="facet-model"')[1].split("</div>")[0]


async def test_model_without_a_brand_is_applied_when_the_model_is_known(client, cars: list[SeedCar]) -> None:
    got = set(await all_pages(client, {"model": "golf"}))
    assert got == {c.id for c in cars if c.model_slug == "golf"}


async def test_model_list_depends_on_the_brand(client, cars: list[SeedCar]) -> None:
    r = await get_ok(client, "/cars")
    facets = facet_counts(r.text)
    assert facets["model"] == {}  # no brand: the model select is disabled
    assert 'id="model" name="model" disabled' in r.text
    r = await get_ok(client, url("/cars", {"brand": "volkswagen"}))
    assert set(facet_counts(r.text)["model"]) == {c.model_slug for c in cars if c.brand_slug == "volkswagen"}


async def test_chosen_options_stay_checked(client) -> None:
    r = await get_ok(client, url("/cars", {"fuel": "diesel,hybrid", "drive": "awd"}))
    assert checked(r.text, "fuel") == ["diesel", "hybrid"]
    assert checked(r.text, "drive") == ["awd"]
    assert checked(r.text, "category") == []


async def test_filter_inputs_keep_their_values_and_names(client) -> None:
    r = await get_ok(client, url("/cars", {"price_min": "20000", "year_max": "2021", "mileage_max": "100000",
                                           "q": "tow bar", "sort": "price_asc"}))
    for name in ("q", "brand", "model", "category", "fuel", "transmission", "drive", "price_min", "price_max",
                 "year_min", "year_max", "mileage_max", "sort", "colour", "seats", "equipment", "vat", "power_min",
                 "power_max", "reg_year_min", "reg_year_max"):
        assert f'name="{name}"' in r.text, name
    assert 'name="price_min" min="0" max="10000000" step="100" value="20000"' in r.text
    assert 'name="year_max" min="1950" max="2100" value="2021"' in r.text
    assert 'id="q" name="q" value="tow bar"' in r.text
    assert '<option value="price_asc" selected>' in r.text


# --- facets -----------------------------------------------------------------------------------------------

FACET_BASES = [
    {},
    {"fuel": "diesel"},
    {"brand": "volvo"},
    {"price_max": "30000"},
    {"category": "estate", "drive": "awd"},
    {"q": "vetokoukku"},
]


def _with_option(base: dict, dim: str, value: str) -> dict:
    """The base filters with this facet option chosen instead of the dimension's current choice."""
    params = {k: v for k, v in base.items() if k != dim}
    if dim == "brand":
        params.pop("model", None)
    params[dim] = value
    return params


@pytest.mark.parametrize("base", FACET_BASES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "none")
async def test_each_facet_count_is_what_choosing_that_option_gives(client, base: dict) -> None:
    page = await get_ok(client, url("/cars", base))
    shown = facet_counts(page.text)
    assert shown["brand"] and shown["fuel"] and shown["category"]
    checked_any = 0
    for dim, options in shown.items():
        for value, n in options.items():
            params = _with_option(base, dim, value)
            r = await get_ok(client, url("/cars", params), headers=HX)
            assert result_count(r.text) == n, (dim, value, n)
            checked_any += 1
    assert checked_any >= 8


async def test_facet_counts_match_the_seed_data(client, cars: list[SeedCar]) -> None:
    r = await get_ok(client, "/cars")
    shown = facet_counts(r.text)
    for dim, attr in (("category", "body_type"), ("fuel", "fuel"), ("transmission", "transmission"),
                      ("drive", "drive")):
        want: dict[str, int] = {}
        for c in cars:
            want[c.data[attr]] = want.get(c.data[attr], 0) + 1
        # Every value of the vocabulary is shown; those no car has are there with 0, disabled.
        assert {v: n for v, n in shown[dim].items() if n} == want, dim
        assert sorted(disabled_options(r.text, dim)) == sorted(v for v, n in shown[dim].items() if not n), dim
    assert shown["brand"] == {b: sum(1 for c in cars if c.brand_slug == b) for b in {c.brand_slug for c in cars}}


async def test_a_dimension_counts_ignore_its_own_choice(client, cars: list[SeedCar]) -> None:
    """With fuel=diesel chosen, the other fuels still show how many cars they would add."""
    r = await get_ok(client, url("/cars", {"fuel": "diesel"}))
    shown = facet_counts(r.text)
    assert shown["fuel"]["hybrid"] == sum(1 for c in cars if c.fuel == "hybrid")
    assert shown["brand"] == {b: sum(1 for c in cars if c.brand_slug == b and c.fuel == "diesel")
                              for b in {c.brand_slug for c in cars}}
    assert sorted(disabled_options(r.text, "brand")) == sorted(b for b, n in shown["brand"].items() if not n)


@pytest.mark.parametrize("params", [{}, {"fuel": "diesel"}, {"drive": "awd", "price_max": "35000"},
                                    {"q": "talvirenkaat"}, {"brand": "kia"}, {"year_min": "2030"}])
async def test_result_count_equals_cars_across_pages(client, params: dict) -> None:
    r = await get_ok(client, url("/cars", params))
    ids = await all_pages(client, params)
    assert result_count(r.text) == len(ids) == len(set(ids))


async def test_htmx_response_updates_count_and_facets_out_of_band(client) -> None:
    r = await get_ok(client, url("/cars", {"fuel": "diesel"}), headers=HX)
    oob = element_ids_with_oob(r.text)
    assert {"result-count", "facet-brand", "facet-model", "facet-category", "facet-fuel", "facet-transmission",
            "facet-drive", "notes"} <= oob
    assert result_count(r.text) == 3
    assert checked(r.text, "fuel") == ["diesel"]
