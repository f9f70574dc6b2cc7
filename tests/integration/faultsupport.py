"""Fixtures for the fault tests: a private PostgreSQL, migrated and seeded, that a test may stop and restart."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kroi import testing
from kroi.db.session import make_engine, make_sessionmaker
from kroi.seeding.original import seed_all
from kroi.settings import Settings
from kroi.storage import make_storage
from pgprocess import PostgresProcess

ADMIN = ("admin@example.test", "test-password-not-default")


async def _seed(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            await seed_all(session, make_storage(settings), *ADMIN)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def private_pg(tmp_path_factory: pytest.TempPathFactory, media_dir: Path) -> Iterator[tuple[PostgresProcess, str]]:
    """(the server, the URL of its migrated and seeded `kroi` database); tests leave it running."""
    server = PostgresProcess()
    try:
        server.start()
        url = testing.fresh_database(server.admin_url, "kroi")
        asyncio.run(_seed(Settings(env="test", database_url=url, media_dir=media_dir,
                                   var_dir=tmp_path_factory.mktemp("seed"))))
        yield server, url
    finally:
        server.remove()


def ensure_running(server: PostgresProcess) -> None:
    """Start the server again if a test stopped it (and wait until it accepts connections)."""
    if server.proc is None or server.proc.poll() is not None:
        server.start()
    else:
        import time

        while not server.accepts():
            time.sleep(0.05)
