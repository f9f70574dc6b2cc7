"""`kroi seed`: the nine original cars with their images, equipment, settings, first admin and sample leads.

Idempotent: every row is looked up by its natural key first, so a second run changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import Brand, Car, CarFeature, CarImage, CarModel, CarPriceHistory, Feature, Lead, User
from kroi.inventory.services import slugify
from kroi.security.passwords import generate_password, hash_password, password_problem
from kroi.storage import Storage
from kroi.system.repositories import SettingsRepository
from kroi.system.services import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = ROOT / "seed"
SEED_IMAGES = SEED_DIR / "images"
IMAGES_PER_CAR = 3


@dataclass
class SeedReport:
    cars_added: int = 0
    settings_added: int = 0
    admin_email: str | None = None
    admin_password: str | None = None  # set only when generated now; printed once
    leads_added: int = 0


def load_cars() -> list[dict]:
    return json.loads((SEED_DIR / "cars.json").read_text(encoding="utf-8"))


def load_features() -> list[dict]:
    return json.loads((SEED_DIR / "features.json").read_text(encoding="utf-8"))


async def ensure_brand_model(session: AsyncSession, brand_name: str, model_name: str) -> tuple[Brand, CarModel]:
    brand = await session.scalar(select(Brand).where(Brand.slug == slugify(brand_name)))
    if brand is None:
        brand = Brand(name=brand_name, slug=slugify(brand_name))
        session.add(brand)
        await session.flush()
    model = await session.scalar(
        select(CarModel).where(CarModel.brand_id == brand.id, CarModel.slug == slugify(model_name)))
    if model is None:
        model = CarModel(brand_id=brand.id, name=model_name, slug=slugify(model_name))
        session.add(model)
        await session.flush()
    return brand, model


async def ensure_features(session: AsyncSession) -> dict[str, Feature]:
    existing = {f.code: f for f in await session.scalars(select(Feature))}
    for item in load_features():
        if item["code"] not in existing:
            feature = Feature(**item)
            session.add(feature)
            existing[item["code"]] = feature
    await session.flush()
    return existing


async def install_seed_images(storage: Storage) -> int:
    """Put the shipped seed images into storage, skipping those already there; returns how many were written.

    Through the Storage interface, not into the local folder: with S3 configured, media_url points at the bucket.
    """
    present = await storage.sizes("seed/")
    written = 0
    for file in sorted(SEED_IMAGES.glob("*.webp")):
        key = f"seed/{file.name}"
        if present.get(key) != file.stat().st_size:
            await storage.put(key, file.read_bytes(), "image/webp")
            written += 1
    return written


async def seed_cars(session: AsyncSession, storage: Storage) -> int:
    await install_seed_images(storage)
    features = await ensure_features(session)
    now = datetime.now(timezone.utc)
    added = 0
    for item in load_cars():
        exists = await session.scalar(select(Car.id).where(Car.registration_number == item["registration_number"]))
        if exists is not None:
            continue
        brand, model = await ensure_brand_model(session, item["brand"], item["model"])
        title = f"{brand.name} {model.name} {item['variant']}"
        published = now - timedelta(days=item["days_listed"])
        car = Car(
            brand_id=brand.id, model_id=model.id, variant=item["variant"], title=title, slug=slugify(title),
            model_year=item["model_year"], first_registration=date.fromisoformat(item["first_registration"]),
            price_cents=item["price_eur"] * 100, vat_deductible=item["vat_deductible"],
            mileage_km=item["mileage_km"], fuel=item["fuel"], transmission=item["transmission"],
            drive=item["drive"], body_type=item["body_type"], power_kw=item["power_kw"],
            displacement_cc=item["displacement_cc"], colour=item["colour"], doors=item["doors"],
            seats=item["seats"], registration_number=item["registration_number"], vin=item["vin"],
            description_fi=item["description_fi"], description_en=item["description_en"],
            status=item["status"], featured=item["featured"], published_at=published,
            search_names=f"{brand.name} {model.name}",
            search_equipment=" ".join(f"{features[c].name_fi} {features[c].name_en}" for c in item["features"]),
        )
        session.add(car)
        await session.flush()
        session.add_all([CarFeature(car_id=car.id, feature_id=features[c].id) for c in item["features"]])
        session.add(CarPriceHistory(car_id=car.id, old_price_cents=None, new_price_cents=car.price_cents,
                                    changed_at=published))
        for n in range(IMAGES_PER_CAR):
            session.add(CarImage(
                car_id=car.id, position=n, path=f"seed/{item['key']}-{n + 1}", width=960, height=720,
                alt_fi=f"{title}, kuva {n + 1}", alt_en=f"{title}, photo {n + 1}",
            ))
        added += 1
    return added


async def ensure_admin(session: AsyncSession, email: str | None, password: str | None) -> tuple[str | None, str | None]:
    """Create the first admin if there is no admin yet. Returns (email, generated password or None)."""
    has_admin = await session.scalar(select(func.count()).select_from(User).where(User.role == "admin"))
    if has_admin:
        return None, None
    email = (email or "admin@kroiautocenter.fi").strip()
    generated = None
    if password:
        problem = password_problem(password)
        if problem:
            raise ValueError(f"KROI_ADMIN_PASSWORD must have {problem}")
    else:
        password = generated = generate_password()
    session.add(User(email=email, full_name="Admin", password_hash=hash_password(password), role="admin"))
    await session.flush()
    return email, generated


SAMPLE_LEADS = [
    {"type": "car_inquiry", "name": "Matti Virtanen", "email": "matti.virtanen@example.fi", "phone": "+358401234567",
     "message": "Onko auto vielä myynnissä? Voisinko tulla katsomaan lauantaina?", "car_key": "KRO-120",
     "score": 70, "priority": "high"},
    {"type": "test_drive", "name": "Anna Korhonen", "email": "anna.korhonen@example.fi", "phone": "+358501112233",
     "message": "Haluaisin koeajaa XC60:n ensi viikolla.", "car_key": "VLV-60", "score": 85, "priority": "high"},
    {"type": "general", "name": "John Smith", "email": "john.smith@example.com", "phone": None,
     "message": "Do you take trade-ins?", "car_key": None, "score": 30, "priority": "low"},
]


async def seed_sample_leads(session: AsyncSession) -> int:
    if await session.scalar(select(func.count()).select_from(Lead)):
        return 0
    now = datetime.now(timezone.utc)
    for item in SAMPLE_LEADS:
        car = None
        if item["car_key"]:
            car = await session.scalar(select(Car).where(Car.registration_number == item["car_key"]))
        session.add(Lead(
            type=item["type"], name=item["name"], email=item["email"], phone=item["phone"], message=item["message"],
            car_id=car.id if car else None, car_price_cents=car.price_cents if car else None,
            score=item["score"], priority=item["priority"], language="en" if item["email"].endswith(".com") else "fi",
            consent_text="Sample data created by kroi seed.", consent_at=now, source_page="/seed",
        ))
    return len(SAMPLE_LEADS)


async def seed_all(session: AsyncSession, storage: Storage, admin_email: str | None,
                   admin_password: str | None) -> SeedReport:
    report = SeedReport()
    report.settings_added = await SettingsRepository(session).insert_missing(DEFAULTS)
    report.cars_added = await seed_cars(session, storage)
    report.admin_email, report.admin_password = await ensure_admin(session, admin_email, admin_password)
    report.leads_added = await seed_sample_leads(session)
    await session.commit()
    return report
