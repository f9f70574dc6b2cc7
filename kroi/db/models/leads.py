"""Leads aggregate: inquiries from visitors, their notes and activity timeline."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kroi.db.base import Base, Timestamps, in_list

LEAD_TYPES = ("general", "car_inquiry", "test_drive", "trade_in", "financing")
LEAD_STATUSES = ("new", "contacted", "qualified", "negotiating", "won", "lost")
PRIORITIES = ("high", "normal", "low")


class Lead(Timestamps, Base):
    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), server_default="new")
    lost_reason: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer, server_default="0")
    priority: Mapped[str] = mapped_column(String(10), server_default="normal")
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    message: Mapped[str] = mapped_column(Text, server_default="")
    language: Mapped[str] = mapped_column(String(2), server_default="fi")
    car_id: Mapped[int | None] = mapped_column(ForeignKey("cars.id", ondelete="SET NULL"))
    car_price_cents: Mapped[int | None] = mapped_column(BigInteger)  # the car's price when asked
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consent_text: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    source_page: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str | None] = mapped_column(String(500))
    utm_source: Mapped[str | None] = mapped_column(String(100))
    utm_medium: Mapped[str | None] = mapped_column(String(100))
    utm_campaign: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_ip: Mapped[str | None] = mapped_column(String(45))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(in_list("type", LEAD_TYPES), name="type_valid"),
        CheckConstraint(in_list("status", LEAD_STATUSES), name="status_valid"),
        CheckConstraint(in_list("priority", PRIORITIES), name="priority_valid"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint("status <> 'lost' OR lost_reason IS NOT NULL", name="lost_has_reason"),
        CheckConstraint("email ~ '^[^@\\s]+@[^@\\s]+$'", name="email_format"),
        CheckConstraint("phone IS NULL OR phone ~ '^\\+[1-9][0-9]{6,14}$'", name="phone_e164"),
        Index("ix_leads_status_created", "status", "created_at"),
        Index("ix_leads_assignee_status", "assignee_id", "status"),
        Index("ix_leads_car_id", "car_id"),
        Index("ix_leads_email_created", "email", "created_at"),
        Index("ix_leads_type_created", "type", "created_at"),
    )


class LeadNote(Base):
    __tablename__ = "lead_notes"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint("length(body) BETWEEN 1 AND 10000", name="body_length"),
        Index("ix_lead_notes_lead_created", "lead_id", "created_at"),
    )


class LeadActivity(Base):
    """One line of a lead's timeline: created, e-mailed, status change, assignment, note."""

    __tablename__ = "lead_activities"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint(in_list("kind", ("created", "email_sent", "email_failed", "status_changed", "assigned",
                                         "note_added", "scored")), name="kind_valid"),
        Index("ix_lead_activities_lead_created", "lead_id", "created_at"),
    )
