"""The dealer's own pages: the privacy policy (tietosuojaseloste) and the terms, their texts from the settings."""
from __future__ import annotations

from litestar import Request, Response, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.system import services as site_settings
from kroi.web.context import absolute_url, kroi, language, page_context
from kroi.web.render import html


async def _page(request: Request, db_session: AsyncSession, name: str) -> Response:
    k = kroi(request)
    lang = language(request)
    site = await site_settings.load(db_session, k.cache)
    ctx = page_context(request, lang, site, page_name=name, page_text=site.page_text(name, lang),
                       canonical=absolute_url(request, request.url.path))
    return html(k.templates.page("system/page.html", ctx))


@get("/privacy", name="pages:privacy")
async def privacy_page(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    return await _page(request, db_session, "privacy")


@get("/terms", name="pages:terms")
async def terms_page(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    return await _page(request, db_session, "terms")


ROUTES = [privacy_page, terms_page]
