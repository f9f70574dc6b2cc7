"""Bad input to the admin routes is never a 500: odd digits ('²'), dates past year 9998 and NUL characters are
ignored in list filters, answered with a field error in forms, or cleaned out of text before PostgreSQL sees it."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import as_admin, as_data, browser, change, field_errors, form_pairs, input_value, post, scalar
from kroi.web import i18n

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
__all__ = ["as_admin"]

# Everything a staff write could touch; equal before and after means the request changed nothing.
FINGERPRINT = " UNION ALL ".join(
    f"(SELECT '{t}' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {t} t)"
    for t in ("cars", "car_images", "leads", "lead_notes", "lead_activities", "users", "api_tokens", "settings",
              "audit_log", "login_attempts"))

CAR = {"brand": "Ford", "model": "Focus", "model_year": "2019", "price": "12 900", "mileage_km": "88 000",
       "fuel": "petrol", "transmission": "manual", "drive": "fwd", "body_type": "hatchback"}

# (method, path, form, SQL whose answer shows the cleaned value kept, that answer); no SQL: nothing may change.
CASES = [
    ("GET", "/admin/cars?page=²", None, None, None),
    ("GET", "/admin/cars?brand=²", None, None, None),
    ("GET", "/admin/leads?page=²", None, None, None),
    ("GET", "/admin/leads?car=²", None, None, None),
    ("GET", "/admin/leads?assignee=²", None, None, None),
    ("GET", "/admin/leads?to=9999-12-31", None, None, None),
    ("GET", "/admin/leads?q=%00", None, None, None),
    ("GET", "/admin/leads?view=board&q=%00", None, None, None),
    ("GET", "/admin/leads/export.csv?to=9999-12-31", None, None, None),
    ("GET", "/admin/leads/export.adf.xml?q=%00", None, None, None),
    ("GET", "/admin/audit?actor=²", None, None, None),
    ("GET", "/admin/audit?page=²", None, None, None),
    ("GET", "/admin/audit?to=9999-12-31", None, None, None),
    ("GET", "/admin/audit?entity=%00", None, None, None),
    ("GET", "/admin/audit?entity_id=%00", None, None, None),
    ("GET", "/admin/analytics?days=²", None, None, None),
    ("POST", "/admin/cars/bulk", {"ids": "²", "action": "publish"}, None, None),
    ("POST", "/admin/cars/", CAR | {"model_year": "²"}, None, None),
    ("POST", "/admin/cars/validate", CAR | {"model_year": "²", "field": "model_year"}, None, None),
    ("POST", "/admin/leads/{lead}/assign", {"assignee": "²"}, None, None),
    ("POST", "/admin/cars/{car}/images/order", {"order": "²"}, None, None),
    ("POST", "/admin/leads/{lead}/notes", {"body": "hello\x00world"},
     "SELECT body FROM lead_notes ORDER BY id DESC LIMIT 1", "helloworld"),
    ("POST", "/admin/users/", {"email": "nul@example.test", "full_name": "a\x00b", "role": "sales"},
     "SELECT full_name FROM users WHERE email = 'nul@example.test'", "ab"),
    ("POST", "/admin/tokens/", {"name": "a\x00b"}, "SELECT name FROM api_tokens ORDER BY id DESC LIMIT 1", "ab"),
    ("POST", "/admin/settings", {"dealer_name": "Kroi\x00Auto"},
     "SELECT value->>'name' FROM settings WHERE key = 'dealer'", "KroiAuto"),
    ("POST", "/admin/login", {"email": "x\x00y@example.test", "password": "whatever-it-is"},
     "SELECT email FROM login_attempts ORDER BY id DESC LIMIT 1", "xy@example.test"),
]


@pytest.mark.parametrize(("method", "path", "form", "stored_sql", "stored"), CASES,
                         ids=[f"{c[0]} {c[1]} {sorted(c[2] or {})}" for c in CASES])
async def test_bad_input_is_never_a_server_error(client, as_admin, db: AsyncSession, method, path, form,  # noqa: ANN001
                                                 stored_sql, stored) -> None:
    lead = await scalar(db, "SELECT min(id) FROM leads")
    car = await scalar(db, "SELECT min(car_id) FROM car_images")
    path = path.format(lead=lead, car=car)
    if path == "/admin/settings":  # the whole form as the page gives it, one field changed
        form = as_data(change(form_pairs((await client.get(path)).text, action=path), **form))
    before = (await db.execute(text(FINGERPRINT))).scalars().all()
    await db.commit()
    if path == "/admin/login":
        async with browser(client) as anonymous:
            r = await post(anonymous, path, form)
    elif method == "GET":
        r = await client.get(path)
    else:
        r = await post(client, path, form)
    assert r.status_code < 500, r.text[-2000:]
    if stored_sql is None:
        after = (await db.execute(text(FINGERPRINT))).scalars().all()
        await db.commit()
        assert after == before
    else:
        assert await scalar(db, stored_sql) == stored
    if path == "/admin/cars/":  # a form answers with the field's error and keeps what was typed
        assert r.status_code == 422
        assert field_errors(r.text).get("model_year") == i18n.translate("fi", "car.error.range")
        assert input_value(r.text, "model_year") == "²"
    if path.endswith("/assign"):
        assert r.status_code == 422
