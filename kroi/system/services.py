"""Dealer settings: defaults merged with the settings table, cached in Redis under the settings scope."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kroi.cache import invalidate, keys
from kroi.cache.fragments import FragmentCache
from kroi.system import texts
from kroi.system.repositories import SettingsRepository

DEFAULTS: dict[str, Any] = {
    "dealer": {
        "name": "Kroi Auto Center",
        "street": "Teollisuustie 12",
        "postal_code": "33330",
        "city": "Tampere",
        "phone": "+358 40 123 4567",
        "email": "myynti@kroiautocenter.fi",
        "business_id": "1234567-8",
    },
    # weekday (0 = Monday) -> [opens, closes] or null when closed
    "opening_hours": {"0": ["09:00", "18:00"], "1": ["09:00", "18:00"], "2": ["09:00", "18:00"],
                      "3": ["09:00", "18:00"], "4": ["09:00", "17:00"], "5": ["10:00", "15:00"], "6": None},
    "financing": {"rate_pct": 5.9, "opening_fee_cents": 29900, "monthly_fee_cents": 900, "months": 60,
                  "down_payment_pct": 20, "max_months": 84},
    "leads": {"response_target_hours": 4, "notify_email": "myynti@kroiautocenter.fi"},
    # privacy policy, terms and the car page's trust block, FI and EN (plain text, see kroi/system/texts.py)
    "pages": {name: "" for name in texts.PAGES},  # "" = the default text of kroi/system/texts.py
}


@dataclass(frozen=True)
class SiteSettings:
    dealer: dict[str, Any]
    opening_hours: dict[str, Any]
    financing: dict[str, Any]
    leads: dict[str, Any]
    pages: dict[str, Any]

    def page_text(self, name: str, lang: str) -> str:
        """An editable page text in this language; an emptied text falls back to the default."""
        key = f"{name}_{'en' if lang == 'en' else 'fi'}"
        return (self.pages.get(key) or "").strip() or texts.PAGES[key]

    def hours_rows(self) -> list[tuple[int, list[str] | None]]:
        return [(day, self.opening_hours.get(str(day))) for day in range(7)]


def merge(stored: dict[str, Any]) -> SiteSettings:
    values = copy.deepcopy(DEFAULTS)
    for key, value in stored.items():
        if key in values and isinstance(values[key], dict) and isinstance(value, dict):
            values[key].update(value)
    return SiteSettings(**{k: values[k] for k in DEFAULTS})


async def load(session: AsyncSession, cache: FragmentCache) -> SiteSettings:
    gens = await cache.generations([keys.SETTINGS])
    key = keys.fragment(keys.SETTINGS, gens[keys.SETTINGS], "site") if gens else None

    async def from_db() -> str:
        return json.dumps(await SettingsRepository(session).all())

    site = merge(json.loads(await cache.get_or_render(key, keys.TTL_SETTINGS, from_db)))
    global _last_loaded
    _last_loaded = site
    return site


_last_loaded: SiteSettings | None = None


def last_loaded() -> SiteSettings:
    """The settings most recently loaded by this process (defaults before the first load): for error pages,
    whose handlers cannot wait for the database and must render even when it is down."""
    return _last_loaded or merge({})


async def save(session: AsyncSession, cache: FragmentCache, key: str, value: dict[str, Any],
               user_id: int | None = None) -> None:
    await save_all(session, cache, {key: value}, user_id)


async def save_all(session: AsyncSession, cache: FragmentCache, values: dict[str, dict[str, Any]],
                   user_id: int | None = None) -> None:
    """Store several setting groups in one transaction (the caller may have added audit rows to it)."""
    repo = SettingsRepository(session)
    for key, value in values.items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown setting {key!r}")
        await repo.upsert(key, value, user_id)
    await session.commit()
    await invalidate.settings_changed(cache)
