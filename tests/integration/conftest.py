"""Fixtures for integration tests: the seeded cars with their database ids."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import Car
from support import SEED, SeedCar


@pytest.fixture
async def cars(db: AsyncSession) -> list[SeedCar]:
    """The nine seeded cars (seed/cars.json) with the ids and slugs the database gave them."""
    rows = {r.registration_number: r for r in (await db.execute(
        select(Car.id, Car.slug, Car.registration_number, Car.status))).all()}
    out = []
    for item in SEED:
        row = rows[item["registration_number"]]
        out.append(SeedCar(id=row.id, slug=row.slug, data=item, status=row.status, features=item["features"]))
    assert len(out) == 9
    return out


@pytest.fixture
def by_key(cars: list[SeedCar]) -> dict[str, SeedCar]:
    return {c.key: c for c in cars}
