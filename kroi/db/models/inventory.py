"""Inventory aggregate: brands, models, cars, their images, equipment and price history."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Computed, Date, DateTime, ForeignKey, Index, Integer, SmallInteger,
    String, Text, UniqueConstraint, func, text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kroi.db.base import Base, Timestamps, in_list

FUELS = ("petrol", "diesel", "hybrid", "plug_in_hybrid", "electric", "gas")
TRANSMISSIONS = ("manual", "automatic")
DRIVES = ("fwd", "rwd", "awd")
BODY_TYPES = ("hatchback", "sedan", "estate", "suv", "mpv", "coupe", "convertible", "van", "pickup")
# Colours are free text ("Tummansininen metallic"); shoppers filter by the colour group its first word names.
COLOUR_GROUPS = ("white", "black", "grey", "silver", "blue", "red", "green", "brown", "beige", "yellow", "orange",
                 "other")
COLOUR_GROUP_SQL = (
    "CASE "
    "WHEN lower(colour) ~ '^(valkoi|helmenvalk|white|pearl)' THEN 'white' "
    "WHEN lower(colour) ~ '^(musta|black)' THEN 'black' "
    "WHEN lower(colour) ~ '^(harmaa|tummanharmaa|vaaleanharmaa|grafiitti|grey|gray)' THEN 'grey' "
    "WHEN lower(colour) ~ '^(hopea|silver)' THEN 'silver' "
    "WHEN lower(colour) ~ '^(sini|tummansini|vaaleansini|blue)' THEN 'blue' "
    "WHEN lower(colour) ~ '^(puna|tummanpuna|viininpuna|red)' THEN 'red' "
    "WHEN lower(colour) ~ '^(vihre|tummanvihre|green)' THEN 'green' "
    "WHEN lower(colour) ~ '^(rusk|brown)' THEN 'brown' "
    "WHEN lower(colour) ~ '^(beige|hiekka)' THEN 'beige' "
    "WHEN lower(colour) ~ '^(kelta|yellow)' THEN 'yellow' "
    "WHEN lower(colour) ~ '^(orans|orange)' THEN 'orange' "
    "ELSE 'other' END"
)
SEAT_COUNTS = ("2", "3", "4", "5", "6", "7", "8", "9")
STATUSES = ("draft", "available", "reserved", "sold")
LISTED_STATUSES = ("available", "reserved")
# Finnish plates: 1-3 letters, dash, 1-3 digits (ABC-123); VIN: 17 chars without I, O, Q.
REGISTRATION_RE = "^[A-ZÅÄÖ]{1,3}-[1-9][0-9]{0,2}$"
VIN_RE = "^[A-HJ-NPR-Z0-9]{17}$"

# Weights: names (A) > title/variant/equipment (B) > descriptions (C). Three configurations so that Finnish
# and English words both stem; 'simple' keeps exact brand/model tokens and allows prefix queries.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(search_names, '')), 'A') || "
    "setweight(to_tsvector('finnish'::regconfig, coalesce(search_names, '') || ' ' || coalesce(title, '') || ' ' "
    "|| coalesce(variant, '') || ' ' || coalesce(search_equipment, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(search_names, '') || ' ' || coalesce(title, '') || ' ' "
    "|| coalesce(variant, '') || ' ' || coalesce(search_equipment, '')), 'B') || "
    "setweight(to_tsvector('finnish'::regconfig, left(coalesce(description_fi, ''), 100000)), 'C') || "
    "setweight(to_tsvector('english'::regconfig, left(coalesce(description_en, ''), 100000)), 'C')"
)
LISTED_WHERE = text("deleted_at IS NULL AND status IN ('available', 'reserved')")


class Brand(Base):
    __tablename__ = "brands"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (CheckConstraint("slug ~ '^[a-z0-9-]+$'", name="slug_format"),)


class CarModel(Base):
    __tablename__ = "car_models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    brand: Mapped[Brand] = relationship(lazy="raise")
    __table_args__ = (
        UniqueConstraint("brand_id", "slug", name="uq_car_models_brand_slug"),
        CheckConstraint("slug ~ '^[a-z0-9-]+$'", name="slug_format"),
    )


class Feature(Base):
    """An equipment item (e.g. heated seats), named in both languages."""

    __tablename__ = "features"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_fi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(30), server_default="other")
    __table_args__ = (
        CheckConstraint(in_list("category", ("comfort", "safety", "multimedia", "exterior", "other")),
                        name="category_valid"),
    )


class Car(Timestamps, Base):
    __tablename__ = "cars"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="RESTRICT"))
    model_id: Mapped[int] = mapped_column(ForeignKey("car_models.id", ondelete="RESTRICT"))
    variant: Mapped[str] = mapped_column(String(120), server_default="")
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220))
    model_year: Mapped[int] = mapped_column(SmallInteger)
    first_registration: Mapped[date | None] = mapped_column(Date)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    vat_deductible: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    mileage_km: Mapped[int] = mapped_column(Integer)
    fuel: Mapped[str] = mapped_column(String(20))
    transmission: Mapped[str] = mapped_column(String(20))
    drive: Mapped[str] = mapped_column(String(10))
    body_type: Mapped[str] = mapped_column(String(20))
    power_kw: Mapped[int | None] = mapped_column(SmallInteger)
    displacement_cc: Mapped[int | None] = mapped_column(Integer)
    colour: Mapped[str] = mapped_column(String(60), server_default="")
    colour_group: Mapped[str] = mapped_column(String(12), Computed(COLOUR_GROUP_SQL, persisted=True))
    doors: Mapped[int | None] = mapped_column(SmallInteger)
    seats: Mapped[int | None] = mapped_column(SmallInteger)
    registration_number: Mapped[str | None] = mapped_column(String(10))
    vin: Mapped[str | None] = mapped_column(String(17))
    description_fi: Mapped[str] = mapped_column(Text, server_default="")
    description_en: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(12), server_default="draft")
    featured: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sold_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Denormalised for full-text search: a generated column may only read its own row. Maintained by the
    # inventory service whenever brand, model or equipment change.
    search_names: Mapped[str] = mapped_column(Text, server_default="")
    search_equipment: Mapped[str] = mapped_column(Text, server_default="")
    search_vector: Mapped[str] = mapped_column(TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True))

    brand: Mapped[Brand] = relationship(lazy="raise")
    model: Mapped[CarModel] = relationship(lazy="raise")
    images: Mapped[list["CarImage"]] = relationship(
        lazy="raise", order_by="CarImage.position", cascade="all, delete-orphan"
    )
    features: Mapped[list[Feature]] = relationship(secondary="car_features", lazy="raise")

    __table_args__ = (
        CheckConstraint("model_year BETWEEN 1950 AND 2100", name="model_year_range"),
        CheckConstraint("price_cents >= 0 AND price_cents < 100000000000", name="price_range"),
        CheckConstraint("mileage_km >= 0 AND mileage_km < 5000000", name="mileage_range"),
        CheckConstraint(in_list("fuel", FUELS), name="fuel_valid"),
        CheckConstraint(in_list("transmission", TRANSMISSIONS), name="transmission_valid"),
        CheckConstraint(in_list("drive", DRIVES), name="drive_valid"),
        CheckConstraint(in_list("body_type", BODY_TYPES), name="body_type_valid"),
        CheckConstraint(in_list("status", STATUSES), name="status_valid"),
        CheckConstraint("power_kw IS NULL OR power_kw BETWEEN 1 AND 2000", name="power_range"),
        CheckConstraint("displacement_cc IS NULL OR displacement_cc BETWEEN 50 AND 10000", name="displacement_range"),
        CheckConstraint("doors IS NULL OR doors BETWEEN 1 AND 7", name="doors_range"),
        CheckConstraint("seats IS NULL OR seats BETWEEN 1 AND 12", name="seats_range"),
        CheckConstraint(f"registration_number IS NULL OR registration_number ~ '{REGISTRATION_RE}'",
                        name="registration_format"),
        CheckConstraint(f"vin IS NULL OR vin ~ '{VIN_RE}'", name="vin_format"),
        CheckConstraint("slug ~ '^[a-z0-9-]+$'", name="slug_format"),
        CheckConstraint("status <> 'sold' OR sold_at IS NOT NULL", name="sold_has_date"),
        CheckConstraint("status = 'draft' OR published_at IS NOT NULL", name="published_has_date"),
        Index("uq_cars_registration_number", "registration_number", unique=True,
              postgresql_where=text("registration_number IS NOT NULL AND deleted_at IS NULL")),
        Index("uq_cars_vin", "vin", unique=True, postgresql_where=text("vin IS NOT NULL AND deleted_at IS NULL")),
        Index("ix_cars_search_vector", "search_vector", postgresql_using="gin"),
        # Listing shapes: each sort key with id as tie-breaker, only over live (listed) cars.
        Index("ix_cars_listed_newest", "published_at", "id", postgresql_where=LISTED_WHERE),
        Index("ix_cars_listed_price", "price_cents", "id", postgresql_where=LISTED_WHERE),
        Index("ix_cars_listed_mileage", "mileage_km", "id", postgresql_where=LISTED_WHERE),
        Index("ix_cars_listed_year", "model_year", "id", postgresql_where=LISTED_WHERE),
        Index("ix_cars_listed_brand_price", "brand_id", "price_cents", "id", postgresql_where=LISTED_WHERE),
        Index("ix_cars_listed_body_price", "body_type", "price_cents", "id", postgresql_where=LISTED_WHERE),
        # Facet counts read these columns only: an index-only scan instead of reading the table.
        Index("ix_cars_listed_facets", "brand_id", "model_id", "body_type", "fuel", "transmission", "drive",
              postgresql_include=["price_cents", "model_year", "mileage_km"], postgresql_where=LISTED_WHERE),
        Index("ix_cars_featured", "published_at", postgresql_where=text(
            "featured AND deleted_at IS NULL AND status IN ('available', 'reserved')")),
        Index("ix_cars_model_id", "model_id"),
        # Also in the migration (SQLAlchemy cannot declare them): CREATE STATISTICS st_cars_brand_model
        # (dependencies) ON brand_id, model_id, so brand + model filters are estimated as the one filter they are;
        # and STATISTICS 1000 on search_vector, so rare words are estimated as rare.
        Index("ix_cars_status_updated", "status", "updated_at"),
    )


class CarImage(Base):
    __tablename__ = "car_images"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    car_id: Mapped[int] = mapped_column(ForeignKey("cars.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)  # 0 is the main image
    path: Mapped[str] = mapped_column(String(300))  # relative to the media root, without variant suffix
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    alt_fi: Mapped[str] = mapped_column(String(250), server_default="")
    alt_en: Mapped[str] = mapped_column(String(250), server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        UniqueConstraint("car_id", "position", name="uq_car_images_car_position", deferrable=True,
                         initially="DEFERRED"),
        CheckConstraint("position >= 0", name="position_nonnegative"),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
    )


class CarFeature(Base):
    __tablename__ = "car_features"
    car_id: Mapped[int] = mapped_column(ForeignKey("cars.id", ondelete="CASCADE"), primary_key=True)
    feature_id: Mapped[int] = mapped_column(ForeignKey("features.id", ondelete="CASCADE"), primary_key=True)
    __table_args__ = (Index("ix_car_features_feature_id", "feature_id"),)


class CarPriceHistory(Base):
    __tablename__ = "car_price_history"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    car_id: Mapped[int] = mapped_column(ForeignKey("cars.id", ondelete="CASCADE"))
    old_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    new_price_cents: Mapped[int] = mapped_column(BigInteger)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint("new_price_cents >= 0", name="new_price_nonnegative"),
        Index("ix_car_price_history_car_changed", "car_id", "changed_at"),
        Index("ix_car_price_history_changed", "changed_at"),  # the saved-search job reads a day's changes
    )
