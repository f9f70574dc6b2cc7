"""What the database benchmarks share: a database of their own on the test servers, and a results file."""
from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kroi import testing  # noqa: E402
from kroi.settings import Settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class BenchDatabase:
    server: str  # the URL the database was made through (KROI_TEST_DATABASE_URL or the embedded server)
    settings: Settings  # test settings pointing at the bench's own database and its media folder

    def machine(self, shared: bool = True) -> str:
        return (f"Machine: {os.cpu_count()} cores{' (shared)' if shared else ''}, Python "
                f"{platform.python_version()}, database {self.server.split('@')[-1]}.")


@contextmanager
def bench_database(name: str, *, reuse: bool = False, keep: bool = False) -> Iterator[BenchDatabase]:
    """A fresh, migrated database `name` (or the one a kept run left, with reuse), dropped afterwards unless kept;
    the embedded servers, when they were started for it, are stopped either way."""
    server, redis = testing.server_urls()
    try:
        url = testing.with_database(server, name) if reuse else testing.fresh_database(server, name)
        media = ROOT / "var" / f"{name.replace('_', '-')}-media"
        yield BenchDatabase(server, Settings(env="test", database_url=url, redis_url=redis, media_dir=media))
        if not keep:
            testing.drop_database(server, name)
    finally:
        testing.stop_embedded()


def write_results(name: str, lines: list[str]) -> None:
    """bench/results/NAME.md, and the same on standard output."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
