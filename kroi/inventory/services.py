"""Inventory business rules: resolving a search, car pages, view counting, and car writes with invalidation."""
from __future__ import annotations

import json
import logging
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, timezone
from math import ceil
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.cache import invalidate, keys
from kroi.cache.client import SafeRedis
from kroi.cache.fragments import FragmentCache
from kroi.db.models import Brand, Car, CarModel, CarPriceHistory, Feature
from kroi.inventory.repositories import CarCard, Facets, InventoryRepository
from kroi.inventory.search import CarQuery, Cursor, Note, collapse_typing, parse_query
from kroi.inventory.understand import Name, names, nearest_name, understand

if TYPE_CHECKING:
    from kroi.web.context import Kroi

log = logging.getLogger("kroi.inventory")


def slugify(text: str) -> str:
    text = text.lower().replace("ä", "a").replace("ö", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:200] or "auto"


@dataclass(frozen=True)
class Vocabulary:
    """Brands and models, small and rarely changed: kept in process memory per inventory generation."""

    brands: tuple[Brand, ...]
    models: tuple[CarModel, ...]
    features: tuple[Feature, ...] = ()

    def brand(self, slug: str) -> Brand | None:
        return next((b for b in self.brands if b.slug == slug), None)

    def model(self, brand_id: int | None, slug: str) -> CarModel | None:
        return next((m for m in self.models if m.slug == slug and brand_id in (None, m.brand_id)), None)

    def feature(self, code: str) -> Feature | None:
        return next((f for f in self.features if f.code == code), None)

    def chip_names(self, brand_id: int | None, model_id: int | None) -> dict:
        """What chips need that a query alone cannot say: the make, model and equipment names."""
        names: dict = {"features": {f.code: (f.name_fi, f.name_en) for f in self.features}}
        if brand_id is not None:
            names["brand"] = next((b.name for b in self.brands if b.id == brand_id), None)
        if model_id is not None:
            names["model"] = next((m.name for m in self.models if m.id == model_id), None)
        return names

    @cached_property
    def names(self) -> list[Name]:
        """Make and model names as the search understands them (kroi.inventory.understand)."""
        return names(self.brands, self.models)


@dataclass
class Resolved:
    """A CarQuery whose brand and model slugs were looked up."""

    query: CarQuery
    brand_id: int | None
    model_id: int | None
    notes: list[Note] = field(default_factory=list)
    typed_q: str | None = None  # the search as typed, before its filter words became filters


@dataclass
class Listing:
    cards: list[CarCard]
    total: int
    page: int
    pages: int
    next_cursor: Cursor | None


class CarGone(Exception):
    """The car existed but was deleted (410)."""


