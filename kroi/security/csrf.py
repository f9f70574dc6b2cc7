"""Cross-site request forgery protection: Fetch Metadata and Origin first, a double-submit token as the fallback.

A state-changing request (any method but GET, HEAD, OPTIONS) is let through when the browser itself says it
comes from this site: `Sec-Fetch-Site: same-origin` (or `none`: typed by the user), or, from a browser that
sends no Fetch Metadata, an `Origin` that is this site's (the request's own host or KROI_PUBLIC_URL). A browser
that says cross-site, same-site (a sibling subdomain) or any other origin is refused. Only a request with
neither header (an old browser, a script) must carry the double-submit token: the `csrftoken` cookie and the
same value in the form's `_csrf_token` or the `X-CSRFToken` header. This is Go 1.25's CrossOriginProtection
with a token fallback; because browsers that send Sec-Fetch-Site or Origin need no token, public pages can stop
setting the per-visitor cookie later without losing protection.

Every token and cookie is checked as ASCII bytes of a fixed shape, so no value a client sends can raise: a bad
one is a 403 on a state-changing request and a fresh cookie when a page asks for a token. The cookie is set
only when a page actually renders a token (`token(scope)`), never on pages without forms.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "csrftoken"
HEADER = b"x-csrftoken"
FIELD = "_csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STATE = "kroi.csrf"
_TOKEN = re.compile(rb"[0-9a-f]{128}")  # 32 random bytes and their HMAC-SHA256, both hex
_FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class _Tokens:
    """The token of one request: the valid cookie's, or a new one that the response then sets as the cookie."""

    def __init__(self, secret: bytes, cookie: bytes | None) -> None:
        self.secret = secret
        self.cookie = cookie if cookie is not None and valid(secret, cookie) else None
        self.issued: str | None = None

    def token(self) -> str:
        if self.cookie is not None:
            return self.cookie.decode("ascii")
        if self.issued is None:
            self.issued = new_token(self.secret)
        return self.issued


def _sign(secret: bytes, nonce: bytes) -> bytes:
    return hmac.new(secret, nonce, hashlib.sha256).hexdigest().encode("ascii")


def new_token(secret: bytes) -> str:
    nonce = secrets.token_hex(32).encode("ascii")
    return (nonce + _sign(secret, nonce)).decode("ascii")


def valid(secret: bytes, token: bytes) -> bool:
    """A token this site issued: 128 lower-case hex characters whose second half signs the first."""
    if not _TOKEN.fullmatch(token):
        return False
    return hmac.compare_digest(token[64:], _sign(secret, token[:64]))


def token(scope: Scope) -> str:
    """This visitor's token for a form's hidden input or hx-headers ("" outside the middleware's routes)."""
    tokens = scope.get("state", {}).get(_STATE)
    return tokens.token() if isinstance(tokens, _Tokens) else ""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None


def _cookie(scope: Scope, name: bytes) -> bytes | None:
    """The named cookie's raw value; lenient like browsers (a malformed neighbour does not hide it)."""
    found = None
    for key, value in scope.get("headers", ()):
        if key != b"cookie":
            continue
        for part in value.split(b";"):
            k, sep, v = part.strip().partition(b"=")
            if sep and k == name:
                found = v.strip().strip(b'"')
    return found


def _origin(url: str | None) -> str | None:
    """scheme://host[:port] of a URL, lower-cased; None when it has none."""
    try:
        parts = urlsplit(url or "")
        return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None
    except ValueError:
        return None


class CSRFMiddleware:
    """ASGI middleware (route level, so refusals are rendered by the app's exception handlers)."""

    def __init__(self, app: ASGIApp, *, secret: str, public_url: str | None, secure: bool,
                 exclude: Iterable[str]) -> None:
        self.app = app
        self.secret = secret.encode()
        self.public_origin = _origin(public_url)
        self.secure = secure
        self.exclude = tuple(exclude)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exclude):
            await self.app(scope, receive, send)
            return
        tokens = _Tokens(self.secret, _cookie(scope, COOKIE.encode()))
        scope.setdefault("state", {})[_STATE] = tokens
        if scope["method"] not in SAFE_METHODS:
            await self._check(scope, receive, tokens)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and tokens.issued is not None:
                cookie = Cookie(key=COOKIE, value=tokens.issued, path="/", secure=self.secure, httponly=True,
                                samesite="lax")
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _check(self, scope: Scope, receive: Receive, tokens: _Tokens) -> None:
        site = _header(scope, b"sec-fetch-site")
        if site is not None:
            if site in (b"same-origin", b"none"):
                return
            raise PermissionDeniedException("CSRF: cross-site request")
        origin = _header(scope, b"origin")
        if origin is not None:
            if origin.decode("latin-1").lower() in self._own_origins(scope):
                return
            raise PermissionDeniedException("CSRF: cross-origin request")
        # Neither header: an old browser or a script; the double-submit token decides.
        sent = _header(scope, HEADER) or await self._form_token(scope, receive)
        if tokens.cookie is None or sent is None or not valid(self.secret, sent):
            raise PermissionDeniedException("CSRF token verification failed")
        if not hmac.compare_digest(sent, tokens.cookie):
            raise PermissionDeniedException("CSRF token verification failed")

    def _own_origins(self, scope: Scope) -> set[str]:
        own = set()
        host = _header(scope, b"host")
        if host:
            # The scheme seen here may be the proxy's plain HTTP: the host decides, as in Go's check.
            name = host.decode("latin-1").lower()
            own |= {f"https://{name}", f"http://{name}"}
        if self.public_origin:
            own.add(self.public_origin)
        return own

    @staticmethod
    async def _form_token(scope: Scope, receive: Receive) -> bytes | None:
        content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        if content_type not in _FORMS:
            return None
        # The app's own Request parses (and caches in the scope) the form, so the handler reads it once more.
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        value = (await request.form()).get(FIELD)
        if not isinstance(value, str):
            return None
        try:
            return value.encode("ascii")
        except UnicodeEncodeError:
            return None
