"""Visitor forms: /contact, the inquiry form on car pages, POST /leads (HTMX or plain), field validation."""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import Car, Lead
from kroi.leads.schemas import FIELDS, FORM_TYPES, REQUIRED, TERM_STEP_MONTHS, FormContext, time_slots, validate
from kroi.leads.services import CarUnavailable, LeadService, Submission
from kroi.parsing import clean_text, ip_address, parse_date, parse_int
from kroi.security import ratelimit, signing
from kroi.system import services as site_settings
from kroi.system.services import SiteSettings
from kroi.web import i18n
from kroi.web.context import csrf_token, kroi, language, page_context, posted_fields, same_site_referer
from kroi.web.errors import is_bad_data
from kroi.web.render import html, wants_fragment

log = logging.getLogger("kroi.leads")
TZ = ZoneInfo("Europe/Helsinki")
FORM_MAX_AGE = 24 * 3600
TS_PURPOSE = "form-ts"
DONE_PURPOSE = "lead-done"
UTM = ("utm_source", "utm_medium", "utm_campaign")
# Any database failure, including a pool checkout timeout (sqlalchemy.exc.TimeoutError) when every connection
# is busy, and socket errors: the visitor gets "try again" with the input kept, never a 500.
DB_UNAVAILABLE = (SQLAlchemyError, OSError)


@dataclass(frozen=True)
class CarRef:
    """The few car fields a lead form shows: a plain copy, so a form re-rendered after a failed transaction (whose
    rollback expires the session's objects) never reaches for the database."""

    id: int
    title: str
    price_cents: int

    @classmethod
    def of(cls, car: Car | None) -> CarRef | None:
        return cls(car.id, car.title, car.price_cents) if car is not None else None


def _now() -> datetime:
    return datetime.now(TZ)


