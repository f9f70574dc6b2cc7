"""`kroi monitor`: the state of a running Kroi at a glance (database, Redis, cache, outbox, leads, backups),
live in a terminal or once as JSON for cron and alerting, with each alert threshold and whether it is crossed."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from kroi.settings import Settings

BACKUP_MAX_AGE = dt.timedelta(hours=26)  # a daily backup, plus two hours of slack
OUTBOX_MAX_AGE = dt.timedelta(minutes=10)
TIMEOUT = 3.0  # seconds per server: a monitor that hangs is no monitor


@dataclass
class Threshold:
    name: str
    state: str  # ok | alert | not_configured | unknown
    value: Any
    limit: str
    message: str

    @property
    def crossed(self) -> bool:
        return self.state == "alert"


async def _database(settings: Settings) -> dict[str, Any]:
    from kroi.leads.repositories import LeadRepository
    from kroi.mail.outbox import OutboxRepository

    engine = create_async_engine(settings.database_url or "", poolclass=NullPool,
                                 connect_args={"timeout": TIMEOUT, "command_timeout": TIMEOUT,
                                               "server_settings": {"application_name": "kroi-monitor"}})
    try:
        async with async_sessionmaker(engine)() as session:
            out = await _server_facts(session)
            out["outbox"] = await OutboxRepository(session).backlog()
            out["leads_last_hour"] = await LeadRepository(session).created_since(dt.timedelta(hours=1))
            await session.rollback()
            return out
    finally:
        await engine.dispose()


async def _server_facts(session: AsyncSession) -> dict[str, Any]:
    """Connections, size and the slowest statements (pg_stat_statements if installed, else running queries)."""
    row = (await session.execute(text(
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS connections, "
        "(SELECT count(*) FROM pg_stat_activity) AS server_connections, "
        "current_setting('max_connections')::int AS max_connections, "
        "pg_database_size(current_database()) AS size_bytes"))).one()
    states = dict((await session.execute(text(
        "SELECT coalesce(state, 'background'), count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() GROUP BY 1"))).all())
    slowest: list[dict[str, Any]] = []
    source = "pg_stat_activity"
    if await session.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")):
        try:
            async with session.begin_nested():
                rows = (await session.execute(text(
                    "SELECT left(query, 200) AS query, calls, round(mean_exec_time::numeric, 1) AS mean_ms, "
                    "round(total_exec_time::numeric, 0) AS total_ms FROM pg_stat_statements "
                    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "ORDER BY mean_exec_time DESC LIMIT 5"))).mappings().all()
            slowest, source = [dict(r) for r in rows], "pg_stat_statements"
        except Exception:  # installed but not preloaded (shared_preload_libraries): fall back
            slowest = []
    if source == "pg_stat_activity":
        rows = (await session.execute(text(
            "SELECT left(query, 200) AS query, state, "
            "round(extract(epoch FROM now() - query_start)::numeric * 1000, 0) AS running_ms "
            "FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle' "
            "AND pid <> pg_backend_pid() AND query_start IS NOT NULL ORDER BY query_start LIMIT 5"))).mappings().all()
        slowest = [dict(r) for r in rows]
    return {"connections": row.connections, "server_connections": row.server_connections,
            "max_connections": row.max_connections, "size_bytes": row.size_bytes, "states": states,
            "slowest_source": source, "slowest": slowest}


async def _redis(url: str) -> dict[str, Any]:
    from kroi.cache.client import make_redis

    redis = make_redis(url, TIMEOUT)
    try:
        memory = await redis.info("memory")
        stats = await redis.info("stats")
    finally:
        await redis.aclose()
    hits, misses = stats.get("keyspace_hits", 0), stats.get("keyspace_misses", 0)
    return {"used_memory_bytes": memory.get("used_memory"), "maxmemory_bytes": memory.get("maxmemory"),
            "maxmemory_policy": memory.get("maxmemory_policy"), "evicted_keys": stats.get("evicted_keys", 0),
            "hit_rate": round(hits / (hits + misses), 3) if hits + misses else None}


def _app_cache(settings: Settings) -> dict[str, Any] | None:
    """The app's fragment cache counters, all workers, from the metrics directory of a server on this host."""
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.var_dir / "prometheus")
    if not list(path.glob("counter_*.db")):
        return None
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))
    counts = {s.labels["result"]: s.value for f in registry.collect() if f.name == "kroi_fragment_cache"
              for s in f.samples if s.name == "kroi_fragment_cache_total"}
    looked_up = counts.get("hit", 0) + counts.get("miss", 0)
    return {**counts, "hit_rate": round(counts.get("hit", 0) / looked_up, 3) if looked_up else None}


