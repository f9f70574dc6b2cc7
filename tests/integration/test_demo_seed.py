"""Demo inventory (`kroi seed --demo N`): the synthetic cars are valid, complete and found by the public search."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import testing
from kroi.db.models import Brand, Car, CarFeature, CarImage, CarModel, CarPriceHistory, Feature
from kroi.db.models.inventory import REGISTRATION_RE, VIN_RE
from kroi.inventory.repositories import InventoryRepository
from kroi.inventory.search import parse_query
from kroi.inventory.services import slugify
from kroi.seeding.demo import load_demo
from kroi.seeding.original import load_cars
from kroi.storage import LocalStorage

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

N = 300


@pytest.fixture(scope="session")
def demo_media() -> Path:
    """The demo picture pool is drawn once (~20 s) and reused, like `kroi seed --demo` does with var/media."""
    return testing.ROOT / "var" / "test-demo-media"


async def _demo_cars(db: AsyncSession, after_id: int) -> list[Car]:
    return list((await db.scalars(select(Car).where(Car.id > after_id).order_by(Car.id))).all())


async def _search_ids(db: AsyncSession, **args: list[str]) -> set[int]:
    query, _ = parse_query(args)
    cards = await InventoryRepository(db).list_cards(query, None, None, limit=100_000)
    return {c.id for c in cards}


async def test_demo_cars_are_valid_and_complete(db: AsyncSession, demo_media: Path) -> None:
    seed_max = await db.scalar(select(func.max(Car.id)))
    added, seconds = await load_demo(db, N, LocalStorage(demo_media))
    assert added == N and seconds > 0
    cars = await _demo_cars(db, seed_max)
    assert len(cars) == N

    brands = {b.id: b for b in await db.scalars(select(Brand))}
    models = {m.id: m for m in await db.scalars(select(CarModel))}
    features = {f.id: f for f in await db.scalars(select(Feature))}
    feature_rows = (await db.execute(select(CarFeature.car_id, CarFeature.feature_id)
                                     .where(CarFeature.car_id > seed_max))).all()
    features_of: dict[int, list[int]] = {}
    for car_id, feature_id in feature_rows:
        features_of.setdefault(car_id, []).append(feature_id)
    images_of: dict[int, list[CarImage]] = {}
    for img in await db.scalars(select(CarImage).where(CarImage.car_id > seed_max)):
        images_of.setdefault(img.car_id, []).append(img)
    priced = set(await db.scalars(select(CarPriceHistory.car_id).where(CarPriceHistory.car_id > seed_max)))

    seed_plates = {c["registration_number"] for c in load_cars()}
    now = datetime.now(timezone.utc)
    plates = [c.registration_number for c in cars]
    assert len(set(plates)) == N and not set(plates) & seed_plates
    for car in cars:
        brand, model = brands[car.brand_id], models[car.model_id]
        assert model.brand_id == brand.id
        assert re.fullmatch(REGISTRATION_RE, car.registration_number)
        assert car.vin is None or re.fullmatch(VIN_RE, car.vin)
        assert car.title.startswith(f"{brand.name} {model.name} ") and car.slug == slugify(car.title)
        assert car.search_names == f"{brand.name} {model.name}"
        chosen = sorted(features_of[car.id])
        assert 4 <= len(chosen) <= 14
        assert car.search_equipment == " ".join(f"{features[i].name_fi} {features[i].name_en}" for i in chosen)
        assert 2008 <= car.model_year <= now.year and abs(car.first_registration.year - car.model_year) <= 1
        assert car.price_cents >= 150_000 and car.price_cents % 10_000 == 0  # whole hundreds of euros
        assert 0 < car.mileage_km < 1_000_000
        assert car.description_fi and car.description_en and car.description_fi != car.description_en
        if car.status == "draft":
            assert car.published_at is None
        else:
            assert now - timedelta(days=121) < car.published_at <= now
        assert (car.sold_at is not None) == (car.status == "sold")
        assert not car.featured or car.status == "available"
        imgs = sorted(images_of[car.id], key=lambda i: i.position)
        assert 1 <= len(imgs) <= 3 and [i.position for i in imgs] == list(range(len(imgs)))
        for img in imgs:
            assert img.path.startswith(f"demo/{car.body_type}-")
            assert (demo_media / f"{img.path}-card.webp").is_file()
        assert car.id in priced

    statuses = [c.status for c in cars]
    assert statuses.count("available") > N * 0.6
    assert {"reserved", "sold", "draft"} & set(statuses)
    assert len({c.brand_id for c in cars}) >= 10 and len({c.body_type for c in cars}) >= 4
    years = [c.model_year for c in cars]
    assert sum(2015 <= y <= 2021 for y in years) > N * 0.4


async def test_demo_cars_are_searchable(db: AsyncSession, demo_media: Path) -> None:
    seed_max = await db.scalar(select(func.max(Car.id)))
    await load_demo(db, N, LocalStorage(demo_media))
    listed = [c for c in await _demo_cars(db, seed_max) if c.status in ("available", "reserved")]
    models = {m.id: m for m in await db.scalars(select(CarModel))}

    # Everything listed is in the unfiltered listing and counted by the facets.
    everything = await _search_ids(db)
    assert {c.id for c in listed} <= everything
    facets = await InventoryRepository(db).facets(parse_query({})[0], None, None)
    assert facets.total == len(everything)

    # A model name finds every listed car of that model; an equipment word finds every car that has it.
    car = listed[0]
    name = models[car.model_id].name
    found = await _search_ids(db, q=[name])
    assert {c.id for c in listed if models[c.model_id].name == name} <= found
    tow_bar = await db.scalar(select(Feature.id).where(Feature.code == "tow_bar"))
    with_tow_bar = set(await db.scalars(select(CarFeature.car_id).where(CarFeature.feature_id == tow_bar)))
    expected = {c.id for c in listed if c.id in with_tow_bar}
    assert expected and expected <= await _search_ids(db, q=["vetokoukku"])
    assert expected <= await _search_ids(db, q=["tow bar"])

    # Filters see the demo cars too.
    electric = {c.id for c in listed if c.fuel == "electric"}
    assert electric <= await _search_ids(db, fuel=["electric"])


async def test_a_second_load_adds_other_cars(db: AsyncSession, demo_media: Path) -> None:
    await load_demo(db, 40, LocalStorage(demo_media))
    await load_demo(db, 40, LocalStorage(demo_media))
    rows = (await db.execute(select(Car.registration_number, Car.vin, Car.title))).all()
    assert len(rows) == len(load_cars()) + 80
    plates = [r.registration_number for r in rows]
    vins = [r.vin for r in rows if r.vin]
    assert len(set(plates)) == len(plates) and len(set(vins)) == len(vins)


@pytest.mark.parametrize("sort", ["price_asc", "price_desc", "mileage_asc", "year_desc"])
async def test_sorted_text_search_lists_the_same_cars_either_way(db: AsyncSession, demo_media: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, sort: str) -> None:
    """A sorted text search with few matches is listed from their ids; the result must equal the index walk's."""
    import kroi.inventory.repositories as repositories

    await load_demo(db, N, LocalStorage(demo_media))
    repo = InventoryRepository(db)

    async def pages(q: str) -> list[list[int]]:
        query, _ = parse_query({"q": [q], "sort": [sort]})
        out = []
        for offset in (0, 7, 14):
            out.append([c.id for c in await repo.list_cards(query, None, None, limit=7, offset=offset)])
        return out

    words = ["vetokoukku", "hybridi", "tesla", "octavia"]
    by_ids = [await pages(w) for w in words]
    monkeypatch.setattr(repositories, "FEW_TEXT_MATCHES", 1)  # every search "has many matches": the walk
    assert [await pages(w) for w in words] == by_ids
    assert any(page for result in by_ids for page in result)