def form_context(request: Request, lang: str, site: SiteSettings, form_type: str, car: CarRef | None, *,
                 values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 form_error: str | None = None, fid: str | None = None,
                 meta: dict[str, str] | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
    """Everything the form partial needs; a fresh idempotency key and timestamp unless re-rendering."""
    k = kroi(request)
    values = values or {}
    errors = errors or {}
    today = _now().date()
    slots, slots_note = _slots_for(site, parse_date(values.get("preferred_date")))
    order = [f for f in (*FIELDS.get(form_type, ()), "consent") if f in errors]
    if meta is None:
        meta = {"source_page": request.url.path, "referrer": (request.headers.get("referer") or "")[:500]}
        meta |= _campaign_tags(request)
        if search_url(request.query_params.get("search")):
            meta["search_url"] = request.query_params["search"]
    return k.templates.context(
        lang, form_type=form_type, car=car, values=values, errors=errors, form_error=form_error,
        first_error=order[0] if order else None, fid=fid or form_type, csrf_token=csrf_token(request),
        idempotency_key=idempotency_key or secrets.token_hex(16),
        ts=signing.sign(k.settings.secret(), TS_PURPOSE, form_type), meta=meta, required=REQUIRED[form_type],
        today=today.isoformat(), last_day=(today + timedelta(days=60)).isoformat(),
        slots=slots, slots_note=slots_note, max_months=int(
            site.financing.get("max_months", 84)), default_months=int(site.financing.get("months", 60)),
        response_hours=site.leads.get("response_target_hours", 4),
    )


def _campaign_tags(request: Request) -> dict[str, str]:
    """utm_* of the form page, or else of the page of this site the visitor came from (a campaign's landing
    page one click before the form). No cookie: attribution that outlives the visit would need consent."""
    tags = {u: (request.query_params.get(u) or "")[:100] for u in UTM}
    referer = same_site_referer(request)
    if referer and not any(tags.values()):
        came_from = parse_qs(referer.query)
        tags = {u: (came_from.get(u) or [""])[0][:100] for u in UTM}
    return tags


def _slots_for(site: SiteSettings, day: date | None) -> tuple[list[str], str | None]:
    """The time-slot options for the chosen day (hours already begun today left out), and the message key
    that says why there are none. Without a day: today's remaining hours, else every hour any day is open."""
    now = _now()
    if day is None:
        return time_slots(site.opening_hours, now.date(), now) or _all_slots(site), None
    options = time_slots(site.opening_hours, day, now)
    if options:
        return options, None
    return [], "form.no_times_left" if time_slots(site.opening_hours, day) else "form.closed_day"


def _all_slots(site: SiteSettings) -> list[str]:
    """Every hour any day is open (for a form without a chosen day); the day's own hours are checked on send."""
    slots: set[str] = set()
    start = _now().date()
    for offset in range(7):
        slots.update(time_slots(site.opening_hours, start + timedelta(days=offset)))
    return sorted(slots)


def render_form(request: Request, ctx: dict[str, Any]) -> str:
    return kroi(request).templates.page("leads/_form.html", ctx)


@get("/contact", name="leads:contact")
async def contact_page(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    lang = language(request)
    site = await site_settings.load(db_session, k.cache)
    form_type = request.query_params.get("type") or "contact"
    if form_type not in FORM_TYPES or form_type == "inquiry":
        form_type = "contact"
    car = None
    car_id = parse_int(request.query_params.get("car"), 1)
    if car_id is not None:
        car = CarRef.of(await _service(request, db_session, site).find_car(car_id))
    confirmation = None
    done = request.query_params.get("done")
    if done:
        data = signing.unsign(k.settings.secret(), DONE_PURPOSE, done, max_age=3600)
        if data:
            confirmation = Markup(k.templates.page("leads/_confirmation.html", k.templates.context(
                lang, fid=form_type, lead_id=data[0]["id"], email=data[0]["email"],
                response_hours=site.leads.get("response_target_hours", 4))))
    values = _prefill(request, form_type, int(site.financing.get("max_months", 84)))
    values |= await _search_prefill(request, db_session, lang, form_type)
    ctx = page_context(request, lang, site, form_type=form_type, car=car, confirmation_html=confirmation,
                       form_html=Markup(render_form(request, form_context(request, lang, site, form_type, car,
                                                                          values=values))))
    return html(k.templates.page("leads/contact.html", ctx), cache_control="no-store")


PREFILL = {"financing": ("down_payment", "term_months")}  # the car page's calculator links with its values


def _prefill(request: Request, form_type: str, max_months: int) -> dict[str, str]:
    """Initial values from the link that opened the form (whole numbers; a term the form offers); the values
    are validated again on send."""
    values = {}
    for name in PREFILL.get(form_type, ()):
        number = parse_int(request.query_params.get(name))
        if name == "term_months" and number is not None and (number % TERM_STEP_MONTHS or not 0 < number <= max_months):
            number = None
        if number is not None:
            values[name] = str(number)
    return values


SEARCH_URL_MAX = 500


def search_url(raw: str | None) -> str | None:
    """A /cars search URL carried by an "Etsi minulle auto" link, or None: only a relative /cars address."""
    if not raw or len(raw) > SEARCH_URL_MAX or any(c in raw for c in "\\\r\n\t\0") or raw.startswith("//"):
        return None
    path, _, _ = raw.partition("?")
    return raw if path == "/cars" else None


async def _search_prefill(request: Request, session: AsyncSession, lang: str, form_type: str) -> dict[str, str]:
    """ "Etsi minulle auto" from a search without results: the message says in words what the shopper searched."""
    url = search_url(request.query_params.get("search"))
    if form_type != "contact" or url is None:
        return {}
    from kroi.cache import keys
    from kroi.inventory.services import InventoryService

    k = kroi(request)
    gens = await k.cache.generations([keys.INVENTORY])
    what = await InventoryService.of(k, session).describe_search(url, lang, gens[keys.INVENTORY] if gens else None)
    return {"message": i18n.translate(lang, "search.lead_message", what=what or url)}


def _service(request: Request, session: AsyncSession, site: SiteSettings) -> LeadService:
    k = kroi(request)
    return LeadService(session, k.templates, site, k.settings.public_url or str(request.base_url).rstrip("/"),
                       k.settings.idempotency_window)


def client_ip(request: Request) -> str:
    """The client's address (from X-Forwarded-For behind a trusted proxy), "unknown" when it is not one."""
    return ip_address(request.client.host if request.client else None) or "unknown"


@post("/leads", name="leads:create", status_code=200)
async def create_lead(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    data, lang = await posted_fields(request)
    form_type = data.get("form_type", "")
    if form_type not in FORM_TYPES:
        return html(i18n.translate(lang, "form.error.unknown_form"), status_code=400)
    fid = _safe_id(data.get("form_id")) or form_type
    fragment = wants_fragment(request)
    meta = {name: _hidden(name, data.get(name, "")) for name in ("source_page", "referrer", *UTM)}
    meta["search_url"] = search_url(data.get("search_url")) or ""
    try:
        site = await site_settings.load(db_session, k.cache)
        svc = _service(request, db_session, site)
        car_id = parse_int(data.get("car_id"), 1)
        car = CarRef.of(await svc.find_car(car_id) if car_id else None)
    except DB_UNAVAILABLE as exc:
        log.error("database unavailable while receiving a lead: %s", exc)
        return _answer_unavailable(request, lang, data, fid, form_type, meta, fragment)

    def again(status: int, errors: dict[str, str] | None = None, form_error: str | None = None) -> Response:
        ctx = form_context(request, lang, site, form_type, car, values=data, errors=errors, form_error=form_error,
                           fid=fid, meta=meta, idempotency_key=_safe_key(data.get("idempotency_key")))
        body = render_form(request, ctx)
        if not fragment:
            page = page_context(request, lang, site, form_type=form_type, car=car, confirmation_html=None,
                                form_html=Markup(body))
            body = k.templates.page("leads/contact.html", page)
        return html(body, status_code=status, cache_control="no-store")

    def done(lead_id: int, email: str) -> Response:
        if fragment:
            body = k.templates.page("leads/_confirmation.html", k.templates.context(
                lang, fid=fid, lead_id=lead_id, email=email,
                response_hours=site.leads.get("response_target_hours", 4)))
            return html(body, cache_control="no-store")
        token = signing.sign(k.settings.secret(), DONE_PURPOSE, {"id": lead_id, "email": email})
        target = f"/contact?type={form_type if form_type != 'inquiry' else 'contact'}&done={token}"
        # English stays in the address (shareable); a ?lang= that differs from the cookie must be carried over.
        if lang == "en" or lang != language(request):
            target += f"&lang={lang}"
        return Redirect(target, status_code=303)

    # Bots: a filled honeypot gets a success-looking answer and nothing is stored.
    if data.get("website"):
        log.info("honeypot filled from %s: lead dropped", client_ip(request))
        # A made-up reference that looks like a real one, so the answer does not give the trap away.
        return done(1000 + int(hashlib.sha256(data.get("ts", "").encode()).hexdigest(), 16) % 90000,
                    data.get("email", ""))
    signed = signing.unsign(k.settings.secret(), TS_PURPOSE, data.get("ts", ""), max_age=FORM_MAX_AGE)
    if signed is None or signed[0] != form_type:
        return again(422, form_error=i18n.translate(lang, "form.error.expired"))
    if datetime.now().timestamp() - signed[1] < k.settings.form_min_seconds:
        return again(422, form_error=i18n.translate(lang, "form.error.too_fast"))

    ctx = FormContext(now=_now(), opening_hours=site.opening_hours, max_months=int(site.financing.get("max_months", 84)),
                      car_price_cents=car.price_cents if car else None)
    clean, errors = validate(form_type, data, ctx)
    if car_id and car is None:
        return again(422, errors, i18n.translate(lang, "form.error.car_unavailable"))
    if clean is None:
        return again(422, errors)

    s = k.settings
    minutes = max(1, s.rate_limit_window // 60)
    token = _safe_key(data.get("idempotency_key"))  # the same form sent again is not another message
    if not (await ratelimit.hit(k.safe_redis, "lead-ip", client_ip(request), s.rate_limit_ip, s.rate_limit_window,
                                token)
            and await ratelimit.hit(k.safe_redis, "lead-email", clean.email, s.rate_limit_email,
                                    s.rate_limit_window, token)):
        return again(429, form_error=i18n.translate(lang, "form.error.rate_limited", minutes=minutes))

    sub = Submission(
        idempotency_key=_safe_key(data.get("idempotency_key")), language=lang,
        consent_text=i18n.translate(lang, "form.consent"), client_ip=client_ip(request),
        source_page=meta["source_page"], referrer=meta["referrer"], utm={u: meta[u] for u in UTM if meta[u]},
    )
    if meta["search_url"]:
        clean.details["search_url"] = meta["search_url"]  # staff see the search the shopper came from
    try:
        result = await svc.submit(clean, car.id if car else None, sub)
    except CarUnavailable:
        return again(422, errors, i18n.translate(lang, "form.error.car_unavailable"))
    except DB_UNAVAILABLE as exc:
        if is_bad_data(exc):  # a value PostgreSQL refused: the visitor's input, kept; not an outage
            log.warning("lead refused by the database as bad input: %s", exc)
            return again(400, form_error=i18n.translate(lang, "form.error.request_failed"))
        log.error("lead not saved, database unavailable: %s", exc)
        return again(503, form_error=i18n.translate(lang, "form.error.unavailable", phone=site.dealer["phone"]))
    log.info("lead %s %s (score %s)", result.lead_id, "created" if result.created else "repeated", result.score)
    return done(result.lead_id, clean.email)


def _answer_unavailable(request: Request, lang: str, data: dict[str, str], fid: str, form_type: str,
                        meta: dict[str, str], fragment: bool) -> Response:
    """The database is away: keep everything the visitor typed and say so (settings from defaults)."""
    site = site_settings.merge({})
    ctx = form_context(request, lang, site, form_type, None, values=data, fid=fid, meta=meta,
                       form_error=i18n.translate(lang, "form.error.unavailable", phone=site.dealer["phone"]),
                       idempotency_key=_safe_key(data.get("idempotency_key")))
    if parse_int(data.get("car_id"), 1) is not None:
        ctx["car_id_kept"] = data["car_id"]
    body = render_form(request, ctx)
    if not fragment:
        k = kroi(request)
        body = k.templates.page("leads/contact.html", page_context(
            request, lang, site, form_type=form_type, car=None, confirmation_html=None, form_html=Markup(body)))
    return html(body, status_code=503, cache_control="no-store")


def _hidden(name: str, raw: str) -> str:
    """A hidden field (source_page, referrer, utm_*) as its column can keep it: a client can send any text, so
    control characters are dropped and the rest cut to the column's length (not refused: it is only metadata)."""
    return clean_text(raw)[:Lead.__table__.c[name].type.length]


def _safe_id(value: str | None) -> str | None:
    return value if value and len(value) <= 40 and value.replace("-", "").isalnum() else None


def _safe_key(value: str | None) -> str | None:
    return value if value and 16 <= len(value) <= 64 and value.isalnum() else None


@post("/leads/validate", name="leads:validate", status_code=200)
async def validate_field(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    """One field's error element, for validation when the field loses focus."""
    k = kroi(request)
    data, lang = await posted_fields(request)
    form_type, name = data.get("form_type", ""), data.get("field", "")
    if form_type not in FORM_TYPES or name not in (*FIELDS[form_type], "consent"):
        return html("", status_code=400)
    site = await site_settings.load(db_session, k.cache)
    ctx = FormContext(now=_now(), opening_hours=site.opening_hours,
                      max_months=int(site.financing.get("max_months", 84)))
    _, errors = validate(form_type, data, ctx)
    if name in REQUIRED[form_type] and not data.get(name):
        errors.pop(name, None)  # do not scold an untouched empty field on blur; submit will
    body = k.templates.page("leads/_field_error.html", k.templates.context(
        lang, fid=_safe_id(data.get("form_id")) or form_type, name=name, errors={name: errors[name]} if name in errors else {},
        max_months=ctx.max_months))
    return html(body, cache_control="no-store")


@get("/leads/slots", name="leads:slots")
async def slots(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    """The time-slot select for the chosen test-drive day."""
    k = kroi(request)
    lang = language(request)
    site = await site_settings.load(db_session, k.cache)
    options, note = _slots_for(site, parse_date(request.query_params.get("preferred_date")))
    body = k.templates.page("leads/_slots.html", k.templates.context(
        lang, fid=_safe_id(request.query_params.get("form_id")) or "test-drive", slots=options, slots_note=note,
        values={}, errors={}))
    return html(body, cache_control="no-store")


ROUTES = [contact_page, create_lead, validate_field, slots]
