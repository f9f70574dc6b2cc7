"""`kroi monitor --once --json` against the real servers: one JSON object, exit 1 when a threshold is crossed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def monitor(settings: Settings, **env: str) -> tuple[int, dict]:
    run = subprocess.run([sys.executable, "-m", "kroi.cli", "monitor", "--once", "--json"],
                         env={**os.environ, "DATABASE_URL": settings.database_url or "",
                              "REDIS_URL": settings.redis_url or "", "KROI_ENV": "test",
                              "KROI_VAR_DIR": str(settings.var_dir), **env},
                         capture_output=True, text=True, timeout=120)
    report = json.loads(run.stdout)
    return run.returncode, report


def states(report: dict) -> dict[str, str]:
    return {t["name"]: t["state"] for t in report["thresholds"]}


async def test_all_well_then_a_dead_letter_and_a_stuck_mail_cross_thresholds(settings: Settings, db: AsyncSession,
                                                                            tmp_path) -> None:  # noqa: ANN001
    await db.execute(text("DELETE FROM outbox_messages"))
    await db.commit()
    settings = settings.model_copy(update={"var_dir": tmp_path})  # its own (empty) var/backups
    code, report = monitor(settings)
    assert code == 1 and states(report)["backup_age"] == "alert", report  # no backup at all is an alert
    env = {**os.environ, "DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
           "KROI_ENV": "test", "KROI_VAR_DIR": str(tmp_path)}
    made = subprocess.run([sys.executable, "-m", "kroi.cli", "backup", "--no-media"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    code, report = monitor(settings)
    assert code == 0, report
    assert report["ok"] is True
    assert states(report) == {"database_reachable": "ok", "redis_reachable": "ok", "dead_letters": "ok",
                              "outbox_oldest": "ok", "backup_age": "ok", "state_redis_memory": "ok"}
    assert report["database"]["connections"] >= 1 and report["database"]["size_bytes"] > 0
    assert report["database"]["slowest_source"] in {"pg_stat_statements", "pg_stat_activity"}
    assert report["redis"]["used_memory_bytes"] > 0
    assert {t["limit"] for t in report["thresholds"]} >= {"600 s", "26 h", "0"}

    await db.execute(text("INSERT INTO outbox_messages (kind, payload, status, attempts, last_error) "
                          "VALUES ('test', '{}', 'dead', 8, '550 no such user')"))
    await db.commit()
    code, report = monitor(settings)
    assert code == 1 and report["ok"] is False
    assert states(report)["dead_letters"] == "alert" and states(report)["outbox_oldest"] == "ok"

    await db.execute(text("UPDATE outbox_messages SET status = 'sent'"))
    await db.execute(text("INSERT INTO outbox_messages (kind, payload, created_at) "
                          "VALUES ('test', '{}', now() - interval '11 minutes')"))
    await db.commit()
    code, report = monitor(settings)
    assert code == 1
    assert states(report)["outbox_oldest"] == "alert" and states(report)["dead_letters"] == "ok"
    [oldest] = [t for t in report["thresholds"] if t["name"] == "outbox_oldest"]
    assert 660 <= oldest["value"] < 1200


async def test_unreachable_database_and_redis_are_alerts(settings: Settings, reset: None) -> None:
    code, report = monitor(settings, DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/none",
                           REDIS_URL="redis://127.0.0.1:1/0")
    assert code == 1
    got = states(report)
    assert got["database_reachable"] == "alert" and got["redis_reachable"] == "alert"
    assert got["dead_letters"] == "unknown" and report["database_error"]


async def test_the_app_cache_hit_rate_adds_up_the_workers(settings: Settings, reset: None, tmp_path) -> None:  # noqa: ANN001
    metrics_dir = tmp_path / "prometheus"
    for hits, misses in ((3, 1), (3, 1)):  # two "workers", each writing its own files as a server's do
        subprocess.run([sys.executable, "-c", "import sys; from kroi import metrics; "
                        "metrics.CACHE.labels('hit').inc(int(sys.argv[1])); "
                        "metrics.CACHE.labels('miss').inc(int(sys.argv[2]))", str(hits), str(misses)],
                       env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, check=True)
    code, report = monitor(settings, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    assert report["app_cache"]["hit"] == 6 and report["app_cache"]["miss"] == 2
    assert report["app_cache"]["hit_rate"] == 0.75


async def test_the_state_redis_is_watched_on_its_own(settings: Settings, tmp_path) -> None:  # noqa: ANN001
    """A state Redis apart from the cache: unreachable, nearly full, or evicting — each an alert."""
    from redis import Redis as SyncRedis

    from test_degradation import RedisProcess, free_port

    server = RedisProcess(free_port(), tmp_path)
    server.start()
    try:
        env = {"KROI_STATE_REDIS_URL": f"redis://127.0.0.1:{server.port}/0"}
        code, report = monitor(settings, **env)
        assert states(report)["state_redis_reachable"] == "ok"
        assert states(report)["state_redis_memory"] == "ok"
        assert report["state_redis"]["maxmemory_policy"] == "noeviction"
        with SyncRedis(port=server.port) as r:
            r.config_set("maxmemory-policy", "allkeys-lru")
            r.config_set("maxmemory", "50mb")
            code, report = monitor(settings, **env)
            assert code == 1 and states(report)["state_redis_memory"] == "alert"
            r.config_set("maxmemory-policy", "noeviction")
            r.config_set("maxmemory", "4mb")
            for i in range(100):  # fill it until it refuses writes (noeviction), as a full state Redis does
                try:
                    r.set(f"kroi:v1:filler:{i}", b"x" * 100_000)
                except Exception:  # noqa: BLE001 - redis' OOM error: full
                    break
            code, report = monitor(settings, **env)
            assert code == 1 and states(report)["state_redis_memory"] == "alert", report["state_redis"]
    finally:
        server.kill()
    code, report = monitor(settings, **env)
    assert code == 1 and states(report)["state_redis_reachable"] == "alert"


async def test_the_terminal_view_colours_an_alert_red(settings: Settings, db: AsyncSession) -> None:
    from rich.console import Console

    from kroi import monitor as mon

    await db.execute(text("INSERT INTO outbox_messages (kind, payload, status) VALUES ('test', '{}', 'dead')"))
    await db.commit()
    console = Console(record=True, width=140, color_system="truecolor", force_terminal=True)
    console.print(mon.render(await mon.collect(settings)))
    shown = console.export_text(styles=False, clear=False)
    for label in ("dead_letters", "database connections", "database size", "Redis memory", "Redis evictions",
                  "outbox", "leads in the last hour", "last backup", "app fragment cache hit rate"):
        assert label in shown, label
    [line] = [line for line in console.export_text(styles=True).splitlines() if "dead_letters" in line]
    assert "\x1b[1;31malert" in line  # bold red
