"""Newsletter pages: subscribe (footer form), confirm link, unsubscribe page and RFC 8058 one-click."""
from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.leads.controllers import client_ip
from kroi.web.context import csrf_token
from kroi.leads.schemas import EMAIL_RE
from kroi.newsletter.services import NewsletterService
from kroi.security import ratelimit
from kroi.system import services as site_settings
from kroi.web import i18n
from kroi.web.context import kroi, language, page_context, posted_fields
from kroi.web.render import html, wants_fragment


def _service(request: Request, session: AsyncSession) -> NewsletterService:
    k = kroi(request)
    return NewsletterService(session, k.templates, k.settings.secret(),
                             k.settings.public_url or str(request.base_url).rstrip("/"))


async def _message_page(request: Request, session: AsyncSession, text: str, status: int = 200,
                        form_html: str | None = None) -> Response:
    k = kroi(request)
    lang = language(request)
    if wants_fragment(request):
        return html(k.templates.page("newsletter/_status.html", k.templates.context(lang, text=text)),
                    status_code=status)
    site = await site_settings.load(session, k.cache)
    ctx = page_context(request, lang, site, title_key="news.title", text=text,
                       body_html=Markup(form_html) if form_html else None)
    return html(k.templates.page("system/_status_page.html", ctx), status_code=status, cache_control="no-store")


@post("/newsletter", name="newsletter:subscribe", status_code=200)
async def subscribe(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    data, lang = await posted_fields(request)
    email = data.get("email", "").strip().lower()
    if not email or len(email) > 254 or not EMAIL_RE.match(email):
        return await _message_page(request, db_session, i18n.translate(lang, "form.error.email"), 422)
    s = k.settings
    if not (await ratelimit.hit(k.safe_redis, "news-ip", client_ip(request), s.rate_limit_ip, s.rate_limit_window)
            and await ratelimit.hit(k.safe_redis, "news-email", email, 3, s.rate_limit_window)):
        minutes = max(1, s.rate_limit_window // 60)
        return await _message_page(request, db_session,
                                   i18n.translate(lang, "form.error.rate_limited", minutes=minutes), 429)
    await _service(request, db_session).subscribe(email, lang, i18n.translate(lang, "news.consent"))
    # The same answer whatever the address's state, so strangers learn nothing about who is subscribed.
    return await _message_page(request, db_session, i18n.translate(lang, "news.check_inbox"))


@get("/newsletter/confirm", name="newsletter:confirm")
async def confirm(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    lang = language(request)
    state = await _service(request, db_session).confirm(request.query_params.get("token") or "")
    key = {"confirmed": "news.confirmed", "already": "news.already"}.get(state, "news.bad_link")
    return await _message_page(request, db_session, i18n.translate(lang, key), 200 if state != "invalid" else 400)


@get("/newsletter/unsubscribe", name="newsletter:unsubscribe_page")
async def unsubscribe_page(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    lang = language(request)
    token = request.query_params.get("token") or ""
    form = k.templates.page("newsletter/_unsubscribe_form.html", k.templates.context(
        lang, token=token, csrf_token=csrf_token(request)))
    return await _message_page(request, db_session, i18n.translate(lang, "news.unsubscribe_title"), form_html=form)


@post("/newsletter/unsubscribe", name="newsletter:unsubscribe", status_code=200)
async def unsubscribe(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    data, lang = await posted_fields(request)
    ok = await _service(request, db_session).unsubscribe(data.get("token", ""))
    return await _message_page(request, db_session,
                               i18n.translate(lang, "news.unsubscribed" if ok else "news.bad_link"),
                               200 if ok else 400)


@post("/newsletter/unsubscribe/one-click", name="newsletter:one_click", status_code=200)
async def one_click(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    """RFC 8058: mail clients POST here without a CSRF token; the signed token is the authority."""
    ok = await _service(request, db_session).unsubscribe(request.query_params.get("token") or "")
    return Response("unsubscribed" if ok else "invalid token", status_code=200 if ok else 400,
                    media_type="text/plain")


ROUTES = [subscribe, confirm, unsubscribe_page, unsubscribe, one_click]
