"""Per-request values every page needs: language, dealer settings, the app's services."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kroi.cache.client import SafeRedis
from kroi.cache.fragments import FragmentCache
from kroi.security import csrf
from kroi.settings import Settings
from kroi.storage import Storage
from kroi.system.services import SiteSettings
from kroi.web import i18n
from kroi.web.templating import Templates


@dataclass
class Kroi:
    """What create_app builds at start-up and every handler reaches through app.state.kroi."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    safe_redis: SafeRedis
    cache: FragmentCache
    templates: Templates
    storage: Storage


def csrf_token(request: Request) -> str:
    """This visitor's CSRF token (the double-submit cookie, set by the response that renders it) for forms."""
    return csrf.token(request.scope)


def kroi(request: Request) -> Kroi:
    return request.app.state.kroi


def language(request: Request, posted: str | None = None) -> str:
    """The page's language: a posted form's own `lang` field (the language its page was shown in) when valid,
    else ?lang=, else the cookie, else Finnish."""
    if posted in i18n.LANGUAGES:
        return posted
    return i18n.normalize_language(request.query_params.get("lang") or request.cookies.get(i18n.COOKIE))


async def posted_fields(request: Request) -> tuple[dict[str, str], str]:
    """A posted form's fields as text (the CSRF token left out) and the language it was shown in: forms post to
    bare paths, so the page's language travels in their hidden `lang` field."""
    form = await request.form()
    data = {key: str(form.get(key) or "") for key in form.keys() if key != "_csrf_token"}
    return data, language(request, data.get("lang"))


def same_site_referer(request: Request) -> SplitResult | None:
    """The page of this site the visitor came from (the Referer), or None when they came from elsewhere."""
    referer = urlsplit(request.headers.get("referer") or "")
    return referer if referer.netloc == request.url.netloc else None


def absolute_url(request: Request, path: str) -> str:
    base = kroi(request).settings.public_url or str(request.base_url).rstrip("/")
    return base.rstrip("/") + path


def with_language(url: str, lang: str) -> str:
    """The URL in a language: English carries ?lang=en (a shared link stays English), Finnish none."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    if lang == "en":
        query.append(("lang", "en"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def alternates(request: Request, canonical: str | None) -> list[tuple[str, str]]:
    """hreflang alternates of this page: the Finnish address (also x-default) and the English one."""
    base = canonical or absolute_url(request, request.url.path)
    finnish = with_language(base, "fi")
    return [("fi", finnish), ("en", with_language(base, "en")), ("x-default", finnish)]


def language_switch(request: Request, lang: str) -> dict[str, str]:
    """The other language and the link that switches to it and comes back to this page."""
    path_query = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    here = with_language(path_query, "fi")  # /lang/{code} puts the language it switches to back in
    other = "en" if lang == "fi" else "fi"
    return {"switch_language_url": f"/lang/{other}?{urlencode({'next': here})}", "other_language": other}


def page_context(request: Request, lang: str, site: SiteSettings, **values: Any) -> dict[str, Any]:
    """Context for a whole page: the layout needs the dealer's details and the language switch."""
    if values.get("canonical"):
        values["canonical"] = with_language(values["canonical"], lang)
    values.setdefault("alternates", alternates(request, values.get("canonical")))
    return kroi(request).templates.context(
        lang,
        site=site,
        current_path=request.url.path,
        **language_switch(request, lang),
        url_for=request.app.route_reverse,
        csrf_token=csrf_token(request),
        **values,
    )
