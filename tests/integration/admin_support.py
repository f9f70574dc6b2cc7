"""Helpers for the admin and API tests: staff users, signing in (by form or straight into the session store),
CSRF-carrying requests, API tokens, and reading the rows a staff action leaves behind."""
from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.admin.guards import session_store
from kroi.api.tokens import TokenService
from kroi.db.models import AuditLog, User
from kroi.security import auth
from kroi.security.passwords import hash_password

ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "test-password-not-default"
STAFF_PASSWORD = "staff-password-0123"
HX = {"HX-Request": "true"}
COOKIE_DOMAIN = "testserver.local"  # where httpx keeps cookies of the dot-less host "testserver"
# argon2 is slow on purpose (~0.5 s here): one hash of STAFF_PASSWORD for every user a test inserts.
_HASH: list[str] = []


def staff_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(STAFF_PASSWORD))
    return _HASH[0]


async def add_user(db: AsyncSession, email: str, role: str, *, active: bool = True, full_name: str = "") -> int:
    """A staff user inserted directly (password STAFF_PASSWORD); returns the id."""
    user = User(email=email, full_name=full_name, role=role, is_active=active, password_hash=staff_hash())
    db.add(user)
    await db.commit()
    return user.id


async def admin_id(db: AsyncSession) -> int:
    return await db.scalar(select(User.id).where(User.email == ADMIN_EMAIL))


