"""The analytics dashboard renders for every range with seeded and generated views, leads and searches; its SVG
charts are there and every label from the data is escaped."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import as_admin
from kroi.db.models import CarView, Lead, SearchQuery
from kroi.web import i18n
from kroi.web.formatting import group_thousands
from support import get_ok

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
__all__ = ["as_admin"]

# (days ago, car key, views)
VIEWS = [(0, "xc60", 10), (0, "golf", 5), (3, "xc60", 7), (20, "golf", 100), (60, "xc60", 1000),
         (200, "golf", 10000)]
TOTALS = {7: 22, 30: 122, 90: 1122, 365: 11122}


def fi(key: str, **params: object) -> str:
    return i18n.translate("fi", key, **params)


def chart_after(page: str, heading_key: str) -> str:
    section = page.split(f"<h2>{fi(heading_key)}</h2>", 1)[1]
    return section[:section.index("</svg>") + 6]


@pytest.fixture
async def activity(db: AsyncSession, by_key) -> None:  # noqa: ANN001
    today = date.today()
    db.add_all([CarView(car_id=by_key[k].id, view_date=today - timedelta(days=d), views=n) for d, k, n in VIEWS])
    now = datetime.now(timezone.utc)
    for days, kind, source in ((1, "financing", "<b>evil</b>"), (10, "trade_in", "newsletter"),
                               (100, "general", None)):
        db.add(Lead(type=kind, name="Testi Liidi", email="t@example.fi", message="", consent_text="ok",
                    consent_at=now, utm_source=source, source_page="/cars", created_at=now - timedelta(days=days)))
    db.add_all([SearchQuery(query="<script>alert(1)</script>", results_count=0, created_at=now - timedelta(days=2)),
                SearchQuery(query="volvo", results_count=1, created_at=now - timedelta(days=2))])
    await db.execute(text("UPDATE cars SET title = 'Volvo XC60 <i>T8</i>' WHERE id = :i"), {"i": by_key["xc60"].id})
    await db.commit()


@pytest.mark.parametrize("days", [7, 30, 90, 365])
async def test_dashboard_renders_each_range_with_escaped_charts(client, as_admin, activity, days: int) -> None:  # noqa: ANN001
    page = (await get_ok(client, f"/admin/analytics?days={days}")).text
    assert re.search(rf'<a href="/admin/analytics\?days={days}" aria-current="page">', page)
    assert page.count('<svg class="chart"') == 4
    views = re.search(rf"<h2>{fi('an.views')}</h2><p class=\"big-number\">([^<]+)</p>", page).group(1)
    assert views == group_thousands(TOTALS[days])
    bars = re.findall(r"<rect [^>]*><title>([^<]+)</title></rect>", chart_after(page, "an.views_per_day"))
    assert len(bars) == sum(1 for d in {d for d, _, _ in VIEWS} if d < days)
    # Labels that come from the data are escaped wherever they are shown.
    assert "<b>evil" not in page and "<i>T8" not in page and "<script>alert" not in page
    assert "Volvo XC60 &lt;i&gt;T8&lt;/i&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    sources = chart_after(page, "an.sources")
    assert "&lt;b&gt;evil&lt;/b&gt;" in sources
    leads_chart = chart_after(page, "an.leads_per_day")
    assert fi("lead.type.financing") in leads_chart
    # Leads per day: the sample leads (today) and the generated ones inside the range.
    expected_leads = 3 + sum(1 for d in (1, 10, 100) if d < days)
    assert sum(int(n) for n in re.findall(r": (\d+)</title></rect>", leads_chart)) == expected_leads


async def test_unknown_range_falls_back_to_30_days_and_is_cached(client, as_admin, activity) -> None:  # noqa: ANN001
    page = (await get_ok(client, "/admin/analytics?days=12")).text
    assert '<a href="/admin/analytics?days=30" aria-current="page">' in page
    stats = client.app.state.kroi.cache.stats
    before = (stats.hits, stats.misses)
    again = (await get_ok(client, "/admin/analytics?days=30")).text
    assert stats.hits == before[0] + 1 and stats.misses == before[1]
    assert again.count('<svg class="chart"') == 4
