"""The outbox worker: send due messages, retry with backoff, dead-letter after too many failures.

Runs inside `kroi serve` (development) or as `kroi worker` (production, any number of them: claims use
SKIP LOCKED). An SMTP server that is down or slow only delays mail; the leads are already committed.
"""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kroi.mail import messages
from kroi.mail.outbox import OutboxRepository
from kroi.mail.sender import MailSender
from kroi.settings import Settings

log = logging.getLogger("kroi.mail")


async def process_due(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                      sender: MailSender | None = None, limit: int = 10) -> int:
    """Send one batch of due messages; returns how many were handled (sent or failed)."""
    sender = sender or MailSender(settings)
    async with sessionmaker() as session:
        repo = OutboxRepository(session)
        batch = await repo.claim(limit)
        for message in batch:
            try:
                msg = messages.build(message.payload, settings.mail_from)
                where = await sender.send(msg)
            except Exception as exc:  # any delivery failure: retry later
                state = await repo.mark_failed(message, f"{type(exc).__name__}: {exc}", settings.outbox_max_attempts,
                                               settings.outbox_backoff_seconds)
                log.warning("mail %s (%s) failed on attempt %s, now %s: %s", message.id, message.kind,
                            message.attempts, state, exc)
            else:
                await repo.mark_sent(message)
                log.info("mail %s (%s) sent to %s via %s", message.id, message.kind, message.payload.get("to"),
                         where)
        return len(batch)


async def run_forever(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    sender = MailSender(settings)
    while True:
        try:
            handled = await process_due(sessionmaker, settings, sender)
        except Exception:  # the database may be away: try again later
            log.exception("outbox worker pass failed")
            handled = 0
        if not handled:
            await asyncio.sleep(settings.outbox_poll_seconds)
