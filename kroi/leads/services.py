"""Creating a lead: score, assign, record activities and queue both e-mails, all in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kroi import metrics
from kroi.db.models import Car
from kroi.leads import notifications, scoring
from kroi.leads.repositories import LeadRepository
from kroi.leads.schemas import LeadInput
from kroi.mail.outbox import OutboxRepository
from kroi.system.services import SiteSettings
from kroi.web.templating import Templates


@dataclass
class Submission:
    """Where a lead came from, besides what the visitor typed."""

    idempotency_key: str | None
    language: str
    consent_text: str
    client_ip: str | None = None
    source_page: str | None = None
    referrer: str | None = None
    utm: dict[str, str] = field(default_factory=dict)


@dataclass
class LeadResult:
    lead_id: int
    created: bool  # False when the idempotency key had been used: the earlier lead is returned
    lead_type: str
    score: int = 0
    priority: str = "normal"


class CarUnavailable(Exception):
    """The car asked about is not for sale (any more)."""


class LeadService:
    def __init__(self, session: AsyncSession, templates: Templates, site: SiteSettings, public_url: str,
                 idempotency_window: int = 86400) -> None:
        self.session = session
        self.idempotency_window = timedelta(seconds=idempotency_window)  # KROI_IDEMPOTENCY_WINDOW
        self.repo = LeadRepository(session)
        self.outbox = OutboxRepository(session)
        self.templates = templates
        self.site = site
        self.public_url = public_url

    async def find_car(self, car_id: int | None) -> Car | None:
        return await self.repo.car_for_lead(car_id) if car_id else None

    async def submit(self, data: LeadInput, car_id: int | None, sub: Submission) -> LeadResult:
        """Store the lead with everything that belongs to it; committed before this returns."""
        try:
            if sub.idempotency_key:
                earlier = await self.repo.by_idempotency_key(sub.idempotency_key)
                if earlier is not None:
                    if earlier.created_at > datetime.now(timezone.utc) - self.idempotency_window:
                        return LeadResult(earlier.id, False, earlier.type, earlier.score, earlier.priority)
                    # A form sent again after the window (a tab left open for days) is a new message.
                    await self.repo.forget_idempotency_key(earlier.id)
            car = await self.find_car(car_id)
            if car_id and car is None:
                raise CarUnavailable(car_id)
            if data.lead_type == "car_inquiry" and car is None:
                raise CarUnavailable(None)
            signals = scoring.Signals(
                lead_type=data.lead_type, has_phone=bool(data.phone), has_car=car is not None,
                car_price_cents=car.price_cents if car else None, has_trade_in=data.lead_type == "trade_in",
                returning=await self.repo.has_earlier_lead(data.email), message_length=len(data.message),
            )
            total, parts = scoring.score(signals)
            prio = scoring.priority(total)
            assignee = await self.repo.next_assignee()
            now = datetime.now(timezone.utc)
            values: dict[str, Any] = dict(
                type=data.lead_type, status="new", score=total, priority=prio, name=data.name, email=data.email,
                phone=data.phone, message=data.message, language=sub.language, car_id=car.id if car else None,
                car_price_cents=car.price_cents if car else None, assignee_id=assignee,
                consent_text=sub.consent_text, consent_at=now, details=data.details,
                source_page=(sub.source_page or "")[:500] or None, referrer=(sub.referrer or "")[:500] or None,
                utm_source=sub.utm.get("utm_source"), utm_medium=sub.utm.get("utm_medium"),
                utm_campaign=sub.utm.get("utm_campaign"), idempotency_key=sub.idempotency_key,
                client_ip=sub.client_ip,
            )
            lead_id = await self.repo.insert(values)
            if lead_id is None:  # the same key won a race a moment ago
                await self.session.rollback()
                earlier = await self.repo.by_idempotency_key(sub.idempotency_key or "")
                assert earlier is not None
                return LeadResult(earlier.id, False, earlier.type, earlier.score, earlier.priority)
            self.repo.add_activity(lead_id, "created", {"type": data.lead_type, "source": values["source_page"]})
            self.repo.add_activity(lead_id, "scored", {"score": total, "priority": prio, "rules": parts})
            if assignee is not None:
                self.repo.add_activity(lead_id, "assigned", {"assignee_id": assignee, "by": "round-robin"})
            lead_view = notifications.LeadView.of(lead_id, values, car, now)
            for kind, payload in notifications.lead_mails(self.templates, self.site, lead_view, self.public_url):
                self.outbox.enqueue(kind, payload, lead_id)
            await self.session.commit()
            metrics.LEADS.labels(data.lead_type).inc()
            return LeadResult(lead_id, True, data.lead_type, total, prio)
        except BaseException:
            await self.session.rollback()
            raise
