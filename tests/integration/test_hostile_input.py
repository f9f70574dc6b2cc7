"""Hostile bodies and headers (kroi/web/guard.py, kroi/parsing.ip_address): form fields that are not UTF-8,
NUL characters, oversize bodies and odd X-Forwarded-For values are a 400, a 413 or cleaned input, never a 5xx."""
from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from admin_support import HX, as_admin, post as staff_post, scalar  # noqa: F401 - as_admin is a fixture
from kroi.app import create_app
from kroi.settings import Settings
from kroi.web.head import HeadAsGet
from leadforms import get_form, is_confirmation, lead_client, lead_settings, new_leads, redis_url, valid_input  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PUBLIC_FORMS = ["/leads", "/newsletter", "/alerts", "/admin/login"]
BOUNDARY = "kroi-test-boundary"


def multipart(fields: dict[str, bytes]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with these raw field values (no encoding applied)."""
    body = b"".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
                    for name, value in fields.items()) + f"--{BOUNDARY}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


async def token(c: httpx.AsyncClient) -> str:
    page = (await c.get("/contact")).text
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("url", PUBLIC_FORMS)
@pytest.mark.parametrize("how", ["multipart", "urlencoded-raw", "urlencoded-escaped", "field-name"])
async def test_form_fields_that_are_not_utf8_are_a_400(lead_client: httpx.AsyncClient, url: str, how: str) -> None:
    tok = (await token(lead_client)).encode()
    if how == "multipart":
        body, headers = multipart({"_csrf_token": tok, "email": b"a@example.fi", "name": b"\xff\xfeMaija"})
    elif how == "field-name":
        body, headers = multipart({"_csrf_token": tok, "n\xe4me".encode("latin-1"): b"\xc3"})
    else:
        junk = b"\xff\xfe" if how == "urlencoded-raw" else b"%FF%FE"
        body, headers = b"_csrf_token=" + tok + b"&email=a%40example.fi&name=" + junk, {
            "content-type": "application/x-www-form-urlencoded"}
    r = await lead_client.post(url, content=body, headers=headers)
    assert r.status_code == 400, (r.status_code, r.text[-500:])
    assert "Traceback" not in r.text


async def test_an_admin_form_that_is_not_utf8_is_a_400(client: httpx.AsyncClient, as_admin, db: AsyncSession) -> None:  # noqa: ANN001
    lead = await scalar(db, "SELECT min(id) FROM leads")
    body, headers = multipart({"body": b"\xff note"})
    r = await staff_post(client, f"/admin/leads/{lead}/notes", content=body, headers=headers)
    assert r.status_code == 400, r.status_code
    assert await scalar(db, "SELECT count(*) FROM lead_notes WHERE body LIKE '%note'") == 0


@pytest.mark.parametrize("as_multipart", [False, True])
async def test_nul_characters_are_dropped_from_form_fields(lead_client: httpx.AsyncClient, db: AsyncSession,
                                                           as_multipart: bool) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    data = form.data(**valid_input("contact", "nul@example.fi", name="Mai\x00ja Meikä\x00läinen",
                                   message="Hei\x00 vaan"))
    data["source_page"] = "/contact\x00"
    if as_multipart:
        r = await lead_client.post("/leads", files={k: (None, v.encode()) for k, v in data.items()})
    else:
        r = await lead_client.post("/leads", data=data)
    assert r.status_code in (200, 303), r.text[-500:]
    [lead] = await new_leads(db)
    assert (lead["name"], lead["message"]) == ("Maija Meikäläinen", "Hei vaan")
    assert "\x00" not in str(lead)


@pytest.mark.parametrize(("name", "value"), [("user-agent", b"a\x00b"), ("accept-language", b"fi\x01"),
                                             ("referer", b"http://testserver/\x00"), ("x-anything", b"\x7f")])
async def test_control_characters_in_a_header_are_a_400(lead_client: httpx.AsyncClient, name: str,
                                                        value: bytes) -> None:
    tok = await token(lead_client)
    for method, url in (("GET", "/contact"), ("POST", "/leads"), ("POST", "/admin/login")):
        r = await lead_client.request(method, url, headers={name: value},
                                      data={"_csrf_token": tok} if method == "POST" else None)
        assert r.status_code == 400, (method, url, r.status_code)


@pytest.mark.parametrize("url", PUBLIC_FORMS)
async def test_an_oversize_form_is_a_413(lead_client: httpx.AsyncClient, url: str) -> None:
    tok = await token(lead_client)
    r = await lead_client.post(url, data={"_csrf_token": tok, "message": "x" * 300_000})
    assert r.status_code == 413, r.status_code
    body, headers = multipart({"_csrf_token": tok.encode(), "message": b"x" * 300_000})
    assert (await lead_client.post(url, content=body, headers=headers)).status_code == 413


async def test_photo_uploads_have_their_own_limit_from_the_settings(settings: Settings, reset: None,
                                                                    make_client, db: AsyncSession) -> None:  # noqa: ANN001
    from admin_support import admin_id, sign_in_as

    async with make_client(settings.model_copy(update={"upload_max_mb": 1})) as c:
        await sign_in_as(c, await admin_id(db))
        car = await scalar(db, "SELECT min(id) FROM cars")
        big = {"images": ("a.jpg", b"\xff" * (2 * 1024 * 1024), "image/jpeg")}
        r = await staff_post(c, f"/admin/cars/{car}/images", files=big, headers=HX)
        assert r.status_code == 422  # past the guard; the photo itself is refused as larger than 1 MB
        huge = {"images": ("a.jpg", b"\xff" * (11 * 1024 * 1024), "image/jpeg")}
        assert (await staff_post(c, f"/admin/cars/{car}/images", files=huge, headers=HX)).status_code == 413


@contextlib.asynccontextmanager
async def behind_proxy(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as uvicorn --proxy-headers --forwarded-allow-ips='*' runs it (docker-compose's default)."""
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=ProxyHeadersMiddleware(HeadAsGet(app), trusted_hosts="*"))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.mark.parametrize(("forwarded", "stored"), [
    (b"203.0.113.7", "203.0.113.7"),
    (b"203.0.113.7:51234", "203.0.113.7"),
    (b"2001:db8::17", "2001:db8::17"),
    (b"[2001:db8::17]:443", "2001:db8::17"),
    (b"::ffff:203.0.113.7", "203.0.113.7"),
    (b"fe80::1%eth0", "fe80::1"),
    (b"203.0.113.7, 10.0.0.1, " + b", ".join(b"10.0.0.%d" % i for i in range(200)), "203.0.113.7"),
    (b"garbage", "unknown"),
    (b"1" * 5000, "unknown"),
    (b"\xff\xfe", "unknown"),
    (b"2001:db8:0:0:0:0:0:17:1234:5678:90ab", "unknown"),
    (b"", None),
])
async def test_odd_forwarded_for_values_are_stored_cleaned(lead_settings: Settings, reset: None, db: AsyncSession,
                                                           forwarded: bytes, stored: str | None) -> None:
    async with behind_proxy(lead_settings) as c:
        form = await get_form(c, "/contact", "contact")
        r = await c.post("/leads", data=form.data(**valid_input("contact", "xff@example.fi")),
                         headers={"x-forwarded-for": forwarded})
        assert r.status_code in (200, 303), (r.status_code, r.text[-500:])
        page = await c.post("/admin/login", data={"_csrf_token": form.values["_csrf_token"],
                                                  "email": "nobody@example.fi", "password": "wrong-password-1"},
                            headers={"x-forwarded-for": forwarded})
        assert page.status_code == 401, page.status_code  # a failed sign-in, recorded
    [lead] = await new_leads(db)
    attempt = await scalar(db, "SELECT ip FROM login_attempts ORDER BY id DESC LIMIT 1")
    if stored is None:  # an empty header: uvicorn keeps the connection's own address
        assert lead["client_ip"] == attempt and len(attempt) <= 45
    else:
        assert (lead["client_ip"], attempt) == (stored, stored)