def _last_backup(settings: Settings) -> tuple[str, dt.datetime | None]:
    """The newest good backup where `kroi backup` writes (KROI_BACKUP_DIR: a folder or a bucket); a location
    that cannot be read (a bucket without credentials) is reported as such, an alert too."""
    from kroi.backup import last_backup_at

    try:
        return "configured", last_backup_at(settings)
    except Exception as exc:  # noqa: BLE001 - the monitor reports, it does not crash
        return f"unreadable: {type(exc).__name__}: {exc}"[:200], None


async def _guarded(coro, seconds: float) -> tuple[Any, str | None]:  # noqa: ANN001
    try:
        async with asyncio.timeout(seconds):
            return await coro, None
    except Exception as exc:  # unreachable, refused, timed out: reported, never raised
        first = (str(exc).strip().splitlines() or [""])[0]
        return None, f"{type(exc).__name__}: {first}"[:300]


async def collect(settings: Settings) -> dict[str, Any]:
    """One report: the facts and the thresholds with their states; `ok` is False when any threshold is crossed."""
    now = dt.datetime.now(dt.timezone.utc)
    # The state Redis (sessions, counters, buffers) is watched on its own when it is another server.
    apart = bool(settings.state_redis) and settings.state_redis != settings.redis_url

    def redis_of(url: str | None):  # noqa: ANN202
        return _guarded(_redis(url), TIMEOUT * 2) if url else asyncio.sleep(0, (None, "not configured"))

    (db, db_error), (redis, redis_error), (state, state_error) = await asyncio.gather(
        _guarded(_database(settings), TIMEOUT * 3), redis_of(settings.redis_url),
        redis_of(settings.state_redis if apart else None))
    backup_state, backup_at = _last_backup(settings)
    app_cache = _app_cache(settings)
    outbox = (db or {}).get("outbox")
    thresholds = [
        Threshold("database_reachable", "alert" if db_error else "ok", db_error is None, "reachable",
                  db_error or "the database answers"),
        Threshold("redis_reachable",
                  "not_configured" if not settings.redis_url else "alert" if redis_error else "ok",
                  redis_error is None, "reachable", redis_error or "Redis answers"),
    ]
    if apart:
        thresholds.append(Threshold("state_redis_reachable", "alert" if state_error else "ok", state_error is None,
                                    "reachable", state_error or "the state Redis answers"))
    thresholds += [
        _state_memory(state if apart else redis),
        _dead_letters(outbox),
        _outbox_oldest(outbox),
        _backup_age(backup_state, backup_at, now),
    ]
    return {
        "time": now.isoformat(timespec="seconds"),
        "ok": not any(t.crossed for t in thresholds),
        "thresholds": [asdict(t) | {"crossed": t.crossed} for t in thresholds],
        "database": db, "database_error": db_error,
        "redis": redis, "redis_error": redis_error,
        "state_redis": state if apart else redis, "state_redis_error": state_error if apart else redis_error,
        "app_cache": app_cache,
        "backup": {"state": backup_state, "last_at": backup_at.isoformat() if backup_at else None},
    }


STATE_MEMORY_MAX = 0.9  # of maxmemory


def _state_memory(info: dict[str, Any] | None) -> Threshold:
    """The Redis of sessions and counters never evicts: when it is full it refuses writes (staff cannot sign in,
    rate limits stop counting). Alert before that, and when state sits in a Redis that evicts."""
    limit = f"{STATE_MEMORY_MAX:.0%} of maxmemory, noeviction"
    if info is None:
        return Threshold("state_redis_memory", "unknown", None, limit, "the state Redis did not answer")
    used, most, policy = info["used_memory_bytes"], info["maxmemory_bytes"], info["maxmemory_policy"]
    if most and policy != "noeviction":
        return Threshold("state_redis_memory", "alert", policy, limit,
                         f"sessions and counters are in a Redis that evicts ({policy}): set KROI_STATE_REDIS_URL "
                         "to a noeviction Redis (README, Two Redis roles)")
    share = used / most if most else None
    crossed = share is not None and share > STATE_MEMORY_MAX
    return Threshold("state_redis_memory", "alert" if crossed else "ok", round(share, 3) if share else share, limit,
                     f"{share:.0%} of its memory in use" if share is not None else "no memory limit")


def _dead_letters(outbox: dict[str, Any] | None) -> Threshold:
    if outbox is None:
        return Threshold("dead_letters", "unknown", None, "0", "the database did not answer")
    dead = outbox["dead"]
    return Threshold("dead_letters", "alert" if dead else "ok", dead, "0",
                     f"{dead} undeliverable mails (kroi outbox dead)" if dead else "no undeliverable mail")


def _outbox_oldest(outbox: dict[str, Any] | None) -> Threshold:
    limit = f"{int(OUTBOX_MAX_AGE.total_seconds())} s"
    if outbox is None:
        return Threshold("outbox_oldest", "unknown", None, limit, "the database did not answer")
    age = outbox["oldest_queued_seconds"]
    crossed = age > OUTBOX_MAX_AGE.total_seconds()
    return Threshold("outbox_oldest", "alert" if crossed else "ok", round(age), limit,
                     f"the oldest queued mail has waited {round(age)} s" if age else "nothing waits")


