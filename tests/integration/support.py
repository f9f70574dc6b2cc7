"""Helpers for the integration tests: reading the HTML a shopper gets, and what the seed data should give."""
from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from kroi.inventory.services import InventoryService, slugify

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "seed" / "cars.json").read_text(encoding="utf-8"))
FEATURES = {f["code"]: f for f in json.loads((ROOT / "seed" / "features.json").read_text(encoding="utf-8"))}
LISTED = ("available", "reserved")
HX = {"HX-Request": "true"}

# --- reading HTML -----------------------------------------------------------------------------------------

ARTICLE_RE = re.compile(r'<article\b[^>]*\bdata-car-id="(\d+)"')


def car_ids(text: str) -> list[int]:
    """Ids of the cars in result cards (and car pages), in document order."""
    return [int(i) for i in ARTICLE_RE.findall(text)]


def result_ids(text: str) -> list[int]:
    """Ids of the cards inside the results container (id="results") only."""
    start = text.find('id="results"')
    assert start >= 0, "no #results in the response"
    return car_ids(text[start:])


def result_count(text: str) -> int:
    m = re.search(r'<p id="result-count"[^>]*>([^<]*)</p>', text)
    assert m, "no #result-count in the response"
    digits = re.sub(r"\D", "", m.group(1))
    return int(digits)


def notes(text: str) -> list[str]:
    return [html.unescape(n).strip() for n in re.findall(r'<p class="note">(.*?)</p>', text, re.S)]


def more_href(text: str) -> str | None:
    m = re.search(r'<a\b[^>]*\bdata-more\b[^>]*\bhref="([^"]+)"', text)
    return html.unescape(m.group(1)) if m else None


def pager_hrefs(text: str) -> list[str]:
    nav = re.search(r'<nav class="pager".*?</nav>', text, re.S)
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', nav.group(0))] if nav else []


def is_full_page(text: str) -> bool:
    return text.lstrip().lower().startswith("<!doctype html") and "<html" in text


def element_ids_with_oob(text: str) -> set[str]:
    ids = set()
    for tag in re.findall(r"<[a-z]+\b[^>]*\bhx-swap-oob=\"true\"[^>]*>", text):
        m = re.search(r'\bid="([^"]+)"', tag)
        if m:
            ids.add(m.group(1))
    return ids


def facet_counts(text: str) -> dict[str, dict[str, int]]:
    """Facet option -> count as shown: brand/model from <option>, the rest from checkboxes."""
    out: dict[str, dict[str, int]] = {}
    for name in ("brand", "model"):
        block = re.search(rf'<div class="field" id="facet-{name}"[^>]*>(.*?)</div>', text, re.S)
        assert block, f"no facet-{name}"
        out[name] = {
            value: int(n)
            for value, n in re.findall(r'<option value="([^"]+)"[^>]*>[^<]*\((\d+)\)</option>', block.group(1))
        }
    for name in ("category", "fuel", "transmission", "drive", "colour", "seats", "vat", "equipment"):
        block = re.search(rf'<fieldset class="facet[^"]*" id="facet-{name}"[^>]*>(.*?)</fieldset>', text, re.S)
        assert block, f"no facet-{name}"
        out[name] = {
            value: int(n)
            for value, n in re.findall(
                rf'<input type="checkbox"[^>]*name="{name}" value="([^"]+)"[^>]*>\s*<span>[^<]*</span>\s*'
                r'<span class="count">(\d+)</span>', block.group(1))
        }
    return out


def disabled_options(text: str, name: str) -> list[str]:
    """The facet values shown but disabled (no car would be left with them)."""
    if name in ("brand", "model"):
        return re.findall(r'<option value="([^"]+)"[^>]*\bdisabled\b', re.search(
            rf'<div class="field" id="facet-{name}"[^>]*>(.*?)</div>', text, re.S).group(1))
    return re.findall(rf'<input type="checkbox"[^>]*name="{name}" value="([^"]+)"[^>]*\bdisabled\b', text)


def checked(text: str, name: str) -> list[str]:
    return re.findall(rf'<input type="checkbox"[^>]*name="{name}" value="([^"]+)"[^>]*\bchecked\b', text)


