"""SMTP faults against real SMTP servers (aiosmtpd): refusing (5yz: dead at once, with the server's reply),
flaky (4yz, then OK: retried, one Message-ID for every attempt), down (retried with backoff), slow (the lease is
renewed, no second worker takes the mail) and a worker that dies mid-send (its mails come back within the lease)."""
from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.session import make_engine, make_sessionmaker
from kroi.mail import messages
from kroi.mail.outbox import OutboxRepository
from kroi.mail.worker import process_due
from kroi.settings import Settings
from smtp import Collector, SmtpServer, free_port

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def smtp_settings(settings: Settings, port: int, **more: object) -> Settings:
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
                                       "smtp_timeout": 10, "run_worker": False, **more})


class Refusing(Collector):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: ANN001, N802
        return "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown"


class Flaky(Collector):
    """Answers the first DATA with 451 (after reading it), then accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        if not self.refused:
            self.refused.append(envelope.content.decode(errors="replace"))
            return "451 4.3.0 Temporary local problem, try again later"
        return await super().handle_DATA(server, session, envelope)


class Slow(Collector):
    """Accepts each message only after `delay` seconds (a slow relay), or waits until released."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release
        self.started = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        self.started.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def running(handler: Collector) -> SmtpServer:
    server = SmtpServer("127.0.0.1", free_port(), handler)
    server.start()
    return server


async def enqueue(db: AsyncSession, *to: str) -> list[int]:
    repo = OutboxRepository(db)
    for address in to:
        repo.enqueue("test", messages.payload(to=address, subject="Koeajo", text="Tervetuloa koeajolle."))
    await db.commit()
    return list((await db.scalars(text("SELECT id FROM outbox_messages WHERE kind = 'test' ORDER BY id"))).all())


async def rows(db: AsyncSession) -> list[dict]:
    result = await db.execute(text(
        "SELECT id, status, attempts, last_error, next_attempt_at - clock_timestamp() AS wait FROM outbox_messages "
        "WHERE kind = 'test' ORDER BY id"))
    await db.commit()
    return [dict(r._mapping) for r in result]


@pytest.fixture
async def sessions(settings: Settings, reset: None):  # noqa: ANN201
    engine = make_engine(settings)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_a_refusal_is_dead_at_once_with_the_servers_reply(settings, sessions, db) -> None:  # noqa: ANN001
    server = running(Refusing())
    try:
        await enqueue(db, "nobody@example.test")
        assert await process_due(sessions, smtp_settings(settings, server.port)) == 1
    finally:
        server.stop()
    [row] = await rows(db)
    assert (row["status"], row["attempts"]) == ("dead", 1)
    assert "550" in row["last_error"] and "User unknown" in row["last_error"]


async def test_a_temporary_refusal_is_retried_with_the_same_message_id(settings, sessions, db) -> None:  # noqa: ANN001
    handler = Flaky()
    server = running(handler)
    try:
        s = smtp_settings(settings, server.port)
        await enqueue(db, "flaky@example.test")
        await process_due(sessions, s)
        [row] = await rows(db)
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert "451" in row["last_error"] and row["wait"].total_seconds() > 0  # backoff, not at once
        await db.execute(text("UPDATE outbox_messages SET next_attempt_at = now()"))
        await db.commit()
        await process_due(sessions, s)
    finally:
        server.stop()
    [row] = await rows(db)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    [received] = handler.messages
    first_id = next(line.split(":", 1)[1].strip() for line in handler.refused[0].splitlines()
                    if line.lower().startswith("message-id:"))
    assert received.message["Message-ID"] == first_id
    assert first_id.endswith("@kroiautocenter.fi>")


async def test_a_server_that_is_down_is_retried_later(settings, sessions, db) -> None:  # noqa: ANN001
    await enqueue(db, "down@example.test")
    await process_due(sessions, smtp_settings(settings, free_port()))
    [row] = await rows(db)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["wait"].total_seconds() > 0


async def test_a_worker_that_dies_mid_send_gives_its_mails_back_within_the_lease(settings, sessions, db) -> None:  # noqa: ANN001
    await enqueue(db, "a@example.test", "b@example.test")
    async with sessions() as session:
        claimed = await OutboxRepository(session).claim(10, settings.outbox_lease_seconds)  # ...and then it dies
    assert len(claimed) == 2
    for row in await rows(db):
        assert row["status"] == "pending"
        assert 0 < row["wait"].total_seconds() <= 30  # the default lease; was a fixed 5 minutes
    # With the lease run out, another worker sends them.
    await db.execute(text("UPDATE outbox_messages SET next_attempt_at = now()"))
    await db.commit()
    handler = Collector()
    server = running(handler)
    try:
        assert await process_due(sessions, smtp_settings(settings, server.port)) == 2
    finally:
        server.stop()
    assert [r["status"] for r in await rows(db)] == ["sent", "sent"]
    assert len(handler.messages) == 2


async def test_a_slow_send_keeps_its_lease_so_no_other_worker_sends_it_again(settings, sessions, db) -> None:  # noqa: ANN001
    release = threading.Event()
    handler = Slow(release)
    server = running(handler)
    s = smtp_settings(settings, server.port, outbox_lease_seconds=1)
    try:
        await enqueue(db, "slow@example.test")
        first = asyncio.create_task(process_due(sessions, s))
        while not handler.started.is_set():
            await asyncio.sleep(0.02)
        # The send takes several leases' time; other workers keep looking for due mail meanwhile.
        for _ in range(8):
            await asyncio.sleep(0.4)
            assert await process_due(sessions, s) == 0
        release.set()
        assert await first == 1
    finally:
        release.set()
        server.stop()
    [row] = await rows(db)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    assert len(handler.messages) == 1
