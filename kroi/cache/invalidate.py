"""Which cache scopes a write affects. Only services call these, after their transaction commits."""
from __future__ import annotations

from kroi.cache import keys
from kroi.cache.fragments import FragmentCache


async def car_changed(cache: FragmentCache, *car_ids: int) -> None:
    """A car's data changed: its own page and everything that lists cars (listings, facets, related, home)."""
    await cache.bump(keys.INVENTORY, *(keys.car_scope(i) for i in car_ids))


async def settings_changed(cache: FragmentCache) -> None:
    await cache.bump(keys.SETTINGS)
