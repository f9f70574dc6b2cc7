"""The audit log: every staff write records who, when, what and before/after, in the writer's transaction."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import AuditLog

# Never written to the log, whatever the entity.
SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash", "secret", "smtp_password"})


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in SECRET_FIELDS}
    return value


def snapshot(obj: Any, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields if f not in SECRET_FIELDS}


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(session: AsyncSession, *, actor_id: int | None, action: str, entity_type: str, entity_id: Any,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, ip: str | None = None) -> None:
    session.add(AuditLog(
        actor_id=actor_id, action=action[:40], entity_type=entity_type[:40],
        entity_id=None if entity_id is None else str(entity_id)[:40],
        before=_plain(before) if before is not None else None, after=_plain(after) if after is not None else None,
        ip=(ip or "")[:45] or None,
    ))
