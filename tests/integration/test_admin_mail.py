"""Undeliverable e-mail is visible to staff and can be sent again: the outbox's dead letters in the admin."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import add_user, audit_rows, post, scalar, staff
from kroi.mail.messages import payload
from kroi.mail.outbox import OutboxRepository

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def dead_message(db: AsyncSession, to: str, error: str) -> int:
    lead_id = await scalar(db, "SELECT min(id) FROM leads")
    OutboxRepository(db).enqueue("lead_dealer", payload(to=to, subject="Uusi liidi", text="…"), lead_id)
    await db.flush()
    message_id = await db.scalar(text(
        "UPDATE outbox_messages SET status = 'dead', attempts = 8, last_error = :e WHERE to_jsonb(payload)->>'to' = :to "
        "RETURNING id"), {"e": error, "to": to})
    await db.commit()
    return message_id


async def test_staff_see_dead_mail_and_sales_send_it_again(client: httpx.AsyncClient, db: AsyncSession) -> None:
    message_id = await dead_message(db, "myynti@example.test", "SMTP 550 <mailbox unavailable>")
    viewer = await add_user(db, "katsoja@example.test", "viewer")
    seller = await add_user(db, "myyja@example.test", "sales")

    async with staff(client, viewer) as c:
        dash = await c.get("/admin")
        assert 'href="/admin/mail"' in dash.text
        page = await c.get("/admin/mail")
        assert page.status_code == 200
        row = page.text.split(f'data-message-id="{message_id}"', 1)[1].split("</tr>", 1)[0]
        assert "Liidi myyjälle" in row and "myynti@example.test" in row
        assert "SMTP 550 &lt;mailbox unavailable&gt;" in row  # the server's words, escaped
        assert "/admin/mail/retry" not in page.text, "a viewer gets no button"
        forged = await post(c, "/admin/mail/retry")
        assert forged.status_code == 403
        assert await scalar(db, "SELECT status FROM outbox_messages WHERE id = :i", i=message_id) == "dead"

    async with staff(client, seller) as c:
        page = await c.get("/admin/mail")
        assert "Lähetä uudelleen (1)" in page.text
        r = await post(c, "/admin/mail/retry")
        assert r.status_code == 303 and r.headers["location"] == "/admin/mail?retried=1"
        done = await c.get(r.headers["location"])
        assert "1 viestiä palautettiin jonoon" in done.text and "Ei toimittamattomia viestejä." in done.text
    assert await scalar(db, "SELECT status || ':' || attempts FROM outbox_messages WHERE id = :i",
                        i=message_id) == "pending:0"
    [entry] = await audit_rows(db, entity_type="outbox", action="retry")
    assert entry.actor_id == seller and entry.after == {"messages": [message_id]}
