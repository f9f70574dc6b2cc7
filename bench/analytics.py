"""Analytics dashboard benchmark: 100,000 demo cars and 1,000,000 view events, then render /admin/analytics.

Usage: `.venv/bin/python bench/analytics.py [--cars 100000] [--views 1000000]` (the test servers from
KROI_TEST_DATABASE_URL / KROI_TEST_REDIS_URL, or embedded ones). Results: bench/results/analytics.md.
The view events are stored as they are in production: counted per car per day in car_views.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database, write_results  # noqa: E402

from sqlalchemy import text  # noqa: E402

from kroi.db.session import make_engine, make_sessionmaker  # noqa: E402
from kroi.seeding.demo import load_demo  # noqa: E402
from kroi.seeding.original import seed_all  # noqa: E402
from kroi.settings import Settings  # noqa: E402
from kroi.storage import LocalStorage  # noqa: E402


async def fill(settings: Settings, cars: int, views: int, media: Path) -> dict[str, float]:
    engine = make_engine(settings, command_timeout=None)  # one INSERT of a million view events
    timings = {}
    async with make_sessionmaker(engine)() as session:
        await seed_all(session, LocalStorage(media), "bench@example.test", "bench-password-long-enough")
        t = time.perf_counter()
        await load_demo(session, cars, LocalStorage(media))
        timings["load_cars_s"] = time.perf_counter() - t
    async with engine.begin() as conn:
        t = time.perf_counter()
        # `views` events spread over 365 days and a skewed choice of cars (popular cars get most views),
        # summed per car and day exactly as the view buffer flush does.
        await conn.execute(text("""
            INSERT INTO car_views (car_id, view_date, views)
            SELECT car_id, view_date, count(*) FROM (
              SELECT (SELECT min(id) FROM cars) + floor(power(random(), 3) * :ncars)::bigint AS car_id,
                     current_date - floor(random() * 365)::int AS view_date
              FROM generate_series(1, :views)) e
            WHERE car_id IN (SELECT id FROM cars)
            GROUP BY car_id, view_date
            ON CONFLICT (car_id, view_date) DO UPDATE SET views = car_views.views + EXCLUDED.views
        """), {"ncars": cars, "views": views})
        # 20,000 leads over the year, with a status history, and 50,000 searches.
        await conn.execute(text("""
            INSERT INTO leads (type, status, lost_reason, score, priority, name, email, message, consent_text,
                               consent_at, car_id, car_price_cents, source_page, created_at, utm_source)
            SELECT (ARRAY['general','car_inquiry','test_drive','trade_in','financing'])[1 + (g % 5)],
                   (ARRAY['new','contacted','qualified','negotiating','won','lost'])[1 + (g % 6)],
                   CASE WHEN g % 6 = 5 THEN 'price' END, 10 + g % 90,
                   (ARRAY['high','normal','low'])[1 + (g % 3)], 'Bench ' || g, 'bench' || g || '@example.test',
                   'hello', 'bench', now(), (SELECT min(id) FROM cars) + (g * 7919) % :ncars, 1500000,
                   '/cars', now() - (g % 365) * interval '1 day', (ARRAY['google','facebook',NULL])[1 + g % 3]
            FROM generate_series(1, 20000) g
        """), {"ncars": cars})
        await conn.execute(text("""
            INSERT INTO search_queries (query, results_count, created_at)
            SELECT (ARRAY['toyota','volvo xc60','hybrid','farmari','tesla','vetokoukku','lamborghini'])[1 + g % 7],
                   CASE WHEN g % 7 = 6 THEN 0 ELSE 10 + g % 100 END, now() - (g % 365) * interval '1 day'
            FROM generate_series(1, 50000) g
        """))
        await conn.execute(text("""
            UPDATE cars SET status = 'sold', sold_at = published_at + (id % 60 + 1) * interval '1 day'
            WHERE id % 10 = 0 AND status IN ('available', 'reserved') AND published_at IS NOT NULL
              AND published_at + (id % 60 + 1) * interval '1 day' < now()
        """))
        timings["fill_views_leads_s"] = time.perf_counter() - t
        await conn.execute(text("ANALYZE"))
    # As autovacuum leaves a table whose past days are never written again: the visibility map set, so the
    # most-viewed sum is an index-only scan (without it, every one of its ~900,000 rows is a heap fetch).
    async with engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM (ANALYZE) car_views"))
    async with engine.begin() as conn:
        counts = (await conn.execute(text(
            "SELECT (SELECT count(*) FROM cars), (SELECT coalesce(sum(views), 0) FROM car_views), "
            "(SELECT count(*) FROM car_views), (SELECT count(*) FROM leads)"))).one()
    await engine.dispose()
    timings.update(cars=counts[0], view_events=counts[1], car_view_rows=counts[2], leads=counts[3])
    return timings


async def measure(settings: Settings, days: int, runs: int) -> list[float]:
    """Every query the dashboard runs for a range, as the page runs them (kroi.analytics.admin._gather: three
    groups at once on their own connections), cold: without the one-minute fragment cache."""
    from datetime import date, datetime, time as dtime, timedelta, timezone
    from types import SimpleNamespace

    from kroi.analytics.admin import _gather

    engine = make_engine(settings)
    app_like = SimpleNamespace(sessionmaker=make_sessionmaker(engine))
    out = []
    for _ in range(runs):
        end = date.today()
        start = end - timedelta(days=days - 1)
        since = datetime.combine(start, dtime.min, timezone.utc)
        t = time.perf_counter()
        await _gather(app_like, start, end, since)
        out.append(time.perf_counter() - t)
    await engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cars", type=int, default=100_000)
    parser.add_argument("--views", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with bench_database("kroi_bench_analytics") as bench:
        settings = bench.settings
        filled = asyncio.run(fill(settings, args.cars, args.views, settings.media_dir))
        results = {days: asyncio.run(measure(settings, days, args.runs)) for days in (7, 30, 90, 365)}
    lines = [
        "# Analytics dashboard benchmark",
        "",
        bench.machine(shared=False),
        f"Data: {filled['cars']:,} cars, {filled['view_events']:,} view events in {filled['car_view_rows']:,} "
        f"car_views rows (per car per day), {filled['leads']:,} leads, 50,000 searches.",
        f"Loading the cars took {filled['load_cars_s']:.1f} s; views, leads and searches {filled['fill_views_leads_s']:.1f} s.",
        "",
        "Time to run every dashboard query for a range, without the one-minute fragment cache "
        f"({args.runs} runs each):",
        "",
        "| range | median | worst |",
        "| --- | --- | --- |",
    ]
    for days, times in results.items():
        lines.append(f"| {days} days | {statistics.median(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms |")
    write_results("analytics", lines)


if __name__ == "__main__":
    main()
