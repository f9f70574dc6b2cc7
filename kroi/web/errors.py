"""Errors as a page, an HTMX fragment or problem+json; never a stack trace to the visitor."""
from __future__ import annotations

import logging
import secrets
import socket

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import exc as sa_exc

from kroi.db.session import Outage
from kroi.web import i18n
from kroi.web.render import html, wants_fragment

log = logging.getLogger("kroi.errors")


class GoneException(HTTPException):
    status_code = 410
    detail = "gone"


def _render(request: Request, status: int, title_key: str, text: str, detail: str | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return Response(
            {"type": "about:blank", "title": i18n.translate("en", title_key), "status": status, "detail": detail},
            status_code=status, media_type="application/problem+json",
        )
    from kroi.system.services import last_loaded
    from kroi.web.context import kroi, language, page_context

    lang = language(request)
    templates = kroi(request).templates
    title = i18n.translate(lang, title_key)
    if wants_fragment(request):
        ctx = templates.context(lang, status=status, title=title, text=text)
        return html(templates.page("errors/_fragment.html", ctx), status_code=status)
    # The normal layout (search, links, the phone number); an exception handler cannot wait for the database,
    # so the dealer's details are the ones this process loaded last.
    ctx = page_context(request, lang, last_loaded(), status=status, title=title, text=text, alternates=[])
    return html(templates.page("errors/error.html", ctx), status_code=status)


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    from kroi.web.context import language

    lang = language(request)
    status = exc.status_code
    if status == 404:
        text = i18n.translate(lang, "error.404_car") if exc.detail == "car" else ""
        return _render(request, 404, "error.404", text, "not found")
    if status == 410:
        return _render(request, 410, "error.410", i18n.translate(lang, "error.410_text"), "gone")
    if status >= 500:
        return internal_error_handler(request, exc)
    if status == 401 and request.url.path.startswith("/admin"):
        from kroi.admin.controllers import login_redirect

        return login_redirect(request)
    if status == 403 and request.url.path.startswith("/admin") and exc.detail == "role":
        return _render(request, 403, "admin.forbidden", i18n.translate(lang, "admin.forbidden_text"), "forbidden")
    if status == 403 and "CSRF" in str(exc.detail):
        return _render(request, 403, "error.400", i18n.translate(lang, "form.error.request_failed"), "csrf")
    response = _render(request, status, "error.400", str(exc.detail) if status < 500 else "", str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def internal_error_handler(request: Request, exc: Exception) -> Response:
    from kroi.web.context import language

    error_id = secrets.token_hex(6)
    log.exception("unhandled error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    lang = language(request)
    try:
        return _render(request, 500, "error.500", i18n.translate(lang, "error.500_text", id=error_id), error_id)
    except Exception:  # the error page itself failed: plain text, still no trace
        return Response(f"Internal error {error_id}", status_code=HTTP_500_INTERNAL_SERVER_ERROR,
                        media_type="text/plain")


def database_unavailable_handler(request: Request, exc: Exception) -> Response:
    """The database is down, unreachable or has no free connection: a 503 that says to try again soon (an
    outage, not a fault of the page), with Retry-After; logged once per request, without a trace."""
    from kroi.web.context import language

    if is_bad_data(exc):  # bad input (issue 9 §4), not an outage
        return bad_data_handler(request, exc)
    if not database_unavailable(exc):
        return internal_error_handler(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    Outage.seen()
    lang = language(request)
    try:
        response = _render(request, 503, "error.503", i18n.translate(lang, "error.503_text"), "unavailable")
    except Exception:  # the error page needs the settings, which may need the database
        response = Response(i18n.translate(lang, "error.503_text"), status_code=503, media_type="text/plain")
    response.headers["Retry-After"] = "30"
    return response


# Connection refused or lost, the pool's wait timed out, a statement timed out: the database, not the page.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, ConnectionError,
                        socket.gaierror, TimeoutError)

# SQLSTATEs of an outage rather than of the statement: class 08 (connection exception), class 53 (insufficient
# resources: too many connections, out of memory or disk), 57P01-57P03 (administrator or crash shutdown, "the
# database system is shutting down / starting up" while PostgreSQL restarts) and 57014 (statement timeout).
UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03", "57014")


def database_unavailable(exc: BaseException) -> bool:
    """True when exc (or what it wraps) says the database is away or overloaded, not that the statement is wrong.

    asyncpg reports a restart's "shutting down" / "starting up" at connect as CannotConnectNowError, which
    SQLAlchemy wraps in a bare DBAPIError that is neither an OperationalError nor connection_invalidated: only
    its SQLSTATE tells."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DATABASE_UNAVAILABLE) or getattr(error, "connection_invalidated", False):
            return True
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str) and state.startswith(UNAVAILABLE_SQLSTATES):
            return True
        error = getattr(error, "orig", None) or error.__cause__
    return False

# --- bad input, not an outage (issue 9 §4, hostile input) ---
def bad_data_handler(request: Request, exc: Exception) -> Response:
    """PostgreSQL refused a value (a DataError: too long, NUL, out of range) or a constraint (an IntegrityError:
    a duplicate sent twice at once): the request's fault, a 400 / 409, never "database unavailable"."""
    from kroi.web.context import language

    state = str(getattr(getattr(exc, "orig", None), "sqlstate", None) or "")
    status = 409 if isinstance(exc, sa_exc.IntegrityError) or state.startswith("23") else 400
    log.warning("bad input refused by the database on %s %s: %s", request.method, request.url.path,
                type(getattr(exc, "orig", exc)).__name__)
    lang = language(request)
    return _render(request, status, "error.400", i18n.translate(lang, "form.error.request_failed"), "bad input")


def is_bad_data(exc: BaseException) -> bool:
    """A data exception (SQLSTATE class 22: too long, NUL, not a number, out of range) or an integrity one (23):
    the asyncpg dialect raises most of them as a plain DBAPIError, so the SQLSTATE decides."""
    if isinstance(exc, (sa_exc.DataError, sa_exc.IntegrityError)):
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) if isinstance(exc, sa_exc.DBAPIError) else None
    return isinstance(state, str) and state[:2] in ("22", "23")
# --- end of bad input ---

EXCEPTION_HANDLERS = {
    HTTPException: http_exception_handler,
    NotFoundException: http_exception_handler,
    # DBAPIError too: a driver error on a lost connection says so only in connection_invalidated (checked
    # by the handler, which passes every other DBAPIError on as a 500).
    **{cls: database_unavailable_handler for cls in (*DATABASE_UNAVAILABLE, sa_exc.DBAPIError)},
    **{cls: bad_data_handler for cls in (sa_exc.DataError, sa_exc.IntegrityError)},
    Exception: internal_error_handler,
}
