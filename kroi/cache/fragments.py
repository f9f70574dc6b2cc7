"""Fragment get-or-render with generation keys, TTL tiers and a stampede guard; degrades to rendering."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from kroi.cache import keys
from kroi.cache.client import SafeRedis

log = logging.getLogger("kroi.cache")

LOCK_MS = 5000  # longest a render may hold the lock
WAIT_S = 1.0  # longest a concurrent miss waits for another worker's render before rendering itself
POLL_S = 0.01


class FragmentCache:
    def __init__(self, safe: SafeRedis, enabled: bool = True) -> None:
        self.safe = safe
        self.enabled = enabled
        # Scopes whose bump failed while Redis was away; bumped before the next read so that fragments
        # cached before the outage are never served after a write made during it.
        self._pending_bumps: set[str] = set()
        # Small derived data (brand/model lists) memoised in this process, keyed by a generation by its user.
        self.local: dict[str, object] = {}

    @property
    def stats(self):  # noqa: ANN201
        return self.safe.stats

    async def generations(self, scopes: Sequence[str]) -> dict[str, int] | None:
        """The current generation of each scope, or None when Redis is unavailable (do not cache)."""
        if not self.enabled or not self.safe.available:
            return None
        if self._pending_bumps and not await self._apply_pending_bumps():
            return None
        names = [keys.generation(s) for s in scopes]

        async def op(r):  # noqa: ANN001, ANN202
            values = await r.mget(names)
            missing = [n for n, v in zip(names, values) if v is None]
            if missing:
                # A lost generation starts from the clock, so it can never meet fragments of an older one.
                seed = int(time.time() * 1000)
                async with r.pipeline(transaction=False) as p:
                    for n in missing:
                        p.set(n, seed, nx=True, ex=keys.TTL_GENERATION)
                    await p.execute()
                values = await r.mget(names)
            return {s: int(v) for s, v in zip(scopes, values)}

        return await self.safe.run(op, None)

    async def bump(self, *scopes: str) -> None:
        """Invalidate every fragment of these scopes (call after the write has committed)."""
        if scopes and not await self._incr(scopes):
            self._pending_bumps.update(scopes)

    async def _apply_pending_bumps(self) -> bool:
        pending = set(self._pending_bumps)
        if await self._incr(pending):
            self._pending_bumps -= pending
            return True
        return False

    async def _incr(self, scopes) -> bool:  # noqa: ANN001
        async def op(r):  # noqa: ANN001, ANN202
            seed = int(time.time() * 1000)
            async with r.pipeline(transaction=False) as p:
                for s in scopes:
                    # INCR alone would start a lost generation at 1, which an older life of it may have used.
                    p.set(keys.generation(s), seed, nx=True, ex=keys.TTL_GENERATION)
                    p.incr(keys.generation(s))
                await p.execute()
            return True

        return await self.safe.run(op, False)

    async def get_or_render(self, key: str | None, ttl: int, render: Callable[[], Awaitable[str]]) -> str:
        """Return the cached fragment for key, or render it once (one renderer per key at a time)."""
        async def render_bytes() -> bytes:
            return (await render()).encode()

        return (await self.get_or_compute(key, ttl, render_bytes)).decode()

    async def get_or_compute(self, key: str | None, ttl: int, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """get_or_render for bytes (a gzip-compressed response body, say)."""
        if key is None:
            return await compute()
        cached = await self.safe.run(lambda r: r.get(key), None)
        if cached is not None:
            self.stats.count("hits")
            return cached
        if not self.safe.available:
            return await compute()
        self.stats.count("misses")
        lock_key = keys.lock(key)
        got_lock = await self.safe.run(lambda r: r.set(lock_key, b"1", nx=True, px=LOCK_MS), None)
        if not got_lock and self.safe.available:
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                await asyncio.sleep(POLL_S)
                cached = await self.safe.run(lambda r: r.get(key), None)
                if cached is not None:
                    return cached
                if not self.safe.available:
                    break
            return await compute()
        try:
            value = await compute()
            await self.safe.run(lambda r: r.set(key, value, ex=ttl), None)
            return value
        finally:
            if got_lock:
                await self.safe.run(lambda r: r.delete(lock_key), None)
