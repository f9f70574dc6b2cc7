"""Engine and session factory; one engine per app (per worker process)."""
from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from kroi.settings import Settings


def make_engine(settings: Settings, url: str | None = None, *, command_timeout: float | None = 30) -> AsyncEngine:
    """The app's engine. Bulk work (the demo load, benchmarks) passes a longer command_timeout, or None."""
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
