"""Admin-only pages: users (create with a reset link, role change, deactivation ending sessions and API tokens,
never yourself), dealer settings (field errors, changes live at once) and the audit log view."""
from __future__ import annotations

import hashlib
import html
import json
import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import (
    ADMIN_EMAIL, ADMIN_PASSWORD, add_user, as_admin, as_data, audit_rows, bearer, browser, change, confirmation,
    cookie, field_errors, form_pairs, input_value, is_login_redirect, post, scalar, sign_in_as, staff,
)
from kroi.db.models import ApiToken, User
from kroi.web import i18n
from support import get_ok

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
__all__ = ["as_admin"]


def fi(key: str, **params: object) -> str:
    return i18n.translate("fi", key, **params)


def page_error(page: str) -> str | None:
    m = re.search(r'<div class="form-error" role="alert"[^>]*>(.*?)</div>', page, re.S)
    return html.unescape(m.group(1)).strip() if m else None


async def user(db: AsyncSession, user_id: int) -> User:
    db.expire_all()
    row = await db.get(User, user_id, populate_existing=True)
    await db.commit()
    return row


# --- users ------------------------------------------------------------------------------------------------

async def test_create_user_gives_a_one_time_link_and_no_password(client, as_admin, db) -> None:  # noqa: ANN001
    r = await post(client, "/admin/users", {"email": " New.Person@Example.TEST ", "full_name": "Uusi Ihminen",
                                            "role": "sales"})
    assert r.status_code == 200 and page_error(r.text) is None
    link = re.search(r'<code class="reset-link">http://testserver(/admin/reset/[\w-]+)</code>', r.text).group(1)
    assert "new.person@example.test" in r.text
    row = await db.scalar(select(User).where(User.email == "new.person@example.test"))
    assert (row.role, row.full_name, row.is_active) == ("sales", "Uusi Ihminen", True)
    assert row.password_hash.startswith("$argon2id$")
    async with browser(client) as person:
        assert (await person.get(link)).status_code == 200
    [created] = await audit_rows(db, "user", row.id)
    assert created.action == "create" and created.actor_id == as_admin and created.ip == "127.0.0.1"
    assert created.after == {"email": "new.person@example.test", "role": "sales", "full_name": "Uusi Ihminen"}
    for form, error in (({"email": "not-an-email", "role": "sales"}, fi("form.error.email")),
                        ({"email": ADMIN_EMAIL.upper(), "role": "viewer"}, fi("admin.users.error.exists")),
                        ({"email": "x@example.test", "role": "superuser"}, fi("car.error.choice"))):
        r = await post(client, "/admin/users", form)
        assert r.status_code == 422 and page_error(r.text) == error, form
    assert await scalar(db, "SELECT count(*) FROM users") == 2


async def test_role_change_and_deactivation_end_sessions_and_tokens_at_once(client, as_admin, db) -> None:  # noqa: ANN001
    from admin_support import api_token

    sales = await add_user(db, "sales@example.test", "sales")
    _, token = await api_token(client, sales)
    async with staff(client, sales) as them:
        assert (await them.get("/admin/cars/new")).status_code == 200
        r = await post(client, f"/admin/users/{sales}", {"action": "role", "role": "viewer"})
        assert r.status_code == 200 and (await user(db, sales)).role == "viewer"
        assert is_login_redirect(await them.get("/admin/cars"))
        # A token has its owner's role, now viewer: reading works, writing does not.
        assert (await client.get("/api/cars", headers=bearer(token))).status_code == 200
        assert (await client.post("/api/cars", json={}, headers=bearer(token))).status_code == 403
        await sign_in_as(them, sales)
        assert (await them.get("/admin/cars")).status_code == 200
        r = await post(client, f"/admin/users/{sales}", {"action": "deactivate"})
        assert r.status_code == 200 and not (await user(db, sales)).is_active
        assert is_login_redirect(await them.get("/admin/cars")), "signed out at once"
        await sign_in_as(them, sales)
        assert is_login_redirect(await them.get("/admin/cars")), "an inactive user's session opens nothing"
    r = await client.get("/api/cars", headers=bearer(token))
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    db.expire_all()
    assert (await db.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == sales))) is not None
    # Activated again, the user signs in anew; the revoked token stays revoked.
    assert (await post(client, f"/admin/users/{sales}", {"action": "activate"})).status_code == 200
    assert (await client.get("/api/cars", headers=bearer(token))).status_code == 401
    assert [(a.before, a.after) for a in await audit_rows(db, "user", sales)] == [
        ({"role": "sales"}, {"role": "viewer"}), ({"is_active": True}, {"is_active": False}),
        ({"is_active": False}, {"is_active": True})]


