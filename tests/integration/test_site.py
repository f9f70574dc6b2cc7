"""/health, /sitemap.xml, /robots.txt, the language switch, security headers and compression."""
from __future__ import annotations

import gzip
import html
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from support import DEAD_DATABASE, SeedCar, add_car, get_ok, service, with_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "xhtml": "http://www.w3.org/1999/xhtml"}


async def test_health_reports_database_and_cache(client) -> None:
    await get_ok(client, "/cars")
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["cache"] == "ok"
    assert set(body["cache_stats"]) == {"hits", "misses", "errors", "skipped", "hit_rate"}
    assert body["cache_stats"]["misses"] > 0


async def test_app_connections_plan_every_statement_for_its_values(client) -> None:
    """asyncpg prepares statements; a generic plan would ignore a price range's values (docs/performance.md)."""
    async with client.app.state.kroi.engine.connect() as conn:
        assert (await conn.execute(text("SHOW plan_cache_mode"))).scalar_one() == "force_custom_plan"
        assert (await conn.execute(text("SHOW application_name"))).scalar_one() == "kroi"


async def test_health_is_503_when_the_database_is_down(settings, make_client) -> None:
    async with make_client(with_settings(settings, database_url=DEAD_DATABASE)) as c:
        r = await c.get("/health")
        assert r.status_code == 503
        body = r.json()
        assert body["status"] == "error"
        assert body["database"].startswith("error")
        assert body["cache"] == "ok"


@pytest.mark.parametrize("path", ["/", "/cars", "/cars/1-x", "/sitemap.xml"])
async def test_pages_without_a_database_say_try_again_with_a_503(settings, reset, make_client, path: str) -> None:  # noqa: ANN001
    # An outage is not a fault of the page: 503 with Retry-After, in the visitor's language, no trace.
    # (reset empties Redis: a page whose pieces are all cached there is still served, as it should be.)
    async with make_client(with_settings(settings, database_url=DEAD_DATABASE)) as c:
        r = await c.get(path)
        assert r.status_code == 503 and r.headers["retry-after"] == "30"
        assert "Yritä hetken päästä uudelleen" in r.text
        assert "Traceback" not in r.text and "asyncpg" not in r.text and "127.0.0.1:1" not in r.text
        frag = await c.get(path, headers={"HX-Request": "true", "Cookie": "kroi_lang=en"})
        assert frag.status_code == 503 and "Please try again in a moment" in frag.text


async def test_sitemap_lists_listed_and_sold_cars_only(client, cars: list[SeedCar], by_key) -> None:  # noqa: ANN001
    draft_id = await add_car(client, status="draft", variant="Luonnos")
    async with service(client) as svc:
        await svc.set_status(by_key["golf"].id, "sold")
        await svc.soft_delete(by_key["xc60"].id)
        await svc.set_status(by_key["sportage"].id, "draft")
    r = await get_ok(client, "/sitemap.xml")
    assert r.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(r.content)
    locs = [e.text for e in root.findall("sm:url/sm:loc", SITEMAP_NS)]
    assert len(locs) == len(set(locs))
    want = {f"http://testserver{c.url}" for c in cars if c.key not in ("xc60", "sportage")}
    car_locs = {loc for loc in locs if loc.startswith("http://testserver/cars/") and not loc.endswith("?lang=en")}
    assert car_locs == want
    assert f"http://testserver{by_key['golf'].url}" in car_locs  # sold keeps its page
    assert not any(loc.startswith(f"http://testserver/cars/{draft_id}-") for loc in locs)
    assert {"http://testserver/", "http://testserver/cars"} <= set(locs)
    for url in root.findall("sm:url", SITEMAP_NS):
        lastmod = url.find("sm:lastmod", SITEMAP_NS)
        if url.find("sm:loc", SITEMAP_NS).text.startswith("http://testserver/cars/"):
            assert lastmod is not None and len(lastmod.text) == 10


def head_alternates(page: str) -> dict[str, str]:
    return {code: html.unescape(href) for code, href in
            re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page)}


async def test_sitemap_lists_every_public_page_in_both_languages_with_the_pages_own_alternates(client) -> None:  # noqa: ANN001
    """Contact, privacy and terms are listed too; each page in Finnish and English, each <url> with the hreflang
    alternates (fi, en, x-default) its page declares in <head>, and its loc is the page's canonical address."""
    root = ET.fromstring((await get_ok(client, "/sitemap.xml")).content)
    entries = {}
    for url in root.findall("sm:url", SITEMAP_NS):
        loc = url.find("sm:loc", SITEMAP_NS).text
        links = url.findall("xhtml:link", SITEMAP_NS)
        assert all(link.get("rel") == "alternate" for link in links)
        entries[loc] = {link.get("hreflang"): link.get("href") for link in links}
    base = "http://testserver"
    for path in ("/", "/cars", "/contact", "/privacy", "/terms"):
        fi_url, en_url = base + path, base + path + "?lang=en"
        assert entries.get(fi_url) == entries.get(en_url) == {"fi": fi_url, "en": en_url, "x-default": fi_url}, path
    assert any(loc.startswith(base + "/cars/") and loc.endswith("?lang=en") for loc in entries)
    for loc, links in entries.items():
        client.cookies.clear()  # ?lang=en remembers English in a cookie: each address is read as a newcomer would
        page = (await get_ok(client, loc.removeprefix(base))).text
        assert head_alternates(page) == links, loc
        canonical = re.search(r'<link rel="canonical" href="([^"]+)">', page)
        if canonical:
            assert html.unescape(canonical.group(1)) == loc


