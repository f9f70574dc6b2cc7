"""Staff writes to cars: create, edit, status workflow, delete and restore, each audited and invalidated.

Every change runs in one transaction with its audit-log rows and price history; the public caches it
affects are invalidated only after the commit succeeded.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kroi import audit
from kroi.cache import invalidate
from kroi.cache.fragments import FragmentCache
from kroi.db.models import Brand, Car, CarFeature, CarImage, CarModel, CarPriceHistory, Feature
from kroi.parsing import clean_text

AUDITED = ("brand_id", "model_id", "variant", "title", "model_year", "first_registration", "price_cents",
           "vat_deductible", "mileage_km", "fuel", "transmission", "drive", "body_type", "power_kw",
           "displacement_cc", "colour", "doors", "seats", "registration_number", "vin", "description_fi",
           "description_en", "status", "featured", "published_at", "sold_at", "deleted_at")
CAR_FIELDS = ("variant", "model_year", "first_registration", "vat_deductible", "mileage_km", "fuel", "transmission",
              "drive", "body_type", "power_kw", "displacement_cc", "colour", "doors", "seats", "registration_number",
              "vin", "description_fi", "description_en", "featured")
# Which status may follow which: draft -> available -> reserved -> sold, and back where it makes sense.
TRANSITIONS = {
    "draft": {"draft", "available"},
    "available": {"available", "draft", "reserved", "sold"},
    "reserved": {"reserved", "available", "sold"},
    "sold": {"sold", "available"},
}


class TransitionError(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} -> {wanted}")
        self.current, self.wanted = current, wanted


def slugify(text: str) -> str:
    from kroi.inventory.services import slugify as _slugify

    return _slugify(text)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class CarEditService:
    def __init__(self, session: AsyncSession, cache: FragmentCache) -> None:
        self.session = session
        self.cache = cache

    async def brand_model(self, brand_name: str, model_name: str) -> tuple[Brand, CarModel]:
        """The brand and model by name, created when new (names are matched by slug)."""
        brand_name, model_name = clean_text(brand_name), clean_text(model_name)
        brand = await self.session.scalar(select(Brand).where(Brand.slug == slugify(brand_name)))
        if brand is None:
            brand = Brand(name=brand_name, slug=slugify(brand_name))
            self.session.add(brand)
            await self.session.flush()
        model = await self.session.scalar(
            select(CarModel).where(CarModel.brand_id == brand.id, CarModel.slug == slugify(model_name)))
        if model is None:
            model = CarModel(brand_id=brand.id, name=model_name, slug=slugify(model_name))
            self.session.add(model)
            await self.session.flush()
        return brand, model

    async def load(self, car_id: int, *, lock: bool = False) -> Car | None:
        stmt = select(Car).where(Car.id == car_id).options(selectinload(Car.features), selectinload(Car.images))
        if lock:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def save(self, car_id: int | None, values: dict[str, Any], feature_ids: list[int], *,
                   actor_id: int | None, ip: str | None) -> Car:
        """Create (car_id None) or update a car from validated form values."""
        try:
            brand, model = await self.brand_model(values["brand"], values["model"])
            if car_id is None:
                car = Car(status="draft", price_cents=values["price_cents"])
                before: dict[str, Any] = {}
            else:
                car = await self.load(car_id, lock=True)
                if car is None:
                    raise LookupError(car_id)
                before = audit.snapshot(car, AUDITED)
            for name in CAR_FIELDS:
                setattr(car, name, values.get(name))
            car.brand_id, car.model_id = brand.id, model.id
            car.title = " ".join(p for p in (brand.name, model.name, car.variant) if p)
            car.slug = slugify(car.title)
            self._set_status(car, values["status"])
            features = list((await self.session.scalars(select(Feature).where(Feature.id.in_(feature_ids)))).all())
            car.search_names = f"{brand.name} {model.name}"
            car.search_equipment = " ".join(f"{f.name_fi} {f.name_en}" for f in features)
            if car_id is None:
                self.session.add(car)
                await self.session.flush()
            old_price = car.price_cents if car_id is not None else None
            if car_id is None or old_price != values["price_cents"]:
                self.session.add(CarPriceHistory(car_id=car.id, old_price_cents=old_price,
                                                 new_price_cents=values["price_cents"], changed_by_id=actor_id))
            car.price_cents = values["price_cents"]
            await self.session.execute(delete(CarFeature).where(CarFeature.car_id == car.id))
            self.session.add_all([CarFeature(car_id=car.id, feature_id=f.id) for f in features])
            await self.session.flush()
            after = audit.snapshot(car, AUDITED)
            changed_before, changed_after = audit.changes(before, after)
            after_features = sorted(f.id for f in features)
            audit.record(self.session, actor_id=actor_id, action="create" if car_id is None else "update",
                         entity_type="car", entity_id=car.id, before=changed_before or None,
                         after=(changed_after | {"feature_ids": after_features}), ip=ip)
            await self.session.commit()
        except BaseException:
            await self.session.rollback()
            raise
        await invalidate.car_changed(self.cache, car.id)
        return car

    def _set_status(self, car: Car, status: str) -> None:
        current = car.status or "draft"
        if car.id is not None and status not in TRANSITIONS.get(current, {current}):
            raise TransitionError(current, status)
        car.status = status
        if status != "draft" and car.published_at is None:
            car.published_at = _now()
        car.sold_at = (car.sold_at or _now()) if status == "sold" else None

    async def _each(self, car_ids: list[int], action: str, change, *, actor_id: int | None,  # noqa: ANN001
                    ip: str | None) -> list[int]:
        """Apply change(car) to each car in one transaction, auditing before/after."""
        done: list[int] = []
        try:
            cars = (await self.session.scalars(
                select(Car).where(Car.id.in_(car_ids)).order_by(Car.id).with_for_update())).all()
            for car in cars:
                before = audit.snapshot(car, AUDITED)
                if change(car) is False:
                    continue
                await self.session.flush()
                b, a = audit.changes(before, audit.snapshot(car, AUDITED))
                if a:
                    audit.record(self.session, actor_id=actor_id, action=action, entity_type="car",
                                 entity_id=car.id, before=b, after=a, ip=ip)
                    done.append(car.id)
            await self.session.commit()
        except BaseException:
            await self.session.rollback()
            raise
        if done:
            await invalidate.car_changed(self.cache, *done)
        return done

    async def set_status(self, car_ids: list[int], status: str, *, actor_id: int | None = None,
                         ip: str | None = None, strict: bool = True) -> list[int]:
        def change(car: Car) -> bool:
            if car.deleted_at is not None:
                return False
            if status not in TRANSITIONS.get(car.status, set()):
                if strict:
                    raise TransitionError(car.status, status)
                return False
            self._set_status(car, status)
            return True

        return await self._each(car_ids, f"status:{status}", change, actor_id=actor_id, ip=ip)

    async def set_price(self, car_id: int, price_cents: int, *, actor_id: int | None = None,
                        ip: str | None = None) -> list[int]:
        if price_cents < 0:
            raise ValueError("price must not be negative")

        def change(car: Car) -> bool:
            if car.price_cents == price_cents:
                return False
            self.session.add(CarPriceHistory(car_id=car.id, old_price_cents=car.price_cents,
                                             new_price_cents=price_cents, changed_by_id=actor_id))
            car.price_cents = price_cents
            return True

        return await self._each([car_id], "price", change, actor_id=actor_id, ip=ip)

    async def set_featured(self, car_ids: list[int], featured: bool, *, actor_id: int | None = None,
                           ip: str | None = None) -> list[int]:
        def change(car: Car) -> None:
            car.featured = featured

        return await self._each(car_ids, "feature" if featured else "unfeature", change, actor_id=actor_id, ip=ip)

    async def delete(self, car_ids: list[int], *, actor_id: int | None = None, ip: str | None = None) -> list[int]:
        def change(car: Car) -> bool:
            if car.deleted_at is not None:
                return False
            car.deleted_at = _now()
            return True

        return await self._each(car_ids, "delete", change, actor_id=actor_id, ip=ip)

    async def restore(self, car_ids: list[int], *, actor_id: int | None = None, ip: str | None = None) -> list[int]:
        def change(car: Car) -> None:
            car.deleted_at = None

        return await self._each(car_ids, "restore", change, actor_id=actor_id, ip=ip)


class CarImageService:
    """A car's photos: add (already processed), reorder, choose the main one, alt texts, delete."""

    def __init__(self, session: AsyncSession, cache: FragmentCache, storage) -> None:  # noqa: ANN001
        self.session = session
        self.cache = cache
        self.storage = storage

    async def images(self, car_id: int) -> list[CarImage]:
        return list((await self.session.scalars(
            select(CarImage).where(CarImage.car_id == car_id).order_by(CarImage.position))).all())

    async def _finish(self, car_id: int, action: str, after: dict[str, Any], actor_id: int | None,
                      ip: str | None) -> None:
        audit.record(self.session, actor_id=actor_id, action=action, entity_type="car", entity_id=car_id,
                     after=after, ip=ip)
        await self.session.execute(update(Car).where(Car.id == car_id).values(updated_at=func.now()))
        await self.session.commit()
        await invalidate.car_changed(self.cache, car_id)

    async def add(self, car_id: int, processed: list, title: str, *, actor_id: int | None,  # noqa: ANN001
                  ip: str | None) -> list[CarImage]:
        """Store the files, then the rows; files of a failed transaction are removed again."""
        for p in processed:
            for variant, data in p.variants.items():
                await self.storage.put(f"{p.stem}-{variant}.webp", data, "image/webp")
        try:
            await self.session.execute(select(Car.id).where(Car.id == car_id).with_for_update())
            start = await self.session.scalar(
                select(func.coalesce(func.max(CarImage.position) + 1, 0)).where(CarImage.car_id == car_id))
            added = []
            for n, p in enumerate(processed):
                img = CarImage(car_id=car_id, position=start + n, path=p.stem, width=p.width, height=p.height,
                               alt_fi=f"{title}, kuva {start + n + 1}", alt_en=f"{title}, photo {start + n + 1}")
                self.session.add(img)
                added.append(img)
            await self.session.flush()
            await self._finish(car_id, "images:add", {"paths": [p.stem for p in processed]}, actor_id, ip)
            return added
        except BaseException:
            await self.session.rollback()
            for p in processed:
                for variant in p.variants:
                    await self.storage.delete(f"{p.stem}-{variant}.webp")
            raise

    async def reorder(self, car_id: int, order: list[int], *, actor_id: int | None, ip: str | None) -> None:
        """Positions follow `order` (image ids); images not named keep their relative order after them."""
        images = await self.images(car_id)
        by_id = {img.id: img for img in images}
        ordered = [by_id[i] for i in order if i in by_id]
        ordered += [img for img in images if img not in ordered]
        for position, img in enumerate(ordered):  # the unique (car, position) check is deferred to commit
            img.position = position
        await self._finish(car_id, "images:reorder", {"order": [img.id for img in ordered]}, actor_id, ip)

    async def move(self, car_id: int, image_id: int, to: str, *, actor_id: int | None, ip: str | None) -> None:
        ids = [img.id for img in await self.images(car_id)]
        if image_id not in ids:
            raise LookupError(image_id)
        i = ids.index(image_id)
        ids.pop(i)
        target = {"first": 0, "up": max(0, i - 1), "down": min(len(ids), i + 1)}.get(to, i)
        ids.insert(target, image_id)
        await self.reorder(car_id, ids, actor_id=actor_id, ip=ip)

    async def set_alt(self, car_id: int, image_id: int, alt_fi: str, alt_en: str, *, actor_id: int | None,
                      ip: str | None) -> None:
        img = await self.session.scalar(select(CarImage).where(CarImage.id == image_id, CarImage.car_id == car_id))
        if img is None:
            raise LookupError(image_id)
        img.alt_fi, img.alt_en = clean_text(alt_fi)[:250], clean_text(alt_en)[:250]
        await self._finish(car_id, "images:alt", {"image": image_id, "alt_fi": img.alt_fi, "alt_en": img.alt_en},
                           actor_id, ip)

    async def delete(self, car_id: int, image_id: int, *, actor_id: int | None, ip: str | None) -> None:
        img = await self.session.scalar(select(CarImage).where(CarImage.id == image_id, CarImage.car_id == car_id))
        if img is None:
            raise LookupError(image_id)
        path = img.path
        await self.session.delete(img)
        await self.session.flush()
        rest = await self.images(car_id)
        for position, other in enumerate(rest):
            other.position = position
        await self._finish(car_id, "images:delete", {"image": image_id, "path": path}, actor_id, ip)
        if not path.startswith(("seed/", "demo/")):  # shared illustration files stay
            for variant in ("thumb", "card", "full"):
                await self.storage.delete(f"{path}-{variant}.webp")