def _backup_age(state: str, at: dt.datetime | None, now: dt.datetime) -> Threshold:
    limit = f"{int(BACKUP_MAX_AGE.total_seconds() // 3600)} h"
    if state == "not_configured":
        return Threshold("backup_age", "not_configured", None, limit, "backups are not set up in this install")
    if state.startswith("unreadable"):
        return Threshold("backup_age", "alert", None, limit, f"backups could not be listed ({state})")
    if at is None:
        return Threshold("backup_age", "alert", None, limit, "no backup found")
    age = now - at
    return Threshold("backup_age", "alert" if age > BACKUP_MAX_AGE else "ok", round(age.total_seconds()), limit,
                     f"the last backup is {age.total_seconds() / 3600:.1f} h old")


# --- the terminal view --------------------------------------------------------------------------------------

_STYLE = {"ok": "green", "alert": "bold red", "unknown": "yellow", "not_configured": "dim"}


def _size(n: int | None) -> str:
    if n is None:
        return "–"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def render(report: dict[str, Any]):  # noqa: ANN201
    """The report as rich tables: thresholds (coloured by state), then the facts, then the slowest statements."""
    from rich.console import Group
    from rich.table import Table

    status = Table(title=f"Kroi {report['time']}", expand=True)
    for col in ("check", "state", "value", "limit", ""):
        status.add_column(col)
    for t in report["thresholds"]:
        style = _STYLE.get(t["state"], "")
        status.add_row(t["name"], f"[{style}]{t['state']}[/]", str(t["value"]), t["limit"], t["message"])

    facts = Table(show_header=False, expand=True)
    facts.add_column("what", style="bold")
    facts.add_column("value")
    db, redis, cache = report["database"], report["redis"], report["app_cache"]
    if db:
        use = db["server_connections"] / db["max_connections"]
        colour = "red" if use > 0.9 else "yellow" if use > 0.7 else "green"
        facts.add_row("database connections", f"[{colour}]{db['connections']} here, {db['server_connections']} of "
                                              f"{db['max_connections']} on the server[/] "
                                              + ", ".join(f"{k} {v}" for k, v in sorted(db["states"].items())))
        facts.add_row("database size", _size(db["size_bytes"]))
        o = db["outbox"]
        facts.add_row("outbox", f"{o['queued']} queued ({o['retrying']} retrying), {o['dead']} dead, "
                                f"{o['sent']} sent")
        facts.add_row("leads in the last hour", str(db["leads_last_hour"]))
    if redis:
        full = (redis["used_memory_bytes"] / redis["maxmemory_bytes"]) if redis["maxmemory_bytes"] else None
        colour = "red" if full and full > 0.9 else "yellow" if full and full > 0.7 else "green"
        facts.add_row("Redis memory", f"[{colour}]{_size(redis['used_memory_bytes'])}[/] of "
                                      f"{_size(redis['maxmemory_bytes']) if redis['maxmemory_bytes'] else 'no limit'}"
                                      f" ({redis['maxmemory_policy']})")
        facts.add_row("Redis evictions", f"[{'yellow' if redis['evicted_keys'] else 'green'}]"
                                         f"{redis['evicted_keys']}[/]")
        facts.add_row("Redis hit rate (all keys)", _rate(redis["hit_rate"]))
    facts.add_row("app fragment cache hit rate",
                  f"{_rate(cache['hit_rate'])} ({cache.get('hit', 0):.0f} hits, {cache.get('miss', 0):.0f} misses, "
                  f"{cache.get('error', 0):.0f} errors)" if cache else "[dim]no server on this host[/]")
    backup = report["backup"]
    facts.add_row("last backup", backup["last_at"] or f"[dim]{backup['state']}[/]")

    parts: list[Any] = [status, facts]
    if db and db["slowest"]:
        slow = Table(title=f"slowest statements ({db['slowest_source']})", expand=True)
        keys = list(db["slowest"][0])
        for k in keys:
            slow.add_column(k, overflow="fold")
        for row in db["slowest"]:
            slow.add_row(*(str(row[k]) for k in keys))
        parts.append(slow)
    return Group(*parts)


def _rate(rate: float | None) -> str:
    if rate is None:
        return "–"
    colour = "green" if rate >= 0.8 else "yellow" if rate >= 0.5 else "red"
    return f"[{colour}]{rate:.0%}[/]"


async def live(settings: Settings, interval: float) -> None:
    from rich.live import Live

    report = await collect(settings)
    with Live(render(report), refresh_per_second=4, screen=False) as view:
        while True:
            await asyncio.sleep(interval)
            view.update(render(await collect(settings)))
