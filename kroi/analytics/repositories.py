"""The analytics queries; each reads aggregated or indexed data so the dashboard stays fast at 100,000 cars."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Date, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import Car, CarView, Lead, LeadActivity, SearchQuery
from kroi.inventory.repositories import LISTED

STAGES = ("new", "contacted", "qualified", "negotiating", "won")


class AnalyticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def views_per_day(self, start: date, end: date) -> dict[date, int]:
        rows = await self.session.execute(
            select(CarView.view_date, func.sum(CarView.views)).where(CarView.view_date.between(start, end))
            .group_by(CarView.view_date))
        return {d: int(n) for d, n in rows.all()}

    async def most_viewed(self, start: date, end: date, limit: int = 10) -> list[tuple[str, int, int]]:
        top = (select(CarView.car_id, func.sum(CarView.views).label("n"))
               .where(CarView.view_date.between(start, end)).group_by(CarView.car_id)
               .order_by(text("n DESC")).limit(limit).subquery())
        # The planner prices hashing 100,000 cars' rows below streaming them in car order through
        # ix_car_views_car_totals, which is 3x faster for a year (0.95 -> 0.3 s) and no slower for a week.
        await self.session.execute(text("SET LOCAL enable_hashagg = off"))
        rows = await self.session.execute(
            select(Car.title, Car.id, top.c.n).join(top, top.c.car_id == Car.id).order_by(top.c.n.desc()))
        await self.session.execute(text("SET LOCAL enable_hashagg = on"))
        return [(t, i, int(n)) for t, i, n in rows.all()]

    async def most_inquired(self, since: datetime, limit: int = 10) -> list[tuple[str, int, int]]:
        top = (select(Lead.car_id, func.count().label("n")).where(Lead.car_id.is_not(None), Lead.created_at >= since)
               .group_by(Lead.car_id).order_by(text("n DESC")).limit(limit).subquery())
        rows = await self.session.execute(
            select(Car.title, Car.id, top.c.n).join(top, top.c.car_id == Car.id).order_by(top.c.n.desc()))
        return [(t, i, int(n)) for t, i, n in rows.all()]

    async def top_searches(self, since: datetime, *, zero_results: bool, limit: int = 10) -> list[tuple[str, int]]:
        q = func.lower(SearchQuery.query)
        stmt = select(q, func.count()).where(SearchQuery.created_at >= since)
        if zero_results:
            stmt = stmt.where(SearchQuery.results_count == 0)
        rows = await self.session.execute(stmt.group_by(q).order_by(func.count().desc(), q).limit(limit))
        return [(s, int(n)) for s, n in rows.all()]

    async def leads_per_day(self, since: datetime) -> list[tuple[date, str, int]]:
        day = cast(func.timezone("Europe/Helsinki", Lead.created_at), Date)
        rows = await self.session.execute(
            select(day, Lead.type, func.count()).where(Lead.created_at >= since).group_by(day, Lead.type))
        return [(d, t, int(n)) for d, t, n in rows.all()]

    async def leads_by_source(self, since: datetime) -> list[tuple[str, int]]:
        source = func.coalesce(Lead.utm_source, func.split_part(Lead.source_page, "/", 2), "?")
        rows = await self.session.execute(
            select(source, func.count()).where(Lead.created_at >= since).group_by(source)
            .order_by(func.count().desc()).limit(10))
        return [(s or "?", int(n)) for s, n in rows.all()]

    async def funnel(self, since: datetime) -> dict[str, int]:
        """How many leads reached each stage (a lost lead counts for the stages it passed)."""
        rank = {s: i for i, s in enumerate(STAGES)}
        leads = (await self.session.execute(
            select(Lead.id, Lead.status).where(Lead.created_at >= since))).all()
        reached = {lead_id: rank.get(status, 0) for lead_id, status in leads}
        if reached:
            moves = await self.session.execute(
                select(LeadActivity.lead_id, LeadActivity.details["to"].astext)
                .where(LeadActivity.kind == "status_changed", LeadActivity.created_at >= since))
            for lead_id, to in moves.all():
                if lead_id in reached and to in rank:
                    reached[lead_id] = max(reached[lead_id], rank[to])
        return {stage: sum(1 for r in reached.values() if r >= i) for i, stage in enumerate(STAGES)}

    async def days_to_sell(self, since: datetime) -> float | None:
        value = await self.session.scalar(
            select(func.avg(func.extract("epoch", Car.sold_at - Car.published_at) / 86400))
            .where(Car.status == "sold", Car.sold_at >= since, Car.published_at.is_not(None)))
        return float(value) if value is not None else None

    async def inventory(self) -> dict[str, Any]:
        """Count, value, average age and age buckets of the cars for sale, in one pass over them."""
        now = datetime.now(timezone.utc)
        spans = (("0–30", 0, 30), ("31–60", 31, 60), ("61–90", 61, 90), ("90+", 91, 100000))
        bucket_counts = [func.count().filter(Car.published_at <= now - timedelta(days=low),
                                             Car.published_at > now - timedelta(days=high + 1))
                         for _, low, high in spans]
        count, value, avg_age, *buckets = (await self.session.execute(
            select(func.count(), func.coalesce(func.sum(Car.price_cents), 0),
                   func.avg(func.extract("epoch", func.now() - Car.published_at) / 86400), *bucket_counts)
            .where(LISTED))).one()
        return {"count": int(count), "value_cents": int(value), "avg_age_days": float(avg_age or 0),
                "age_buckets": {label: int(n) for (label, _, _), n in zip(spans, buckets)}}

    async def allow_large_aggregates(self) -> None:
        """Group a year of view rows (100,000 cars) in memory: at the default 4 MB work_mem the hash aggregate
        spilled to disk in five batches. For this transaction only."""
        await self.session.execute(text("SET LOCAL work_mem = '32MB'"))
        # The dashboard runs its query groups side by side already; parallel workers on top of that
        # only oversubscribe the cores.
        await self.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
