"""Signed, expiring tokens (HMAC-SHA256) for form timestamps and newsletter links."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, purpose: str, payload: Any, now: float | None = None) -> str:
    body = _b64(json.dumps({"p": payload, "t": int(now if now is not None else time.time())},
                           separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()[:18]
    return f"{body}.{_b64(mac)}"


def unsign(secret: str, purpose: str, token: str, max_age: float | None = None,
           now: float | None = None) -> tuple[Any, float] | None:
    """(payload, issued_at) when the token is genuine for this purpose and not older than max_age."""
    try:
        body, mac = token.split(".", 1)
        expected = hmac.new(secret.encode(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()[:18]
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        data = json.loads(_unb64(body))
        issued = float(data["t"])
    except (ValueError, KeyError, TypeError):
        return None
    current = now if now is not None else time.time()
    if max_age is not None and current - issued > max_age:
        return None
    return data["p"], issued
