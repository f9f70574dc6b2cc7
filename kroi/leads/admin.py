"""Admin pages for leads: pipeline list and board, lead page with timeline, notes, assignment, status; exports."""
from __future__ import annotations

import csv
import io
from math import ceil
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.admin.controllers import render
from kroi.admin.guards import staff_guard
from kroi.db.models import Car
from kroi.db.models.leads import LEAD_STATUSES, LEAD_TYPES, PRIORITIES
from kroi.leads import adf
from kroi.leads.controllers import client_ip
from kroi.leads.notifications import adf_lead
from kroi.leads.pipeline import LOST_REASONS, NEXT, LeadFilters, LeadPipeline, PipelineError
from kroi.parsing import parse_int
from kroi.system import services as site_settings
from kroi.web import i18n
from kroi.web.context import kroi, language
from kroi.web.render import wants_fragment

PAGE = 50
VIEW, EDIT = {"role": "viewer"}, {"role": "sales"}


async def _response_hours(request: Request, session: AsyncSession) -> float:
    site = await site_settings.load(session, kroi(request).cache)
    return float(site.leads.get("response_target_hours", 4))


@get("/", name="admin:leads", opt=VIEW)
async def list_leads(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    f = LeadFilters.parse(request.query_params)
    pipeline = LeadPipeline(db_session)
    hours = await _response_hours(request, db_session)
    page = parse_int(request.query_params.get("page"), 1, 10_000) or 1
    board = request.query_params.get("view") == "board"
    ctx = {"filters": f, "staff": await pipeline.staff(), "statuses": LEAD_STATUSES, "types": LEAD_TYPES,
           "priorities": PRIORITIES, "board": board, "response_hours": hours, "query": urlencode(f.params())}
    if board:
        ctx["columns"] = await pipeline.board(f, hours)
    else:
        rows, total = await pipeline.page(f, hours, PAGE, (page - 1) * PAGE)
        ctx |= {"rows": rows, "total": total, "page": page, "pages": max(1, ceil(total / PAGE)),
                "names": await pipeline.names(lead.assignee_id for lead in rows)}
    ctx["overdue_ids"] = await _overdue_ids(pipeline, ctx, hours)
    template = "admin/leads/_results.html" if wants_fragment(request) else "admin/leads/list.html"
    return render(request, template, **ctx)


async def _overdue_ids(pipeline: LeadPipeline, ctx: dict, hours: float) -> set[int]:
    leads = ctx.get("rows") or [lead for col in ctx.get("columns", {}).values() for lead in col]
    ids = {lead.id for lead in leads}
    if not ids:
        return set()
    overdue = await pipeline.all(LeadFilters(overdue=True), hours, limit=10_000)
    return {lead.id for lead in overdue} & ids


@get("/{lead_id:int}", name="admin:lead", opt=VIEW)
async def show_lead(request: Request, db_session: NamedDependency[AsyncSession], lead_id: FromPath[int]) -> Response:
    return await _lead_page(request, db_session, lead_id)


async def _lead_page(request: Request, session: AsyncSession, lead_id: int, error: str | None = None,
                     status_code: int = 200) -> Response:
    pipeline = LeadPipeline(session)
    lead = await pipeline.get(lead_id)
    if lead is None:
        raise NotFoundException()
    hours = await _response_hours(request, session)
    overdue = lead.id in {x.id for x in await pipeline.all(LeadFilters(overdue=True), hours, limit=10_000)}
    ctx = {"lead": lead, "car": await pipeline.car(lead.car_id), "timeline": await pipeline.timeline(lead_id),
           "staff": await pipeline.staff(), "next_statuses": NEXT[lead.status], "lost_reasons": LOST_REASONS,
           "error": error, "overdue": overdue}
    template = "admin/leads/_lead.html" if wants_fragment(request) else "admin/leads/lead.html"
    return render(request, template, status_code=status_code, **ctx)


async def _act(request: Request, session: AsyncSession, lead_id: int, action) -> Response:  # noqa: ANN001
    try:
        await action(LeadPipeline(session), request.state.user.id, client_ip(request))
    except LookupError:
        raise NotFoundException() from None
    except PipelineError as exc:
        await session.rollback()
        return await _lead_page(request, session, lead_id, i18n.translate(language(request), exc.key), 422)
    if wants_fragment(request):
        return await _lead_page(request, session, lead_id)
    return Redirect(f"/admin/leads/{lead_id}", status_code=303)


@post("/{lead_id:int}/status", name="admin:lead_status", opt=EDIT, status_code=200)
async def change_status(request: Request, db_session: NamedDependency[AsyncSession],
                        lead_id: FromPath[int]) -> Response:
    form = await request.form()
    status, reason = str(form.get("status") or ""), str(form.get("lost_reason") or "") or None
    return await _act(request, db_session, lead_id, lambda p, actor, ip: p.change_status(
        lead_id, status, reason, actor_id=actor, ip=ip))


@post("/{lead_id:int}/assign", name="admin:lead_assign", opt=EDIT, status_code=200)
async def assign(request: Request, db_session: NamedDependency[AsyncSession], lead_id: FromPath[int]) -> Response:
    form = await request.form()
    raw = str(form.get("assignee") or "").strip()
    assignee = parse_int(raw, 1) if raw else None  # empty: unassign
    if raw and assignee is None:
        return await _lead_page(request, db_session, lead_id, i18n.translate(language(request),
                                                                             "admin.leads.error.assignee"), 422)
    return await _act(request, db_session, lead_id, lambda p, actor, ip: p.assign(
        lead_id, assignee, actor_id=actor, ip=ip))


@post("/{lead_id:int}/notes", name="admin:lead_note", opt=EDIT, status_code=200)
async def add_note(request: Request, db_session: NamedDependency[AsyncSession], lead_id: FromPath[int]) -> Response:
    form = await request.form()
    body = str(form.get("body") or "")
    return await _act(request, db_session, lead_id, lambda p, actor, ip: p.add_note(
        lead_id, body, actor_id=actor, ip=ip))


def _csv_safe(value: object) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is shown as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@get("/export.csv", name="admin:leads_csv", opt=VIEW)
async def export_csv(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    f = LeadFilters.parse(request.query_params)
    leads = await LeadPipeline(db_session).all(f, await _response_hours(request, db_session))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(["id", "created_at", "type", "status", "priority", "score", "name", "email", "phone", "car_id",
                     "car_price_eur", "assignee_id", "source_page", "utm_source", "utm_medium", "utm_campaign",
                     "message"])
    for lead in leads:
        writer.writerow([_csv_safe(v) for v in (
            lead.id, lead.created_at.isoformat(timespec="seconds"), lead.type, lead.status, lead.priority,
            lead.score, lead.name, lead.email, lead.phone, lead.car_id,
            f"{lead.car_price_cents / 100:.2f}" if lead.car_price_cents is not None else "", lead.assignee_id,
            lead.source_page, lead.utm_source, lead.utm_medium, lead.utm_campaign, lead.message)])
    # Litestar adds "; charset=utf-8" to a text/* media type itself.
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="leads.csv"', "Cache-Control": "no-store"})


async def _adf_response(request: Request, session: AsyncSession, leads: list, filename: str) -> Response:
    site = await site_settings.load(session, kroi(request).cache)
    car_ids = {lead.car_id for lead in leads if lead.car_id}
    cars = {c.id: c for c in (await session.scalars(select(Car).where(Car.id.in_(car_ids)))).all()} if car_ids else {}
    body = adf.document([adf_lead(lead, cars.get(lead.car_id), site) for lead in leads])
    return Response(body, media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@get("/export.adf.xml", name="admin:leads_adf", opt=VIEW)
async def export_adf(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    f = LeadFilters.parse(request.query_params)
    leads = await LeadPipeline(db_session).all(f, await _response_hours(request, db_session), limit=5000)
    return await _adf_response(request, db_session, leads, "leads.adf.xml")


@get("/{lead_id:int}/adf.xml", name="admin:lead_adf", opt=VIEW)
async def lead_adf(request: Request, db_session: NamedDependency[AsyncSession], lead_id: FromPath[int]) -> Response:
    lead = await LeadPipeline(db_session).get(lead_id)
    if lead is None:
        raise NotFoundException()
    return await _adf_response(request, db_session, [lead], f"lead-{lead_id}.adf.xml")


ROUTER = Router(path="/admin/leads", guards=[staff_guard], route_handlers=[
    list_leads, show_lead, change_status, assign, add_note, export_csv, export_adf, lead_adf])
