"""Sign-in, sign-out, own password and the dashboard."""
from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.accounts.services import UserService
from kroi.admin.guards import session_store, staff_guard
from kroi.db.models import Car, Lead, OutboxMessage
from kroi.leads.controllers import client_ip
from kroi.parsing import clean_text
from kroi.security import auth
from kroi.security.passwords import password_problem, verify_password
from kroi.web import i18n
from kroi.web.context import csrf_token, kroi, language, language_switch
from kroi.web.meta import safe_next
from kroi.web.render import html


def admin_context(request: Request, **values) -> dict:  # noqa: ANN003
    """Context for admin pages: the signed-in user and the CSRF token for HTMX headers."""
    lang = language(request)
    user = getattr(request.state, "user", None)
    return kroi(request).templates.context(
        lang, user=user, csrf_token=csrf_token(request), current_path=request.url.path,
        can_edit=bool(user and auth.has_role(user, "sales")), is_admin=bool(user and auth.has_role(user, "admin")),
        **language_switch(request, lang), **values)


def render(request: Request, template: str, status_code: int = 200, **values) -> Response:  # noqa: ANN003
    return html(kroi(request).templates.page(template, admin_context(request, **values)), status_code=status_code,
                cache_control="no-store")


def _session_cookie(request: Request, value: str, max_age: int) -> Cookie:
    https = (kroi(request).settings.public_url or "").startswith("https://") or request.url.scheme == "https"
    return Cookie(key=auth.COOKIE, value=value, max_age=max_age, httponly=True, samesite="lax", secure=https,
                  path="/")


@get("/login", name="admin:login")
async def login_page(request: Request) -> Response:
    return render(request, "admin/login.html", next=safe_admin_next(request.query_params.get("next")), email="",
                  error=None)


def safe_admin_next(target: str | None) -> str:
    target = safe_next(target)
    return target if target.startswith("/admin") else "/admin"


@post("/login", name="admin:login_post", status_code=200)
async def login(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    lang = language(request)
    form = await request.form()
    email = clean_text(str(form.get("email") or ""))[:254]
    password = str(form.get("password") or "")[:1024]
    target = safe_admin_next(str(form.get("next") or ""))
    store = session_store(request)
    result = await auth.sign_in(db_session, store, email, password, client_ip(request),
                                request.headers.get("user-agent", ""))
    if result.user is None or result.token is None:
        error = i18n.translate(lang, result.error or "admin.login.failed", minutes=result.wait_minutes)
        status = 503 if result.error == "admin.login.unavailable" else (429 if result.wait_minutes else 401)
        if result.error == "admin.login.failed" and result.wait_minutes:
            error += " " + i18n.translate(lang, "admin.login.locked", minutes=result.wait_minutes)
        return render(request, "admin/login.html", status_code=status, next=target, email=email, error=error)
    # The old session (if any) ends; the new id was issued just now (no fixation).
    old = auth.session_token(request)
    if old:
        await store.destroy(old)
    return Redirect(target, status_code=303,
                    cookies=[_session_cookie(request, result.token, store.absolute)])


@post("/logout", name="admin:logout", guards=[staff_guard], status_code=200)
async def logout(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    from kroi.accounts.repositories import SessionRecordRepository

    token = auth.session_token(request)
    if token:
        h = await session_store(request).destroy(token)
        await SessionRecordRepository(db_session).revoke(h)
        await db_session.commit()
    return Redirect("/admin/login", status_code=303, cookies=[_session_cookie(request, "", 0)])


@get("/password", name="admin:password", guards=[staff_guard])
async def password_page(request: Request) -> Response:
    return render(request, "admin/password.html", errors={}, done=False)


@post("/password", name="admin:password_post", guards=[staff_guard], status_code=200)
async def change_password(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    lang = language(request)
    form = await request.form()
    current, new, again = (str(form.get(n) or "") for n in ("current", "new", "again"))
    user = await db_session.merge(request.state.user)
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current):
        errors["current"] = i18n.translate(lang, "admin.password.wrong")
    problem = password_problem(new)
    if problem:
        errors["new"] = i18n.translate(lang, "admin.password.weak", min=12)
    elif new != again:
        errors["again"] = i18n.translate(lang, "admin.password.mismatch")
    if errors:
        return render(request, "admin/password.html", status_code=422, errors=errors, done=False)
    store = session_store(request)
    # Every other session of this user ends; this one is replaced by a fresh id.
    await UserService(db_session, store).set_password(user, new, actor_id=user.id, ip=client_ip(request))
    token = await store.create(user.id)
    response = render(request, "admin/password.html", errors={}, done=True)
    response.set_cookie(_session_cookie(request, token, store.absolute))
    return response


@get("/", name="admin:dashboard", guards=[staff_guard])
async def dashboard(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    counts = dict((await db_session.execute(
        select(Car.status, func.count()).where(Car.deleted_at.is_(None)).group_by(Car.status))).all())
    leads = dict((await db_session.execute(select(Lead.status, func.count()).group_by(Lead.status))).all())
    dead = await db_session.scalar(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.status == "dead"))
    return render(request, "admin/dashboard.html", car_counts=counts, lead_counts=leads, dead_mail=dead or 0)


def login_redirect(request: Request) -> Response:
    """Where an anonymous visitor of an admin page goes (HTMX: a full-page redirect)."""
    target = "/admin/login?" + urlencode({"next": request.url.path})
    if request.headers.get("hx-request") == "true":
        return Response("", status_code=200, headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)


ROUTER = Router(path="/admin", route_handlers=[login_page, login, logout, password_page, change_password,
                                                dashboard])
