"""Every Redis key the app uses is built here, and nowhere else.

Fragment keys are shaped kroi:v1:{scope}:{gen}:{what}; `gen` is the scope's generation number, which a
write bumps, so invalidation never scans keys.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

PREFIX = "kroi:v1"

# Time-to-live tiers, in seconds: short for counts that change with every sale, long for pieces whose
# generation changes whenever they do.
TTL_COUNTER = 30
TTL_LISTING = 300
TTL_FACETS = 300
TTL_FEATURED = 900
TTL_RELATED = 3600
TTL_DETAIL = 86400
TTL_SETTINGS = 86400 * 7
# A generation key outlives every fragment of its scope, then goes: one for every car id ever asked for
# must not pile up in Redis. A lost generation restarts from the clock, so it never meets older fragments.
TTL_GENERATION = 86400 * 8


def generation(scope: str) -> str:
    return f"{PREFIX}:gen:{scope}"


def car_scope(car_id: int) -> str:
    return f"car:{car_id}"


INVENTORY = "inventory"
SETTINGS = "settings"


def digest(value: Any) -> str:
    """A short stable hash of a JSON-able value (a normalized filter set, say)."""
    raw = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def fragment(scope: str, gen: int, *what: str) -> str:
    return f"{PREFIX}:{scope}:{gen}:{':'.join(what)}"


def lock(key: str) -> str:
    return f"{key}:lock"


def pending_views() -> str:
    """Hash car_id -> views since the last flush."""
    return f"{PREFIX}:views:pending"


def pending_searches() -> str:
    """List of JSON search records waiting to be written to search_queries."""
    return f"{PREFIX}:searches:pending"


def flushing_views(token: str) -> str:
    return f"{PREFIX}:views:flushing:{token}"


def rate_limit(scope: str, who: str, bucket: int) -> str:
    """A fixed-window counter; `who` (an IP or an e-mail address) is hashed so no address sits in Redis."""
    return f"{PREFIX}:rl:{scope}:{digest(who)}:{bucket}"


def rate_limit_token(scope: str, who: str, token: str) -> str:
    """The count a form (its idempotency token) was given when first let through: a resend is not a new hit."""
    return f"{PREFIX}:rl:{scope}:{digest(who)}:t:{digest(token)}"


def session(session_hash: str) -> str:
    return f"{PREFIX}:session:{session_hash}"


def user_sessions(user_id: int) -> str:
    """Set of the session hashes of one user, to sign them out everywhere at once."""
    return f"{PREFIX}:user-sessions:{user_id}"
