"""Site-wide endpoints: language switch and health."""
from __future__ import annotations

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.response import Redirect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.cache.client import SafeRedis
from kroi.mail.outbox import OutboxRepository
from kroi.web import i18n
from kroi.web.context import kroi, with_language
from kroi.web.templating import is_local_path


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host (open redirect)."""
    return target if is_local_path(target) else "/"


@get("/lang/{code:str}", name="meta:language")
async def switch_language(code: FromPath[str], request: Request) -> Redirect:
    if code not in i18n.LANGUAGES:
        raise NotFoundException()
    cookie = Cookie(key=i18n.COOKIE, value=code, max_age=365 * 86400, httponly=True, samesite="lax",
                    secure=request.url.scheme == "https")
    return Redirect(with_language(safe_next(request.query_params.get("next")), code), status_code=303,
                    cookies=[cookie])


@get("/health", name="meta:health", cache=False)
async def health(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    outbox: dict[str, int] = {}
    try:
        await db_session.execute(text("SELECT 1"))
        database = "ok"
        outbox = await OutboxRepository(db_session).counts()
    except Exception as exc:  # noqa: BLE001 - any failure means the database is not usable
        database = f"error: {type(exc).__name__}"
    async def state_of(safe: SafeRedis) -> str:
        return "ok" if await safe.ping() else ("disabled" if safe.redis is None else "down")

    cache = await state_of(k.cache.safe)
    state = cache if k.safe_redis is k.cache.safe else await state_of(k.safe_redis)
    body = {
        "status": "ok" if database == "ok" else "error",
        "database": database,
        "cache": cache,  # the fragment cache's Redis
        "state": state,  # the Redis of sessions, counters and buffers (the same one unless configured apart)
        "cache_stats": k.cache.stats.as_dict(),
        "outbox": {"pending": outbox.get("pending", 0), "dead": outbox.get("dead", 0), "sent": outbox.get("sent", 0)},
    }
    return Response(body, status_code=200 if database == "ok" else 503, headers={"Cache-Control": "no-store"})


ROUTES = [switch_language, health]
