"""Fixed-window rate limits in Redis with one atomic INCR+EXPIRE; fails open (and logs) when Redis is down."""
from __future__ import annotations

import logging
import time

from kroi.cache import keys
from kroi.cache.client import SafeRedis

log = logging.getLogger("kroi.ratelimit")


async def hit(safe: SafeRedis, scope: str, who: str, limit: int, window: int) -> bool:
    """Count one attempt; True while within the limit (and whenever Redis cannot be asked)."""
    bucket = int(time.time()) // window
    key = keys.rate_limit(scope, who, bucket)

    async def op(r):  # noqa: ANN001, ANN202
        async with r.pipeline(transaction=True) as p:
            p.incr(key)
            p.expire(key, window + 5)
            count, _ = await p.execute()
        return int(count)

    count = await safe.run(op, None)
    if count is None:
        log.warning("rate limit %s not checked: Redis unavailable (failing open)", scope)
        return True
    return count <= limit
