"""Admin page of undeliverable e-mail (the outbox's dead letters): what failed and why, and sending it again."""
from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import audit
from kroi.admin.controllers import render
from kroi.admin.guards import staff_guard
from kroi.leads.controllers import client_ip
from kroi.mail.outbox import OutboxRepository
from kroi.parsing import parse_int


@get("/", name="admin:mail", opt={"role": "viewer"})
async def dead_mail(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    repo = OutboxRepository(db_session)
    retried = parse_int(request.query_params.get("retried"))
    return render(request, "admin/mail.html", dead=await repo.dead(), counts=await repo.counts(), retried=retried)


@post("/retry", name="admin:mail_retry", opt={"role": "sales"}, status_code=200)
async def retry_dead_mail(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    """Queue every dead message again (e.g. after the SMTP settings were fixed); the worker sends them."""
    repo = OutboxRepository(db_session)
    ids = [m.id for m in await repo.dead(limit=10_000)]
    if ids:
        audit.record(db_session, actor_id=request.state.user.id, action="retry", entity_type="outbox",
                     entity_id=None, after={"messages": ids}, ip=client_ip(request))
    count = await repo.retry_dead()  # commits the audit entry with it
    return Redirect(f"/admin/mail?retried={count}", status_code=303)


ROUTER = Router(path="/admin/mail", guards=[staff_guard], route_handlers=[dead_mail, retry_dead_mail])
