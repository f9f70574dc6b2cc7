"""Saved-search matching benchmark: 100,000 demo cars, 10,000 active saved searches, a day of changes
(1,500 newly listed cars and 3,000 price drops), then one run of the worker's matching job.

Usage: `.venv/bin/python bench/alerts.py [--cars 100000] [--searches 10000] [--new 1500] [--drops 3000]`
(the test servers from KROI_TEST_DATABASE_URL / KROI_TEST_REDIS_URL, or embedded ones).
Results: bench/results/alerts.md (and docs/performance.md, section "Saved searches").
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database, write_results  # noqa: E402

from sqlalchemy import text  # noqa: E402

from kroi.alerts.services import AlertJob, Links, normalise  # noqa: E402
from kroi.db.session import make_engine, make_sessionmaker  # noqa: E402
from kroi.inventory.search import FUELS, CarQuery  # noqa: E402
from kroi.db.models.inventory import BODY_TYPES  # noqa: E402
from kroi.seeding.demo import load_demo  # noqa: E402
from kroi.seeding.original import seed_all  # noqa: E402
from kroi.settings import Settings  # noqa: E402
from kroi.storage import LocalStorage  # noqa: E402
from kroi.web.templating import Templates  # noqa: E402


def searches(rng: random.Random, n: int, models: list[tuple[str, str]], features: list[str]) -> list[str]:
    """Saved searches shaped like real ones: mostly a brand (often with a model) and a price ceiling, some by
    body type and fuel, a few with equipment or a text search; many shoppers save the same popular searches."""
    out = []
    brands = sorted({b for b, _ in models})
    for _ in range(n):
        kind = rng.random()
        q: dict = {}
        if kind < 0.55:
            brand, model = rng.choice(models)
            q["brand"] = brand
            if rng.random() < 0.6:
                q["model"] = model
        elif kind < 0.85:
            q["category"] = (rng.choice(BODY_TYPES),)
            q["fuel"] = tuple(sorted(rng.sample(FUELS, rng.randint(1, 2)), key=FUELS.index))
        elif kind < 0.95:
            q["brand"] = rng.choice(brands)
            q["equipment"] = tuple(sorted(rng.sample(features, rng.randint(1, 2))))
        else:
            q["q"] = rng.choice(["vetokoukku", "hybrid", "neliveto", "farmari", "webasto", "automaatti"])
        if rng.random() < 0.7:
            q["price_max"] = rng.choice(range(8_000, 60_001, 1000))
        if rng.random() < 0.3:
            q["year_min"] = rng.randint(2012, 2022)
        if rng.random() < 0.3:
            q["mileage_max"] = rng.choice(range(50_000, 250_001, 25_000))
        out.append(normalise(CarQuery(**q)))
    return out


async def fill(settings: Settings, cars: int, n_searches: int, new: int, drops: int, media: Path) -> dict:
    engine = make_engine(settings, command_timeout=None)
    info: dict = {}
    async with make_sessionmaker(engine)() as session:
        await seed_all(session, LocalStorage(media), "bench@example.test", "bench-password-long-enough")
        t = time.perf_counter()
        await load_demo(session, cars, LocalStorage(media))
        info["load_cars_s"] = time.perf_counter() - t
    rng = random.Random(8)
    async with engine.begin() as conn:
        models = [(b, m) for b, m in (await conn.execute(text(
            "SELECT b.slug, m.slug FROM car_models m JOIN brands b ON b.id = m.brand_id"))).all()]
        features = [c for (c,) in (await conn.execute(text("SELECT code FROM features"))).all()]
        listed = [i for (i,) in (await conn.execute(text(
            "SELECT id FROM cars WHERE deleted_at IS NULL AND status IN ('available', 'reserved')"))).all()]
        chosen = rng.sample(listed, new + drops)
        # A day of changes: cars listed at random times of the last day, and price drops of 3-15 %.
        await conn.execute(text(
            "UPDATE cars SET published_at = now() - random() * interval '23 hours' WHERE id = ANY(:ids)"),
            {"ids": chosen[:new]})
        await conn.execute(text(
            "WITH d AS (SELECT id, price_cents AS old, (price_cents * (0.85 + random() * 0.12))::bigint AS new "
            "FROM cars WHERE id = ANY(:ids)), "
            "h AS (INSERT INTO car_price_history (car_id, old_price_cents, new_price_cents, changed_at) "
            "SELECT id, old, new, now() - random() * interval '23 hours' FROM d) "
            "UPDATE cars SET price_cents = d.new FROM d WHERE cars.id = d.id"), {"ids": chosen[new:]})
        saved = searches(rng, n_searches, models, features)
        await conn.execute(text(
            "INSERT INTO saved_searches (email, query, frequency, status, language, consent_text, confirmed_at) "
            "SELECT 'bench' || g || '@example.test', q, CASE WHEN g % 3 = 0 THEN 'daily' ELSE 'immediate' END, "
            "'active', CASE WHEN g % 5 = 0 THEN 'en' ELSE 'fi' END, 'bench', now() - interval '2 days' "
            "FROM unnest(CAST(:q AS text[])) WITH ORDINALITY AS s(q, g)"), {"q": saved})
        await conn.execute(text("INSERT INTO alert_runs (id, checked_until) VALUES (1, now() - interval '1 day') "
                                "ON CONFLICT (id) DO UPDATE SET checked_until = EXCLUDED.checked_until"))
        await conn.execute(text("ANALYZE"))
        info["cars"] = (await conn.execute(text("SELECT count(*) FROM cars"))).scalar()
        info["distinct_queries"] = len(set(saved))
    await engine.dispose()
    return info


async def again(settings: Settings) -> dict:
    """Undo the last measured run (its hits, mails and mark), for another measurement on the same data."""
    engine = make_engine(settings, command_timeout=None)
    async with engine.begin() as conn:
        # TRUNCATE, not DELETE: a million dead hits would slow the next run's inserts (each probe of the primary
        # key meets them), which a real day's run never sees.
        for sql in ("TRUNCATE saved_search_hits", "TRUNCATE outbox_messages",
                    "UPDATE alert_runs SET checked_until = now() - interval '1 day'"):
            await conn.execute(text(sql))
        info = {"cars": (await conn.execute(text("SELECT count(*) FROM cars"))).scalar(), "load_cars_s": 0.0,
                "distinct_queries": (await conn.execute(text("SELECT count(DISTINCT query) FROM saved_searches"))).scalar()}
    await engine.dispose()
    return info


async def measure_matching(settings: Settings) -> dict:
    """Only the matching: read the changes and the active searches, and find which search matches which car
    (AlertJob._hits), without recording hits or queuing mails."""
    from kroi.alerts.repositories import AlertRepository
    engine = make_engine(settings, command_timeout=None)
    async with make_sessionmaker(engine)() as session:
        repo = AlertRepository(session)
        t = time.perf_counter()
        until = await repo.now()
        changes = await repo.changes(until - timedelta(days=1, minutes=5), until)
        searches = await repo.active()
        read = time.perf_counter() - t
        hits = await AlertJob(session, Templates(), Links("bench-secret", "https://kroi.example"))._hits(changes, searches)
        total = time.perf_counter() - t
        await session.rollback()
    await engine.dispose()
    return {"changes": len(changes), "hits": len(hits), "mails": 0, "seconds": total, "read_s": read,
            "match_s": total - read, "mail_s": 0.0, "outbox": 0}


async def measure(settings: Settings) -> dict:
    engine = make_engine(settings, command_timeout=None)
    async with make_sessionmaker(engine)() as session:
        t = time.perf_counter()
        stats = await AlertJob(session, Templates(), Links("bench-secret", "https://kroi.example")).match_changes()
        stats["seconds"] = time.perf_counter() - t
    async with engine.begin() as conn:
        stats["outbox"] = (await conn.execute(text("SELECT count(*) FROM outbox_messages"))).scalar()
    await engine.dispose()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cars", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=1_500)
    parser.add_argument("--drops", type=int, default=3_000)
    parser.add_argument("--match-only", action="store_true",
                        help="time the matching alone (no hits recorded, no mails queued)")
    parser.add_argument("--keep", action="store_true", help="keep the database for --reuse")
    parser.add_argument("--reuse", action="store_true", help="measure again on the database a --keep run left")
    args = parser.parse_args()
    name = "kroi_bench_alerts" if args.cars == 100_000 else f"kroi_bench_alerts_{args.cars}"
    with bench_database(name, reuse=args.reuse, keep=args.keep) as bench:
        settings = bench.settings
        info = asyncio.run(again(settings) if args.reuse else fill(
            settings, args.cars, args.searches, args.new, args.drops, settings.media_dir))
        stats = asyncio.run(measure_matching(settings) if args.match_only else measure(settings))
    write_results("alerts", [
        "# Saved-search matching benchmark",
        "",
        bench.machine(),
        f"Data: {info['cars']:,} cars; {args.searches:,} active saved searches ({info['distinct_queries']:,} "
        f"distinct queries); a day of changes: {args.new:,} newly listed cars and {args.drops:,} price drops.",
        f"Loading the cars took {info['load_cars_s']:.1f} s." if info["load_cars_s"] else "(data of an earlier run)",
        "",
        ("The matching alone (read the changes and searches, resolve, match; no hits recorded, no mails):"
         if args.match_only else
         "One run of the worker's job (AlertJob.match_changes: read the changes, match, record hits, queue the "
         "immediate mails in the outbox, one transaction):"),
        "",
        "| changes | hits | immediate mails queued | time | of which: read | match | record hits | queue mails |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {stats['changes']:,} | {stats['hits']:,} | {stats['mails']:,} | {stats['seconds']:.1f} s "
        f"| {stats.get('read_s', 0):.1f} s | {stats.get('match_s', 0):.1f} s | {stats.get('record_s', 0):.1f} s "
        f"| {stats.get('mail_s', 0):.1f} s |",
    ])


if __name__ == "__main__":
    main()
