"""Page weight and loading: small compressed /cars, nothing from other sites, sized and lazy images."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx
from playwright.sync_api import Page, expect

BUDGET_BYTES = 100_000  # HTML + CSS + JS of /cars as transferred (compressed); images not counted


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_cars_page_is_small_and_loads_nothing_from_other_sites(page: Page, base_url: str) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/cars")
    page.mouse.wheel(0, 10_000)  # bring the lazy images in too
    page.wait_for_load_state("networkidle")
    page.locator("#fuel-diesel").check()  # an htmx request: same origin as well
    expect(page.locator("#result-count")).not_to_have_text("9 autoa")
    page.wait_for_load_state("networkidle")

    assert any("/media/" in u for u in requested) and any(u.endswith(".js") or ".js?" in u for u in requested)
    foreign = [u for u in requested if not u.startswith("data:") and _origin(u) != base_url]
    assert not foreign, f"requests to other sites: {foreign}"

    assets = page.evaluate("""() => [
        ...[...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.getAttribute('href')),
        ...[...document.querySelectorAll('script[src]')].map(s => s.getAttribute('src'))]""")
    assert any(".css" in a for a in assets) and any(".js" in a for a in assets), assets
    sizes: dict[str, int] = {}
    with httpx.Client(base_url=base_url, headers={"Accept-Encoding": "gzip"}, timeout=10) as client:
        for url in ["/cars", *assets]:
            with client.stream("GET", urljoin(base_url + "/", url)) as response:
                assert response.status_code == 200, url
                sizes[url] = sum(len(chunk) for chunk in response.iter_raw())
                if sizes[url] > 1000:
                    assert response.headers.get("content-encoding") == "gzip", f"{url} is sent uncompressed"
    total = sum(sizes.values())
    assert total <= BUDGET_BYTES, f"/cars weighs {total} bytes compressed (budget {BUDGET_BYTES}): {sizes}"


IMAGES = """sel => [...document.querySelectorAll(sel)].map(i => ({
    src: i.getAttribute('src'), width: i.getAttribute('width'), height: i.getAttribute('height'),
    loading: i.getAttribute('loading'), top: Math.round(i.closest('article, figure, li, div').getBoundingClientRect().top)}))"""


def test_images_have_sizes_and_load_lazily_below_the_first_row(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/cars")
    images = page.evaluate(IMAGES, "img")
    unsized = [i["src"] for i in images if not (i["width"] and i["height"])]
    assert not unsized, f"images without width and height: {unsized}"

    cards = page.evaluate(IMAGES, "#result-list article img")
    first_row_top = cards[0]["top"]
    first_row = [c for c in cards if c["top"] == first_row_top]
    below = [c for c in cards if c["top"] > first_row_top]
    assert 1 < len(first_row) < len(cards), f"expected several cards per row at 1280 px: {cards}"
    assert all(c["loading"] != "lazy" for c in first_row), f"the first row should load at once: {first_row}"
    assert all(c["loading"] == "lazy" for c in below), f"cards below the first row should be lazy: {below}"

    page.locator("#result-list article a").first.click()
    expect(page.locator(".big-price")).to_be_visible()
    photos = page.evaluate(IMAGES, ".gallery-track img")
    thumbs = page.evaluate(IMAGES, ".thumbs img")
    assert len(photos) == 3 and len(thumbs) == 3
    assert photos[0]["loading"] != "lazy", "the first photo is what the shopper came for"
    assert all(p["loading"] == "lazy" for p in photos[1:] + thumbs)
    assert all(i["width"] and i["height"] for i in page.evaluate(IMAGES, "img"))
