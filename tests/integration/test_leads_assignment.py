"""Round-robin assignment of new leads among the active sales users."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import User
from leadforms import activities, add_user, get_form, is_confirmation, new_leads, post, valid_input
from leadforms import lead_client, lead_settings, redis_url  # noqa: F401 - fixtures used by name

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

KINDS = ("contact", "trade-in", "financing", "contact", "test-drive", "contact")


async def submit_many(client: httpx.AsyncClient, n: int, prefix: str) -> list[dict]:
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        form = await get_form(client, f"/contact?type={kind}", kind)
        r = await post(client, form.data(**valid_input(kind, f"{prefix}{i}@example.fi")), htmx=True)
        assert is_confirmation(r.text), r.text[:300]


async def test_leads_alternate_between_the_active_sales_users(lead_client: httpx.AsyncClient,
                                                              db: AsyncSession) -> None:
    first = await add_user(db, "sales1@kroi.example", "sales")
    await add_user(db, "gone@kroi.example", "sales", active=False)
    second = await add_user(db, "sales2@kroi.example", "sales")
    await add_user(db, "viewer@kroi.example", "viewer")
    await add_user(db, "boss@kroi.example", "admin")

    await submit_many(lead_client, 5, "rr")

    leads = await new_leads(db)
    assert [lead["assignee_id"] for lead in leads] == [first, second, first, second, first]
    for lead in leads:
        assigned = [a for a in await activities(db, lead["id"]) if a["kind"] == "assigned"]
        assert [a["details"] for a in assigned] == [{"assignee_id": lead["assignee_id"], "by": "round-robin"}]


async def test_a_user_made_inactive_is_skipped_from_then_on(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    a = await add_user(db, "a@kroi.example", "sales")
    b = await add_user(db, "b@kroi.example", "sales")
    c = await add_user(db, "c@kroi.example", "sales")
    await submit_many(lead_client, 2, "before")  # a, b
    await db.execute(update(User).where(User.id == c).values(is_active=False))
    await db.commit()
    await submit_many(lead_client, 3, "after")  # c is skipped: a, b, a
    assert [lead["assignee_id"] for lead in await new_leads(db)] == [a, b, a, b, a]


async def test_without_sales_users_leads_stay_unassigned(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    await add_user(db, "inactive@kroi.example", "sales", active=False)
    await add_user(db, "viewer@kroi.example", "viewer")
    await submit_many(lead_client, 2, "none")
    leads = await new_leads(db)
    assert len(leads) == 2
    assert [lead["assignee_id"] for lead in leads] == [None, None]
    for lead in leads:
        assert "assigned" not in [a["kind"] for a in await activities(db, lead["id"])]


async def test_one_sales_user_gets_every_lead(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    only = await add_user(db, "only@kroi.example", "sales")
    await submit_many(lead_client, 3, "one")
    assert [lead["assignee_id"] for lead in await new_leads(db)] == [only] * 3