@contextlib.asynccontextmanager
async def browser(client: httpx.AsyncClient, ip: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """Another visitor of the same app: its own cookie jar and, if given, its own client address."""
    transport = httpx.ASGITransport(app=client.app, client=(ip, 50000))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        other.app = client.app  # type: ignore[attr-defined]
        yield other


def cookie(c: httpx.AsyncClient, name: str) -> str | None:
    values = [ck.value for ck in c.cookies.jar if ck.name == name]
    assert len(values) <= 1, f"two {name} cookies in the jar"
    return values[0] if values else None


def set_cookie(c: httpx.AsyncClient, name: str, value: str) -> None:
    for ck in [ck for ck in c.cookies.jar if ck.name == name]:
        c.cookies.jar.clear(ck.domain, ck.path, ck.name)
    c.cookies.set(name, value, domain=COOKIE_DOMAIN, path="/")


async def csrf(c: httpx.AsyncClient) -> dict[str, str]:
    """The header an HTMX request carries: x-csrftoken with this visitor's csrftoken cookie value."""
    if cookie(c, "csrftoken") is None:
        r = await c.get("/admin/login")
        assert r.status_code == 200, r.status_code
    return {"x-csrftoken": cookie(c, "csrftoken")}


async def post(c: httpx.AsyncClient, url: str, data: Any = None, *, headers: dict[str, str] | None = None,
               **kw: Any) -> httpx.Response:
    return await c.post(url, data=data, headers={**(headers or {}), **await csrf(c)}, **kw)


async def send(c: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    headers = dict(kw.pop("headers", None) or {})
    if method not in ("GET", "HEAD", "OPTIONS"):
        headers.update(await csrf(c))
    return await c.request(method, url, headers=headers, **kw)


async def login(c: httpx.AsyncClient, email: str, password: str, next_url: str | None = None) -> httpx.Response:
    """Sign in through the form, as a person does (the CSRF token from the login page)."""
    page = await c.get("/admin/login")
    assert page.status_code == 200
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"_csrf_token": token, "email": email, "password": password}
    if next_url:
        data["next"] = next_url
    return await c.post("/admin/login", data=data)


def login_error(r: httpx.Response) -> str:
    m = re.search(r'<div class="form-error" role="alert" data-error-for="form"[^>]*>(.*?)</div>', r.text, re.S)
    assert m, "no error box on the login page"
    return html.unescape(m.group(1)).strip()


async def sign_in_as(c: httpx.AsyncClient, user_id: int) -> str:
    """A session issued by the app's own session store (what sign-in does after the password check), without
    paying for argon2: for tests about what a signed-in user may do, not about signing in."""
    store = session_store(SimpleNamespace(app=c.app))  # type: ignore[attr-defined, arg-type]
    token = await store.create(user_id)
    set_cookie(c, auth.COOKIE, token)
    return token


@contextlib.asynccontextmanager
async def staff(client: httpx.AsyncClient, user_id: int, ip: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as this user."""
    async with browser(client, ip) as c:
        await sign_in_as(c, user_id)
        yield c


async def api_token(client: httpx.AsyncClient, user_id: int, name: str = "test") -> tuple[int, str]:
    """(token id, token value) made by the app's TokenService."""
    async with client.app.state.kroi.sessionmaker() as session:  # type: ignore[attr-defined]
        row, token = await TokenService(session).create(user_id, name, ip="127.0.0.1")
        return row.id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def audit_rows(db: AsyncSession, entity_type: str | None = None, entity_id: Any = None,
                     action: str | None = None) -> list[AuditLog]:
    stmt = select(AuditLog).order_by(AuditLog.id)
    if entity_type:
        stmt = stmt.where(AuditLog.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == str(entity_id))
    if action:
        stmt = stmt.where(AuditLog.action == action)
    db.expire_all()
    return list((await db.scalars(stmt)).all())


async def scalar(db: AsyncSession, sql: str, **params: Any) -> Any:
    db.expire_all()
    value = await db.scalar(text(sql), params)
    await db.commit()  # end the read transaction so the next read sees later commits
    return value


@pytest.fixture
async def as_admin(client: httpx.AsyncClient, db: AsyncSession) -> int:
    """The test's client signed in as the seeded admin; the admin's id."""
    uid = await admin_id(db)
    await sign_in_as(client, uid)
    return uid


def is_login_redirect(r: httpx.Response) -> bool:
    return r.status_code == 303 and r.headers.get("location", "").startswith("/admin/login")


def confirmation(text_: str) -> str | None:
    m = re.search(r'<(?:p|div) class="confirmation"[^>]*>(.*?)</(?:p|div)>', text_, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", m.group(1))).strip() if m else None


def field_errors(text_: str) -> dict[str, str]:
    """data-error-for name -> the error text shown under that field (empty ones left out)."""
    out = {}
    for name, body in re.findall(r'<p class="field-error"[^>]*data-error-for="([^"]+)"[^>]*>(.*?)</p>', text_, re.S):
        body = html.unescape(body).strip()
        if body:
            out[name] = body
    return out


def input_value(text_: str, name: str) -> str | None:
    m = re.search(rf'<input\b[^>]*\bname="{re.escape(name)}"[^>]*\bvalue="([^"]*)"', text_)
    return html.unescape(m.group(1)) if m else None


# --- forms as a browser submits them ----------------------------------------------------------------------

class _Forms(HTMLParser):
    """Every <form> of a page: its attributes and the (name, value) pairs a browser would submit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict[str, str], list[tuple[str, str]]]] = []
        self._pairs: list[tuple[str, str]] | None = None
        self._textarea: list[str] | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._pairs = []
            self.forms.append((a, self._pairs))
            return
        if self._pairs is None or "name" not in a:
            if tag == "option" and self._select is not None:
                self._select[1].append((a.get("value", ""), "selected" in a))
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._pairs.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "reset", "image"):
                self._pairs.append((name, a.get("value", "")))
        elif tag == "textarea":
            self._textarea = [name, ""]
        elif tag == "select":
            self._select = (name, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._pairs = None
        elif tag == "textarea" and self._textarea is not None and self._pairs is not None:
            self._pairs.append((self._textarea[0], self._textarea[1]))
            self._textarea = None
        elif tag == "select" and self._select is not None and self._pairs is not None:
            name, options = self._select
            chosen = [v for v, sel in options if sel] or [v for v, _ in options[:1]]
            self._pairs.extend((name, v) for v in chosen[:1])
            self._select = None


def form_pairs(page: str, **attrs: str) -> list[tuple[str, str]]:
    """The pairs of the one form whose attributes include `attrs` (e.g. action="/admin/cars/3")."""
    parser = _Forms()
    parser.feed(page)
    found = [pairs for a, pairs in parser.forms if all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]
    assert len(found) == 1, f"expected one form with {attrs}, found {len(found)}"
    return found[0]


def change(pairs: list[tuple[str, str]], **values: str | list[str] | None) -> list[tuple[str, str]]:
    """Pairs with some fields replaced (a list for a multi-valued field, None to leave it out)."""
    out = [(k, v) for k, v in pairs if k not in values]
    for k, v in values.items():
        if v is None:
            continue
        out.extend((k, item) for item in (v if isinstance(v, list) else [v]))
    return out


def as_data(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Pairs in the shape httpx encodes as a form (a repeated name keeps all its values)."""
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def row_ids(page: str, attr: str = "data-car-id") -> list[int]:
    """Ids of table rows (<tr data-car-id=…>) in document order."""
    return [int(i) for i in re.findall(rf'<tr\b[^>]*\b{attr}="(\d+)"', page)]
