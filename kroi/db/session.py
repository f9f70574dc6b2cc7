"""Engine and session factory; one engine per app (per worker process)."""
from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from kroi.settings import Settings


class MeteredPool(AsyncAdaptedQueuePool):
    """The usual pool, counting the waits for a connection that timed out (kroi_db_pool_timeouts_total)."""

    _sqla_logger_namespace = "sqlalchemy.pool.impl.AsyncAdaptedQueuePool"  # SQLAlchemy's quiet logger, not kroi.*

    def _do_get(self):  # noqa: ANN202
        try:
            return super()._do_get()
        except sa_exc.TimeoutError:
            from kroi import metrics

            metrics.POOL_TIMEOUTS.inc()
            raise


_POOLS: "weakref.WeakSet[MeteredPool]" = weakref.WeakSet()


def _pool_changed(*_args: object) -> None:
    from kroi import metrics

    pools = list(_POOLS)
    metrics.POOL_IN_USE.set(sum(p.checkedout() for p in pools))
    metrics.POOL_OVERFLOW.set(sum(max(p.overflow(), 0) for p in pools))


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
    engine = create_async_engine(
        url or settings.database_url,
        poolclass=MeteredPool,
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
    # Connections in use and overflow, for /metrics: recomputed from the pools whenever one changes hands.
    _POOLS.add(engine.sync_engine.pool)  # type: ignore[arg-type]
    for name in ("checkout", "checkin", "close", "close_detached"):
        event.listen(engine.sync_engine, name, _pool_changed)
    event.listen(engine.sync_engine, "checkout", Outage.over)  # a connection handed out: the outage is over
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session
