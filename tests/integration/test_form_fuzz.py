"""A deterministic fuzz of every public form found on the public pages, and of the pages' query strings: bytes
that are not UTF-8, NUL, non-ASCII CSRF tokens, huge values, repeated and missing fields. No answer may be a
5xx, and a form answered with an error keeps what was typed."""
from __future__ import annotations

import random
import re
from urllib.parse import quote_from_bytes, urlsplit

import httpx
import pytest

from leadforms import forms, lead_client, lead_settings, redis_url  # noqa: F401 - fixtures used by name

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

START_PAGES = ["/", "/cars", "/contact", "/contact?type=test-drive", "/contact?type=trade-in",
               "/contact?type=financing", "/alerts", "/favourites"]
TYPED = "Fuzzy Fuzzington"  # what the visitor typed into the name field: an error page must still show it
JUNK: list[bytes] = [b"\xff\xfe\xfd", b"a\x00b", "ääkkönen€".encode(), b"x" * 20_000, b"", b"%", b"\xc3",
                     b"<script>alert(1)</script>", b"9" * 40, b"-1", b"2026-02-30", "\U0001f697".encode()]
TOKENS: list[bytes] = ["ä".encode() * 128, b"\xff" * 128, b"0" * 128, b"", b"\x00" * 4]


def encode(pairs: list[tuple[str, bytes]]) -> bytes:
    return b"&".join(quote_from_bytes(k.encode()).encode() + b"=" + quote_from_bytes(v).encode() for k, v in pairs)


def multipart(pairs: list[tuple[str, bytes]]) -> bytes:
    return b"".join(f'--fz\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v + b"\r\n"
                    for k, v in pairs) + b"--fz--\r\n"


async def public_pages(c: httpx.AsyncClient) -> dict[str, str]:
    """The start pages and the first car page, as HTML."""
    pages = {url: (await c.get(url)).text for url in START_PAGES}
    car = re.search(r'href="(/cars/[a-z0-9-]+)"', pages["/cars"])
    assert car, "no car link on /cars"
    pages[car.group(1)] = (await c.get(car.group(1))).text
    return pages


def variants(values: dict[str, str], rng: random.Random) -> list[list[tuple[str, bytes]]]:
    """The form as a browser fills it, then with each field junk, missing or repeated, and a bad token."""
    base = [(k, (TYPED if k == "name" else v).encode()) for k, v in values.items()]
    out = [base]
    for i, (name, _) in enumerate(base):
        if name == "_csrf_token":
            out += [base[:i] + [(name, t)] + base[i + 1:] for t in TOKENS]
            continue
        if name == "name":
            continue  # kept as typed, so the error answers can be checked for it
        out += [base[:i] + [(name, junk)] + base[i + 1:] for junk in rng.sample(JUNK, 4)]
        out.append(base[:i] + base[i + 1:])
        out.append(base + [(name, rng.choice(JUNK))])
    return out


async def test_public_forms_never_answer_5xx_and_keep_what_was_typed(lead_client: httpx.AsyncClient) -> None:
    rng = random.Random(9)
    c = lead_client
    pages = await public_pages(c)
    posted = kept = 0
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for url, page in pages.items():
        for form in forms(page):
            method = form.attrs.get("method", "get").lower()
            action = form.attrs.get("action") or urlsplit(url).path
            values = form.data()
            key = (action, tuple(sorted(values)))
            if key in seen or not action.startswith("/"):
                continue
            seen.add(key)
            for n, pairs in enumerate(variants(values, rng)):
                if method == "post":
                    as_multipart = n % 3 == 0
                    body = multipart(pairs) if as_multipart else encode(pairs)
                    ctype = "multipart/form-data; boundary=fz" if as_multipart else "application/x-www-form-urlencoded"
                    headers = {"content-type": ctype, **({"HX-Request": "true"} if n % 2 else {})}
                    r = await c.post(action, content=body, headers=headers)
                else:
                    r = await c.get(action + "?" + encode(pairs).decode())
                posted += 1
                assert r.status_code < 500, (action, pairs, r.status_code, r.text[-800:])
                if method == "post" and r.status_code == 422 and any(k == "name" for k, _ in pairs):
                    assert TYPED in r.text, (action, pairs)
                    kept += 1
    assert posted > 200 and kept > 20 and {"/leads", "/newsletter"} <= {a for a, _ in seen}


@pytest.mark.parametrize("page", [*START_PAGES, "/cars/no-such-car", "/admin/login"])
async def test_odd_query_strings_never_answer_5xx(lead_client: httpx.AsyncClient, page: str) -> None:
    path = urlsplit(page).path
    for query in ("q=%ff%fe", "q=%00", "page=%c3", "price_max=" + "9" * 40, "sort=" + "x" * 5000,
                  "lang=%ff", "page=1&page=2&page=-1", "%ff=%ff", "fuel=petrol&fuel=%00&fuel=" + "ä" * 300,
                  "type=%00", "search=" + "%2F" * 2000, "next=%00//evil.example"):
        r = await lead_client.get(f"{path}?{query}")
        assert r.status_code < 500, (path, query, r.status_code)
