"""Saved searches with e-mail alerts ("hakuvahti"): the subscriptions, the cars each was told about, the job's mark."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from kroi.db.base import Base, in_list

FREQUENCIES = ("immediate", "daily")


class SavedSearch(Base):
    """One address's saved /cars search; `query` is the normalised /cars query string (filters only)."""

    __tablename__ = "saved_searches"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    query: Mapped[str] = mapped_column(Text, server_default="")
    frequency: Mapped[str] = mapped_column(String(10), server_default="immediate")
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    language: Mapped[str] = mapped_column(String(2), server_default="fi")
    consent_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The latest subscription request: its confirmation link names this time, so no older link confirms.
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(in_list("status", ("pending", "active")), name="status_valid"),
        CheckConstraint(in_list("frequency", FREQUENCIES), name="frequency_valid"),
        Index("uq_saved_searches_email_query", text("lower(email)"), "query", unique=True),
        Index("ix_saved_searches_active", "query", postgresql_where=text("status = 'active'")),
    )


class SavedSearchHit(Base):
    """A car one saved search was alerted about: at most once per car and subscription (the primary key).

    `mailed_at` is empty while the car waits for the daily digest."""

    __tablename__ = "saved_search_hits"
    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"),
                                                 primary_key=True)
    # No foreign key to cars (migration 0007): the job inserts a day's hits at once; cars are only soft-deleted,
    # and every reader joins cars.
    car_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(5))  # 'new' or 'drop'
    old_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(in_list("kind", ("new", "drop")), name="kind_valid"),
        Index("ix_saved_search_hits_unmailed", "saved_search_id", postgresql_where=text("mailed_at IS NULL")),
    )


class AlertRun(Base):
    """The matching job's high-water mark (one row): changes up to `checked_until` have been matched."""

    __tablename__ = "alert_runs"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    checked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    digest_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
