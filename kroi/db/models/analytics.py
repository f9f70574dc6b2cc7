"""Analytics: car views and page views aggregated per day, and shoppers' searches."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kroi.db.base import Base


class CarView(Base):
    """Views of one car on one day; buffered in Redis and flushed here in batches."""

    __tablename__ = "car_views"
    car_id: Mapped[int] = mapped_column(ForeignKey("cars.id", ondelete="CASCADE"), primary_key=True)
    view_date: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer)
    __table_args__ = (
        CheckConstraint("views >= 0", name="views_nonnegative"),
        Index("ix_car_views_view_date", "view_date"),
        # "most viewed cars" streams through this in car order (migration 0003)
        Index("ix_car_views_car_totals", "car_id", "view_date", postgresql_include=["views"]),
    )


class PageView(Base):
    __tablename__ = "page_views"
    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    view_date: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer)
    __table_args__ = (
        CheckConstraint("views >= 0", name="views_nonnegative"),
        Index("ix_page_views_view_date", "view_date"),
    )


class SearchQuery(Base):
    __tablename__ = "search_queries"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    results_count: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2), server_default="fi")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint("results_count >= 0", name="results_nonnegative"),
        Index("ix_search_queries_created", "created_at"),
        Index("ix_search_queries_lower_query", text("lower(query)")),
    )
