"""Favourites and compare: which of the asked ids are shown, their price changes, and the compare table."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import Car, CarImage
from kroi.favourites.repositories import FavouritesRepository
from kroi.favourites.schemas import Wanted
from kroi.inventory.repositories import CarCard
from kroi.web import formatting, i18n



@dataclass(frozen=True)
class SavedCar:
    card: CarCard
    saved_price_cents: int | None

    @property
    def price_change_cents(self) -> int:
        """Current minus saved price (negative: it fell); 0 when unknown or unchanged."""
        return 0 if self.saved_price_cents is None else self.card.price_cents - self.saved_price_cents


@dataclass(frozen=True)
class SavedList:
    cars: list[SavedCar]
    missing: int  # asked ids that are unknown, deleted or drafts


@dataclass(frozen=True)
class Row:
    key: str  # i18n key of the row heading (or the feature's own name for equipment)
    label: str
    values: list[str]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class Column:
    car: Car
    image: CarImage | None
    monthly_cents: int | None


@dataclass
class Comparison:
    columns: list[Column]
    missing: int
    specs: list[Row] = field(default_factory=list)
    equipment: list[Row] = field(default_factory=list)


class FavouritesService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = FavouritesRepository(session)

    async def saved(self, wanted: Wanted) -> SavedList:
        cards = await self.repo.cards(wanted.ids)
        cars = [SavedCar(cards[i], wanted.saved_prices.get(i)) for i in wanted.ids if i in cards]
        return SavedList(cars=cars, missing=len(wanted.ids) - len(cars))

    async def compare(self, wanted: Wanted, lang: str, monthly: Callable[[int], int | None]) -> Comparison:
        cars, images = await self.repo.cars_to_compare(wanted.ids)
        columns = [Column(cars[i], images.get(i), monthly(cars[i].price_cents) if cars[i].status != "sold" else None)
                   for i in wanted.ids if i in cars]
        comparison = Comparison(columns=columns, missing=len(wanted.ids) - len(columns))
        comparison.specs = spec_rows(columns, lang)
        comparison.equipment = equipment_rows([c.car for c in columns], lang)
        return comparison


def _power(kw: int | None, lang: str) -> str:
    if not kw:
        return "–"
    return formatting.power(kw, lang)


def spec_rows(columns: list[Column], lang: str) -> list[Row]:
    """One row per fact the cars have; a row nobody knows (all "–") is left out."""
    def label(vocabulary: str, value: str | None) -> str:
        return i18n.label(lang, vocabulary, value)

    def row(key: str, values: list[str]) -> Row:
        return Row(key, i18n.translate(lang, key), values)

    cars = [c.car for c in columns]
    rows = [
        row("fav.compare.price", [formatting.money(c.price_cents) for c in cars]),
        row("fav.compare.monthly", [i18n.translate(lang, "fav.compare.monthly_value", amount=formatting.money(c.monthly_cents))
                                    if c.monthly_cents else "–" for c in columns]),
        row("fav.compare.status", [label("status", c.status) for c in cars]),
        row("spec.year", [str(c.model_year) for c in cars]),
        row("spec.first_registration", [formatting.date_fi(c.first_registration) or "–" for c in cars]),
        row("spec.mileage", [formatting.km(c.mileage_km) for c in cars]),
        row("spec.fuel", [label("fuel", c.fuel) for c in cars]),
        row("spec.transmission", [label("transmission", c.transmission) for c in cars]),
        row("spec.drive", [label("drive", c.drive) for c in cars]),
        row("spec.power", [_power(c.power_kw, lang) for c in cars]),
        row("spec.displacement", [f"{formatting.group_thousands(c.displacement_cc)} cm³" if c.displacement_cc else "–"
                                  for c in cars]),
        row("spec.body_type", [label("body_type", c.body_type) for c in cars]),
        row("spec.colour", [formatting.colour_name(c.colour, lang) or "–" for c in cars]),
        row("spec.doors", [str(c.doors) if c.doors else "–" for c in cars]),
        row("spec.seats", [str(c.seats) if c.seats else "–" for c in cars]),
        row("spec.taxation", [i18n.translate(lang, "cars.vat" if c.vat_deductible else "cars.margin") for c in cars]),
    ]
    return [r for r in rows if any(v != "–" for v in r.values)]


YES, NO = "✓", "–"


def equipment_rows(cars: list[Car], lang: str) -> list[Row]:
    """A row per feature any of the cars has, sorted by name: ✓ where the car has it, – where not."""
    names = {f.id: (f.name_en if lang == "en" else f.name_fi) for car in cars for f in car.features}
    has = [{f.id for f in car.features} for car in cars]
    return [Row(f"feature.{fid}", name, [YES if fid in h else NO for h in has])
            for fid, name in sorted(names.items(), key=lambda item: item[1].casefold())]