class InventoryService:
    def __init__(self, session: AsyncSession, cache: FragmentCache, state: SafeRedis | None = None) -> None:
        """`state` is the Redis that never evicts (KROI_STATE_REDIS_URL), for the view and search buffers; without
        it they share the cache's Redis (one-server set-ups, tests and scripts)."""
        self.session = session
        self.cache = cache
        self.state = state if state is not None else cache.safe
        self.repo = InventoryRepository(session)

    @classmethod
    def of(cls, k: Kroi, session: AsyncSession) -> InventoryService:
        """The service as the app runs it: the fragment cache, and the state Redis for the buffers."""
        return cls(session, k.cache, k.safe_redis)

    async def vocabulary(self, generation: int | None) -> Vocabulary:
        """Brands and models; reused from process memory while the inventory generation is unchanged."""
        memo = self.cache.local.get("vocabulary")
        if generation is not None and memo is not None and memo[0] == generation:
            return memo[1]
        vocab = Vocabulary(tuple(await self.repo.brands()), tuple(await self.repo.models()),
                           tuple(await self.repo.features()))
        if generation is not None:
            self.cache.local["vocabulary"] = (generation, vocab)
        return vocab

    async def resolve(self, query: CarQuery, notes: list[Note], vocab: Vocabulary) -> Resolved:
        """Look up slugs and codes; words of q that name a filter become that filter (the rest stays in q)."""
        typed_q = query.q
        understood = understand(query, vocab.names)
        query = understood.query
        if understood.corrected:
            notes.insert(0, Note("note.showing_for", value=understood.corrected))
        brand_id = model_id = None
        if query.brand:
            brand = vocab.brand(query.brand)
            if brand is None:
                notes.append(Note("note.unknown_value", "brand", query.brand))
                query = _replace(query, brand=None, model=None)
            else:
                brand_id = brand.id
        if query.model:
            model = vocab.model(brand_id, query.model)
            if model is None:
                key = "note.model_mismatch" if brand_id is not None else "note.unknown_value"
                notes.append(Note(key, "model", query.model))
                query = _replace(query, model=None)
            else:
                model_id = model.id
        unknown = [code for code in query.equipment if vocab.feature(code) is None]
        if unknown:
            notes.extend(Note("note.unknown_value", "equipment", code) for code in unknown)
            query = _replace(query, equipment=tuple(c for c in query.equipment if c not in unknown))
        return Resolved(query, brand_id, model_id, notes, typed_q)

    async def count(self, query: CarQuery, vocab: Vocabulary) -> int:
        r = await self.resolve(query, [], vocab)
        return await self.repo.count(r.query, r.brand_id, r.model_id)

    async def spelling(self, r: Resolved, vocab: Vocabulary) -> tuple[str, CarQuery] | None:
        """A search that gave nothing: the nearest make or model to a word of its text, as (name, query)."""
        words = (r.query.q or "").split()
        for word in words:
            name = nearest_name(word, vocab.names)
            if name is None:
                continue
            rest = " ".join(w for w in words if w != word) or None
            return name.label, _replace(r.query, q=rest, brand=name.brand, model=name.model, page=1, cursor=None)
        return None

    async def describe_search(self, url: str, lang: str, generation: int | None) -> str | None:
        """A /cars search URL in words ("Toyota, Hybridi, Haku: punainen") for a lead's message; None if empty."""
        from kroi.inventory.chips import active_chips

        vocab = await self.vocabulary(generation)
        query, notes = parse_query(parse_qs(urlsplit(url).query))
        r = await self.resolve(query, notes, vocab)
        return ", ".join(c.label for c in active_chips(r.query, lang, vocab.chip_names(r.brand_id, r.model_id))) or None

    async def facets(self, r: Resolved) -> Facets:
        return await self.repo.facets(r.query, r.brand_id, r.model_id)

    async def listing(self, r: Resolved, total: int, page_size: int) -> Listing:
        q = r.query
        pages = max(1, ceil(total / page_size))
        page = min(q.page, pages)
        if q.cursor is not None:
            cards = await self.repo.list_cards(q, r.brand_id, r.model_id, limit=page_size + 1, cursor=q.cursor)
        else:
            cards = await self.repo.list_cards(q, r.brand_id, r.model_id, limit=page_size + 1,
                                               offset=(page - 1) * page_size)
        has_more = len(cards) > page_size
        cards = cards[:page_size]
        next_cursor = Cursor(q.sort, cards[-1].sort_value(q.sort), cards[-1].id) if has_more and cards else None
        return Listing(cards=cards, total=total, page=page, pages=pages, next_cursor=next_cursor)

    async def car(self, car_id: int) -> Car | None:
        """A car for its public page; None when unknown or a draft, CarGone when deleted."""
        car = await self.repo.get_car(car_id)
        if car is None or car.status == "draft":
            return None
        if car.deleted_at is not None:
            raise CarGone(car_id)
        return car

    # --- view counting ------------------------------------------------------------------------------------
    async def record_view(self, car_id: int) -> None:
        """Count a view in Redis (flushed to car_views in batches); straight to the database if Redis is down."""
        ok = await self.state.run(lambda r: r.hincrby(keys.pending_views(), str(car_id), 1), None)
        if ok is None:
            await self.repo.add_views({car_id: 1}, _today())
            await self.session.commit()

    async def flush_views(self) -> int:
        """Move buffered view counts into car_views; returns how many views were written."""
        token = secrets.token_hex(8)
        flushing = keys.flushing_views(token)

        async def take(r):  # noqa: ANN001, ANN202
            # RENAME is atomic: increments that arrive meanwhile start a new hash.
            if not await r.exists(keys.pending_views()):
                return {}
            await r.rename(keys.pending_views(), flushing)
            return await r.hgetall(flushing)

        raw = await self.state.run(take, None)
        if not raw:
            return 0
        counts = {int(k): int(v) for k, v in raw.items()}
        try:
            await self.repo.add_views(counts, _today())
            await self.session.commit()
        except Exception:
            await self.session.rollback()
            # Put the counts back so that a database hiccup loses no views.
            async def restore(r):  # noqa: ANN001, ANN202
                async with r.pipeline(transaction=False) as p:
                    for car_id, n in counts.items():
                        p.hincrby(keys.pending_views(), str(car_id), n)
                    await p.execute()
            await self.state.run(restore, None)
            raise
        await self.state.run(lambda r: r.delete(flushing), None)
        return sum(counts.values())

    async def record_search(self, q: str, filters: dict, results: int, language: str, who: str = "") -> None:
        """Remember a shopper's text search (for the analytics), buffered in Redis like the views.

        `who` (a digest of the client, never stored in the database) lets the flush collapse the searches
        a shopper typed on through (search.collapse_typing).
        """
        if len(q) < 2:
            return
        record = {"q": q[:200], "filters": {k: v for k, v in filters.items() if v not in (None, (), False) and k != "q"},
                  "results": results, "lang": language, "who": who, "at": time.time()}
        ok = await self.state.run(lambda r: r.rpush(keys.pending_searches(), json.dumps(record)), None)
        if ok is None:
            await self.repo.add_searches([record])
            await self.session.commit()

    async def flush_searches(self) -> int:
        flushing = keys.flushing_views("searches-" + secrets.token_hex(8))

        async def take(r):  # noqa: ANN001, ANN202
            if not await r.exists(keys.pending_searches()):
                return []
            await r.rename(keys.pending_searches(), flushing)
            return await r.lrange(flushing, 0, -1)

        raw = await self.state.run(take, None)
        if not raw:
            return 0
        await self.repo.add_searches(collapse_typing([json.loads(item) for item in raw]))
        await self.session.commit()
        await self.state.run(lambda r: r.delete(flushing), None)
        return len(raw)

    # --- writes (the admin area builds on these) -------------------------------------------------------
    async def create_car(self, *, brand: Brand, model: CarModel, features: list[Feature] = (), **values) -> Car:
        car = Car(brand_id=brand.id, model_id=model.id, **values)
        if not car.title:
            car.title = " ".join(p for p in (brand.name, model.name, car.variant) if p)
        car.slug = slugify(car.title)
        if car.status != "draft" and car.published_at is None:
            car.published_at = _now()
        if car.status == "sold" and car.sold_at is None:
            car.sold_at = _now()
        car.search_names = f"{brand.name} {model.name}"
        car.search_equipment = " ".join(f"{f.name_fi} {f.name_en}" for f in features)
        self.session.add(car)
        await self.session.flush()
        if features:
            from kroi.db.models import CarFeature

            self.session.add_all([CarFeature(car_id=car.id, feature_id=f.id) for f in features])
        self.session.add(CarPriceHistory(car_id=car.id, old_price_cents=None, new_price_cents=car.price_cents))
        await self.session.commit()
        await invalidate.car_changed(self.cache, car.id)
        return car

    async def change_price(self, car_id: int, price_cents: int, user_id: int | None = None) -> None:
        """Price change with history and invalidation (the staff editor does the work)."""
        if not await self._editor().set_price(car_id, price_cents, actor_id=user_id):
            await self._exists(car_id)

    async def set_status(self, car_id: int, status: str) -> None:
        await self._editor().set_status([car_id], status, strict=False)

    async def soft_delete(self, car_id: int) -> None:
        if not await self._editor().delete([car_id]):
            await self._exists(car_id)

    def _editor(self):  # noqa: ANN202
        from kroi.inventory.editing import CarEditService

        return CarEditService(self.session, self.cache)

    async def _exists(self, car_id: int) -> None:
        if await self.session.scalar(select(Car.id).where(Car.id == car_id)) is None:
            raise LookupError(car_id)


def _replace(query: CarQuery, **changes) -> CarQuery:  # noqa: ANN003
    from dataclasses import replace

    return replace(query, **changes)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _today() -> date:
    return datetime.now(timezone.utc).date()
