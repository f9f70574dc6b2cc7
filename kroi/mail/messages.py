"""Outbox payloads <-> email.message.EmailMessage. Payloads are rendered when the lead is written."""
from __future__ import annotations

import base64
from email.message import EmailMessage
from datetime import datetime
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any


def payload(*, to: str, subject: str, text: str, html: str | None = None,
            attachments: list[tuple[str, str, bytes]] = (), headers: dict[str, str] | None = None,
            reply_to: str | None = None) -> dict[str, Any]:
    return {
        "to": to, "subject": subject, "text": text, "html": html, "reply_to": reply_to,
        "headers": headers or {},
        "attachments": [{"filename": f, "content_type": ct, "data": base64.b64encode(data).decode()}
                        for f, ct, data in attachments],
    }


def message_id(outbox_id: int, created_at: datetime, sender: str) -> str:
    """The Message-ID of an outbox message: the same for every attempt (a resend after a crash mid-DATA is then
    recognisably the same mail), from its row id and creation time (unique also after a database restore that
    reuses ids) and the domain of the sender's address."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<kroi.{outbox_id}.{int(created_at.timestamp() * 1_000_000)}@{domain}>"


def build(data: dict[str, Any], sender: str, message_id: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = data["to"]
    msg["Subject"] = data["subject"]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    if data.get("reply_to"):
        msg["Reply-To"] = data["reply_to"]
    for name, value in data.get("headers", {}).items():
        msg[name] = value
    msg.set_content(data["text"])
    if data.get("html"):
        msg.add_alternative(data["html"], subtype="html")
    for att in data.get("attachments", []):
        maintype, subtype = att["content_type"].split("/", 1)
        msg.add_attachment(base64.b64decode(att["data"]), maintype=maintype, subtype=subtype,
                           filename=att["filename"])
    return msg
