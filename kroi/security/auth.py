"""Staff sign-in: server-side sessions in Redis, lockout after failed attempts, role checks.

The session cookie holds a random id; Redis holds only its hash -> user id, so an id is never adopted unless
we issued it (no session fixation), a new id is issued at every sign-in, and logging out, deactivation or a
role change deletes it at once. Every admin request reloads the user from PostgreSQL.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.accounts.repositories import LoginAttemptRepository, SessionRecordRepository, UserRepository
from kroi.cache import keys
from kroi.cache.client import SafeRedis
from kroi.db.models import User, UserSession
from kroi.security.passwords import hash_password, needs_rehash, verify_password

log = logging.getLogger("kroi.auth")
COOKIE = "kroi_session"
ROLE_RANK = {"viewer": 1, "sales": 2, "admin": 3}
ACCOUNT_FREE_FAILURES = 5
IP_FREE_FAILURES = 20
FAILURE_WINDOW = timedelta(hours=1)
IP_WINDOW = timedelta(minutes=15)
# Verified against when the e-mail is unknown, so the answer takes as long as for a real account.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class SessionStoreUnavailable(Exception):
    """Redis cannot be reached: no one can sign in (the public site is unaffected)."""


def session_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class SignIn:
    user: User | None
    error: str | None = None  # an i18n key
    wait_minutes: int = 0
    token: str | None = None


def lockout_minutes(failures: int, free: int, latest: datetime | None) -> int:
    """Minutes still to wait: 1, 2, 4, … (at most 60) after each failure beyond the free ones."""
    if failures < free or latest is None:
        return 0
    delay = timedelta(minutes=min(60, 2 ** (failures - free)))
    remaining = latest + delay - datetime.now(timezone.utc)
    return max(0, int(remaining.total_seconds() // 60) + 1) if remaining.total_seconds() > 0 else 0


class SessionStore:
    def __init__(self, safe: SafeRedis, idle_seconds: int, absolute_seconds: int) -> None:
        self.safe = safe
        self.idle = idle_seconds
        self.absolute = absolute_seconds

    async def create(self, user_id: int) -> str:
        token = secrets.token_urlsafe(32)
        h = session_hash(token)
        value = json.dumps({"uid": user_id, "created": time.time()})

        async def op(r):  # noqa: ANN001, ANN202
            async with r.pipeline(transaction=True) as p:
                p.set(keys.session(h), value, ex=self.idle)
                p.sadd(keys.user_sessions(user_id), h)
                p.expire(keys.user_sessions(user_id), self.absolute)
                await p.execute()
            return True

        if not await self.safe.run(op, False):
            raise SessionStoreUnavailable()
        return token

    async def user_id(self, token: str | None) -> int | None:
        """The signed-in user's id, refreshing the idle timeout; None when unknown, expired or Redis is down."""
        if not token or len(token) > 100:
            return None
        key = keys.session(session_hash(token))
        raw = await self.safe.run(lambda r: r.get(key), None)
        if raw is None:
            return None
        data = json.loads(raw)
        if time.time() - data["created"] > self.absolute:
            await self.safe.run(lambda r: r.delete(key), None)
            return None
        await self.safe.run(lambda r: r.expire(key, self.idle), None)
        return int(data["uid"])

    async def destroy(self, token: str) -> str:
        h = session_hash(token)
        await self.safe.run(lambda r: r.delete(keys.session(h)), None)
        return h

    async def destroy_all(self, user_id: int, hashes: list[str]) -> None:
        async def op(r):  # noqa: ANN001, ANN202
            members = {m.decode() if isinstance(m, bytes) else m for m in await r.smembers(keys.user_sessions(user_id))}
            every = members | set(hashes)
            if every:
                await r.delete(*(keys.session(h) for h in every))
            await r.delete(keys.user_sessions(user_id))
            return True

        if not await self.safe.run(op, False):
            log.error("could not delete the Redis sessions of user %s", user_id)


async def sign_in(session: AsyncSession, store: SessionStore, email: str, password: str, ip: str,
                  user_agent: str) -> SignIn:
    """Check lockouts, the password (timing-safe for unknown e-mails), rehash if needed, open a session."""
    attempts = LoginAttemptRepository(session)
    failures, latest = await attempts.recent_failures(email=email, window=FAILURE_WINDOW)
    wait = lockout_minutes(failures, ACCOUNT_FREE_FAILURES, latest)
    ip_failures, ip_latest = await attempts.recent_failures(ip=ip, window=IP_WINDOW)
    wait = max(wait, lockout_minutes(ip_failures, IP_FREE_FAILURES, ip_latest))
    if wait:
        return SignIn(None, "admin.login.locked", wait)
    user = await UserRepository(session).by_email(email)
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.is_active:
        attempts.record(email, ip, False)
        await session.commit()
        failures += 1
        return SignIn(None, "admin.login.failed",
                      lockout_minutes(failures, ACCOUNT_FREE_FAILURES, datetime.now(timezone.utc)))
    try:
        token = await store.create(user.id)
    except SessionStoreUnavailable:
        await session.rollback()
        return SignIn(None, "admin.login.unavailable")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(timezone.utc)
    attempts.record(email, ip, True)
    SessionRecordRepository(session).add(UserSession(
        id=session_hash(token), user_id=user.id, ip=ip[:45], user_agent=user_agent[:300],
        expires_at=datetime.now(timezone.utc) + timedelta(seconds=store.absolute)))
    await session.commit()
    return SignIn(user, token=token)


async def sign_out_everywhere(session: AsyncSession, store: SessionStore, user_id: int) -> None:
    """Revoke every session of a user (deactivation, role or password change). Caller commits."""
    hashes = await SessionRecordRepository(session).revoke_all(user_id)
    await store.destroy_all(user_id, hashes)


def has_role(user: User, minimum: str) -> bool:
    return ROLE_RANK.get(user.role, 0) >= ROLE_RANK[minimum]


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)
