"""SQL for the settings table."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import Setting


class SettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> dict[str, Any]:
        return {s.key: s.value for s in await self.session.scalars(select(Setting))}

    async def insert_missing(self, values: dict[str, Any]) -> int:
        """Insert keys that are not there yet; returns how many were added."""
        added = 0
        for key, value in values.items():
            result = await self.session.execute(
                insert(Setting).values(key=key, value=value).on_conflict_do_nothing(index_elements=[Setting.key])
            )
            added += result.rowcount or 0
        return added

    async def upsert(self, key: str, value: Any, user_id: int | None = None) -> None:
        stmt = insert(Setting).values(key=key, value=value, updated_by_id=user_id)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Setting.key], set_={"value": value, "updated_by_id": user_id, "updated_at": func.now()}
        )
        await self.session.execute(stmt)
