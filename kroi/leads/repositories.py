"""SQL for leads: insert (idempotent), round-robin assignment, lookups."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import Car, Lead, LeadActivity, User
from kroi.inventory.repositories import LISTED

ASSIGNMENT_LOCK = 0x4B524F49  # "KROI": serializes round-robin picks across workers


class LeadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_idempotency_key(self, key: str) -> Lead | None:
        return await self.session.scalar(select(Lead).where(Lead.idempotency_key == key))

    async def created_since(self, ago: timedelta) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(Lead).where(Lead.created_at > func.now() - ago)) or 0)

    async def forget_idempotency_key(self, lead_id: int) -> None:
        """The key's window has passed: it no longer names this lead (and may name a new one)."""
        await self.session.execute(update(Lead).where(Lead.id == lead_id).values(idempotency_key=None))

    async def get(self, lead_id: int) -> Lead | None:
        return await self.session.get(Lead, lead_id)

    async def has_earlier_lead(self, email: str) -> bool:
        return bool(await self.session.scalar(
            select(func.count()).select_from(Lead).where(func.lower(Lead.email) == email.lower())))

    async def car_for_lead(self, car_id: int) -> Car | None:
        """A car a visitor may ask about: listed (available or reserved)."""
        return await self.session.scalar(select(Car).where(Car.id == car_id, LISTED))

    async def next_assignee(self) -> int | None:
        """Round robin over active sales users, in id order, after whoever got the latest lead."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ASSIGNMENT_LOCK})
        sales = list((await self.session.scalars(
            select(User.id).where(User.role == "sales", User.is_active.is_(True)).order_by(User.id))).all())
        if not sales:
            return None
        last = await self.session.scalar(
            select(Lead.assignee_id).where(Lead.assignee_id.is_not(None)).order_by(Lead.id.desc()).limit(1))
        later = [uid for uid in sales if last is not None and uid > last]
        return later[0] if later else sales[0]

    async def insert(self, values: dict[str, Any]) -> int | None:
        """Insert a lead; None when its idempotency key was already used (a double click, a retry)."""
        stmt = insert(Lead).values(**values).on_conflict_do_nothing(index_elements=[Lead.idempotency_key])
        return await self.session.scalar(stmt.returning(Lead.id))

    def add_activity(self, lead_id: int, kind: str, details: dict[str, Any] | None = None,
                     actor_id: int | None = None) -> None:
        self.session.add(LeadActivity(lead_id=lead_id, kind=kind, details=details or {}, actor_id=actor_id))
