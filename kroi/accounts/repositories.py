"""SQL for users, sign-in attempts and session records."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import LoginAttempt, User, UserSession


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def all(self) -> list[User]:
        return list((await self.session.scalars(select(User).order_by(User.role, User.email))).all())

    def add(self, user: User) -> None:
        self.session.add(user)


class LoginAttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(self, email: str, ip: str, succeeded: bool) -> None:
        self.session.add(LoginAttempt(email=email.strip().lower()[:254], ip=ip[:45], succeeded=succeeded))

    async def recent_failures(self, *, email: str | None = None, ip: str | None = None,
                              window: timedelta) -> tuple[int, datetime | None]:
        """Failed attempts within the window: (count, time of the latest failure).

        For an account, the failures since its last successful sign-in. For an address, its failures against
        each account since that account's last success from the address: a success resets only its own
        account's count, so signing in to one account does not buy more guesses at the others."""
        since = datetime.now(timezone.utc) - window
        if email:
            mine = func.lower(LoginAttempt.email) == email.strip().lower()
            last_ok = await self.session.scalar(
                select(func.max(LoginAttempt.created_at)).where(mine, LoginAttempt.succeeded.is_(True)))
            start = max(since, last_ok) if last_ok else since
            later = LoginAttempt.created_at > start
        else:
            mine = LoginAttempt.ip == ip
            success = aliased(LoginAttempt)
            later = (LoginAttempt.created_at > since) & ~exists().where(
                success.ip == LoginAttempt.ip, success.email == LoginAttempt.email, success.succeeded.is_(True),
                success.created_at > LoginAttempt.created_at)
        count, latest = (await self.session.execute(
            select(func.count(), func.max(LoginAttempt.created_at))
            .where(mine, LoginAttempt.succeeded.is_(False), later))).one()
        return int(count), latest


class SessionRecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, record: UserSession) -> None:
        self.session.add(record)

    async def revoke(self, session_hash: str) -> None:
        await self.session.execute(update(UserSession).where(UserSession.id == session_hash)
                                   .values(revoked_at=func.now()))

    async def revoke_all(self, user_id: int) -> list[str]:
        rows = await self.session.scalars(
            update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=func.now()).returning(UserSession.id))
        return list(rows.all())
