"""Shared fixtures: one migrated test database per session, reset and re-seeded for every test; real Redis."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import testing
from kroi.app import create_app
from kroi.db.session import make_engine, make_sessionmaker
from kroi.seeding.original import seed_all
from kroi.settings import Settings


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
    return testing.fresh_database(servers[0], "kroi_test")


@pytest.fixture(scope="session")
def redis_url(servers: tuple[str, str]) -> str:
    return servers[1]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture
def settings(database_url: str, redis_url: str, media_dir: Path, tmp_path: Path) -> Settings:
    return Settings(env="test", database_url=database_url, redis_url=redis_url, var_dir=tmp_path,
                    media_dir=media_dir, redis_breaker_seconds=0.2, view_flush_seconds=3600, page_size=4,
                    admin_email="admin@example.test", admin_password="test-password-not-default")


@pytest.fixture
async def reset(settings: Settings) -> AsyncIterator[None]:
    """Empty every table, seed the original data, and empty Redis: each test starts from the same state."""
    engine = make_engine(settings)
    await testing.truncate_all(engine)
    async with make_sessionmaker(engine)() as session:
        await seed_all(session, settings.media_root, settings.admin_email,
                       settings.admin_password.get_secret_value())
    await engine.dispose()
    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()
    await redis.aclose()
    yield


@contextlib.asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def client(settings: Settings, reset: None) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings) as c:
        yield c


@pytest.fixture
async def db(settings: Settings, reset: None) -> AsyncIterator[AsyncSession]:
    engine = make_engine(settings)
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()
