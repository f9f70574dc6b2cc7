"""Saved-search pages: the subscribe form (/alerts/new + POST /alerts), confirm link, manage page, unsubscribe."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.alerts.services import AlertService, Links, describe, describe_text, load_vocabulary, normalise, saved_query
from kroi.db.models.alerts import FREQUENCIES
from kroi.inventory.search import parse_query
from kroi.leads.controllers import client_ip
from kroi.leads.schemas import normalize_email
from kroi.parsing import parse_int
from kroi.security import ratelimit, signing
from kroi.system import services as site_settings
from kroi.web import i18n
from kroi.web.context import csrf_token, kroi, language, page_context, posted_fields
from kroi.web.render import html, wants_fragment

log = logging.getLogger("kroi.alerts")
TS_PURPOSE = "alert-form-ts"
FORM_MAX_AGE = 24 * 3600


def _links(request: Request) -> Links:
    k = kroi(request)
    return Links(k.settings.secret(), (k.settings.public_url or str(request.base_url)).rstrip("/"))


def _service(request: Request, session: AsyncSession) -> AlertService:
    return AlertService(session, kroi(request).templates, _links(request))


def _args(request: Request) -> dict[str, list[str]]:
    return {k: request.query_params.getall(k) for k in request.query_params.keys() if k != "lang"}


async def _form_page(request: Request, session: AsyncSession, lang: str, query: str, *, values: dict[str, str],
                     errors: dict[str, str] | None = None, form_error: str | None = None,
                     status: int = 200) -> Response:
    k = kroi(request)
    vocab = await load_vocabulary(session)
    q = saved_query(query)
    ctx = k.templates.context(
        lang, query=query, chips=describe(q, lang, vocab), values=values, errors=errors or {}, form_error=form_error,
        csrf_token=csrf_token(request), ts=signing.sign(k.settings.secret(), TS_PURPOSE, query),
        cars_url=q.url("/cars"), frequencies=FREQUENCIES)
    form = k.templates.page("alerts/_form.html", ctx)
    if wants_fragment(request):
        return html(form, status_code=status, cache_control="no-store")
    site = await site_settings.load(session, k.cache)
    page = page_context(request, lang, site, form_html=Markup(form), chips=ctx["chips"])
    return html(k.templates.page("alerts/new.html", page), status_code=status, cache_control="no-store")


async def _message(request: Request, session: AsyncSession, lang: str, text: str, status: int = 200,
                   body_html: str | None = None) -> Response:
    k = kroi(request)
    if wants_fragment(request):
        return html(k.templates.page("alerts/_status.html", k.templates.context(lang, text=text)),
                    status_code=status, cache_control="no-store")
    site = await site_settings.load(session, k.cache)
    ctx = page_context(request, lang, site, title_key="alerts.title", page_class="alerts-page", text=text,
                       body_html=Markup(body_html) if body_html else None)
    return html(k.templates.page("system/_status_page.html", ctx), status_code=status, cache_control="no-store")


@get("/alerts/new", name="alerts:new")
async def new_alert(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    lang = language(request)
    query, _ = parse_query(_args(request))
    return await _form_page(request, db_session, lang, normalise(query), values={"frequency": "immediate"})


@post("/alerts", name="alerts:create", status_code=200)
async def create_alert(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    data, lang = await posted_fields(request)
    # The search travels signed with the form's timestamp: what was shown is what is saved.
    signed = signing.unsign(k.settings.secret(), TS_PURPOSE, data.get("ts", ""), max_age=FORM_MAX_AGE)
    query = signed[0] if signed and isinstance(signed[0], str) else normalise(parse_query({})[0])
    if data.get("website"):  # the honeypot: a success-looking answer, nothing stored
        log.info("alert honeypot filled from %s: dropped", client_ip(request))
        return _sent(request, lang)

    def again(status: int, errors: dict[str, str] | None = None, form_error: str | None = None) -> Any:
        return _form_page(request, db_session, lang, query, values=data, errors=errors, form_error=form_error,
                          status=status)

    if signed is None:
        return await again(422, form_error=i18n.translate(lang, "form.error.expired"))
    if datetime.now().timestamp() - signed[1] < k.settings.form_min_seconds:
        return await again(422, form_error=i18n.translate(lang, "form.error.too_fast"))
    errors: dict[str, str] = {}
    email, problem = normalize_email(data.get("email", ""))
    if problem:
        errors["email"] = i18n.translate(lang, problem)
    frequency = data.get("frequency", "")
    if frequency not in FREQUENCIES:
        errors["frequency"] = i18n.translate(lang, "alerts.error.frequency")
    if data.get("consent") != "on":
        errors["consent"] = i18n.translate(lang, "alerts.error.consent")
    if errors:
        return await again(422, errors, i18n.translate(lang, "form.error.summary"))
    s = k.settings
    if not (await ratelimit.hit(k.safe_redis, "alert-ip", client_ip(request), s.rate_limit_ip, s.rate_limit_window)
            and await ratelimit.hit(k.safe_redis, "alert-email", email, s.rate_limit_email, s.rate_limit_window)):
        minutes = max(1, s.rate_limit_window // 60)
        return await again(429, form_error=i18n.translate(lang, "form.error.rate_limited", minutes=minutes))
    await _service(request, db_session).subscribe(email, query, frequency, lang,
                                                  i18n.translate(lang, "alerts.consent"))
    return _sent(request, lang)


def _sent(request: Request, lang: str) -> Response:
    # The same answer whatever the address's state, so strangers learn nothing about who has alerts.
    return Redirect(f"/alerts/sent?lang={lang}", status_code=303)


@get("/alerts/sent", name="alerts:sent")
async def sent(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    lang = language(request)
    return await _message(request, db_session, lang, i18n.translate(lang, "alerts.check_inbox"))


@get("/alerts/confirm", name="alerts:confirm")
async def confirm(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    lang = language(request)
    state = await _service(request, db_session).confirm(request.query_params.get("token") or "")
    key = {"confirmed": "alerts.confirmed", "already": "alerts.already"}.get(state, "alerts.bad_link")
    return await _message(request, db_session, lang, i18n.translate(lang, key), 400 if state == "invalid" else 200)


@get("/alerts/manage", name="alerts:manage")
async def manage(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    lang = language(request)
    token = request.query_params.get("token") or ""
    svc = _service(request, db_session)
    email = svc.address(token)
    if email is None:
        return await _message(request, db_session, lang, i18n.translate(lang, "alerts.bad_link"), 400)
    vocab = await load_vocabulary(db_session)
    searches = [{"id": s.id, "frequency": s.frequency, "text": describe_text(saved_query(s.query), lang, vocab),
                 "url": saved_query(s.query).url("/cars")} for s in await svc.searches(email)]
    site = await site_settings.load(db_session, k.cache)
    done = request.query_params.get("done")
    ctx = page_context(request, lang, site, email=email, token=token, searches=searches, frequencies=FREQUENCIES,
                       done=i18n.translate(lang, f"alerts.done.{done}") if done in ("deleted", "saved") else None)
    return html(k.templates.page("alerts/manage.html", ctx), cache_control="no-store")


@post("/alerts/manage", name="alerts:manage_change", status_code=200)
async def manage_change(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    """Delete one search, delete all, or change one's frequency; back to the manage page (303)."""
    form = await request.form()
    lang = language(request, str(form.get("lang") or ""))
    token = str(form.get("token") or "")
    svc = _service(request, db_session)
    email = svc.address(token)
    if email is None:
        return await _message(request, db_session, lang, i18n.translate(lang, "alerts.bad_link"), 400)
    action = str(form.get("action") or "")
    sid = parse_int(str(form.get("id") or ""), 1)
    frequency = str(form.get("frequency") or "")
    if action == "delete_all":
        await svc.delete(email)
        done = "deleted"
    elif action == "delete" and sid is not None:
        await svc.delete(email, sid)
        done = "deleted"
    elif action == "frequency" and sid is not None and frequency in FREQUENCIES:
        await svc.set_frequency(email, sid, frequency)
        done = "saved"
    else:
        return await _message(request, db_session, lang, i18n.translate(lang, "alerts.bad_request"), 400)
    return Redirect(f"/alerts/manage?{urlencode({'token': token, 'lang': lang, 'done': done})}", status_code=303)