async def test_an_admin_cannot_lock_themselves_out(client, as_admin, db) -> None:  # noqa: ANN001
    for form in ({"action": "deactivate"}, {"action": "role", "role": "sales"}):
        r = await post(client, f"/admin/users/{as_admin}", form)
        assert r.status_code == 422 and page_error(r.text) == fi("admin.users.error.self")
    me = await user(db, as_admin)
    assert me.is_active and me.role == "admin"
    assert (await client.get("/admin/users")).status_code == 200, "still signed in"
    assert (await post(client, "/admin/users/999999", {"action": "deactivate"})).status_code == 404
    assert (await post(client, f"/admin/users/{as_admin}", {"action": "bogus"})).status_code == 400
    assert await audit_rows(db, "user") == []


async def test_no_password_or_token_ever_reaches_the_audit_log(client, db) -> None:  # noqa: ANN001
    uid = (await db.scalar(select(User.id).where(User.email == ADMIN_EMAIL)))
    await sign_in_as(client, uid)
    r = await post(client, "/admin/users", {"email": "s@example.test", "role": "sales"})
    reset_token = re.search(r"/admin/reset/([\w-]+)", r.text).group(1)
    r = await post(client, "/admin/tokens", {"name": "CRM"})
    api_value = re.search(r"<code class=\"reset-link\" data-new-token>([^<]+)</code>", r.text).group(1)
    new_password = "another-admin-password-9"
    r = await post(client, "/admin/password", {"current": ADMIN_PASSWORD, "new": new_password, "again": new_password})
    assert r.status_code == 200
    async with browser(client) as person:
        chosen = "sales-chosen-password-7"
        assert (await post(person, f"/admin/reset/{reset_token}", {"password": chosen, "again": chosen})).status_code == 303
    rows = await audit_rows(db)
    assert {a.entity_type for a in rows} >= {"user", "api_token"}
    dumped = json.dumps([[a.action, a.before, a.after] for a in rows])
    for secret in (reset_token, api_value, new_password, ADMIN_PASSWORD, chosen, "$argon2",
                   hashlib.sha256(api_value.encode()).hexdigest(), hashlib.sha256(reset_token.encode()).hexdigest()):
        assert secret not in dumped
    assert not re.search(r'"(password|password_hash|token|token_hash|secret)"', dumped)
    assert cookie(client, "kroi_session")


# --- settings ---------------------------------------------------------------------------------------------

