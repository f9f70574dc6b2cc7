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


async def test_all_well_then_a_dead_letter_and_a_stuck_mail_cross_thresholds(settings: Settings,
                                                                            db: AsyncSession) -> None:
    await db.execute(text("DELETE FROM outbox_messages"))
    await db.commit()
    code, report = monitor(settings)
    assert code == 0, report
    assert report["ok"] is True
    assert states(report) == {"database_reachable": "ok", "redis_reachable": "ok", "dead_letters": "ok",
                              "outbox_oldest": "ok", "backup_age": states(report)["backup_age"]}
    assert states(report)["backup_age"] in {"ok", "not_configured"}
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
