"""SQL of saved searches: subscriptions, the changes since the job's mark, matching, hits and their mailing."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, and_, any_, bindparam, case, delete, func, select, text, true, update
from sqlalchemy.dialects.postgresql import ARRAY, array, insert
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import AlertRun, Car, SavedSearch, SavedSearchHit
from kroi.inventory.repositories import LISTED, InventoryRepository
from kroi.inventory.services import Resolved

MATCH_CHUNK = 500  # searches evaluated per pass over the changed cars (one CASE per search in the select list)
CAR_CHUNK = 5000  # changed cars per pass: each pass costs the statement's build and planning again


@dataclass(frozen=True)
class Change:
    """A car that became listed (kind 'new') or got cheaper ('drop') since the job's mark."""

    car_id: int
    kind: str
    old_price_cents: int | None
    price_cents: int
    at: datetime


@dataclass(frozen=True)
class HitCar:
    saved_search_id: int
    car_id: int
    kind: str
    old_price_cents: int | None
    price_cents: int
    title: str
    slug: str
    mileage_km: int


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- subscriptions ------------------------------------------------------------------------------------
    async def insert_pending(self, email: str, query: str, frequency: str, language: str, consent: str) -> None:
        await self.session.execute(insert(SavedSearch).values(
            email=email, query=query, frequency=frequency, language=language, consent_text=consent,
        ).on_conflict_do_nothing())

    async def find(self, email: str, query: str) -> SavedSearch | None:
        return await self.session.scalar(select(SavedSearch).where(
            func.lower(SavedSearch.email) == email.lower(), SavedSearch.query == query).with_for_update())

    async def get(self, saved_search_id: int) -> SavedSearch | None:
        return await self.session.get(SavedSearch, saved_search_id, with_for_update=True)

    async def of_address(self, email: str) -> list[SavedSearch]:
        return list((await self.session.scalars(select(SavedSearch).where(
            func.lower(SavedSearch.email) == email.lower(), SavedSearch.status == "active")
            .order_by(SavedSearch.id))).all())

    async def delete(self, email: str, saved_search_id: int | None = None) -> int:
        stmt = delete(SavedSearch).where(func.lower(SavedSearch.email) == email.lower())
        if saved_search_id is not None:
            stmt = stmt.where(SavedSearch.id == saved_search_id)
        return (await self.session.execute(stmt)).rowcount or 0

    async def set_frequency(self, email: str, saved_search_id: int, frequency: str) -> int:
        return (await self.session.execute(update(SavedSearch).where(
            func.lower(SavedSearch.email) == email.lower(), SavedSearch.id == saved_search_id)
            .values(frequency=frequency))).rowcount or 0

    async def active(self) -> list[SavedSearch]:
        return list((await self.session.scalars(select(SavedSearch).where(SavedSearch.status == "active"))).all())

    # --- the job's mark -----------------------------------------------------------------------------------
    async def lock_run(self) -> AlertRun | None:
        """The job's row, locked for this transaction; None while another worker holds it (it is running)."""
        await self.session.execute(insert(AlertRun).values(
            id=1, checked_until=func.now() - text("interval '1 day'")).on_conflict_do_nothing())
        return await self.session.scalar(select(AlertRun).where(AlertRun.id == 1)
                                         .with_for_update(skip_locked=True))

    async def now(self) -> datetime:
        return await self.session.scalar(select(func.now()))

    # --- changes and matching -----------------------------------------------------------------------------
    async def changes(self, since: datetime, until: datetime) -> list[Change]:
        """Cars listed in (since, until], and listed cars whose price is now below what it was at `since`."""
        new = await self.session.execute(
            select(Car.id, Car.price_cents, Car.published_at)
            .where(LISTED, Car.published_at > since, Car.published_at <= until))
        out = {car_id: Change(car_id, "new", None, price, at) for car_id, price, at in new.all()}
        drops = await self.session.execute(text(
            "SELECT h.car_id, (array_agg(h.old_price_cents ORDER BY h.changed_at, h.id))[1] AS old_price, "
            "cars.price_cents, max(h.changed_at) AS at "
            "FROM car_price_history h JOIN cars ON cars.id = h.car_id "
            "WHERE h.changed_at > :since AND h.changed_at <= :until AND h.old_price_cents IS NOT NULL "
            f"AND {LISTED.text} GROUP BY h.car_id, cars.price_cents"
        ), {"since": since, "until": until})
        for car_id, old_price, price, at in drops.all():
            if car_id not in out and old_price is not None and price < old_price:
                out[car_id] = Change(car_id, "drop", old_price, price, at)
        return list(out.values())

    async def match(self, car_ids: Sequence[int], searches: Sequence[tuple[str, Resolved]]) -> dict[str, list[int]]:
        """For each search (key, resolved /cars query): which of these cars /cars would list for it.

        The conditions are the listing's own (InventoryRepository._conditions), so an alert matches exactly
        what /cars shows. One pass over the changed cars per MATCH_CHUNK searches: each search is a CASE in
        the select list, and PostgreSQL returns per car the indexes of the searches it matches."""
        if not car_ids or not searches:
            return {}
        inventory = InventoryRepository(self.session)
        found: dict[str, list[int]] = {}
        car_ids = list(car_ids)
        all_ids = bindparam("ids", car_ids, type_=ARRAY(BigInteger))
        # An equipment filter's EXISTS inside a CASE is planned as a hashed subplan reading every car's equipment
        # once per search; as a WHERE of its own it is a semi-join on the changed cars. So those run one by one.
        with_equipment = [(key, r) for key, r in searches if r.query.equipment]
        for key, r in with_equipment:
            rows = await self.session.scalars(select(Car.id).where(
                *inventory._conditions(r.query, r.brand_id, r.model_id), Car.id == any_(all_ids)))
            hits = list(rows.all())
            if hits:
                found[key] = hits
        searches = [(key, r) for key, r in searches if not r.query.equipment]
        for start in range(0, len(searches), MATCH_CHUNK):
            part = searches[start:start + MATCH_CHUNK]
            cases = []
            for i, (_, r) in enumerate(part):
                conds = [c for c in inventory._conditions(r.query, r.brand_id, r.model_id) if c is not LISTED]
                cases.append(case((and_(true(), *conds), i)))
            matched = func.array_remove(array(cases), None)
            for car_start in range(0, len(car_ids), CAR_CHUNK):
                ids = bindparam("ids", car_ids[car_start:car_start + CAR_CHUNK], type_=ARRAY(BigInteger))
                rows = await self.session.execute(select(Car.id, matched).where(LISTED, Car.id == any_(ids)))
                for car_id, indexes in rows.all():
                    for i in indexes:
                        found.setdefault(part[i][0], []).append(car_id)
        return found

    async def record_hits(self, hits: Sequence[tuple[int, Change]], immediate: set[int],
                          first: int) -> tuple[int, dict[int, tuple[int, list[int]]]]:
        """Insert (saved search, car) hits; a car is alerted once per search, so hits already recorded are skipped.

        The hits of immediate searches are mailed in this same transaction, so they are stored as mailed at once
        (no second pass to mark them). Returns how many hits were new, and per immediate search with new hits
        their number and the first `first` car ids (what its mail lists). Aggregated in the database: a busy day
        is over a million hits, and sending each back to Python would cost more than inserting it."""
        if not hits:
            return 0, {}
        result = await self.session.execute(text(
            "WITH ins AS (INSERT INTO saved_search_hits "
            "(saved_search_id, car_id, kind, old_price_cents, price_cents, mailed_at) "
            "SELECT s, c, k, o, p, CASE WHEN m THEN now() END FROM unnest(CAST(:s AS bigint[]), "
            "CAST(:c AS bigint[]), CAST(:k AS varchar[]), CAST(:o AS bigint[]), CAST(:p AS bigint[]), "
            "CAST(:m AS boolean[])) AS h(s, c, k, o, p, m) "
            "ON CONFLICT DO NOTHING RETURNING saved_search_id, car_id, mailed_at IS NOT NULL AS mailed) "
            "SELECT NULL, count(*), NULL FROM ins UNION ALL "
            "SELECT saved_search_id, count(*), (array_agg(car_id ORDER BY car_id))[1:CAST(:first AS int)] "
            "FROM ins WHERE mailed GROUP BY saved_search_id"
        ), {"s": [s for s, _ in hits], "c": [ch.car_id for _, ch in hits], "k": [ch.kind for _, ch in hits],
            "o": [ch.old_price_cents for _, ch in hits], "p": [ch.price_cents for _, ch in hits],
            "m": [s in immediate for s, _ in hits], "first": first})
        new, mails = 0, {}
        for sid, n, car_ids in result.all():
            if sid is None:
                new = n
            else:
                mails[sid] = (n, list(car_ids))
        return new, mails

    async def car_lines(self, car_ids: Sequence[int]) -> dict[int, tuple[str, str, int]]:
        """What a mail says about each car besides its change: title, slug and mileage."""
        rows = await self.session.execute(select(Car.id, Car.title, Car.slug, Car.mileage_km).where(
            Car.id == any_(bindparam("ids", list(car_ids), type_=ARRAY(BigInteger)))))
        return {car_id: (title, slug, km) for car_id, title, slug, km in rows.all()}

    async def unmailed(self, first: int) -> dict[int, tuple[int, list[HitCar]]]:
        """Hits waiting for the digest, per search: how many, and the first `first` (oldest first)."""
        h = SavedSearchHit
        ranked = (select(h, func.row_number().over(partition_by=h.saved_search_id,
                                                    order_by=(h.created_at, h.car_id)).label("n"),
                         func.count().over(partition_by=h.saved_search_id).label("total"))
                  .where(h.mailed_at.is_(None)).subquery())
        stmt = (select(ranked.c.saved_search_id, ranked.c.car_id, ranked.c.kind, ranked.c.old_price_cents,
                       ranked.c.price_cents, Car.title, Car.slug, Car.mileage_km, ranked.c.total)
                .join(Car, Car.id == ranked.c.car_id).where(ranked.c.n <= first)
                .order_by(ranked.c.saved_search_id, ranked.c.n))
        out: dict[int, tuple[int, list[HitCar]]] = {}
        for *row, total in (await self.session.execute(stmt)).all():
            out.setdefault(row[0], (total, []))[1].append(HitCar(*row))
        return out

    async def mark_mailed(self, saved_search_ids: Sequence[int]) -> None:
        await self.session.execute(update(SavedSearchHit).where(
            SavedSearchHit.saved_search_id == any_(bindparam("subs", list(saved_search_ids),
                                                             type_=ARRAY(BigInteger))),
            SavedSearchHit.mailed_at.is_(None)).values(mailed_at=func.now()))

    async def searches_by_id(self, ids: Sequence[int]) -> dict[int, SavedSearch]:
        rows = await self.session.scalars(select(SavedSearch).where(
            SavedSearch.id == any_(bindparam("ids", list(ids), type_=ARRAY(BigInteger)))))
        return {s.id: s for s in rows.all()}