async def settings_form(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    page = await get_ok(client, "/admin/settings")
    return form_pairs(page.text, action="/admin/settings")


async def test_invalid_settings_show_field_errors_and_change_nothing(client, as_admin, db) -> None:  # noqa: ANN001
    pairs = change(await settings_form(client), dealer_name="", dealer_postal_code="123", dealer_phone="abc",
                   dealer_email="myynti@", rate_pct="99", months="kuusi", open_2="18:00", close_2="09:00",
                   notify_email="x@", response_target_hours="0")
    r = await post(client, "/admin/settings", as_data(pairs))
    assert r.status_code == 422
    assert field_errors(r.text) == {
        "dealer_name": fi("form.error.required"), "dealer_postal_code": fi("admin.settings.error.postal"),
        "dealer_phone": fi("form.error.phone"), "dealer_email": fi("form.error.email"),
        "rate_pct": fi("car.error.range"), "months": fi("car.error.range"), "open_2": fi("admin.settings.error.hours"),
        "notify_email": fi("form.error.email"), "response_target_hours": fi("car.error.range")}
    assert input_value(r.text, "dealer_postal_code") == "123" and input_value(r.text, "months") == "kuusi"
    assert await audit_rows(db) == []
    assert "Teollisuustie 12" in (await get_ok(client, "/")).text


async def test_valid_settings_are_live_at_once_and_audited(client, as_admin, db) -> None:  # noqa: ANN001
    await get_ok(client, "/contact")
    await get_ok(client, "/contact")  # cached
    pairs = change(await settings_form(client), dealer_name="Kroi Autot Oy", dealer_street="Hämeenkatu 1",
                   closed_5="on", open_5=None, close_5=None, rate_pct="4,9")
    r = await post(client, "/admin/settings", as_data(pairs))
    assert r.status_code == 303
    saved = await get_ok(client, r.headers["location"])
    assert confirmation(saved.text) == fi("admin.settings.saved")
    assert input_value(saved.text, "dealer_street") == "Hämeenkatu 1" and input_value(saved.text, "rate_pct") == "4.9"
    page = (await get_ok(client, "/contact")).text
    assert "Kroi Autot Oy" in page and "Hämeenkatu 1" in page and "Teollisuustie 12" not in page
    rows = await audit_rows(db, "setting")
    assert {a.entity_id for a in rows} == {"dealer", "opening_hours", "financing"}
    dealer = next(a for a in rows if a.entity_id == "dealer")
    assert dealer.before["street"] == "Teollisuustie 12" and dealer.after["street"] == "Hämeenkatu 1"
    hours = next(a for a in rows if a.entity_id == "opening_hours")
    assert hours.before["5"] == ["10:00", "15:00"] and hours.after["5"] is None
    assert all(a.actor_id == as_admin and a.ip == "127.0.0.1" for a in rows)


# --- the audit log view -----------------------------------------------------------------------------------

def audit_table(page: str) -> list[tuple[str, str, str, str]]:
    """(who, action, entity, ip) for each row shown."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if len(cells) == 7:
            out.append((cells[1], cells[2], cells[3], cells[6]))
    return out


async def test_audit_view_lists_and_filters_staff_writes(client, as_admin, db, by_key) -> None:  # noqa: ANN001
    sales = await add_user(db, "sales@example.test", "sales")
    golf = by_key["golf"]
    async with staff(client, sales, ip="198.51.100.4") as them:
        r = await post(them, "/admin/cars/bulk", {"ids": [str(golf.id)], "action": "reserve"})
        assert r.status_code == 303
    r = await post(client, f"/admin/users/{sales}", {"action": "role", "role": "viewer"})
    assert r.status_code == 200
    page = await get_ok(client, "/admin/audit")
    assert fi("admin.audit.count", n=2) in page.text
    assert audit_table(page.text) == [(ADMIN_EMAIL, "update", f"user {sales}", "127.0.0.1"),
                                      ("sales@example.test", "status:reserved", f"car {golf.id}", "198.51.100.4")]
    assert '<code>{"status": "available"}</code></td><td><code>{"status": "reserved"}</code>' in page.text
    entity_options = re.search(r'<select id="au-entity" name="entity">(.*?)</select>', page.text, re.S).group(1)
    assert set(re.findall(r'<option value="(\w+)"', entity_options)) == {"car", "user"}
    assert [r[2] for r in audit_table((await get_ok(client, "/admin/audit?entity=car")).text)] == [f"car {golf.id}"]
    assert [r[2] for r in audit_table((await get_ok(client, "/admin/audit?entity=user")).text)] == [f"user {sales}"]
    assert audit_table((await get_ok(client, f"/admin/audit?entity=car&entity_id={golf.id + 1}")).text) == []
    assert [r[0] for r in audit_table((await get_ok(client, f"/admin/audit?actor={sales}")).text)] == [
        "sales@example.test"]
    assert audit_table((await get_ok(client, "/admin/audit?from=2001-01-01&to=2001-12-31")).text) == []
