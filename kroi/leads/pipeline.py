"""Staff work on leads: status workflow, assignment and notes, each logged on the lead's timeline and audited."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import audit
from kroi.db.models import Car, Lead, LeadActivity, LeadNote, User
from kroi.db.models.leads import LEAD_STATUSES, LEAD_TYPES, PRIORITIES
from kroi.parsing import clean_lines, clean_text, parse_date, parse_int

NEXT = {
    "new": ("contacted", "lost"),
    "contacted": ("qualified", "negotiating", "won", "lost"),
    "qualified": ("negotiating", "won", "lost"),
    "negotiating": ("won", "lost"),
    "won": (),
    "lost": ("contacted",),  # reopened
}
LOST_REASONS = ("price", "bought_elsewhere", "financing_declined", "no_response", "car_sold", "not_interested",
                "other")
OPEN = ("new", "contacted", "qualified", "negotiating")


class PipelineError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass
class LeadFilters:
    status: str | None = None
    type: str | None = None
    priority: str | None = None
    assignee: int | None = None  # 0 = unassigned
    car_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    q: str | None = None
    sort: str = "newest"

    @classmethod
    def parse(cls, p: Any) -> "LeadFilters":
        def pick(name: str, allowed: tuple[str, ...]) -> str | None:
            return p.get(name) if p.get(name) in allowed else None

        return cls(status=pick("status", LEAD_STATUSES), type=pick("type", LEAD_TYPES),
                   priority=pick("priority", PRIORITIES), assignee=parse_int(p.get("assignee")),
                   car_id=parse_int(p.get("car")), date_from=parse_date(p.get("from")),
                   date_to=parse_date(p.get("to")), overdue=p.get("overdue") == "1",
                   q=clean_text(p.get("q") or "")[:100] or None,
                   sort=pick("sort", ("newest", "oldest", "score")) or "newest")

    def params(self) -> dict[str, str]:
        out = {"status": self.status, "type": self.type, "priority": self.priority,
               "assignee": None if self.assignee is None else str(self.assignee),
               "car": None if self.car_id is None else str(self.car_id),
               "from": self.date_from.isoformat() if self.date_from else None,
               "to": self.date_to.isoformat() if self.date_to else None, "overdue": "1" if self.overdue else None,
               "q": self.q, "sort": None if self.sort == "newest" else self.sort}
        return {k: v for k, v in out.items() if v}


def overdue_condition(response_hours: float):  # noqa: ANN201
    """New leads nobody has answered within the response target."""
    return (Lead.status == "new") & (Lead.first_response_at.is_(None)) & (
        Lead.created_at < func.now() - timedelta(hours=response_hours))


class LeadPipeline:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _filtered(self, f: LeadFilters, response_hours: float) -> Select:
        stmt = select(Lead)
        if f.status:
            stmt = stmt.where(Lead.status == f.status)
        if f.type:
            stmt = stmt.where(Lead.type == f.type)
        if f.priority:
            stmt = stmt.where(Lead.priority == f.priority)
        if f.assignee == 0:
            stmt = stmt.where(Lead.assignee_id.is_(None))
        elif f.assignee is not None:
            stmt = stmt.where(Lead.assignee_id == f.assignee)
        if f.car_id is not None:
            stmt = stmt.where(Lead.car_id == f.car_id)
        if f.date_from:
            stmt = stmt.where(Lead.created_at >= datetime.combine(f.date_from, datetime.min.time(), timezone.utc))
        if f.date_to:
            stmt = stmt.where(Lead.created_at < datetime.combine(f.date_to + timedelta(days=1), datetime.min.time(),
                                                                 timezone.utc))
        if f.overdue:
            stmt = stmt.where(overdue_condition(response_hours))
        if f.q:
            like = f"%{f.q.replace('%', '').replace('_', '')}%"
            stmt = stmt.where(or_(Lead.name.ilike(like), Lead.email.ilike(like), Lead.phone.ilike(like)))
        order = {"newest": (Lead.created_at.desc(), Lead.id.desc()), "oldest": (Lead.created_at, Lead.id),
                 "score": (Lead.score.desc(), Lead.created_at.desc())}[f.sort]
        return stmt.order_by(*order)

    async def page(self, f: LeadFilters, response_hours: float, limit: int, offset: int) -> tuple[list[Lead], int]:
        stmt = self._filtered(f, response_hours)
        total = int(await self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
        rows = list((await self.session.scalars(stmt.limit(limit).offset(offset))).all())
        return rows, total

    async def all(self, f: LeadFilters, response_hours: float, limit: int = 50_000) -> list[Lead]:
        return list((await self.session.scalars(self._filtered(f, response_hours).limit(limit))).all())

    async def board(self, f: LeadFilters, response_hours: float, per_column: int = 50) -> dict[str, list[Lead]]:
        columns: dict[str, list[Lead]] = {}
        for status in LEAD_STATUSES:
            col = LeadFilters(**{**f.__dict__, "status": status})
            columns[status] = list((await self.session.scalars(
                self._filtered(col, response_hours).limit(per_column))).all())
        return columns

    async def get(self, lead_id: int, *, lock: bool = False) -> Lead | None:
        stmt = select(Lead).where(Lead.id == lead_id)
        return await self.session.scalar(stmt.with_for_update() if lock else stmt)

    async def timeline(self, lead_id: int) -> list[dict[str, Any]]:
        acts = (await self.session.execute(
            select(LeadActivity, User.email).outerjoin(User, User.id == LeadActivity.actor_id)
            .where(LeadActivity.lead_id == lead_id))).all()
        notes = (await self.session.execute(
            select(LeadNote, User.email).outerjoin(User, User.id == LeadNote.author_id)
            .where(LeadNote.lead_id == lead_id))).all()
        # A note appears as itself; its "note_added" activity would only repeat it.
        items = [{"at": a.created_at, "kind": a.kind, "details": a.details, "who": who} for a, who in acts
                 if a.kind != "note_added"]
        # An assignment names its assignee whatever their role is now (staff write "to", round-robin "assignee_id").
        assigned = [i for i in items if i["kind"] == "assigned"]
        for item in assigned:
            item["assignee_id"] = item["details"].get("to", item["details"].get("assignee_id"))
        names = await self.names(item["assignee_id"] for item in assigned)
        for item in assigned:
            item["assignee"] = names.get(item["assignee_id"])
        items += [{"at": n.created_at, "kind": "note", "details": {"body": n.body}, "who": who} for n, who in notes]
        return sorted(items, key=lambda i: i["at"], reverse=True)

    async def staff(self) -> list[User]:
        """Who a lead can be assigned to: active sales staff and admins (what assign() accepts)."""
        return list((await self.session.scalars(
            select(User).where(User.role.in_(("sales", "admin")), User.is_active).order_by(User.email))).all())

    async def names(self, user_ids: Iterable[int | None]) -> dict[int, str]:
        """Display names (full name, else e-mail) of any users, former or demoted staff included."""
        ids = {i for i in user_ids if i is not None}
        if not ids:
            return {}
        rows = (await self.session.execute(select(User.id, User.full_name, User.email).where(User.id.in_(ids)))).all()
        return {uid: full_name or email for uid, full_name, email in rows}

    async def car(self, car_id: int | None) -> Car | None:
        return await self.session.get(Car, car_id) if car_id else None

    async def change_status(self, lead_id: int, status: str, lost_reason: str | None, *, actor_id: int,
                            ip: str | None) -> Lead:
        lead = await self._locked(lead_id)
        if status not in NEXT.get(lead.status, ()):
            raise PipelineError("admin.leads.error.transition")
        if status == "lost" and lost_reason not in LOST_REASONS:
            raise PipelineError("admin.leads.error.reason")
        before = {"status": lead.status, "lost_reason": lead.lost_reason}
        lead.status = status
        lead.lost_reason = lost_reason if status == "lost" else None
        if lead.first_response_at is None and status != "new":
            lead.first_response_at = datetime.now(timezone.utc)
        after = {"status": status, "lost_reason": lead.lost_reason}
        self.session.add(LeadActivity(lead_id=lead.id, actor_id=actor_id, kind="status_changed",
                                      details={"from": before["status"], "to": status, "reason": lead.lost_reason}))
        audit.record(self.session, actor_id=actor_id, action="status", entity_type="lead", entity_id=lead.id,
                     before=before, after=after, ip=ip)
        await self.session.commit()
        return lead

    async def assign(self, lead_id: int, assignee_id: int | None, *, actor_id: int, ip: str | None) -> Lead:
        lead = await self._locked(lead_id)
        if assignee_id is not None:
            user = await self.session.get(User, assignee_id)
            if user is None or not user.is_active or user.role not in ("sales", "admin"):
                raise PipelineError("admin.leads.error.assignee")
        before = lead.assignee_id
        lead.assignee_id = assignee_id
        self.session.add(LeadActivity(lead_id=lead.id, actor_id=actor_id, kind="assigned",
                                      details={"from": before, "to": assignee_id, "by": "staff"}))
        audit.record(self.session, actor_id=actor_id, action="assign", entity_type="lead", entity_id=lead.id,
                     before={"assignee_id": before}, after={"assignee_id": assignee_id}, ip=ip)
        await self.session.commit()
        return lead

    async def add_note(self, lead_id: int, body: str, *, actor_id: int, ip: str | None) -> None:
        body = clean_lines(body)
        if not 1 <= len(body) <= 10_000:
            raise PipelineError("admin.leads.error.note")
        lead = await self._locked(lead_id)
        self.session.add(LeadNote(lead_id=lead.id, author_id=actor_id, body=body))
        self.session.add(LeadActivity(lead_id=lead.id, actor_id=actor_id, kind="note_added",
                                      details={"length": len(body)}))
        audit.record(self.session, actor_id=actor_id, action="note", entity_type="lead", entity_id=lead.id,
                     after={"note": body[:200]}, ip=ip)
        await self.session.commit()

    async def _locked(self, lead_id: int) -> Lead:
        lead = await self.get(lead_id, lock=True)
        if lead is None:
            raise LookupError(lead_id)
        return lead
