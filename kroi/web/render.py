"""The one place that decides between a whole page and an HTMX fragment, and builds HTML responses."""
from __future__ import annotations

import gzip

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.utils.scope.state import ScopeState

VARY = "HX-Request, HX-History-Restore-Request, Cookie"


def wants_fragment(request: Request) -> bool:
    """An HTMX request that is neither boosted nor a history restore gets the fragment."""
    h = request.headers
    return (
        h.get("hx-request") == "true"
        and h.get("hx-boosted") != "true"
        and h.get("hx-history-restore-request") != "true"
    )


def html(body: str, status_code: int = 200, headers: dict[str, str] | None = None,
         cache_control: str | None = None) -> Response[str]:
    all_headers = {"Vary": VARY}
    if cache_control:
        all_headers["Cache-Control"] = cache_control
    if headers:
        all_headers.update(headers)
    return Response(body, status_code=status_code, media_type=MediaType.HTML, headers=all_headers)


def gzip_body(body: str) -> bytes:
    """A body compressed once, to be cached and sent by gzipped_html to every client that accepts gzip."""
    return gzip.compress(body.encode(), compresslevel=6, mtime=0)


def gzipped_html(request: Request, body_gz: bytes, headers: dict[str, str] | None = None) -> Response[bytes]:
    """An HTML answer from a body compressed when it was cached, so a cache hit does not gzip it again.

    The compression middleware sends responses marked as cached as they are; a client that does not accept
    gzip gets the body decompressed.
    """
    all_headers = {"Vary": f"{VARY}, Accept-Encoding", **(headers or {})}
    if "gzip" in request.headers.get("accept-encoding", ""):
        ScopeState.from_scope(request.scope).is_cached = True
        all_headers["Content-Encoding"] = "gzip"
        body = body_gz
    else:
        body = gzip.decompress(body_gz)
    return Response(body, media_type=MediaType.HTML, headers=all_headers)
