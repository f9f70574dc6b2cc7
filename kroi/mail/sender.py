"""Deliver one message: SMTP when a host is configured (STARTTLS or TLS), else an .eml file under var/mail/."""
from __future__ import annotations

import asyncio
import re
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from kroi.settings import Settings


class MailSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, msg: EmailMessage) -> str:
        """Send and return where it went (for the log); raises on failure."""
        s = self.settings
        if not s.smtp_host:
            return await asyncio.to_thread(self._write_eml, msg, s.mail_dir)
        await aiosmtplib.send(
            msg,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls and not s.smtp_tls,
            use_tls=s.smtp_tls,
            timeout=s.smtp_timeout,
        )
        return f"smtp://{s.smtp_host}:{s.smtp_port}"

    @staticmethod
    def _write_eml(msg: EmailMessage, folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9]+", "-", str(msg["To"]))[:60]
        path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**9}-{stem}.eml"
        path.write_bytes(bytes(msg))
        return str(path)
