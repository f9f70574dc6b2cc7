"""SQL for the public inventory: listings (offset and keyset), facets, car pages, related and featured cars."""
from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from typing import Any

from sqlalchemy import (
    BigInteger, Select, and_, bindparam, exists, func, literal_column, or_, select, text, tuple_, union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from kroi.db.models import Brand, Car, CarFeature, CarImage, CarModel, CarPriceHistory, Feature
from kroi.inventory.search import CarQuery, Cursor, search_tokens

# Literal SQL, not bound parameters: the planner can only use the partial indexes when it can see the
# same predicate text at plan time (bound IN-lists defeat that under generic plans).
LISTED = text("cars.deleted_at IS NULL AND cars.status IN ('available', 'reserved')")

SORT_COLUMNS = {
    "newest": (Car.published_at, True),
    "price_asc": (Car.price_cents, False),
    "price_desc": (Car.price_cents, True),
    "mileage_asc": (Car.mileage_km, False),
    "year_desc": (Car.model_year, True),
}
FACET_DIMENSIONS = ("brand", "model", "category", "fuel", "transmission", "drive")
EXTRA_DIMENSIONS = ("colour", "seats", "vat")  # counted from a second grouped scan (see facets)
# A text search sorted by price, mileage or year with fewer matches than this is listed from its matching ids
# (see InventoryRepository.list_cards); with more, walking the sort index meets a page of matches soon enough.
FEW_TEXT_MATCHES = 5000


@dataclass(frozen=True)
class CarCard:
    id: int
    slug: str
    title: str
    brand: str
    model: str
    variant: str
    model_year: int
    mileage_km: int
    price_cents: int
    fuel: str
    transmission: str
    body_type: str
    status: str
    published_at: datetime | None
    image_path: str | None
    image_width: int | None
    image_height: int | None
    image_alt_fi: str
    image_alt_en: str

    def sort_value(self, sort: str) -> Any:
        col = {"newest": "published_at", "price_asc": "price_cents", "price_desc": "price_cents",
               "mileage_asc": "mileage_km", "year_desc": "model_year"}[sort]
        value = getattr(self, col)
        return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Facets:
    total: int
    counts: dict[str, dict[Any, int]]  # dimension -> value (slug/id/code) -> count


def search_condition(q: str):  # noqa: ANN201
    """Full-text match: Finnish, English and exact ('simple') readings of the query, plus word prefixes.

    One `@@` against the OR (`||`) of the readings: one GIN index scan, and one de-TOASTed search vector per
    row where rows are filtered, instead of one of each per reading.
    """
    queries = [
        func.websearch_to_tsquery(literal_column("'finnish'::regconfig"), q),
        func.websearch_to_tsquery(literal_column("'english'::regconfig"), q),
        func.websearch_to_tsquery(literal_column("'simple'::regconfig"), q),
    ]
    tokens = search_tokens(q)
    if tokens:
        prefix = " & ".join(f"{t}:*" for t in tokens)
        queries.append(func.to_tsquery(literal_column("'simple'::regconfig"), prefix))
    return Car.search_vector.op("@@")(reduce(lambda a, b: a.op("||")(b), queries))


def _may_fail(dimensions: Sequence[str]) -> list[frozenset[int]]:
    """For each facet dimension, the dimensions whose filter may fail while a row still counts for it: its own,
    and for the brand facet also the model (a model filter only means something within its brand)."""
    model = dimensions.index("model") if "model" in dimensions else None
    return [frozenset({i} | ({model} if d == "brand" and model is not None else set()))
            for i, d in enumerate(dimensions)]


_MAY_FAIL = {dims: _may_fail(dims) for dims in (FACET_DIMENSIONS, EXTRA_DIMENSIONS)}


def count_facets(rows: Sequence, chosen: dict[str, set | None],
                 dimensions: tuple[str, ...] = FACET_DIMENSIONS) -> Facets:
    """Counts per facet value from grouped rows (one value per dimension + count), each given the *other* filters.

    A row counts for dimension d when every filter except d's own (and the model's, for the brand facet)
    accepts it. Written for speed: on 100,000 cars there are ~550 grouped rows per uncached listing, which the
    straightforward loop (a dict and a list per row and dimension) took 11-14 ms to count, this one ~2 ms.
    """
    may_fail = _MAY_FAIL.get(dimensions) or _may_fail(dimensions)
    width = len(dimensions)
    filters = [(i, chosen[d]) for i, d in enumerate(dimensions) if chosen.get(d) is not None]
    counts: list[Counter] = [Counter() for _ in dimensions]
    total = 0
    for row in rows:
        n = row[width]
        failing = [i for i, accepted in filters if row[i] not in accepted]
        if not failing:
            total += n
            for i, counter in enumerate(counts):
                counter[row[i]] += n
        elif len(failing) <= 2:
            failed = frozenset(failing)
            for i, counter in enumerate(counts):
                if failed <= may_fail[i]:
                    counter[row[i]] += n
    return Facets(total=total, counts={d: dict(c) for d, c in zip(dimensions, counts)})


class InventoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- vocabularies -------------------------------------------------------------------------------------
    async def brands(self) -> list[Brand]:
        return list((await self.session.scalars(select(Brand).order_by(Brand.name))).all())

    async def models(self) -> list[CarModel]:
        return list((await self.session.scalars(select(CarModel).order_by(CarModel.name))).all())

    async def features(self) -> list[Feature]:
        return list((await self.session.scalars(select(Feature).order_by(Feature.category, Feature.name_fi))).all())

    # --- filters ------------------------------------------------------------------------------------------
    def _conditions(self, query: CarQuery, brand_id: int | None, model_id: int | None,
                    skip: Collection[str] = ()) -> list:
        """WHERE clauses for the query; `skip` leaves out facet dimensions (for their own counts)."""
        conds: list = [LISTED]
        if brand_id is not None and "brand" not in skip:
            conds.append(Car.brand_id == brand_id)
        if model_id is not None and "model" not in skip and "brand" not in skip:
            conds.append(Car.model_id == model_id)
        for name, column in (("category", Car.body_type), ("fuel", Car.fuel), ("transmission", Car.transmission),
                             ("drive", Car.drive), ("colour", Car.colour_group)):
            chosen = getattr(query, name)
            if chosen and name not in skip:
                conds.append(column.in_(chosen))
        if query.seats and "seats" not in skip:
            conds.append(Car.seats.in_([int(n) for n in query.seats]))
        if query.vat and "vat" not in skip:
            conds.append(Car.vat_deductible.is_(True))
        conds.extend(self._range_conditions(query))
        return conds

    @staticmethod
    def _range_conditions(query: CarQuery) -> list:
        """The filters that no facet counts: ranges, equipment (each feature required) and the text search."""
        conds: list = []
        if query.price_min is not None:
            conds.append(Car.price_cents >= query.price_min * 100)
        if query.price_max is not None:
            conds.append(Car.price_cents <= query.price_max * 100)
        if query.year_min is not None:
            conds.append(Car.model_year >= query.year_min)
        if query.year_max is not None:
            conds.append(Car.model_year <= query.year_max)
        if query.mileage_max is not None:
            conds.append(Car.mileage_km <= query.mileage_max)
        if query.reg_year_min is not None:
            conds.append(Car.first_registration >= date(query.reg_year_min, 1, 1))
        if query.reg_year_max is not None:
            conds.append(Car.first_registration < date(query.reg_year_max + 1, 1, 1))
        if query.power_min is not None:
            conds.append(Car.power_kw >= query.power_min)
        if query.power_max is not None:
            conds.append(Car.power_kw <= query.power_max)
        for code in query.equipment:
            # Aliased, so that only the car correlates (the equipment facet's own query reads these tables too).
            has, feature = aliased(CarFeature), aliased(Feature)
            conds.append(exists(select(has.car_id).join(feature, feature.id == has.feature_id)
                                .where(has.car_id == Car.id, feature.code == code)))
        if query.q:
            conds.append(search_condition(query.q))
        return conds

    # --- listing ------------------------------------------------------------------------------------------
    def _card_select(self) -> Select:
        return (
            select(
                Car.id, Car.slug, Car.title, Brand.name.label("brand"), CarModel.name.label("model"), Car.variant,
                Car.model_year, Car.mileage_km, Car.price_cents, Car.fuel, Car.transmission, Car.body_type,
                Car.status, Car.published_at,
            )
            .join(Brand, Brand.id == Car.brand_id)
            .join(CarModel, CarModel.id == Car.model_id)
        )

    async def list_cards(self, query: CarQuery, brand_id: int | None, model_id: int | None, *,
                         limit: int, offset: int = 0, cursor: Cursor | None = None) -> list[CarCard]:
        column, descending = SORT_COLUMNS[query.sort]
        conditions = self._conditions(query, brand_id, model_id)
        stmt = self._card_select()
        few = await self._few_matches(conditions) if query.q and query.sort != "newest" else None
        if few is not None:
            # Sort just the matching cars, found by id. Left alone, the planner walks the price (mileage, year)
            # index testing each car's search vector (de-TOASTing ~2 kB) until it has a page, and a word tied to
            # that order ("tesla" by lowest price) is then tested against most cars: 0.1-0.6 s on 100,000 cars.
            matching = func.unnest(bindparam("matching_ids", few, type_=ARRAY(BigInteger))) \
                .table_valued("id").render_derived("matching")
            stmt = stmt.join(matching, matching.c.id == Car.id)
        else:
            stmt = stmt.where(*conditions)
        if cursor is not None:
            value = cursor.value
            key = tuple_(column, Car.id)
            stmt = stmt.where(key < tuple_(value, cursor.id) if descending else key > tuple_(value, cursor.id))
        order = (column.desc(), Car.id.desc()) if descending else (column.asc(), Car.id.asc())
        stmt = stmt.order_by(*order).limit(limit)
        if cursor is None and offset:
            stmt = stmt.offset(offset)
        rows = (await self.session.execute(stmt)).all()
        return await self._with_main_images(rows)

    async def _few_matches(self, conditions: list) -> list[int] | None:
        """The ids of the cars matching `conditions` (a text search among them) when there are fewer than
        FEW_TEXT_MATCHES, else None. Read with bitmap index scans only, stopping at the limit."""
        await self.session.execute(text("SET LOCAL enable_seqscan = off"))
        await self.session.execute(text("SET LOCAL enable_indexscan = off"))
        try:
            ids = list(await self.session.scalars(select(Car.id).where(*conditions).limit(FEW_TEXT_MATCHES)))
        finally:
            await self.session.execute(text("SET LOCAL enable_seqscan TO DEFAULT"))
            await self.session.execute(text("SET LOCAL enable_indexscan TO DEFAULT"))
        return ids if len(ids) < FEW_TEXT_MATCHES else None

    async def _with_main_images(self, rows: Sequence) -> list[CarCard]:
        ids = [r.id for r in rows]
        images: dict[int, CarImage] = {}
        if ids:
            result = await self.session.scalars(
                select(CarImage).where(CarImage.car_id.in_(ids), CarImage.position == 0)
            )
            images = {img.car_id: img for img in result}
        cards = []
        for r in rows:
            img = images.get(r.id)
            cards.append(CarCard(
                id=r.id, slug=r.slug, title=r.title, brand=r.brand, model=r.model, variant=r.variant,
                model_year=r.model_year, mileage_km=r.mileage_km, price_cents=r.price_cents, fuel=r.fuel,
                transmission=r.transmission, body_type=r.body_type, status=r.status, published_at=r.published_at,
                image_path=img.path if img else None, image_width=img.width if img else None,
                image_height=img.height if img else None, image_alt_fi=img.alt_fi if img else "",
                image_alt_en=img.alt_en if img else "",
            ))
        return cards

    async def count(self, query: CarQuery, brand_id: int | None, model_id: int | None) -> int:
        """How many listed cars the query finds (the no-results block counts its alternatives with this)."""
        stmt = select(func.count()).select_from(Car).where(*self._conditions(query, brand_id, model_id))
        return int(await self.session.scalar(stmt) or 0)

    async def facets(self, query: CarQuery, brand_id: int | None, model_id: int | None) -> Facets:
        """Counts per facet value, each given all the *other* filters.

        Three grouped scans: the six vocabulary dimensions (an index-only scan of ix_cars_listed_facets while no
        colour, seats, VAT or equipment filter is set), colour/seats/VAT, and equipment. The grouped rows (a few
        thousand at most) are then counted per dimension here; equipment is counted among the matching cars
        (its filters are ANDed: a count says how many would remain with that item required too).
        """
        cols = (Car.brand_id, Car.model_id, Car.body_type, Car.fuel, Car.transmission, Car.drive)
        main = (select(*cols, func.count().label("n"))
                .where(*self._conditions(query, None, None, skip=FACET_DIMENSIONS)).group_by(*cols))
        extra_cols = (Car.colour_group, Car.seats, Car.vat_deductible)
        extra = (select(*extra_cols, func.count().label("n"))
                 .where(*self._conditions(query, brand_id, model_id, skip=EXTRA_DIMENSIONS)).group_by(*extra_cols))
        equipment = (select(Feature.code, func.count().label("n"))
                     .select_from(CarFeature).join(Feature, Feature.id == CarFeature.feature_id)
                     .join(Car, Car.id == CarFeature.car_id)
                     .where(*self._conditions(query, brand_id, model_id)).group_by(Feature.code))
        if query.q:
            # The planner prices a sequential scan without the cost of de-TOASTing each row's ~2 kB search
            # vector, so for a common word it picks one that is 5-10x slower than the GIN bitmap scan
            # (measured on 100,000 cars: ~1.5 s against ~0.2 s). Rule it out for these statements.
            await self.session.execute(text("SET LOCAL enable_seqscan = off"))
        try:
            rows = (await self.session.execute(main)).all()
            extra_rows = [(colour, str(seats) if seats else None, vat, n)
                          for colour, seats, vat, n in (await self.session.execute(extra)).all()]
            equipment_counts = {code: n for code, n in (await self.session.execute(equipment)).all()}
        finally:
            if query.q:
                await self.session.execute(text("SET LOCAL enable_seqscan TO DEFAULT"))
        chosen = {
            "brand": {brand_id} if brand_id is not None else None,
            "model": {model_id} if model_id is not None else None,
            "category": set(query.category) or None, "fuel": set(query.fuel) or None,
            "transmission": set(query.transmission) or None, "drive": set(query.drive) or None,
            "colour": set(query.colour) or None, "seats": set(query.seats) or None,
            "vat": {True} if query.vat else None,
        }
        facets = count_facets(rows, chosen)
        extra_facets = count_facets(extra_rows, chosen, EXTRA_DIMENSIONS)
        return Facets(total=facets.total,
                      counts=facets.counts | extra_facets.counts | {"equipment": equipment_counts})

    # --- single car ---------------------------------------------------------------------------------------
    async def get_car(self, car_id: int) -> Car | None:
        stmt = (
            select(Car)
            .where(Car.id == car_id)
            .options(selectinload(Car.brand), selectinload(Car.model), selectinload(Car.images),
                     selectinload(Car.features))
        )
        return await self.session.scalar(stmt)

    async def price_history(self, car_id: int) -> list[CarPriceHistory]:
        """Every price the car has had, newest first (the car page and the admin's car form show them)."""
        return list((await self.session.scalars(
            select(CarPriceHistory).where(CarPriceHistory.car_id == car_id)
            .order_by(CarPriceHistory.changed_at.desc(), CarPriceHistory.id.desc()))).all())

    async def latest_price_drop(self, car_id: int) -> int | None:
        """How much the price fell in the newest change within 60 days, if it fell."""
        row = (await self.session.execute(
            select(CarPriceHistory.old_price_cents, CarPriceHistory.new_price_cents)
            .where(CarPriceHistory.car_id == car_id,
                   CarPriceHistory.changed_at > func.now() - text("interval '60 days'"))
            .order_by(CarPriceHistory.changed_at.desc(), CarPriceHistory.id.desc())
            .limit(1)
        )).first()
        if row and row.old_price_cents is not None and row.new_price_cents < row.old_price_cents:
            return row.old_price_cents - row.new_price_cents
        return None

    async def related(self, car: Car, limit: int = 4) -> list[CarCard]:
        """Same brand or body type within ±35 % of the price; never the car itself, sold or deleted cars.

        Same brand first, then nearest price. Built from four short index scans (same brand / other brands of
        the same body type, at-or-above / below the price, `limit` rows each): the nearest `limit` cars of
        those are the nearest of all candidates, without reading every candidate (tens of thousands for a
        common car: ~50-450 ms on 100,000 cars, against ~1 ms).
        """
        price = car.price_cents
        low, high = int(price * 0.65), int(price * 1.35)
        legs = []
        for group in (Car.brand_id == car.brand_id,
                      and_(Car.brand_id != car.brand_id, Car.body_type == car.body_type)):
            base = select(Car.id).where(LISTED, Car.id != car.id, group)
            legs.append(base.where(Car.price_cents.between(price, high))
                        .order_by(Car.price_cents.asc(), Car.id.asc()).limit(limit))
            legs.append(base.where(Car.price_cents >= low, Car.price_cents < price)
                        .order_by(Car.price_cents.desc(), Car.id.asc()).limit(limit))
        nearest = union_all(*legs).subquery("nearest")
        stmt = (
            self._card_select()
            .join(nearest, nearest.c.id == Car.id)
            .order_by((Car.brand_id == car.brand_id).desc(), func.abs(Car.price_cents - price), Car.id)
            .limit(limit)
        )
        return await self._with_main_images((await self.session.execute(stmt)).all())

    async def featured(self, limit: int = 6) -> list[CarCard]:
        stmt = (
            self._card_select()
            # A plain `featured`, not `featured IS TRUE`: the planner can match only the former to the partial
            # index ix_cars_featured (~0.1 ms against ~10-125 ms walking the newest-first index on 100,000 cars).
            .where(LISTED, Car.featured)
            .order_by(Car.published_at.desc(), Car.id.desc())
            .limit(limit)
        )
        return await self._with_main_images((await self.session.execute(stmt)).all())

    async def listed_brand_ids(self) -> list[int]:
        """Brands that have a car for sale now (the home page's quick search offers only these)."""
        return list((await self.session.scalars(select(Car.brand_id).where(LISTED).distinct())).all())

    async def counts_by_body_type(self) -> dict[str, int]:
        rows = await self.session.execute(select(Car.body_type, func.count()).where(LISTED).group_by(Car.body_type))
        return {body: n for body, n in rows.all()}

    async def sitemap_entries(self) -> list[tuple[int, str, datetime]]:
        """Every public car URL: listed and sold cars (a sold car keeps its page)."""
        rows = await self.session.execute(
            select(Car.id, Car.slug, Car.updated_at)
            .where(Car.deleted_at.is_(None), Car.status != "draft")
            .order_by(Car.id)
        )
        return [tuple(r) for r in rows.all()]

    # --- analytics writes ---------------------------------------------------------------------------------
    async def add_views(self, counts: dict[int, int], day: date) -> None:
        """Add buffered view counts; ids of cars deleted meanwhile are skipped."""
        if not counts:
            return
        await self.session.execute(
            text(
                "INSERT INTO car_views (car_id, view_date, views) "
                "SELECT c.id, :day, v.n FROM unnest(CAST(:ids AS bigint[]), CAST(:ns AS int[])) AS v(id, n) "
                "JOIN cars c ON c.id = v.id "
                "ON CONFLICT (car_id, view_date) DO UPDATE SET views = car_views.views + EXCLUDED.views"
            ),
            {"day": day, "ids": list(counts), "ns": list(counts.values())},
        )

    async def add_searches(self, records: list[dict]) -> None:
        from kroi.db.models import SearchQuery

        self.session.add_all([SearchQuery(query=r["q"], filters=r["filters"], results_count=r["results"],
                                          language=r["lang"]) for r in records])

    async def views_of(self, car_id: int) -> int:
        return int(await self.session.scalar(
            select(func.coalesce(func.sum(literal_column("views")), 0)).select_from(text("car_views"))
            .where(text("car_id = :id")).params(id=car_id)
        ) or 0)


@dataclass(frozen=True)
class StaffCarRow:
    id: int
    title: str
    slug: str
    registration_number: str | None
    model_year: int
    mileage_km: int
    price_cents: int
    status: str
    featured: bool
    deleted_at: datetime | None
    updated_at: datetime
    images: int


STAFF_SORTS = {
    "updated": (Car.updated_at.desc(), Car.id.desc()),
    "price_asc": (Car.price_cents.asc(), Car.id.asc()),
    "price_desc": (Car.price_cents.desc(), Car.id.desc()),
    "year_desc": (Car.model_year.desc(), Car.id.desc()),
    "title": (Car.title.asc(), Car.id.asc()),
}


class StaffCarRepository:
    """Queries of the admin car list (every status, the trash too)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, *, q: str | None, status: str | None, brand_id: int | None, trash: bool, sort: str,
                   limit: int, offset: int) -> tuple[list[StaffCarRow], int]:
        conds = [Car.deleted_at.is_not(None) if trash else Car.deleted_at.is_(None)]
        if status:
            conds.append(Car.status == status)
        if brand_id:
            conds.append(Car.brand_id == brand_id)
        if q:
            like = f"%{q.replace('%', '').replace('_', '')}%"
            conds.append(or_(Car.title.ilike(like), Car.registration_number.ilike(like), Car.vin.ilike(like),
                             search_condition(q)))
        total = int(await self.session.scalar(select(func.count()).select_from(Car).where(*conds)) or 0)
        image_count = (select(func.count()).select_from(CarImage).where(CarImage.car_id == Car.id)
                       .correlate(Car).scalar_subquery())
        rows = (await self.session.execute(
            select(Car.id, Car.title, Car.slug, Car.registration_number, Car.model_year, Car.mileage_km,
                   Car.price_cents, Car.status, Car.featured, Car.deleted_at, Car.updated_at,
                   image_count.label("images"))
            .where(*conds).order_by(*STAFF_SORTS.get(sort, STAFF_SORTS["updated"])).limit(limit).offset(offset)
        )).all()
        return [StaffCarRow(**r._asdict()) for r in rows], total

    async def price_history(self, car_id: int) -> list[CarPriceHistory]:
        return await InventoryRepository(self.session).price_history(car_id)

    async def features(self) -> list:
        from kroi.db.models import Feature

        return list((await self.session.scalars(select(Feature).order_by(Feature.category, Feature.name_fi))).all())
