"""The Redis client with short timeouts, no retries and a circuit breaker.

redis-py retries by default, so a dead Redis would cost seconds per call; here a refused or broken connection
opens the breaker at once and Redis is skipped for a few seconds, after which the next call tries again by
itself. A timeout opens it only when several calls in a row time out: under load one worker's event loop can
be busy for longer than the timeout, so a reply that arrived in time is read "late"; if one such read skipped
Redis for seconds, every request would render from PostgreSQL, the loop would get busier still and the cache
would stay off (measured in docs/performance.md).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

log = logging.getLogger("kroi.cache")
T = TypeVar("T")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    skipped: int = 0  # calls not made because the breaker was open

    def count(self, what: str) -> None:
        """One more hit, miss, error or skipped call: here (this worker's /health) and in /metrics (all workers)."""
        from kroi.metrics import CACHE

        setattr(self, what, getattr(self, what) + 1)
        CACHE.labels(_METRIC_LABEL[what]).inc()

    def as_dict(self) -> dict[str, Any]:
        looked_up = self.hits + self.misses
        return {
            "hits": self.hits, "misses": self.misses, "errors": self.errors, "skipped": self.skipped,
            "hit_rate": round(self.hits / looked_up, 3) if looked_up else None,
        }


_METRIC_LABEL = {"hits": "hit", "misses": "miss", "errors": "error", "skipped": "skip"}


def make_redis(url: str, timeout: float, connect_timeout: float | None = None) -> Redis:
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=connect_timeout if connect_timeout is not None else timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
        decode_responses=False,
        max_connections=64,
    )


@dataclass
class SafeRedis:
    """Runs Redis calls that may fail: on error, returns a default and opens the breaker."""

    redis: Redis | None
    breaker_seconds: float
    timeouts_to_open: int = 3  # consecutive timeouts that open the breaker
    role: str = "shared"  # in /metrics: "cache", "state", or "shared" when one server holds both (README)
    stats: CacheStats = field(default_factory=CacheStats)
    _open_until: float = 0.0
    _timeouts_in_a_row: int = 0

    @property
    def available(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._open_until

    async def run(self, op: Callable[[Redis], Awaitable[T]], default: T) -> T:
        if self.redis is None:
            return default
        if time.monotonic() < self._open_until:
            self.stats.count("skipped")
            return default
        try:
            result = await op(self.redis)
        except (RedisTimeoutError, TimeoutError) as exc:
            self.stats.count("errors")
            self._timeouts_in_a_row += 1
            if self._timeouts_in_a_row >= self.timeouts_to_open:
                self._open(exc)
            return default
        except (RedisError, OSError) as exc:
            self.stats.count("errors")
            self._open(exc)
            return default
        self._timeouts_in_a_row = 0
        return result

    def _open(self, exc: BaseException) -> None:
        self._timeouts_in_a_row = 0
        self._open_until = time.monotonic() + self.breaker_seconds
        from kroi import metrics

        metrics.BREAKER_OPENINGS.labels(self.role).inc()
        metrics.BREAKER_OPEN_UNTIL.labels(self.role).set(time.time() + self.breaker_seconds)
        log.warning("redis unavailable, skipping it for %.1fs: %r", self.breaker_seconds, exc)

    async def ping(self) -> bool:
        if self.redis is None:
            return False
        try:
            ok = bool(await self.redis.ping())
        except (RedisError, OSError, TimeoutError):
            return False
        if ok and self._open_until:
            from kroi import metrics

            self._open_until = 0.0
            metrics.BREAKER_OPEN_UNTIL.labels(self.role).set(0)
        return ok

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
