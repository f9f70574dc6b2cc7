"""HEAD answered like GET without its body: Litestar routes GET handlers for GET only (405 for HEAD), but uptime
monitors, link checkers and some crawlers ask with HEAD."""
from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Wraps the whole ASGI app; everything but an HTTP HEAD passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # app.state, app.route_reverse, … of the wrapped app
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # The request line and metrics still say HEAD (kroi/web/observability.py).
        await self.app({**scope, "method": "GET", "kroi.method": "HEAD"}, receive, headers_only)
