"""The analytics dashboard (/admin/analytics): rendered on the server, cached for a minute."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, Router, get
from markupsafe import Markup

from kroi.admin.controllers import admin_context, render
from kroi.admin.guards import staff_guard
from kroi.analytics import charts
from kroi.analytics.repositories import STAGES, AnalyticsRepository
from kroi.cache import keys
from kroi.db.models.leads import LEAD_TYPES
from kroi.parsing import parse_int
from kroi.web import i18n
from kroi.web.context import kroi, language

RANGES = (7, 30, 90, 365)
TTL = 60


async def _gather(k, start: date, end: date, since: datetime) -> dict[str, Any]:  # noqa: ANN001
    """Every figure of the dashboard. Three groups run at once, each on a connection of its own: the page
    waits for the slowest group (a year of view rows for the most viewed cars), not for the sum of all."""
    async def group(*calls: tuple[str, Callable[[AnalyticsRepository], Awaitable[Any]]]) -> dict[str, Any]:
        async with k.sessionmaker() as session:
            repo = AnalyticsRepository(session)
            await repo.allow_large_aggregates()
            return {name: await call(repo) for name, call in calls}

    parts = await asyncio.gather(
        group(("most_viewed", lambda r: r.most_viewed(start, end))),
        group(("views", lambda r: r.views_per_day(start, end)), ("inventory", lambda r: r.inventory())),
        group(("leads_per_day", lambda r: r.leads_per_day(since)), ("funnel", lambda r: r.funnel(since)),
              ("most_inquired", lambda r: r.most_inquired(since)),
              ("top_searches", lambda r: r.top_searches(since, zero_results=False)),
              ("empty_searches", lambda r: r.top_searches(since, zero_results=True)),
              ("sources", lambda r: r.leads_by_source(since)), ("days_to_sell", lambda r: r.days_to_sell(since))),
    )
    return {name: value for part in parts for name, value in part.items()}


async def dashboard_html(request: Request, days: int) -> str:
    lang = language(request)
    k = kroi(request)
    # Leads are counted per day in Helsinki time: the range ends on Helsinki's today, not the server's (UTC),
    # or leads of the hours after Helsinki midnight fall outside the chart.
    end = datetime.now(ZoneInfo("Europe/Helsinki")).date()
    start = end - timedelta(days=days - 1)
    since = datetime.combine(start, time.min, timezone.utc)
    day_list = [start + timedelta(days=i) for i in range(days)]
    every = max(1, days // 10)
    data = await _gather(k, start, end, since)

    views = data["views"]
    views_chart = charts.stacked_bars([f"{d.day}.{d.month}." for d in day_list],
                                      {i18n.translate(lang, "an.views"): [views.get(d, 0) for d in day_list]},
                                      i18n.translate(lang, "an.views_per_day"), every=every)
    per_type: dict[str, list[float]] = {i18n.translate(lang, f"lead.type.{t}"): [0] * days for t in LEAD_TYPES}
    for d, t, n in data["leads_per_day"]:
        if start <= d <= end:
            per_type[i18n.translate(lang, f"lead.type.{t}")][(d - start).days] += n
    leads_chart = charts.stacked_bars([f"{d.day}.{d.month}." for d in day_list], per_type,
                                      i18n.translate(lang, "an.leads_per_day"), every=every)
    funnel = data["funnel"]
    funnel_rows = [(i18n.translate(lang, f"lead.status.{s}"), funnel[s]) for s in STAGES]
    conversions = {s: (funnel[s] / funnel["new"] * 100 if funnel["new"] else 0) for s in STAGES}
    ctx = admin_context(
        request, days=days, ranges=RANGES, views_chart=views_chart, leads_chart=leads_chart,
        total_views=sum(views.values()), most_viewed=data["most_viewed"], most_inquired=data["most_inquired"],
        top_searches=data["top_searches"], empty_searches=data["empty_searches"],
        sources=charts.hbars(data["sources"], i18n.translate(lang, "an.sources")),
        funnel_chart=charts.hbars(funnel_rows, i18n.translate(lang, "an.funnel")), funnel=funnel,
        conversions=conversions, days_to_sell=data["days_to_sell"], inventory=data["inventory"],
        cache=k.cache.stats.as_dict(),
    )
    return k.templates.page("admin/_analytics.html", ctx)


@get("/", name="admin:analytics", opt={"role": "viewer"})
async def analytics(request: Request) -> Response:
    days = parse_int(request.query_params.get("days"))
    days = days if days in RANGES else 30
    k = kroi(request)
    key = keys.fragment("analytics", 0, language(request), str(days), str(date.today()))

    async def build() -> str:
        return await dashboard_html(request, days)

    body = await k.cache.get_or_render(key, TTL, build)
    return render(request, "admin/analytics.html", body=Markup(body), days=days, ranges=RANGES)


ROUTER = Router(path="/admin/analytics", guards=[staff_guard], route_handlers=[analytics])
