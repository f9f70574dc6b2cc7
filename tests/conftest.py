"""Shared fixtures: one migrated test database per session, reset and re-seeded for every test; real Redis."""
from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kroi import embedded, testing
from kroi.app import create_app
from kroi.web.head import HeadAsGet
from kroi.cache.client import CacheStats
from kroi.db.base import Base
from kroi.db.session import make_engine, make_sessionmaker
from kroi.seeding.original import seed_all
from kroi.settings import Settings
from kroi.storage import make_storage


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def servers() -> tuple[str, str]:
    db, redis = testing.server_urls()
    yield db, redis
    testing.stop_embedded()


@pytest.fixture(scope="session")
def database_url(servers: tuple[str, str]) -> str:
    # One database per test process, so two runs on one server (a developer's and a helper's) never meet.
    name = f"kroi_test_{os.getpid()}"
    yield testing.fresh_database(servers[0], name)
    testing.drop_database(servers[0], name)


@pytest.fixture(scope="session")
def redis_url(servers: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    if os.environ.get("KROI_TEST_REDIS_URL"):
        yield servers[1]
        return
    # The embedded servers under var/ are shared by every process that uses them (another test run, the
    # e2e tests, `make run`), and all of them flush Redis and write the same kroi:v1 keys, so one run
    # would read another's fragments: each test process gets a redis-server of its own (it starts in ms).
    url, stop = embedded.start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    stop()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture
def settings(database_url: str, redis_url: str, media_dir: Path, tmp_path: Path) -> Settings:
    return Settings(env="test", database_url=database_url, redis_url=redis_url, var_dir=tmp_path,
                    media_dir=media_dir, redis_breaker_seconds=0.2, view_flush_seconds=3600, page_size=4,
                    # A busy test machine can stall a Redis reply past the 250 ms default; tests expect Redis up.
                    redis_timeout=0.5,
                    # Tests that send mail run the outbox worker themselves (kroi.mail.worker.process_due).
                    run_worker=False,
                    admin_email="admin@example.test", admin_password="test-password-not-default")


# database URL -> {table: (columns, binary COPY of its rows)} right after the first seed of the session.
_SEEDED: dict[str, dict[str, tuple[list[str], bytes]]] = {}
# database URL -> fingerprint of the server's write state right after the last reset (see _fingerprint).
_CLEAN: dict[str, tuple] = {}
# database URL -> one engine for the resets and the `db` fixture (made once: connecting costs time).
_ENGINES: dict[str, AsyncEngine] = {}

_SEQUENCES_SQL = (
    "SELECT c.relname AS tbl, a.attname AS col, pg_get_serial_sequence(quote_ident(c.relname), a.attname) AS seq "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
    "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
    "AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL"
)


async def _copy_out(engine: AsyncEngine) -> dict[str, tuple[list[str], bytes]]:
    snapshot = {}
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        for table in Base.metadata.sorted_tables:
            if not await raw.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table.name}")'):
                continue
            columns = [c.name for c in table.columns if c.computed is None]
            buf = io.BytesIO()
            await raw.copy_from_table(table.name, columns=columns, output=buf, format="binary")
            snapshot[table.name] = (columns, buf.getvalue())
    return snapshot


async def _copy_in(engine: AsyncEngine, snapshot: dict[str, tuple[list[str], bytes]]) -> None:
    """Empty every table and put the seeded rows back, sequences included (same ids as a fresh seed)."""
    async with engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute(";".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)))
        for table in Base.metadata.sorted_tables:
            if table.name in snapshot:
                columns, data = snapshot[table.name]
                await raw.copy_to_table(table.name, source=io.BytesIO(data), columns=columns, format="binary")
        await raw.execute(";".join(
            f"""SELECT setval('{s["seq"]}', coalesce((SELECT max("{s["col"]}") FROM "{s["tbl"]}"), 0) + 1, false)"""
            for s in await raw.fetch(_SEQUENCES_SQL)))


