"""Hidden fields of the lead forms (source_page, referrer, utm_*, the idempotency key, search_url) carry whatever
a client puts there: junk is cleaned or cut to its column, never a database error; and a DataError or an
IntegrityError is bad input (400/409), never "database unavailable" (503) nor a 500."""
from __future__ import annotations

import unicodedata

import httpx
import pytest
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from leadforms import get_form, is_confirmation, lead_client, lead_settings, new_leads, redis_url, valid_input  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

JUNK = {
    "source_page": "/cars/" + "x" * 5000,
    "referrer": "http://testserver/" + "ä" * 3000 + "\x01",
    "utm_source": "news\x00letter" + "s" * 300,
    "utm_medium": "e\u200bmail" + "m" * 150,
    "utm_campaign": "\x7f" * 10 + "kevät" * 40,
    "search_url": "/cars?" + "q=a&" * 2000,
    "idempotency_key": "k" * 2000,
    "form_id": "f" * 3000,
    "lang": "x" * 1000,
}


@pytest.mark.parametrize("name", sorted(JUNK))
async def test_junk_in_a_hidden_field_is_cleaned_or_cut(lead_client: httpx.AsyncClient, db: AsyncSession,
                                                         name: str) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    data = form.data(**valid_input("contact", f"{name.replace('_', '')}@example.fi"))
    data[name] = JUNK[name]
    r = await lead_client.post("/leads", data=data, headers={"HX-Request": "true"})
    assert r.status_code == 200, (r.status_code, r.text[-800:])
    assert is_confirmation(r.text)
    [lead] = await new_leads(db)
    for column, limit in (("source_page", 500), ("referrer", 500), ("utm_source", 100), ("utm_medium", 100),
                          ("utm_campaign", 100)):
        value = lead[column] or ""
        assert len(value) <= limit and not any(unicodedata.category(ch) == "Cc" for ch in value), (column, value)


async def test_a_value_postgresql_refuses_is_bad_input_not_an_outage(lead_client: httpx.AsyncClient) -> None:
    """Routes that send PostgreSQL a value it refuses (a DataError) or a duplicate key (an IntegrityError)."""
    from litestar import get
    from sqlalchemy import text

    @get("/test-only/data-error")
    async def data_error(db_session: NamedDependency[AsyncSession]) -> str:
        await db_session.execute(text("SELECT 'not a number'::integer"))
        return "unreachable"

    @get("/test-only/integrity-error")
    async def integrity_error(db_session: NamedDependency[AsyncSession]) -> str:
        await db_session.execute(text("INSERT INTO users (id, email, full_name, role, is_active, password_hash) "
                                      "SELECT id, email, full_name, role, is_active, password_hash FROM users LIMIT 1"))
        return "unreachable"

    lead_client.app.register(data_error)
    lead_client.app.register(integrity_error)
    for url, status in (("/test-only/data-error", 400), ("/test-only/integrity-error", 409)):
        for headers in ({}, {"HX-Request": "true"}):
            r = await lead_client.get(url, headers=headers)
            assert r.status_code == status, (url, r.status_code)
            assert "Retry-After" not in r.headers
