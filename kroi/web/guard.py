"""Hostile request bodies and headers become 400s and 413s before a handler sees them, never 500s.

Route-level ASGI middleware (so its refusals are rendered by the app's exception handlers, as a page, a fragment
or problem+json). It refuses header values with NUL or other control characters (RFC 9110 §5.5), limits every
body (small for forms and JSON, KROI_UPLOAD_MAX_MB per photo on the upload routes), and parses form bodies
itself once, strictly as UTF-8, so a field that is not UTF-8 is a 400 instead of a UnicodeDecodeError deep in
a handler; NUL characters are dropped from form fields (PostgreSQL refuses them in text, and no one types them).
The parsed form is left in the scope where Litestar's Request.form() finds it, so handlers read it as before.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

UPLOAD = "upload"  # a route's opt["body"]: it takes photos, up to UPLOAD_FILES_AT_FULL_SIZE of the largest size
UPLOAD_FILES_AT_FULL_SIZE = 10
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_URLENCODED = b"application/x-www-form-urlencoded"
_MULTIPART = b"multipart/form-data"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TooLarge(ClientException):
    status_code = 413
    detail = "request body too large"


def _bad(detail: str) -> ClientException:
    return ClientException(detail=detail, status_code=400)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def parse_urlencoded(body: bytes) -> dict[str, str | list[str]]:
    """The form as Litestar's parser gives it (empty values left out), but refusing bytes that are not UTF-8."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), separator="&", encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise _bad("form data is not UTF-8") from exc
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return {k: v if len(v) > 1 else v[0] for k, v in form.items()}


class InputGuard:
    def __init__(self, app: ASGIApp, *, max_body: int, upload_max_mb: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = upload_max_mb * 1024 * 1024 * UPLOAD_FILES_AT_FULL_SIZE + max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = b""
        for name, value in scope["headers"]:
            if _CONTROL.search(value):
                raise _bad(f"control character in the {name.decode('latin-1')!r} header")
            if name == b"content-type":
                content_type = value.split(b";")[0].strip().lower()
        handler = scope.get("route_handler")
        limit = self.max_upload if handler is not None and handler.opt.get("body") == UPLOAD else self.max_body
        receive = self._limited(scope, receive, limit)
        if scope["method"] not in _SAFE_METHODS and content_type in (_URLENCODED, _MULTIPART):
            await self._parse_form(scope, receive, content_type)
        await self.app(scope, receive, send)

    @staticmethod
    def _limited(scope: Scope, receive: Receive, limit: int) -> Receive:
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.strip().isdigit():
                    raise _bad("invalid content-length")
                if int(value) > limit:
                    raise TooLarge
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge
            return message

        return limited

    @staticmethod
    async def _parse_form(scope: Scope, receive: Receive, content_type: bytes) -> None:
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        state = ScopeState.from_scope(scope)
        if content_type == _URLENCODED:
            form: dict[str, Any] = parse_urlencoded(await request.body())
        else:
            try:
                await request.form()
            except UnicodeDecodeError as exc:
                raise _bad("form field is not UTF-8") from exc
            form = state.form  # type: ignore[assignment]
        state.form = {k.replace("\x00", ""): v if isinstance(v, UploadFile) else _without_nul(v)
                      for k, v in form.items()}
