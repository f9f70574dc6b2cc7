"""One URL, two answers: the whole page normally, the results block for htmx requests."""
from __future__ import annotations

import pytest

from support import HX, canonical, element_ids_with_oob, get_ok, is_full_page, result_count, result_ids

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

URL = "/cars?fuel=diesel,hybrid&sort=price_asc"


def vary(r) -> set[str]:  # noqa: ANN001
    return {v.strip().lower() for v in r.headers.get("vary", "").split(",")}


async def test_plain_request_gets_the_whole_page(client) -> None:
    r = await get_ok(client, URL)
    assert is_full_page(r.text)
    assert r.headers["content-type"].startswith("text/html")
    assert 'id="filters"' in r.text and 'id="results"' in r.text and 'id="result-count"' in r.text
    assert "hx-request" in vary(r)
    assert "hx-push-url" not in r.headers


async def test_htmx_request_gets_the_results_block(client) -> None:
    page = await get_ok(client, URL)
    r = await get_ok(client, URL, headers=HX)
    assert not is_full_page(r.text)
    assert "<html" not in r.text and 'id="filters"' not in r.text
    assert r.text.lstrip().startswith('<div id="results"')
    assert result_ids(r.text) == result_ids(page.text)
    assert result_count(r.text) == result_count(page.text)
    assert "hx-request" in vary(r)
    assert {"result-count", "notes", "facet-brand", "facet-fuel"} <= element_ids_with_oob(r.text)


@pytest.mark.parametrize("extra", [{"HX-History-Restore-Request": "true"}, {"HX-Boosted": "true"}],
                         ids=["history-restore", "boosted"])
async def test_htmx_history_restore_and_boosted_requests_get_the_whole_page(client, extra: dict) -> None:
    r = await get_ok(client, URL, headers=HX | extra)
    assert is_full_page(r.text)
    assert 'id="filters"' in r.text
    assert "hx-request" in vary(r)


async def test_vary_lists_every_header_the_answer_depends_on(client) -> None:
    r = await get_ok(client, URL, headers=HX)
    assert {"hx-request", "hx-history-restore-request"} <= vary(r)


async def test_fragment_pushes_a_clean_url(client) -> None:
    messy = "/cars?sort=newest&page=1&fuel=hybrid,diesel,diesel&price_min=&utm_source=x&brand=KIA"
    r = await get_ok(client, messy, headers=HX)
    assert r.headers["hx-push-url"] == "/cars?brand=kia&fuel=diesel&fuel=hybrid"
    r = await get_ok(client, "/cars", headers=HX)
    assert r.headers["hx-push-url"] == "/cars"


async def test_fragment_push_url_drops_what_was_refused(client) -> None:
    r = await get_ok(client, "/cars?price_min=abc&sort=zzz&page=-1&fuel=steam", headers=HX)
    assert r.headers["hx-push-url"] == "/cars"
    assert len(result_ids(r.text)) == 4


async def test_page_has_a_canonical_link_to_the_clean_url(client) -> None:
    r = await get_ok(client, "/cars?page=1&sort=newest&drive=awd&mileage_max=100 000")
    assert canonical(r.text) == "http://testserver/cars?drive=awd&mileage_max=100000"


async def test_fragments_and_pages_are_cached_apart(client) -> None:
    """The same URL asked both ways (in either order) keeps giving each its own kind of answer."""
    for _ in range(2):
        frag = await get_ok(client, URL, headers=HX)
        page = await get_ok(client, URL)
        assert not is_full_page(frag.text) and is_full_page(page.text)


async def test_error_for_an_htmx_request_is_a_block_not_a_page(client) -> None:
    r = await client.get("/cars/999999-nope", headers=HX)
    assert r.status_code == 404
    assert not is_full_page(r.text)
    assert 'role="alert"' in r.text
