"""The transactional outbox: two messages per lead, delivery by the worker over real SMTP, retries with
exponential backoff, the dead state, and .eml files when no SMTP host is configured."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from xml.etree import ElementTree as ET

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.mail.outbox import OutboxRepository
from kroi.mail.worker import process_due
from kroi.settings import Settings
from kroi.system.services import DEFAULTS
from leadforms import (activities, client_for, db_now, fast, get_form, is_confirmation, new_leads, outbox_rows, post,
                       seeded_car, valid_input)
from leadforms import lead_client, lead_settings, redis_url  # noqa: F401 - fixtures used by name
from smtp import free_port, smtp_server

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

NOTIFY = DEFAULTS["leads"]["notify_email"]


def smtp_settings(settings: Settings, port: int, **more: object) -> Settings:
    return fast(settings, **{"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False, "smtp_timeout": 5,
                             **more})


def sessionmaker(client: httpx.AsyncClient):  # noqa: ANN201
    return client.app.state.kroi.sessionmaker  # type: ignore[attr-defined]


async def make_lead(client: httpx.AsyncClient, db: AsyncSession, email: str, url: str = "/contact",
                    kind: str = "contact", **extra: str) -> dict:
    form = await get_form(client, url, kind)
    r = await post(client, form.data(**valid_input(kind, email, **extra)), htmx=True)
    assert r.status_code == 200 and is_confirmation(r.text), r.text[:300]
    return next(lead for lead in await new_leads(db) if lead["email"] == email)


def adf_of(msg: EmailMessage) -> ET.Element:
    [att] = [a for a in msg.iter_attachments() if a.get_filename()]
    assert att.get_content_type() == "application/xml"
    return ET.fromstring(att.get_payload(decode=True))


async def set_due_now(db: AsyncSession) -> None:
    """Let time pass: every pending message becomes due."""
    await db.execute(text("UPDATE outbox_messages SET next_attempt_at = now() WHERE status = 'pending'"))
    await db.commit()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung SMTP server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


async def test_each_lead_writes_two_pending_messages(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    lead = await make_lead(lead_client, db, "two@example.fi")
    rows = await outbox_rows(db)
    assert len(rows) == 2
    assert {r["kind"] for r in rows} == {"lead_dealer", "lead_visitor"}
    for row in rows:
        assert row["lead_id"] == lead["id"]
        assert row["status"] == "pending" and row["attempts"] == 0 and row["sent_at"] is None
    by_kind = {r["kind"]: r["payload"] for r in rows}
    assert by_kind["lead_dealer"]["to"] == NOTIFY
    assert by_kind["lead_visitor"]["to"] == "two@example.fi"


async def test_worker_delivers_both_mails_over_smtp(settings: Settings, reset: None, db: AsyncSession) -> None:
    car = await seeded_car(db, "VLV-60")
    with smtp_server() as smtp:
        s = smtp_settings(settings, smtp.port)
        async with client_for(s) as client:
            client.cookies.set("kroi_lang", "en")
            lead = await make_lead(client, db, "visitor@example.com", car.url, "inquiry")
            handled = await process_due(sessionmaker(client), s)
            assert handled == 2
            assert await process_due(sessionmaker(client), s) == 0  # nothing left to send
        received = list(smtp.messages)

    assert len(received) == 2
    dealer = [r.message for r in received if NOTIFY in r.envelope_to]
    visitor = [r.message for r in received if "visitor@example.com" in r.envelope_to]
    assert len(dealer) == 1 and len(visitor) == 1
    dealer, visitor = dealer[0], visitor[0]

    assert dealer["From"] == s.mail_from and visitor["From"] == s.mail_from
    assert f"#{lead['id']}" in dealer["Subject"]
    assert dealer["Reply-To"] == "visitor@example.com"
    html = dealer.get_body(("html",)).get_content()
    assert f"/admin/leads/{lead['id']}" in html
    assert f"http://testserver/admin/leads/{lead['id']}" in dealer.get_body(("plain",)).get_content()
    adf = adf_of(dealer)
    assert adf.tag == "adf"
    assert adf.findtext("prospect/id") == str(lead["id"])
    assert adf.findtext("prospect/customer/contact/email") == "visitor@example.com"
    assert adf.findtext("prospect/vehicle/make") == "Volvo"
    assert adf.findtext("prospect/vehicle/year") == str(car.model_year)

    # The visitor wrote in English, so the confirmation is in English.
    assert visitor["Subject"] == "Thank you for contacting Kroi Auto Center"
    body = visitor.get_body(("plain",)).get_content()
    assert body.startswith("Hello Maija")
    assert f"Reference: {lead['id']}" in body
    assert list(visitor.iter_attachments()) == []

    rows = await outbox_rows(db)
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert all(r["sent_at"] is not None and r["attempts"] == 1 and r["last_error"] is None for r in rows)
    sent = [a for a in await activities(db, lead["id"]) if a["kind"] == "email_sent"]
    assert sorted(a["details"]["kind"] for a in sent) == ["lead_dealer", "lead_visitor"]


async def test_finnish_visitor_gets_a_finnish_confirmation(settings: Settings, reset: None, db: AsyncSession) -> None:
    with smtp_server() as smtp:
        s = smtp_settings(settings, smtp.port)
        async with client_for(s) as client:
            await make_lead(client, db, "fi@example.fi")
            await process_due(sessionmaker(client), s)
        [visitor] = smtp.collector.to("fi@example.fi")
    assert visitor["Subject"] == "Kiitos yhteydenotostasi – Kroi Auto Center"
    assert visitor.get_body(("plain",)).get_content().startswith("Hei Maija")


async def test_smtp_down_keeps_the_lead_and_schedules_a_retry(settings: Settings, reset: None,
                                                              db: AsyncSession) -> None:
    s = smtp_settings(settings, free_port(), outbox_backoff_seconds=300)
    async with client_for(s) as client:
        lead = await make_lead(client, db, "down@example.fi")
        assert await process_due(sessionmaker(client), s) == 2
        now = await db_now(db)
        rows = await outbox_rows(db)
        assert [lead["id"]] == [r["id"] for r in await new_leads(db)]
        for row in rows:
            assert row["status"] == "pending"
            assert row["attempts"] == 1
            assert row["last_error"] and "SMTP" in row["last_error"], row["last_error"]
            # The first retry waits the base backoff (300 s), not the 5-minute claim lease or nothing at all.
            wait = row["next_attempt_at"] - now
            assert timedelta(seconds=250) < wait <= timedelta(seconds=300), wait
        failed = [a for a in await activities(db, lead["id"]) if a["kind"] == "email_failed"]
        assert len(failed) == 2 and all(a["details"]["attempt"] == 1 and not a["details"]["dead"] for a in failed)
        # Not due yet: another pass sends nothing.
        assert await process_due(sessionmaker(client), s) == 0


async def test_backoff_doubles_then_the_message_is_dead_until_retried(settings: Settings, reset: None,
                                                                     db: AsyncSession) -> None:
    port = free_port()
    s = smtp_settings(settings, port, outbox_max_attempts=3, outbox_backoff_seconds=100)
    async with client_for(s) as client:
        lead = await make_lead(client, db, "retry@example.fi")
        waits = []
        for attempt in (1, 2, 3):
            assert await process_due(sessionmaker(client), s) == 2
            now = await db_now(db)
            rows = await outbox_rows(db)
            assert {r["attempts"] for r in rows} == {attempt}
            waits.append(min(r["next_attempt_at"] - now for r in rows))
            if attempt < 3:
                assert {r["status"] for r in rows} == {"pending"}
                await set_due_now(db)
        assert {r["status"] for r in rows} == {"dead"}
        assert all(r["last_error"] for r in rows)
        assert timedelta(seconds=50) < waits[0] <= timedelta(seconds=100)
        assert timedelta(seconds=150) < waits[1] <= timedelta(seconds=200)
        # Dead messages are never picked up again by themselves.
        await db.execute(text("UPDATE outbox_messages SET next_attempt_at = now() - interval '1 day'"))
        await db.commit()
        assert await process_due(sessionmaker(client), s) == 0
        failed = [a for a in await activities(db, lead["id"]) if a["kind"] == "email_failed"]
        assert sorted(a["details"]["attempt"] for a in failed) == [1, 1, 2, 2, 3, 3]
        assert [a["details"]["dead"] for a in failed if a["details"]["attempt"] == 3] == [True, True]

        # The SMTP server comes back and someone presses "retry": both are delivered.
        with smtp_server(port) as smtp:
            async with sessionmaker(client)() as session:
                assert await OutboxRepository(session).retry_dead() == 2
            assert await process_due(sessionmaker(client), s) == 2
            assert len(smtp.messages) == 2
    rows = await outbox_rows(db)
    assert {r["status"] for r in rows} == {"sent"}
    assert {r["attempts"] for r in rows} == {1}
    assert all(r["last_error"] is None for r in rows)


async def test_a_hung_smtp_server_neither_blocks_nor_loses_a_lead(settings: Settings, reset: None, db: AsyncSession,
                                                                  silent_port: int) -> None:
    # The worker runs inside the app here, against a server that accepts connections and never answers.
    s = smtp_settings(settings, silent_port, smtp_timeout=0.5, run_worker=True, outbox_poll_seconds=0.05)
    async with client_for(s) as client:
        for n in range(3):
            await make_lead(client, db, f"hung{n}@example.fi")
    assert len(await new_leads(db)) == 3
    rows = await outbox_rows(db)
    assert len(rows) == 6 and {r["status"] for r in rows} == {"pending"}

    # A pass of the worker gives up on each message after the SMTP timeout and schedules a retry.
    await set_due_now(db)
    s = smtp_settings(settings, silent_port, smtp_timeout=0.5)
    async with client_for(s) as client:
        assert await process_due(sessionmaker(client), s) == 6
    rows = await outbox_rows(db)
    assert {r["status"] for r in rows} == {"pending"}
    assert all("Timeout" in r["last_error"] for r in rows), [r["last_error"] for r in rows]


async def test_without_an_smtp_host_mail_is_written_as_eml_files(lead_client: httpx.AsyncClient,
                                                                 lead_settings: Settings, db: AsyncSession) -> None:
    assert lead_settings.smtp_host is None
    lead = await make_lead(lead_client, db, "eml@example.fi")
    assert not lead_settings.mail_dir.exists() or not list(lead_settings.mail_dir.glob("*.eml"))
    assert await process_due(sessionmaker(lead_client), lead_settings) == 2
    files = sorted(lead_settings.mail_dir.glob("*.eml"))
    assert len(files) == 2
    messages = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    by_to = {m["To"]: m for m in messages}
    assert set(by_to) == {NOTIFY, "eml@example.fi"}
    assert adf_of(by_to[NOTIFY]).findtext("prospect/id") == str(lead["id"])
    assert {r["status"] for r in await outbox_rows(db)} == {"sent"}


async def test_two_workers_never_send_a_message_twice(settings: Settings, reset: None, db: AsyncSession) -> None:
    with smtp_server() as smtp:
        s = smtp_settings(settings, smtp.port)
        async with client_for(s) as client:
            for n in range(4):
                await make_lead(client, db, f"w{n}@example.fi")
            handled = await asyncio.gather(*(process_due(sessionmaker(client), s, limit=3) for _ in range(4)))
            while await process_due(sessionmaker(client), s):
                pass
        received = list(smtp.messages)
    assert sum(handled) <= 8
    assert len(received) == 8
    assert sorted(to for r in received for to in r.envelope_to if to != NOTIFY) == [f"w{n}@example.fi"
                                                                                      for n in range(4)]
    assert {r["status"] for r in await outbox_rows(db)} == {"sent"}
