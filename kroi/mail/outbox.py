"""The outbox table: enqueue in the caller's transaction; claim due messages with SKIP LOCKED; mark results."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import LeadActivity, OutboxMessage

LEASE_SECONDS = 30.0  # a claimed message is retried after this if its worker died (renewed while sending)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def enqueue(self, kind: str, payload: dict[str, Any], lead_id: int | None = None) -> None:
        self.session.add(OutboxMessage(kind=kind, payload=payload, lead_id=lead_id))

    async def claim(self, limit: int = 10, lease_seconds: float = LEASE_SECONDS) -> list[OutboxMessage]:
        """Take due messages; each is leased (pushed lease_seconds into the future) so no other worker takes it."""
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= func.now())
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=func.now() + _seconds(lease_seconds))
            .returning(OutboxMessage)
        )
        claimed = list(rows.all())
        await self.session.commit()
        return claimed

    async def renew(self, ids: Collection[int], lease_seconds: float = LEASE_SECONDS) -> None:
        """Extend the lease of messages this worker still holds (still pending: not yet sent or failed; a retry's
        backoff that a failure has just set is never shortened)."""
        if ids:
            await self.session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == "pending")
                .values(next_attempt_at=func.greatest(OutboxMessage.next_attempt_at,
                                                      func.now() + _seconds(lease_seconds))))
            await self.session.commit()

    async def mark_sent(self, message: OutboxMessage) -> None:
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message.id)
            .values(status="sent", sent_at=func.now(), last_error=None))
        if message.lead_id:
            self.session.add(LeadActivity(lead_id=message.lead_id, kind="email_sent",
                                          details={"kind": message.kind, "to": message.payload.get("to")}))
        await self.session.commit()

    async def mark_failed(self, message: OutboxMessage, error: str, max_attempts: int,
                          backoff_seconds: float, permanent: bool = False) -> str:
        """Schedule a retry with exponential backoff, or give up ('dead') after max_attempts or at once when the
        failure is permanent (an SMTP 5yz reply: the same message would be refused again)."""
        dead = permanent or message.attempts >= max_attempts
        delay = backoff_seconds * (2 ** (message.attempts - 1))
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message.id).values(
                status="dead" if dead else "pending",
                last_error=error[:2000],
                next_attempt_at=datetime.now(timezone.utc) + timedelta(seconds=min(delay, 6 * 3600)),
            ))
        if message.lead_id:
            self.session.add(LeadActivity(lead_id=message.lead_id, kind="email_failed",
                                          details={"kind": message.kind, "attempt": message.attempts,
                                                   "dead": dead, "permanent": permanent,
                                                   "error": error[:300]}))
        await self.session.commit()
        return "dead" if dead else "pending"

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        return {status: n for status, n in rows.all()}

    async def backlog(self) -> dict[str, float]:
        """Messages by state (queued = pending; retrying = pending after a failed attempt) and the age in seconds
        of the oldest queued one (0 when none waits), in one pass: for /metrics and kroi monitor."""
        row = (await self.session.execute(text(
            "SELECT count(*) FILTER (WHERE status = 'pending') AS queued, "
            "count(*) FILTER (WHERE status = 'pending' AND attempts > 0) AS retrying, "
            "count(*) FILTER (WHERE status = 'sending') AS sending, "
            "count(*) FILTER (WHERE status = 'sent') AS sent, "
            "count(*) FILTER (WHERE status = 'dead') AS dead, "
            "coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0) "
            "AS oldest_queued_seconds FROM outbox_messages"))).one()
        return {k: float(v) if k == "oldest_queued_seconds" else int(v) for k, v in row._mapping.items()}

    async def dead(self, limit: int = 100) -> list[OutboxMessage]:
        return list((await self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == "dead")
            .order_by(OutboxMessage.id.desc()).limit(limit))).all())

    async def retry_dead(self) -> int:
        result = await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=func.now()))
        await self.session.commit()
        return result.rowcount or 0


def _seconds(seconds: float):  # noqa: ANN202 - an SQL interval
    return text(f"interval '{float(seconds)} seconds'")
