"""Roles are enforced on the server: every route under /admin and /api in the app's route table, walked as
anonymous, viewer, sales and admin, with real ids in the path."""
from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import (
    HX, add_user, admin_id, api_token, audit_rows, bearer, browser, is_login_redirect, send, sign_in_as,
)
from kroi.db.models import AuditLog, CarImage, Lead
from kroi.web import i18n

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PUBLIC = "public"
RANK = {"anonymous": 0, "viewer": 1, "sales": 2, "admin": 3}
# The least role each route needs. A route added to the app without a line here fails the walk below, so
# that someone decides who may use it.
EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/admin/login"): PUBLIC,
    ("POST", "/admin/login"): PUBLIC,
    ("GET", "/admin/reset/{token:str}"): PUBLIC,
    ("POST", "/admin/reset/{token:str}"): PUBLIC,
    ("GET", "/admin"): "viewer",
    ("GET", "/admin/password"): "viewer",
    ("POST", "/admin/password"): "viewer",
    ("GET", "/admin/cars"): "viewer",
    ("POST", "/admin/cars"): "sales",
    ("GET", "/admin/cars/new"): "sales",
    ("POST", "/admin/cars/bulk"): "sales",
    ("POST", "/admin/cars/validate"): "sales",
    ("GET", "/admin/cars/{car_id:int}"): "viewer",
    ("POST", "/admin/cars/{car_id:int}"): "sales",
    ("POST", "/admin/cars/{car_id:int}/images"): "sales",
    ("POST", "/admin/cars/{car_id:int}/images/order"): "sales",
    ("POST", "/admin/cars/{car_id:int}/images/{image_id:int}/{action:str}"): "sales",
    ("GET", "/admin/leads"): "viewer",
    ("GET", "/admin/leads/export.csv"): "viewer",
    ("GET", "/admin/leads/export.adf.xml"): "viewer",
    ("GET", "/admin/leads/{lead_id:int}"): "viewer",
    ("GET", "/admin/leads/{lead_id:int}/adf.xml"): "viewer",
    ("POST", "/admin/leads/{lead_id:int}/status"): "sales",
    ("POST", "/admin/leads/{lead_id:int}/assign"): "sales",
    ("POST", "/admin/leads/{lead_id:int}/notes"): "sales",
    ("GET", "/admin/analytics"): "viewer",
    # Every staff member manages their own API tokens (a token has its owner's role).
    ("GET", "/admin/tokens"): "viewer",
    ("POST", "/admin/tokens"): "viewer",
    ("POST", "/admin/tokens/{token_id:int}/revoke"): "viewer",
    ("GET", "/admin/users"): "admin",
    ("POST", "/admin/users"): "admin",
    ("POST", "/admin/users/{user_id:int}"): "admin",
    ("GET", "/admin/settings"): "admin",
    ("POST", "/admin/settings"): "admin",
    ("GET", "/admin/audit"): "admin",
    ("GET", "/admin/mail"): "viewer",
    ("POST", "/admin/mail/retry"): "sales",
    ("GET", "/api/cars"): "viewer",
    ("POST", "/api/cars"): "sales",
    ("GET", "/api/cars/{car_id:int}"): "viewer",
    ("PATCH", "/api/cars/{car_id:int}"): "sales",
    ("DELETE", "/api/cars/{car_id:int}"): "sales",
    ("GET", "/api/leads"): "viewer",
    ("GET", "/api/leads/{lead_id:int}"): "viewer",
    ("PATCH", "/api/leads/{lead_id:int}"): "sales",
    # Last for each role: it ends the session the walk uses.
    ("POST", "/admin/logout"): "viewer",
}
PARAM_RE = re.compile(r"\{(\w+):\w+\}")


def sent_to_sign_in(r: httpx.Response) -> bool:
    """The guard's answer to an anonymous visitor: back to the sign-in page, to return here afterwards."""
    return r.status_code == 303 and r.headers.get("location", "").startswith("/admin/login?next=%2F")


def route_table(app) -> list[tuple[str, str]]:  # noqa: ANN001
    out = []
    for route in app.routes:
        if not route.path.startswith(("/admin", "/api")):
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            out.append((method, route.path))
    return out


def order(pair: tuple[str, str]) -> int:
    method, path = pair
    if path == "/admin/logout":
        return 3
    if method == "DELETE":
        return 2
    return 1


