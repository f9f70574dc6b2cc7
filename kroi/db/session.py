"""Engine and session factory; one engine per app (per worker process)."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator

from sqlalchemy import event

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from kroi.settings import Settings


class Outage:
    """Whether this process last saw the database away: set by the 503 handler, cleared by the next connection the
    pool hands out (pre-ping checked). Pages answered from the cache meanwhile say they may be stale."""

    since: float | None = None

    @classmethod
    def seen(cls) -> None:
        cls.since = cls.since or time.monotonic()

    @classmethod
    def over(cls, *_: object) -> None:
        cls.since = None


def make_engine(settings: Settings, url: str | None = None, *, command_timeout: float | None = 30) -> AsyncEngine:
    """The app's engine. Bulk work (the demo load, benchmarks) passes a longer command_timeout, or None."""
    engine = _create(settings, url, command_timeout)
    event.listen(engine.sync_engine, "checkout", Outage.over)
    return engine


def _create(settings: Settings, url: str | None, command_timeout: float | None) -> AsyncEngine:
    return create_async_engine(
        url or settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
        # A database that does not answer fails the request in seconds instead of asyncpg's default minute.
        # asyncpg prepares every statement, and after five runs PostgreSQL may switch to a generic plan that
        # cannot see the values: a price range or a rare brand then gets the plan of an average one (facets
        # with a price range 17 -> 79 ms, docs/performance.md). Planning each run costs 0.3-2 ms.
        connect_args={"server_settings": {"application_name": "kroi", "plan_cache_mode": "force_custom_plan"},
                      "timeout": 5, "command_timeout": command_timeout},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session
