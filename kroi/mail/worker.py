"""The outbox worker: send due messages, retry temporary failures with backoff, dead-letter permanent ones.

Runs inside `kroi serve` (development) or as `kroi worker` (production, any number of them: claims use
SKIP LOCKED). An SMTP server that is down or slow only delays mail; the leads are already committed. A claimed
message is leased for outbox_lease_seconds and the lease renewed while the batch is being sent, so the mails of
a worker that dies mid-send go to another worker within about that time.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kroi.mail import messages
from kroi.mail.outbox import OutboxRepository
from kroi.mail.sender import MailSender
from kroi.settings import Settings

log = logging.getLogger("kroi.mail")

# Refusals of this message (RFC 5321 §4.2.1: 5yz is permanent, the same message would be refused again). A 5yz
# to the greeting, HELO or AUTH says our server or credentials are wrong, not the message: those are retried.
_MESSAGE_REFUSALS = (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)


def describe(exc: BaseException) -> tuple[str, bool]:
    """(the failure as stored for staff, with the server's reply; whether it is permanent)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refusals = exc.recipients
        text = "; ".join(f"SMTP {r.code} {r.message} ({r.recipient})" for r in refusals)
        return text, bool(refusals) and all(500 <= r.code < 600 for r in refusals)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"SMTP {exc.code} {exc.message}", isinstance(exc, _MESSAGE_REFUSALS) and 500 <= exc.code < 600
    return f"{type(exc).__name__}: {exc}", False


async def _keep_leased(sessionmaker: async_sessionmaker[AsyncSession], ids: set[int], lease: float) -> None:
    """Renew the lease of the batch's unsent messages every third of the lease until cancelled."""
    while True:
        await asyncio.sleep(lease / 3)
        try:
            async with sessionmaker() as session:
                await OutboxRepository(session).renew(set(ids), lease)
        except Exception as exc:  # noqa: BLE001 - a missed renewal only risks a second send of a mail
            log.warning("outbox lease renewal failed: %s", exc)


async def process_due(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                      sender: MailSender | None = None, limit: int = 10) -> int:
    """Send one batch of due messages; returns how many were handled (sent or failed)."""
    sender = sender or MailSender(settings)
    lease = settings.outbox_lease_seconds
    async with sessionmaker() as session:
        repo = OutboxRepository(session)
        batch = await repo.claim(limit, lease)
        held = {message.id for message in batch}
        renewal = asyncio.create_task(_keep_leased(sessionmaker, held, lease))
        try:
            for message in batch:
                try:
                    msg = messages.build(message.payload, settings.mail_from,
                                         messages.message_id(message.id, message.created_at, settings.mail_from))
                    where = await sender.send(msg)
                except Exception as exc:  # any delivery failure: retried later unless the server refused it
                    error, permanent = describe(exc)
                    held.discard(message.id)
                    state = await repo.mark_failed(message, error, settings.outbox_max_attempts,
                                                   settings.outbox_backoff_seconds, permanent=permanent)
                    log.warning("mail %s (%s) failed on attempt %s, now %s: %s", message.id, message.kind,
                                message.attempts, state, error)
                else:
                    held.discard(message.id)
                    await repo.mark_sent(message)
                    log.info("mail %s (%s) sent to %s via %s", message.id, message.kind, message.payload.get("to"),
                             where)
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
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
