"""Staff user management: create, change role, (de)activate, admin-started password resets. All audited."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import audit
from kroi.accounts.repositories import UserRepository
from kroi.db.models import ApiToken, PasswordResetToken, User
from kroi.db.models.accounts import ROLES
from kroi.leads.schemas import EMAIL_RE
from kroi.parsing import clean_text
from kroi.security.auth import SessionStore, sign_out_everywhere
from kroi.security.passwords import generate_password, hash_password, password_problem

RESET_HOURS = 24


class UserError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserService:
    def __init__(self, session: AsyncSession, store: SessionStore) -> None:
        self.session = session
        self.store = store
        self.repo = UserRepository(session)

    async def create(self, email: str, full_name: str, role: str, *, actor_id: int, ip: str | None) -> tuple[User, str]:
        """A new user with an unusable random password and a reset link for them to choose their own."""
        user = await self._add(email, full_name, role, generate_password(), actor_id=actor_id, ip=ip)
        token = self._reset_token(user.id, actor_id)
        await self.session.commit()
        return user, token

    async def create_with_password(self, email: str, role: str, password: str, *, actor_id: int | None = None,
                                   ip: str | None = None) -> User:
        """A new user with a password chosen on the command line (checked there)."""
        user = await self._add(email, "", role, password, actor_id=actor_id, ip=ip)
        await self.session.commit()
        return user

    async def _add(self, email: str, full_name: str, role: str, password: str, *, actor_id: int | None,
                   ip: str | None) -> User:
        email = clean_text(email).lower()
        if not EMAIL_RE.match(email) or len(email) > 254:
            raise UserError("form.error.email")
        if role not in ROLES:
            raise UserError("car.error.choice")
        if await self.repo.by_email(email):
            raise UserError("admin.users.error.exists")
        user = User(email=email, full_name=clean_text(full_name)[:120], role=role,
                    password_hash=hash_password(password))
        self.repo.add(user)
        await self.session.flush()
        audit.record(self.session, actor_id=actor_id, action="create", entity_type="user", entity_id=user.id,
                     after={"email": email, "role": role, "full_name": user.full_name}, ip=ip)
        return user

    async def set_password(self, user: User, password: str, *, actor_id: int | None, ip: str | None) -> None:
        """A new password (already checked): every session of the user ends; audited without the password."""
        await self._new_password(user, password)
        audit.record(self.session, actor_id=actor_id, action="password_changed", entity_type="user",
                     entity_id=user.id, ip=ip)
        await self.session.commit()

    async def _new_password(self, user: User, password: str) -> None:
        user.password_hash = hash_password(password)
        user.password_changed_at = datetime.now(timezone.utc)
        await sign_out_everywhere(self.session, self.store, user.id)

    def _reset_token(self, user_id: int, actor_id: int | None) -> str:
        token = secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc)
        self.session.add(PasswordResetToken(user_id=user_id, token_hash=token_hash(token), created_by_id=actor_id,
                                            created_at=now, expires_at=now + timedelta(hours=RESET_HOURS)))
        return token

    async def start_reset(self, user_id: int, *, actor_id: int, ip: str | None) -> str:
        user = await self._get(user_id)
        await self.session.execute(update(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)).values(used_at=func.now()))
        token = self._reset_token(user.id, actor_id)
        audit.record(self.session, actor_id=actor_id, action="password_reset_started", entity_type="user",
                     entity_id=user.id, ip=ip)
        await self.session.commit()
        return token

    async def reset_target(self, token: str) -> PasswordResetToken | None:
        return await self.session.scalar(select(PasswordResetToken).where(
            PasswordResetToken.token_hash == token_hash(token), PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > func.now()))

    async def complete_reset(self, token: str, password: str, *, ip: str | None) -> User:
        problem = password_problem(password)
        if problem:
            raise UserError("admin.password.weak")
        row = await self.session.scalar(select(PasswordResetToken).where(
            PasswordResetToken.token_hash == token_hash(token), PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > func.now()).with_for_update())
        if row is None:
            raise UserError("admin.reset.invalid")
        user = await self._get(row.user_id)
        row.used_at = datetime.now(timezone.utc)
        await self._new_password(user, password)
        audit.record(self.session, actor_id=user.id, action="password_reset_completed", entity_type="user",
                     entity_id=user.id, ip=ip)
        await self.session.commit()
        return user

    async def deactivate(self, user_id: int, *, actor_id: int | None, ip: str | None) -> User:
        """The user can no longer sign in: sessions and API tokens end at once (admin page and command line)."""
        return await self.change(user_id, active=False, actor_id=actor_id, ip=ip)

    async def change(self, user_id: int, *, role: str | None = None, active: bool | None = None,
                     actor_id: int | None, ip: str | None) -> User:
        user = await self._get(user_id)
        if user.id == actor_id and (active is False or (role is not None and role != "admin")):
            raise UserError("admin.users.error.self")
        before = audit.snapshot(user, ("role", "is_active"))
        if role is not None:
            if role not in ROLES:
                raise UserError("car.error.choice")
            user.role = role
        if active is not None:
            user.is_active = active
        after = audit.snapshot(user, ("role", "is_active"))
        if before != after:
            # Sessions and API tokens end at once: the user signs in again with the new rights (or not at all).
            await sign_out_everywhere(self.session, self.store, user.id)
            if active is False:
                await self.session.execute(update(ApiToken).where(
                    ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=func.now()))
            b, a = audit.changes(before, after)
            audit.record(self.session, actor_id=actor_id, action="update", entity_type="user", entity_id=user.id,
                         before=b, after=a, ip=ip)
        await self.session.commit()
        return user

    async def _get(self, user_id: int) -> User:
        user = await self.repo.get(user_id)
        if user is None:
            raise LookupError(user_id)
        return user
