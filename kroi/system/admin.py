"""Admin pages: dealer settings (admin only; the public pages change at once) and the audit log view."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from math import ceil
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import audit
from kroi.admin.controllers import render
from kroi.admin.guards import staff_guard
from kroi.db.models import AuditLog, User
from kroi.leads.controllers import client_ip
from kroi.leads.schemas import EMAIL_RE, normalize_phone
from kroi.parsing import clean_lines, clean_text, parse_date, parse_int
from kroi.system import services as site_settings
from kroi.system import texts
from kroi.web.context import kroi

ADMIN = {"role": "admin"}
PAGE_TEXT_MAX = 20000
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
NUMBERS = {  # financing and leads fields: (section, name, kind, low, high)
    "rate_pct": ("financing", float, 0, 30), "opening_fee_eur": ("financing", float, 0, 5000),
    "monthly_fee_eur": ("financing", float, 0, 100), "months": ("financing", int, 12, 120),
    "down_payment_pct": ("financing", float, 0, 90), "max_months": ("financing", int, 12, 120),
    "response_target_hours": ("leads", float, 0.5, 168),
}


def _form_values(site: site_settings.SiteSettings) -> dict[str, str]:
    v = {f"dealer_{k}": str(val) for k, val in site.dealer.items()}
    f = site.financing
    v |= {"rate_pct": str(f["rate_pct"]), "opening_fee_eur": f"{f['opening_fee_cents'] / 100:g}",
          "monthly_fee_eur": f"{f['monthly_fee_cents'] / 100:g}", "months": str(f["months"]),
          "down_payment_pct": str(f["down_payment_pct"]), "max_months": str(f.get("max_months", 84)),
          "response_target_hours": str(site.leads.get("response_target_hours", 4)),
          "notify_email": site.leads.get("notify_email", "")}
    v |= {f"page_{name}": site.page_text(*name.rsplit("_", 1)) for name in texts.PAGES}
    for day in range(7):
        hours = site.opening_hours.get(str(day))
        v[f"open_{day}"], v[f"close_{day}"] = (hours or ["", ""])
        v[f"closed_{day}"] = "" if hours else "on"
    return v


def validate(data: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    errors: dict[str, str] = {}
    dealer = {}
    for key in ("name", "street", "postal_code", "city", "phone", "email", "business_id"):
        value = clean_text(data.get(f"dealer_{key}", ""))[:120]
        if not value:
            errors[f"dealer_{key}"] = "form.error.required"
        dealer[key] = value
    if dealer["email"] and not EMAIL_RE.match(dealer["email"]):
        errors["dealer_email"] = "form.error.email"
    if dealer["phone"] and normalize_phone(dealer["phone"]) is None:
        errors["dealer_phone"] = "form.error.phone"
    if dealer["postal_code"] and not re.fullmatch(r"\d{5}", dealer["postal_code"]):
        errors["dealer_postal_code"] = "admin.settings.error.postal"
    hours: dict[str, Any] = {}
    for day in range(7):
        if data.get(f"closed_{day}") == "on":
            hours[str(day)] = None
            continue
        opens, closes = data.get(f"open_{day}", ""), data.get(f"close_{day}", "")
        if not (TIME_RE.match(opens) and TIME_RE.match(closes)) or opens >= closes:
            errors[f"open_{day}"] = "admin.settings.error.hours"
        hours[str(day)] = [opens, closes]
    numbers: dict[str, float] = {}
    for name, (_, kind, low, high) in NUMBERS.items():
        raw = data.get(name, "").replace(",", ".").strip()
        try:
            number = kind(raw)
        except ValueError:
            errors[name] = "car.error.range"
            continue
        if not low <= number <= high:
            errors[name] = "car.error.range"
        numbers[name] = number
    notify = clean_text(data.get("notify_email", ""))
    if notify and not EMAIL_RE.match(notify):
        errors["notify_email"] = "form.error.email"
    pages = {}
    for name in texts.PAGES:
        value = clean_lines(data.get(f"page_{name}", ""))
        if len(value) > PAGE_TEXT_MAX:
            errors[f"page_{name}"] = "admin.settings.error.too_long"
        # the default text is stored as "", so a later better default still reaches the page
        pages[name] = "" if value == clean_lines(texts.PAGES[name]) else value
    if errors:
        return None, errors
    return {
        "pages": pages,
        "dealer": dealer, "opening_hours": hours,
        "financing": {"rate_pct": numbers["rate_pct"], "opening_fee_cents": round(numbers["opening_fee_eur"] * 100),
                      "monthly_fee_cents": round(numbers["monthly_fee_eur"] * 100), "months": int(numbers["months"]),
                      "down_payment_pct": numbers["down_payment_pct"], "max_months": int(numbers["max_months"])},
        "leads": {"response_target_hours": numbers["response_target_hours"], "notify_email": notify or dealer["email"]},
    }, {}


@get("/settings", name="admin:settings", opt=ADMIN)
async def settings_page(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    site = await site_settings.load(db_session, kroi(request).cache)
    return render(request, "admin/settings.html", values=_form_values(site), errors={},
                  saved=request.query_params.get("saved") == "1")


@post("/settings", name="admin:settings_post", opt=ADMIN, status_code=200)
async def save_settings(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    from litestar.response import Redirect

    form = await request.form()
    data = {k: str(form.get(k) or "") for k in form.keys() if k != "_csrf_token"}
    values, errors = validate(data)
    if values is None:
        return render(request, "admin/settings.html", status_code=422, values=data, errors=errors, saved=False)
    k = kroi(request)
    before = await site_settings.load(db_session, k.cache)
    for key, value in values.items():
        old = getattr(before, key)
        if old != value:
            audit.record(db_session, actor_id=request.state.user.id, action="update", entity_type="setting",
                         entity_id=key, before=old, after=value, ip=client_ip(request))
    await site_settings.save_all(db_session, k.cache, values, request.state.user.id)
    return Redirect("/admin/settings?saved=1", status_code=303)


@get("/audit", name="admin:audit", opt=ADMIN)
async def audit_view(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    p = request.query_params
    conds = []
    actor = parse_int(p.get("actor"))
    if actor is not None:
        conds.append(AuditLog.actor_id == actor)
    for name, column in (("entity", AuditLog.entity_type), ("action", AuditLog.action),
                         ("entity_id", AuditLog.entity_id)):
        value = clean_text(p.get(name) or "")[:40]
        if value:
            conds.append(column == value)
    for name, op in (("from", "ge"), ("to", "lt")):
        day = parse_date(p.get(name))
        if day is None:
            continue
        moment = datetime.combine(day + (timedelta(days=1) if op == "lt" else timedelta()), datetime.min.time(),
                                  timezone.utc)
        conds.append(AuditLog.created_at >= moment if op == "ge" else AuditLog.created_at < moment)
    page = parse_int(p.get("page"), 1, 9999) or 1
    total = int(await db_session.scalar(select(func.count()).select_from(AuditLog).where(*conds)) or 0)
    rows = (await db_session.execute(
        select(AuditLog, User.email).outerjoin(User, User.id == AuditLog.actor_id).where(*conds)
        .order_by(AuditLog.id.desc()).limit(50).offset((page - 1) * 50))).all()
    users = list((await db_session.scalars(select(User).order_by(User.email))).all())
    kinds = [r for (r,) in (await db_session.execute(select(AuditLog.entity_type).distinct())).all()]
    query = {k: p[k] for k in ("actor", "entity", "entity_id", "action", "from", "to") if p.get(k)}
    return render(request, "admin/audit.html", rows=rows, total=total, page=page, pages=max(1, ceil(total / 50)),
                  users=users, kinds=kinds, args=query, query=urlencode(query))


ROUTER = Router(path="/admin", guards=[staff_guard], route_handlers=[settings_page, save_settings, audit_view])
