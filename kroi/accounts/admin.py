"""Admin pages for staff users (admin only) and the password-reset page a new or reset user opens."""
from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.accounts.repositories import UserRepository
from kroi.accounts.services import UserError, UserService
from kroi.admin.controllers import render
from kroi.admin.guards import session_store, staff_guard
from kroi.db.models.accounts import ROLES
from kroi.leads.controllers import client_ip
from kroi.web import i18n
from kroi.web.context import absolute_url, language

ADMIN = {"role": "admin"}


def _service(request: Request, session: AsyncSession) -> UserService:
    return UserService(session, session_store(request))


async def _page(request: Request, session: AsyncSession, *, error: str | None = None, link: str | None = None,
                status_code: int = 200) -> Response:
    return render(request, "admin/users.html", status_code=status_code, users=await UserRepository(session).all(),
                  roles=ROLES, error=error, reset_link=link)


@get("/", name="admin:users", opt=ADMIN)
async def list_users(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    return await _page(request, db_session)


@post("/", name="admin:user_create", opt=ADMIN, status_code=200)
async def create_user(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    form = await request.form()
    try:
        _, token = await _service(request, db_session).create(
            str(form.get("email") or ""), str(form.get("full_name") or ""), str(form.get("role") or ""),
            actor_id=request.state.user.id, ip=client_ip(request))
    except UserError as exc:
        await db_session.rollback()
        return await _page(request, db_session, error=i18n.translate(language(request), exc.key, min=12),
                           status_code=422)
    return await _page(request, db_session, link=absolute_url(request, f"/admin/reset/{token}"))


@post("/{user_id:int}", name="admin:user_update", opt=ADMIN, status_code=200)
async def update_user(request: Request, db_session: NamedDependency[AsyncSession],
                      user_id: FromPath[int]) -> Response:
    form = await request.form()
    action = str(form.get("action") or "")
    svc = _service(request, db_session)
    actor, ip = request.state.user.id, client_ip(request)
    link = None
    try:
        if action == "role":
            await svc.change(user_id, role=str(form.get("role") or ""), actor_id=actor, ip=ip)
        elif action == "deactivate":
            await svc.deactivate(user_id, actor_id=actor, ip=ip)
        elif action == "activate":
            await svc.change(user_id, active=True, actor_id=actor, ip=ip)
        elif action == "reset":
            link = absolute_url(request, f"/admin/reset/{await svc.start_reset(user_id, actor_id=actor, ip=ip)}")
        else:
            return await _page(request, db_session, status_code=400)
    except LookupError:
        raise NotFoundException() from None
    except UserError as exc:
        await db_session.rollback()
        return await _page(request, db_session, error=i18n.translate(language(request), exc.key), status_code=422)
    return await _page(request, db_session, link=link)


@get("/reset/{token:str}", name="admin:reset")
async def reset_page(request: Request, db_session: NamedDependency[AsyncSession], token: FromPath[str]) -> Response:
    valid = await _service(request, db_session).reset_target(token[:100]) is not None
    return render(request, "admin/reset.html", status_code=200 if valid else 410, valid=valid, error=None)


@post("/reset/{token:str}", name="admin:reset_post", status_code=200)
async def reset(request: Request, db_session: NamedDependency[AsyncSession], token: FromPath[str]) -> Response:
    form = await request.form()
    password, again = str(form.get("password") or ""), str(form.get("again") or "")
    lang = language(request)
    if password != again:
        return render(request, "admin/reset.html", status_code=422, valid=True,
                      error=i18n.translate(lang, "admin.password.mismatch"))
    try:
        await _service(request, db_session).complete_reset(token[:100], password, ip=client_ip(request))
    except UserError as exc:
        await db_session.rollback()
        status = 410 if exc.key == "admin.reset.invalid" else 422
        return render(request, "admin/reset.html", status_code=status, valid=status != 410,
                      error=i18n.translate(lang, exc.key, min=12))
    return Redirect("/admin/login", status_code=303)


USERS = Router(path="/admin/users", guards=[staff_guard], route_handlers=[list_users, create_user, update_user])
RESET = Router(path="/admin", route_handlers=[reset_page, reset])


async def _tokens_page(request: Request, session: AsyncSession, new_token: str | None = None) -> Response:
    from kroi.api.tokens import TokenService

    return render(request, "admin/tokens.html", tokens=await TokenService(session).of_user(request.state.user.id),
                  new_token=new_token)


@get("/", name="admin:tokens")
async def list_tokens(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    return await _tokens_page(request, db_session)


@post("/", name="admin:token_create", status_code=200)
async def create_token(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    from kroi.api.tokens import TokenService

    form = await request.form()
    _, token = await TokenService(db_session).create(request.state.user.id, str(form.get("name") or ""),
                                                     ip=client_ip(request))
    return await _tokens_page(request, db_session, new_token=token)


@post("/{token_id:int}/revoke", name="admin:token_revoke", status_code=200)
async def revoke_token(request: Request, db_session: NamedDependency[AsyncSession],
                       token_id: FromPath[int]) -> Response:
    from kroi.api.tokens import TokenService

    if not await TokenService(db_session).revoke(request.state.user.id, token_id, ip=client_ip(request)):
        raise NotFoundException()
    return await _tokens_page(request, db_session)


# Every staff member manages their own API tokens; a token has its owner's role.
TOKENS = Router(path="/admin/tokens", guards=[staff_guard], route_handlers=[list_tokens, create_token, revoke_token])
