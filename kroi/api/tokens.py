"""API tokens: "kroi_<prefix>_<secret>", shown once, stored as a SHA-256 hash; revoked with their user."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import audit
from kroi.db.models import ApiToken, User
from kroi.parsing import clean_text


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, user_id: int, name: str, *, ip: str | None) -> tuple[ApiToken, str]:
        prefix = secrets.token_hex(4)
        token = f"kroi_{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiToken(user_id=user_id, name=clean_text(name)[:80] or "API", prefix=prefix,
                       token_hash=hash_token(token))
        self.session.add(row)
        await self.session.flush()
        audit.record(self.session, actor_id=user_id, action="create", entity_type="api_token", entity_id=row.id,
                     after={"name": row.name, "prefix": prefix}, ip=ip)
        await self.session.commit()
        return row, token

    async def of_user(self, user_id: int) -> list[ApiToken]:
        return list((await self.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))).all())

    async def revoke(self, user_id: int, token_id: int, *, ip: str | None) -> bool:
        result = await self.session.execute(
            update(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id,
                                   ApiToken.revoked_at.is_(None)).values(revoked_at=func.now()))
        if result.rowcount:
            audit.record(self.session, actor_id=user_id, action="revoke", entity_type="api_token",
                         entity_id=token_id, ip=ip)
        await self.session.commit()
        return bool(result.rowcount)

    async def user_for(self, token: str) -> User | None:
        """The active user a valid, unrevoked, unexpired token belongs to (and note its use)."""
        if not token.startswith("kroi_") or len(token) > 120:
            return None
        row = await self.session.scalar(select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)))
        if row is None or (row.expires_at is not None and row.expires_at < datetime.now(timezone.utc)):
            return None
        user = await self.session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        row.last_used_at = datetime.now(timezone.utc)
        await self.session.commit()
        return user
