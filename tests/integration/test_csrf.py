"""CSRF protection (kroi/security/csrf.py): Fetch Metadata and Origin decide for browsers, the double-submit token
for clients that send neither; no token or cookie a client makes up answers 500."""
from __future__ import annotations

import re

import httpx
import pytest

from admin_support import HX, browser
from kroi.security import csrf
from kroi.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# An invalid address: a request that gets past the CSRF check is answered 422 by the form, one refused 403.
BAD_EMAIL = {"email": "not an address"}
PASSED, REFUSED = 422, 403


def page_token(text: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]*)"', text).group(1)


async def subscribe(c: httpx.AsyncClient, data: dict | None = None, headers: dict | None = None,
                    **kw) -> httpx.Response:  # noqa: ANN003
    return await c.post("/newsletter", data={**BAD_EMAIL, **(data or {})}, headers={**HX, **(headers or {})}, **kw)


@pytest.mark.parametrize("bad", ["ä" * 128, "€", "0" * 64 + "ä" * 64, "x", "", "A" * 128])
async def test_a_made_up_token_is_refused_never_a_server_error(client: httpx.AsyncClient, bad: str) -> None:
    await client.get("/contact")
    assert (await subscribe(client, {"_csrf_token": bad})).status_code == REFUSED
    r = await client.post("/newsletter", headers={**HX, "x-csrftoken": bad.encode("utf-8")}, data=BAD_EMAIL)
    assert r.status_code == REFUSED
    # The same as multipart (a form with a file input, or a script).
    r = await client.post("/newsletter", headers=HX, files={"_csrf_token": (None, bad.encode("utf-8")),
                                                            "email": (None, b"x")})
    assert r.status_code == REFUSED


@pytest.mark.parametrize("cookie", ["ä" * 128, "€", '"' + "0" * 128 + '"', "0" * 128, "x" * 5000])
async def test_a_made_up_cookie_is_refused_and_a_page_replaces_it(client: httpx.AsyncClient, cookie: str) -> None:
    raw = {"cookie": f"csrftoken={cookie}; other=1".encode("utf-8")}
    page = await client.get("/contact", headers=raw)
    assert page.status_code == 200
    fresh = page_token(page.text)
    assert csrf.valid(client.app.state.kroi.settings.secret().encode(), fresh.encode())
    assert f"csrftoken={fresh};" in page.headers["set-cookie"]
    # The made-up cookie with its own value as the token, or with the fresh token: refused either way.
    r = await client.post("/newsletter", headers={**HX, **raw}, data={**BAD_EMAIL, "_csrf_token": cookie})
    assert r.status_code == REFUSED
    r = await client.post("/newsletter", headers={**HX, **raw}, data={**BAD_EMAIL, "_csrf_token": fresh})
    assert r.status_code == REFUSED


async def test_the_double_submit_token_still_works_from_a_form_and_a_header(client: httpx.AsyncClient) -> None:
    token = page_token((await client.get("/contact")).text)
    assert client.cookies[csrf.COOKIE] == token
    assert (await subscribe(client, {"_csrf_token": token})).status_code == PASSED
    assert (await subscribe(client, headers={"x-csrftoken": token})).status_code == PASSED
    assert (await subscribe(client)).status_code == REFUSED
    async with browser(client) as other:  # another visitor's valid token is not this visitor's
        theirs = page_token((await other.get("/contact")).text)
    assert (await subscribe(client, {"_csrf_token": theirs})).status_code == REFUSED


@pytest.mark.parametrize(("headers", "status"), [
    ({"sec-fetch-site": "same-origin"}, PASSED),
    ({"sec-fetch-site": "none"}, PASSED),
    ({"sec-fetch-site": "cross-site"}, REFUSED),
    ({"sec-fetch-site": "same-site"}, REFUSED),
    ({"sec-fetch-site": "cross-site", "origin": "http://testserver"}, REFUSED),
    ({"sec-fetch-site": "ä".encode("utf-8")}, REFUSED),
    ({"origin": "http://testserver"}, PASSED),
    ({"origin": "https://testserver"}, PASSED),  # TLS ended at a proxy: the host decides
    ({"origin": "https://evil.example"}, REFUSED),
    ({"origin": "http://testserver.evil.example"}, REFUSED),
    ({"origin": "null"}, REFUSED),
    ({"origin": "ä".encode("utf-8")}, REFUSED),
])
async def test_browsers_are_judged_by_fetch_metadata_and_origin(client: httpx.AsyncClient, headers: dict,
                                                                status: int) -> None:
    """A browser that says where the request comes from needs no token (and no cookie); one from elsewhere is
    refused even with a valid token pair."""
    assert (await subscribe(client, headers=headers)).status_code == status
    token = page_token((await client.get("/contact")).text)
    assert (await subscribe(client, {"_csrf_token": token}, headers=headers)).status_code == status


async def test_the_public_address_counts_as_this_site(settings: Settings, reset: None, make_client) -> None:  # noqa: ANN001
    async with make_client(settings.model_copy(update={"public_url": "https://auto.example.fi"})) as c:
        assert (await subscribe(c, headers={"origin": "https://auto.example.fi"})).status_code == PASSED
        assert (await subscribe(c, headers={"origin": "https://other.example.fi"})).status_code == REFUSED


async def test_pages_without_a_form_set_no_cookie(client: httpx.AsyncClient) -> None:
    r = await client.get("/robots.txt")
    assert r.status_code == 200
    assert "set-cookie" not in r.headers
    r = await client.get("/contact")
    assert r.headers["set-cookie"].startswith("csrftoken=")
    assert (await client.get("/contact")).headers.get("set-cookie") is None  # the cookie is kept, not renewed
