"""Fixed-window rate limits in Redis with one atomic INCR+EXPIRE; fails open (and logs) when Redis is down."""
from __future__ import annotations

import logging
import time

from kroi.cache import keys
from kroi.cache.client import SafeRedis

log = logging.getLogger("kroi.ratelimit")


# One attempt per form, not per request: a form sent again with the same idempotency token (a double click, a
# retry, a slow network) gets the count its first accepted sending got. Only accepted tokens are remembered,
# so a refused form counts again when resent, and what is kept stays bounded by the limit.
_HIT_ONCE = """
local seen = redis.call('GET', KEYS[2])
if seen then return tonumber(seen) end
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
if n <= tonumber(ARGV[2]) then redis.call('SET', KEYS[2], n, 'EX', ARGV[1]) end
return n
"""


async def hit(safe: SafeRedis, scope: str, who: str, limit: int, window: int, token: str | None = None) -> bool:
    """Count one attempt; True while within the limit (and whenever Redis cannot be asked).

    With a token (the form's idempotency key), sending the same form again is not counted again.
    """
    bucket = int(time.time()) // window
    key = keys.rate_limit(scope, who, bucket)

    async def op(r):  # noqa: ANN001, ANN202
        if token:
            return int(await r.eval(_HIT_ONCE, 2, key, keys.rate_limit_token(scope, who, token), window + 5, limit))
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