async def test_every_sitemap_url_answers_200(client) -> None:
    root = ET.fromstring((await get_ok(client, "/sitemap.xml")).content)
    for loc in root.findall("sm:url/sm:loc", SITEMAP_NS):
        await get_ok(client, loc.text.removeprefix("http://testserver"))


async def test_robots_txt_points_to_the_sitemap(client) -> None:
    r = await get_ok(client, "/robots.txt")
    assert r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert "User-agent: *" in lines and "Disallow: /admin" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


async def test_public_url_setting_makes_absolute_urls(settings, reset, make_client, by_key) -> None:  # noqa: ANN001
    async with make_client(with_settings(settings, public_url="https://kroi.example")) as c:
        assert "Sitemap: https://kroi.example/sitemap.xml" in (await get_ok(c, "/robots.txt")).text
        assert f"<loc>https://kroi.example{by_key['golf'].url}</loc>" in (await get_ok(c, "/sitemap.xml")).text
        page = await get_ok(c, by_key["golf"].url)
        assert f'<link rel="canonical" href="https://kroi.example{by_key["golf"].url}">' in page.text
        assert "max-age" in page.headers["strict-transport-security"]


@pytest.mark.parametrize("path", ["/", "/cars", "/cars/2-volkswagen-golf-1-5-etsi-evo-style-dsg", "/cars/99999",
                                  "/health", "/robots.txt", "/sitemap.xml", "/static/css/site.css", "/nowhere"])
async def test_security_headers_on_every_answer(client, path: str) -> None:
    r = await client.get(path)
    assert r.status_code in (200, 404)
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in r.headers  # only behind https


async def test_pages_are_gzipped_when_asked(client) -> None:
    async with client.stream("GET", "/cars", headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join([chunk async for chunk in r.aiter_raw()])
    assert r.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in r.headers["vary"].lower()
    assert raw[:2] == b"\x1f\x8b"
    body = gzip.decompress(raw).decode()
    assert body.lstrip().startswith("<!doctype html>") and 'id="results"' in body


async def test_pages_are_plain_when_gzip_is_not_accepted(client) -> None:
    async with client.stream("GET", "/cars", headers={"Accept-Encoding": "identity"}) as r:
        raw = b"".join([chunk async for chunk in r.aiter_raw()])
    assert "content-encoding" not in r.headers
    assert raw.lstrip().startswith(b"<!doctype html>")


async def test_language_switch_sets_a_cookie_and_stays_on_site(client) -> None:
    r = await client.get("/lang/en?next=/cars?fuel=diesel")
    # the language is in the address too, so the page's address is shareable in it
    assert r.status_code == 303 and r.headers["location"] == "/cars?fuel=diesel&lang=en"
    assert "kroi_lang=en" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    page = await get_ok(client, "/cars?fuel=diesel")  # the client keeps the cookie
    assert '<html lang="en">' in page.text and "Used cars" in page.text
    for evil in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        r = await client.get("/lang/fi", params={"next": evil})
        assert r.status_code == 303 and r.headers["location"] == "/"
    assert (await client.get("/lang/sv")).status_code == 404


GC_PROBE = """
import gc, json, sys
from litestar.testing import TestClient
from kroi.app import create_app
from kroi.settings import Settings

settings = Settings(env=sys.argv[1], database_url=sys.argv[2], redis_url=sys.argv[3], var_dir=sys.argv[4],
                    run_worker=False)
before = gc.get_freeze_count()
with TestClient(create_app(settings)) as client:
    status = client.get("/health").status_code
    print(json.dumps({"status": status, "frozen": gc.get_freeze_count() - before, "threshold": gc.get_threshold()}))
"""


@pytest.mark.parametrize("env", ["development", "test"])
def test_a_serving_process_freezes_its_start_up_heap(env: str, database_url: str, redis_url: str, tmp_path) -> None:
    """A server worker keeps its start-up objects out of the collector's scans (the warm path's tail latency);
    a test process, which starts many apps, does not."""
    out = subprocess.run([sys.executable, "-c", GC_PROBE, env, database_url, redis_url, str(tmp_path)],
                         capture_output=True, text=True, timeout=120, check=True)
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["status"] == 200
    if env == "development":
        assert probe["frozen"] > 10_000 and probe["threshold"][0] == 20_000
    else:
        assert probe["frozen"] == 0 and probe["threshold"][0] != 20_000


@pytest.mark.parametrize("path", ["/", "/cars", "/health", "/sitemap.xml", "/robots.txt", "/cars/999999-x"])
async def test_head_answers_like_get_without_a_body(client, path: str) -> None:
    # Uptime monitors and link checkers ask with HEAD; Litestar alone answered 405 to every page.
    get = await client.get(path, headers={"Accept-Encoding": "identity"})
    head = await client.head(path, headers={"Accept-Encoding": "identity"})
    assert head.status_code == get.status_code and head.status_code != 405
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if "content-length" in get.headers:
        assert head.headers["content-length"] == get.headers["content-length"]