async def _fingerprint(engine: AsyncEngine) -> tuple:
    """Changes whenever anything may have been written since: the server's next transaction id (any write
    transaction takes one) and the sequences' positions (nextval can move without one)."""
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        row = await raw.fetchrow(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid, "
            "(SELECT coalesce(sum(last_value), -1) FROM pg_sequences WHERE schemaname = current_schema()) AS seq")
        await conn.rollback()
    return row["xid"], row["seq"]


def _engine(settings: Settings) -> AsyncEngine:
    engine = _ENGINES.get(settings.database_url)
    if engine is None:
        engine = _ENGINES[settings.database_url] = make_engine(settings)
    return engine


@pytest.fixture(scope="session")
async def _session_engines(database_url: str) -> AsyncIterator[dict[str, AsyncEngine]]:
    """Closes the shared engines at the end of the session (before the test database is dropped)."""
    yield _ENGINES
    while _ENGINES:
        await _ENGINES.popitem()[1].dispose()


@pytest.fixture
async def reset(settings: Settings, _session_engines: dict) -> AsyncIterator[None]:
    """Empty every table, seed the original data, and empty Redis: each test starts from the same state.

    The first reset of a session runs the real seed (truncate + seed_all) and keeps a binary copy of the
    rows; later resets put that copy back (the same rows and ids in a fraction of the time), and skip even
    that when nothing at all has been written on the server since the last reset.
    """
    url = settings.database_url
    engine = _engine(settings)
    snapshot = _SEEDED.get(url)
    if snapshot is None:
        await testing.truncate_all(engine)
        async with make_sessionmaker(engine)() as session:
            await seed_all(session, make_storage(settings), settings.admin_email,
                           settings.admin_password.get_secret_value())
        _SEEDED[url] = await _copy_out(engine)
        _CLEAN[url] = await _fingerprint(engine)
    elif _CLEAN.get(url) != await _fingerprint(engine):
        await _copy_in(engine, snapshot)
        _CLEAN[url] = await _fingerprint(engine)
    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()
    await redis.aclose()
    yield


@contextlib.asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=HeadAsGet(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture(scope="session")
async def _shared_apps(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory,
                       _session_engines: dict) -> AsyncIterator[dict[str, Litestar]]:
    """Apps kept running for the whole session, one per distinct settings: building an app costs ~0.3 s,
    far more than a test. They never run the outbox worker, which would otherwise keep polling the
    database under other tests (a test that needs the worker builds its own app with client_for)."""
    apps: dict[str, Litestar] = {}
    var_dir = tmp_path_factory.mktemp("shared-app")
    async with contextlib.AsyncExitStack() as stack:

        async def get(settings: Settings) -> Litestar:
            shared = settings.model_copy(update={"var_dir": var_dir, "run_worker": False})
            key = json.dumps(shared.model_dump(), sort_keys=True, default=_plain)
            if key not in apps:
                app = create_app(shared)
                await stack.enter_async_context(app.lifespan())
                apps[key] = app
            return apps[key]

        yield get  # type: ignore[misc]


def _plain(value: object) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def _fresh_state(app: Litestar) -> None:
    """What a shared app remembers in process memory, put back as a new app has it."""
    k = app.state.kroi
    k.safe_redis.stats = CacheStats()
    k.safe_redis._open_until = 0.0  # noqa: SLF001 - the circuit breaker closed
    k.cache._pending_bumps.clear()  # noqa: SLF001
    local = getattr(k.cache, "local", None)
    if local is not None:
        local.clear()


@pytest.fixture
async def client(settings: Settings, reset: None, _shared_apps) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    """A client (its own cookies) of the app for these settings, on freshly seeded data and an empty Redis.

    The app itself is shared with other tests of the same settings, its in-memory state reset; use
    make_client/client_for for an app of your own (to see its start-up or shut-down, say).
    """
    app = await _shared_apps(settings)
    _fresh_state(app)
    transport = httpx.ASGITransport(app=HeadAsGet(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


@pytest.fixture
async def db(settings: Settings, reset: None) -> AsyncIterator[AsyncSession]:
    async with make_sessionmaker(_engine(settings))() as session:
        yield session


@pytest.fixture
def make_client():  # noqa: ANN201
    """client_for as a fixture, for a client with other settings: `async with make_client(s) as c:`."""
    return client_for
