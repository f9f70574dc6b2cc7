"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port) that keeps what it receives."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class Collector:
    """aiosmtpd handler: accepts every message and keeps it."""

    messages: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook name
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.messages if address in r.envelope_to]


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: Collector
    controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self.collector.messages

    def start(self) -> None:
        self.controller = Controller(self.collector, hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[SmtpServer]:
    """Run an SMTP server on 127.0.0.1 (on `port`, or a free one) for the duration of the block."""
    server = SmtpServer("127.0.0.1", port or free_port(), Collector())
    server.start()
    try:
        yield server
    finally:
        server.stop()
