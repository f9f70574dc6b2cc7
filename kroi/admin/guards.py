"""Server-side authorization for every admin route: a signed-in, active user with at least the route's role."""
from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from kroi.accounts.repositories import UserRepository
from kroi.security.auth import COOKIE, SessionStore, has_role


def session_store(connection: ASGIConnection) -> SessionStore:
    k = connection.app.state.kroi
    return SessionStore(k.safe_redis, k.settings.session_idle_minutes * 60, k.settings.session_absolute_hours * 3600)


async def staff_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every admin handler declares opt={"role": "viewer" | "sales" | "admin"}; viewer when it does not."""
    uid = await session_store(connection).user_id(connection.cookies.get(COOKIE))
    if uid is None:
        raise NotAuthorizedException("sign in")
    async with connection.app.state.kroi.sessionmaker() as session:
        user = await UserRepository(session).get(uid)
    if user is None or not user.is_active:
        raise NotAuthorizedException("sign in")
    if not has_role(user, handler.opt.get("role", "viewer")):
        raise PermissionDeniedException("role")
    connection.state.user = user
