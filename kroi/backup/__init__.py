"""Backups and restores of the database and media (`kroi backup`, `kroi backup list`, `kroi restore`).

kroi/backup/services.py says what a backup holds; last_backup_at is what the monitor asks.
"""
from __future__ import annotations

from datetime import datetime

from kroi.settings import Settings


def last_backup_at(settings: Settings) -> datetime | None:
    """Time (UTC) of the newest good (completed) backup in the configured folder or bucket, or None.

    Blocking (a folder scan or one bucket listing): from async code call it through asyncio.to_thread."""
    from kroi.backup.locations import location_for

    good = [e for e in location_for(settings).scan() if e.good]
    return good[-1].created_at if good else None