def json_ld(text: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    assert m, "no JSON-LD"
    return json.loads(m.group(1))


def canonical(text: str) -> str | None:
    m = re.search(r'<link rel="canonical" href="([^"]+)"', text)
    return html.unescape(m.group(1)) if m else None


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- the seed data ----------------------------------------------------------------------------------------

@dataclass
class SeedCar:
    id: int
    slug: str
    data: dict[str, Any]
    status: str = "available"
    deleted: bool = False
    features: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def brand_slug(self) -> str:
        return slugify(self.data["brand"])

    @property
    def model_slug(self) -> str:
        return slugify(self.data["model"])

    @property
    def url(self) -> str:
        return f"/cars/{self.id}-{self.slug}"

    @property
    def listed(self) -> bool:
        return self.status in LISTED and not self.deleted


def _first(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _many(params: Mapping[str, Any], name: str) -> set[str]:
    value = params.get(name)
    if value is None:
        return set()
    values = value if isinstance(value, (list, tuple)) else [value]
    return {part for v in values for part in str(v).split(",") if part}


def expected(cars: Iterable[SeedCar], params: Mapping[str, Any]) -> set[int]:
    """The ids /cars should list for these filters, worked out from the seed data (no q)."""
    assert "q" not in params
    cars = [c for c in cars if c.listed]
    brand = _first(params, "brand")
    model = _first(params, "model")
    brands = {c.brand_slug for c in cars}
    if brand is not None and brand not in brands:
        brand = model = None
    if model is not None and not any(c.model_slug == model and brand in (None, c.brand_slug) for c in cars):
        model = None
    out = set()
    for c in cars:
        if brand is not None and c.brand_slug != brand:
            continue
        if model is not None and c.model_slug != model:
            continue
        ok = True
        for name, attr in (("category", "body_type"), ("fuel", "fuel"), ("transmission", "transmission"),
                           ("drive", "drive")):
            chosen = _many(params, name)
            if chosen and c.data[attr] not in chosen:
                ok = False
        for name, attr, op in (("price_min", "price_eur", int.__ge__), ("price_max", "price_eur", int.__le__),
                               ("year_min", "model_year", int.__ge__), ("year_max", "model_year", int.__le__),
                               ("mileage_max", "mileage_km", int.__le__)):
            limit = _first(params, name)
            if limit is not None and not op(c.data[attr], int(limit)):
                ok = False
        if ok:
            out.add(c.id)
    return out


# --- walking through results ------------------------------------------------------------------------------

def url(path: str, params: Mapping[str, Any] | None = None) -> str:
    if not params:
        return path
    pairs = []
    for k, v in params.items():
        for item in (v if isinstance(v, (list, tuple)) else [v]):
            pairs.append((k, item))
    return f"{path}?{urlencode(pairs)}"


async def get_ok(client: httpx.AsyncClient, target: str, **kw: Any) -> httpx.Response:
    r = await client.get(target, **kw)
    assert r.status_code == 200, (target, r.status_code, r.text[:500])
    return r


async def all_pages(client: httpx.AsyncClient, params: Mapping[str, Any] | None = None) -> list[int]:
    """Every car id over the numbered pages, in order, following the pager's own links."""
    first = await get_ok(client, url("/cars", params))
    total = result_count(first.text)
    ids = result_ids(first.text)
    seen_pages = {1}
    page, text = 1, first.text
    while True:
        nxt = [h for h in pager_hrefs(text) if query_of(h).get("page") == [str(page + 1)]]
        if not nxt:
            break
        page += 1
        assert page not in seen_pages
        seen_pages.add(page)
        text = (await get_ok(client, nxt[0])).text
        assert result_count(text) == total
        ids += result_ids(text)
    assert len(ids) == total, (params, ids, total)
    return ids


async def follow_more(client: httpx.AsyncClient, params: Mapping[str, Any] | None = None, *,
                      fragments: bool = True, between=None, limit: int = 50) -> list[list[int]]:  # noqa: ANN001
    """Batches of ids from the first page and then every 'show more' link, to the end.

    With fragments=True the links are followed as htmx does (HX-Request: the next batch only), otherwise
    as full pages (a browser without JavaScript). `between(step)` runs before each further request.
    """
    first = await get_ok(client, url("/cars", params))
    batches = [result_ids(first.text)]
    href = more_href(first.text)
    step = 0
    while href:
        assert "cursor=" in href and "page=" not in href
        step += 1
        assert step < limit, "show-more links never end"
        if between is not None:
            await between(step)
        if fragments:
            r = await get_ok(client, href, headers=HX)
            assert not is_full_page(r.text)
            batches.append(car_ids(r.text))
        else:
            r = await get_ok(client, href)
            assert is_full_page(r.text)
            batches.append(result_ids(r.text))
        href = more_href(r.text)
    return batches


@contextlib.asynccontextmanager
async def service(client: httpx.AsyncClient) -> AsyncIterator[InventoryService]:
    """The app's own InventoryService (its session factory and cache), as the admin area will use it."""
    k = client.app.state.kroi  # type: ignore[attr-defined]
    async with k.sessionmaker() as session:
        yield InventoryService(session, k.cache)


async def add_car(client: httpx.AsyncClient, *, brand: str = "toyota", model: str = "corolla",
                  features: Iterable[str] = (), **values: Any) -> int:
    """Create a car through InventoryService.create_car (as the admin area will); returns its id."""
    from sqlalchemy import select

    from kroi.db.models import Brand, CarModel, Feature

    fields = {"variant": "Test 1.0", "model_year": 2020, "price_cents": 2_000_000, "mileage_km": 50_000,
              "fuel": "petrol", "transmission": "manual", "drive": "fwd", "body_type": "hatchback",
              "status": "available", "description_fi": "Testiauto.", "description_en": "A test car."}
    fields.update(values)
    async with service(client) as svc:
        b = await svc.session.scalar(select(Brand).where(Brand.slug == brand))
        m = await svc.session.scalar(select(CarModel).where(CarModel.brand_id == b.id, CarModel.slug == model))
        feats = list(await svc.session.scalars(select(Feature).where(Feature.code.in_(list(features))))) if features else []
        car = await svc.create_car(brand=b, model=m, features=feats, **fields)
        return car.id


DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"


def with_settings(settings, **changes):  # noqa: ANN001, ANN003, ANN201
    """A copy of the test settings with some values changed (say a dead Redis URL)."""
    return settings.model_copy(update=changes)
