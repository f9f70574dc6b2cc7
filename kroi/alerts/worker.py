"""The saved-search job in the worker: match every few minutes, send the daily digest once a day.

Runs beside the outbox worker (`kroi worker`, or inside `kroi serve` in development); several workers are
safe: a run holds the job's row lock and the others skip that round. Mails go through the outbox.
"""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kroi.alerts.services import AlertJob, Links
from kroi.settings import Settings
from kroi.web.templating import Templates

log = logging.getLogger("kroi.alerts")


def links_for(settings: Settings) -> Links:
    """Mail links need the public address; without one (development) the default `kroi serve` address."""
    return Links(settings.secret(), (settings.public_url or "http://127.0.0.1:8000").rstrip("/"))


async def run_once(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, templates: Templates,
                   digest: bool = True) -> dict[str, int]:
    """Match the changes since the last run; then the digest if it is due (or never, with digest=False)."""
    links = links_for(settings)
    async with sessionmaker() as session:
        stats = await AlertJob(session, templates, links).match_changes()
    if digest:
        async with sessionmaker() as session:
            stats["digests"] = await AlertJob(session, templates, links).send_digests()
    return stats


async def run_forever(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    templates = Templates(settings.media_url)
    while True:
        try:
            stats = await run_once(sessionmaker, settings, templates)
            if stats.get("hits") or stats.get("digests"):
                log.info("saved searches: %s", stats)
        except Exception:  # the database may be away: try again next round
            log.exception("saved-search job failed")
        await asyncio.sleep(settings.alerts_poll_seconds)