async def test_every_admin_and_api_route_answers_by_role(client: httpx.AsyncClient, db: AsyncSession,
                                                         cars) -> None:  # noqa: ANN001
    table = route_table(client.app)
    assert sorted(table) == sorted(EXPECTED), "routes without an expected role (or expected routes gone)"

    admin = await admin_id(db)
    users = {"viewer": await add_user(db, "viewer@example.test", "viewer"),
             "sales": await add_user(db, "sales@example.test", "sales"), "admin": admin}
    tokens = {role: (await api_token(client, uid, f"{role} token"))[1] for role, uid in users.items()}
    spare_token_id, _ = await api_token(client, admin, "spare")
    car_id = cars[0].id
    image_id = await db.scalar(select(CarImage.id).where(CarImage.car_id == car_id).order_by(CarImage.position))
    lead_id = await db.scalar(select(Lead.id).order_by(Lead.id))
    async with browser(client) as c:
        await sign_in_as(c, admin)
        r = await send(c, "POST", f"/admin/users/{users['sales']}", data={"action": "reset"})
        reset_token = re.search(r"/admin/reset/([A-Za-z0-9_-]+)", r.text).group(1)
    values = {"car_id": car_id, "lead_id": lead_id, "image_id": image_id, "user_id": users["viewer"],
              "token_id": spare_token_id, "token": reset_token, "action": "up"}

    def concrete(path: str) -> str:
        return PARAM_RE.sub(lambda m: str(values[m.group(1)]), path)

    forbidden_html = i18n.translate("fi", "admin.forbidden")
    seen: list[tuple[str, str, str, int]] = []
    for role in ("anonymous", "viewer", "sales", "admin"):
        audit_before = len(await audit_rows(db))
        async with browser(client) as c:
            if role != "anonymous":
                await sign_in_as(c, users[role])
            for method, path in sorted(table, key=order):
                need = EXPECTED[(method, path)]
                url = concrete(path)
                kw: dict = {}
                if path.startswith("/api"):
                    if role != "anonymous":
                        kw["headers"] = bearer(tokens[role])
                    if method in ("POST", "PATCH"):
                        kw["json"] = {}
                elif method == "POST":
                    kw["data"] = {"x": ""}
                r = await send(c, method, url, **kw)
                seen.append((role, method, path, r.status_code))
                where = f"{role} {method} {url} -> {r.status_code}"
                assert r.status_code < 500, where
                if need == PUBLIC:
                    assert r.status_code != 403 and not sent_to_sign_in(r), where
                elif role == "anonymous":
                    if path.startswith("/api"):
                        assert r.status_code == 401, where
                        assert r.headers["content-type"].startswith("application/problem+json"), where
                        assert r.json()["status"] == 401
                    else:
                        assert sent_to_sign_in(r), where
                elif RANK[role] < RANK[need]:
                    assert r.status_code == 403, where
                    if path.startswith("/api"):
                        assert r.headers["content-type"].startswith("application/problem+json"), where
                    else:
                        assert forbidden_html in r.text, where
                else:
                    assert r.status_code not in (401, 403) and not sent_to_sign_in(r), where
        new_rows = (await audit_rows(db))[audit_before:]
        if role in ("anonymous", "viewer"):
            # Nobody without a write role changed anything but their own API tokens.
            assert {a.entity_type for a in new_rows} <= {"api_token"}, [(a.action, a.entity_type) for a in new_rows]
            assert all(a.actor_id == users.get(role) for a in new_rows)
    assert len(seen) == 4 * len(EXPECTED)
    # Sanity: the walk did reach handlers that write (a sales user changed a car through the API, say).
    assert await db.scalar(select(AuditLog.id).where(AuditLog.actor_id == users["sales"]).limit(1)) is not None


async def test_anonymous_htmx_request_gets_a_full_page_redirect(client: httpx.AsyncClient) -> None:
    r = await client.get("/admin/cars?status=sold", headers=HX)
    assert r.status_code == 200 and r.headers["hx-redirect"] == "/admin/login?next=%2Fadmin%2Fcars"
    assert r.text == ""


async def test_unsafe_admin_requests_need_the_csrf_token(client: httpx.AsyncClient, db: AsyncSession,
                                                         cars) -> None:  # noqa: ANN001
    await sign_in_as(client, await admin_id(db))
    before = len(await audit_rows(db))
    r = await client.post("/admin/cars/bulk", data={"ids": str(cars[0].id), "action": "sell"})
    assert r.status_code == 403
    r = await client.post("/admin/cars/bulk", data={"ids": str(cars[0].id), "action": "sell"},
                          headers={"x-csrftoken": "0" * 64})
    assert r.status_code == 403
    assert len(await audit_rows(db)) == before
    r = await send(client, "POST", "/admin/cars/bulk", data={"ids": str(cars[0].id), "action": "sell"})
    assert r.status_code == 303 and len(await audit_rows(db)) == before + 1


async def test_a_deactivated_or_demoted_users_session_stops_at_once(client: httpx.AsyncClient,
                                                                    db: AsyncSession) -> None:
    sales = await add_user(db, "demoted@example.test", "sales")
    async with browser(client) as admin_browser, browser(client) as user_browser:
        await sign_in_as(admin_browser, await admin_id(db))
        await sign_in_as(user_browser, sales)
        assert (await user_browser.get("/admin/cars/new")).status_code == 200
        r = await send(admin_browser, "POST", f"/admin/users/{sales}", data={"action": "role", "role": "viewer"})
        assert r.status_code == 200
        assert is_login_redirect(await user_browser.get("/admin/cars")), "signed out at the role change"
        await sign_in_as(user_browser, sales)
        assert (await user_browser.get("/admin/cars/new")).status_code == 403, "now a viewer"
        assert (await user_browser.get("/admin/cars")).status_code == 200
