"""A local SMTP server for the browser tests: aiosmtpd on 127.0.0.1, every message it receives kept in order."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def attachments(self) -> list[EmailMessage]:
        return list(self.message.iter_attachments())


class Mailbox:
    """aiosmtpd handler: accepts every message (no auth, no TLS) and parses it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._lock = threading.Lock()
        self._messages: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, wanted: Callable[[Received], bool], what: str, timeout: float = 10.0) -> Received:
        """The first message for which wanted() is true, polling until timeout seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            for received in self.messages:
                if wanted(received):
                    return received
            if time.monotonic() > deadline:
                seen = [(r.rcpt_tos, r.subject) for r in self.messages]
                raise AssertionError(f"no mail {what} within {timeout:.0f} s; the SMTP server got {seen}")
            time.sleep(0.1)


def start(port: int) -> tuple[Mailbox, Controller]:
    """Listen on 127.0.0.1:port in aiosmtpd's own thread; stop with controller.stop()."""
    mailbox = Mailbox(port)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return mailbox, controller
