"""Outbox payloads <-> email.message.EmailMessage. Payloads are rendered when the lead is written."""
from __future__ import annotations

import base64
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
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


def build(data: dict[str, Any], sender: str, message_id_domain: str = "kroiautocenter.fi") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = data["to"]
    msg["Subject"] = data["subject"]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=message_id_domain)
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
