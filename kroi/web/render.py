"""The one place that decides between a whole page and an HTMX fragment, and builds HTML responses."""
from __future__ import annotations

from litestar import Request, Response
from litestar.enums import MediaType

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