@get("/alerts/unsubscribe", name="alerts:unsubscribe_page")
async def unsubscribe_page(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    lang = language(request)
    form = k.templates.page("alerts/_unsubscribe_form.html", k.templates.context(
        lang, token=request.query_params.get("token") or "", csrf_token=csrf_token(request)))
    return await _message(request, db_session, lang, i18n.translate(lang, "alerts.unsubscribe_title"),
                          body_html=form)


@post("/alerts/unsubscribe", name="alerts:unsubscribe", status_code=200)
async def unsubscribe(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    form = await request.form()
    lang = language(request, str(form.get("lang") or ""))
    ok = await _service(request, db_session).unsubscribe(str(form.get("token") or ""))
    return await _message(request, db_session, lang,
                          i18n.translate(lang, "alerts.unsubscribed" if ok else "alerts.bad_link"), 200 if ok else 400)


@post("/alerts/unsubscribe/one-click", name="alerts:one_click", status_code=200)
async def one_click(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    """RFC 8058: mail clients POST here without a CSRF token; the signed token is the authority."""
    ok = await _service(request, db_session).unsubscribe(request.query_params.get("token") or "")
    return Response("unsubscribed" if ok else "invalid token", status_code=200 if ok else 400,
                    media_type="text/plain")


ROUTES = [new_alert, create_alert, sent, confirm, manage, manage_change, unsubscribe_page, unsubscribe, one_click]
