"""`kroi serve --workers 2` as run for real: /metrics adds up both workers, one log line per request (uvicorn's
access log off), and workers that exit drop their live gauges."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kroi import testing
from kroi.settings import Settings

pytestmark = [pytest.mark.integration]


def requests_to(body: str, route: str) -> float:
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == "kroi_http_requests_total" and s.labels == {"route": route, "method": "GET",
                                                                      "status": "200"}:
                return s.value
    return 0.0


def test_two_workers_are_counted_together_and_log_each_request_once(settings: Settings, tmp_path: Path) -> None:
    port = testing.free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from an earlier run")
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url or "",
           "KROI_ENV": "test", "KROI_RUN_WORKER": "false", "KROI_VAR_DIR": str(tmp_path),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "kroi.cli", "serve", "--workers", "2", "--no-seed",
                                 "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=err)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, stderr.read_text()
            try:
                if httpx.get(f"{origin}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, stderr.read_text()
            time.sleep(0.2)
        assert not (metrics_dir / "counter_999999.db").exists()  # emptied at start
        for _ in range(30):  # a new connection each: the kernel hands them to either worker
            assert httpx.get(f"{origin}/cars", timeout=30).status_code == 200
        # Whichever worker answers the scrape, it reports both workers' requests.
        totals = {requests_to(httpx.get(f"{origin}/metrics", timeout=30).text, "/cars") for _ in range(6)}
        assert totals == {30.0}
        pids = {f.stem.rsplit("_", 1)[-1] for f in metrics_dir.glob("gauge_livesum_*.db")}
        assert len(pids - {str(proc.pid)}) == 2, pids  # the two workers (the master migrated: it has one too)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    log = stderr.read_text()
    assert log.count("GET /cars 200") == 30, log[-3000:]
    assert '"GET /cars HTTP/1.1" 200' not in log  # uvicorn's access line
    # The workers exited cleanly and marked themselves dead: no live gauges left, the counters kept.
    assert not list(metrics_dir.glob("gauge_livesum_*.db"))
    assert list(metrics_dir.glob("counter_*.db"))
