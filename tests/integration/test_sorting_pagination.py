"""Sorting across pages, numbered pages that partition the results, and keyset 'show more' links."""
from __future__ import annotations

import pytest

from support import (
    HX, SeedCar, add_car, all_pages, car_ids, follow_more, get_ok, is_full_page, more_href, notes, pager_hrefs,
    result_count, result_ids, service, url,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# sort -> (key of a seed car, descending); the id breaks ties in the same direction, as in the SQL.
SORT_KEYS = {
    "newest": (lambda c: -c.days_listed, True),  # published_at = seeding time - days_listed
    "price_asc": (lambda c: c.price_eur, False),
    "price_desc": (lambda c: c.price_eur, True),
    "mileage_asc": (lambda c: c.mileage_km, False),
    "year_desc": (lambda c: c.model_year, True),
}


def in_order(cars: list[SeedCar], sort: str, only: set[int] | None = None) -> list[int]:
    key, descending = SORT_KEYS[sort]
    chosen = [c for c in cars if c.listed and (only is None or c.id in only)]
    return [c.id for c in sorted(chosen, key=lambda c: (key(c), c.id), reverse=descending)]


def test_the_seed_has_ties_in_model_year() -> None:
    """year_desc must break ties by id; make sure the data really has ties to break."""
    from support import SEED

    years = [c["model_year"] for c in SEED]
    assert len(set(years)) < len(years)


@pytest.mark.parametrize("sort", list(SORT_KEYS))
async def test_sort_orders_cars_across_numbered_pages(client, cars: list[SeedCar], sort: str) -> None:
    params = {} if sort == "newest" else {"sort": sort}
    ids = await all_pages(client, params)
    assert ids == in_order(cars, sort)


@pytest.mark.parametrize("sort", list(SORT_KEYS))
@pytest.mark.parametrize("fragments", [True, False], ids=["htmx", "no-js"])
async def test_show_more_links_walk_every_car_once_in_order(client, cars: list[SeedCar], sort: str,
                                                           fragments: bool) -> None:
    params = {} if sort == "newest" else {"sort": sort}
    batches = await follow_more(client, params, fragments=fragments)
    flat = [i for b in batches for i in b]
    assert flat == in_order(cars, sort)
    assert [len(b) for b in batches] == [4, 4, 1]


async def test_show_more_keeps_the_filters(client, cars: list[SeedCar]) -> None:
    params = {"drive": "awd", "sort": "price_asc"}
    batches = await follow_more(client, params)
    want = in_order(cars, "price_asc", {c.id for c in cars if c.drive == "awd"})
    assert [i for b in batches for i in b] == want
    assert len(batches) == 2


async def test_numbered_pages_partition_the_results(client, cars: list[SeedCar]) -> None:
    pages = []
    for n in (1, 2, 3):
        r = await get_ok(client, url("/cars", {"sort": "price_desc", "page": n}))
        pages.append(result_ids(r.text))
        assert result_count(r.text) == 9
        assert f'<span aria-current="page" class="current">{n}</span>' in r.text
    flat = [i for p in pages for i in p]
    assert [len(p) for p in pages] == [4, 4, 1]
    assert len(flat) == len(set(flat)) == 9
    assert flat == in_order(cars, "price_desc")


async def test_pager_links_keep_filters_and_sort(client) -> None:
    r = await get_ok(client, url("/cars", {"sort": "mileage_asc", "transmission": "automatic"}))
    hrefs = pager_hrefs(r.text)
    assert hrefs, "an 8-car result on 4-car pages has a pager"
    assert all("sort=mileage_asc" in h and "transmission=automatic" in h for h in hrefs)


async def test_page_past_the_end_shows_the_last_page(client, cars: list[SeedCar]) -> None:
    r = await get_ok(client, url("/cars", {"page": 99}))
    assert result_ids(r.text) == in_order(cars, "newest")[8:]


async def test_a_single_page_result_has_no_pager_and_no_more_link(client) -> None:
    r = await get_ok(client, url("/cars", {"brand": "kia"}))
    assert pager_hrefs(r.text) == [] and more_href(r.text) is None
    assert len(result_ids(r.text)) == 1


async def test_more_fragment_appends_cards_and_replaces_the_button_out_of_band(client) -> None:
    first = await get_ok(client, "/cars")
    href = more_href(first.text)
    r = await get_ok(client, href, headers=HX)
    assert not is_full_page(r.text)
    assert 'id="results"' not in r.text  # appended to #result-list, not a new results block
    assert '<div id="more-slot" class="more-slot" hx-swap-oob="true">' in r.text
    assert '<nav id="pager" hx-swap-oob="true" hidden></nav>' in r.text
    assert len(car_ids(r.text)) == 4
    assert not set(car_ids(r.text)) & set(result_ids(first.text))


async def test_full_page_from_a_cursor_says_it_continues(client) -> None:
    first = await get_ok(client, url("/cars", {"sort": "price_asc"}))
    r = await get_ok(client, more_href(first.text))
    assert is_full_page(r.text)
    assert "Jatkoa edelliseen" in r.text
    assert 'href="/cars?sort=price_asc"' in r.text  # back to page 1
    assert notes(r.text) == []


async def test_cursor_of_another_sort_starts_over_with_a_note(client, cars: list[SeedCar]) -> None:
    first = await get_ok(client, url("/cars", {"sort": "price_asc"}))
    href = more_href(first.text).replace("sort=price_asc", "sort=price_desc")
    r = await get_ok(client, href)
    assert result_ids(r.text) == in_order(cars, "price_desc")[:4]
    assert any("Jatkolinkki" in n for n in notes(r.text))


# --- keyset pagination while the inventory changes ----------------------------------------------------------

async def test_show_more_while_cars_are_added_changed_and_deleted_newest(client, cars: list[SeedCar]) -> None:
    order = in_order(cars, "newest")
    deleted = order[5]  # would be in the second batch
    repriced = order[8]  # the last batch
    added: list[int] = []

    async def between(step: int) -> None:
        if step == 1:
            added.append(await add_car(client, variant="Uusi", price_cents=1_500_000))
            async with service(client) as svc:
                await svc.change_price(repriced, 1_234_500)
                await svc.soft_delete(deleted)

    batches = await follow_more(client, fragments=True, between=between)
    flat = [i for b in batches for i in b]
    assert batches[0] == order[:4]
    assert len(flat) == len(set(flat)), "a car was shown twice"
    assert set(flat) == set(order) - {deleted}, "a car that was there all along was skipped"
    assert added[0] not in flat  # newer than the cursor: it belongs before the first batch
    # The repriced car, shown after the change, shows its new price.
    last = await get_ok(client, f"/cars/{repriced}-x", follow_redirects=True)
    assert "12 345 €" in last.text


async def test_show_more_while_prices_move_price_asc(client, cars: list[SeedCar]) -> None:
    order = in_order(cars, "price_asc")
    moved_back = order[0]  # seen in batch 1, then made the dearest: may be shown again, nothing else may
    moved_forward = order[7]  # not yet seen, then made the cheapest: may be skipped, nothing else may
    deleted = order[4]
    changed = {moved_back, moved_forward, deleted}

    async def between(step: int) -> None:
        if step == 1:
            async with service(client) as svc:
                await svc.change_price(moved_back, 9_900_000)
                await svc.change_price(moved_forward, 100_000)
                await svc.soft_delete(deleted)
            await add_car(client, variant="Keskihintainen", price_cents=2_600_000)

    batches = await follow_more(client, {"sort": "price_asc"}, fragments=False, between=between)
    flat = [i for b in batches for i in b]
    steady = [i for i in flat if i in set(order) - changed]
    assert sorted(steady) == sorted(set(order) - changed), "an unchanged car was skipped"
    assert len(steady) == len(set(steady)), "an unchanged car was shown twice"
    assert deleted not in flat[4:]
    # Whatever was shown after the first batch is still in price order.
    prices = []
    for batch in batches[1:]:
        for car_id in batch:
            r = await get_ok(client, f"/cars/{car_id}-x", follow_redirects=True)
            prices.append(int("".join(ch for ch in r.text.split('class="big-price price">')[1].split("€")[0]
                                      if ch.isdigit())))
    assert prices == sorted(prices)
