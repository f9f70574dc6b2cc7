"""JSON API: /api/cars (list with the /cars filters, get, create, update, delete) and /api/leads.

Authenticated by `Authorization: Bearer <token>` only (never cookies, so no CSRF); the same roles as the
admin area; errors are application/problem+json.
"""
from __future__ import annotations

from datetime import date, datetime
from math import ceil
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import JSONBody, Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kroi.api.tokens import TokenService
from kroi.db.models import Car, Lead
from kroi.db.models.inventory import BODY_TYPES, DRIVES, FUELS, STATUSES, TRANSMISSIONS
from kroi.db.models.leads import LEAD_STATUSES, LEAD_TYPES, PRIORITIES
from kroi.inventory.editing import CarEditService, TransitionError
from kroi.inventory.schemas import validate_car
from kroi.inventory.search import SORTS, parse_query
from kroi.inventory.services import InventoryService
from kroi.leads.controllers import client_ip
from kroi.leads.pipeline import LOST_REASONS, LeadFilters, LeadPipeline, PipelineError
from kroi.security.auth import has_role
from kroi.web import i18n

MAX_PAGE_SIZE = 100
SECURITY = [{"BearerToken": []}]
SECURITY_COMPONENTS = Components(security_schemes={
    "BearerToken": SecurityScheme(type="http", scheme="bearer", description="An API token created in the admin"),
})


class Problem(Exception):
    """An error answered as application/problem+json."""

    def __init__(self, status: int, title: str, detail: str | None = None, errors: dict[str, str] | None = None):
        super().__init__(title)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors


def problem_response(request: Request, exc: Problem) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": exc.title, "status": exc.status}
    if exc.detail:
        body["detail"] = exc.detail
    if exc.errors:
        body["errors"] = exc.errors
    return Response(body, status_code=exc.status, media_type="application/problem+json")


async def token_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("a Bearer API token is required")
    async with connection.app.state.kroi.sessionmaker() as session:
        user = await TokenService(session).user_for(token.strip())
    if user is None:
        raise NotAuthorizedException("invalid or revoked API token")
    if not has_role(user, handler.opt.get("role", "viewer")):
        raise PermissionDeniedException("your role does not allow this")
    connection.state.user = user


# --- shapes ---------------------------------------------------------------------------------------------
class CarOut(msgspec.Struct):
    id: int
    url: str
    title: str
    brand: str
    model: str
    variant: str
    model_year: int
    first_registration: date | None
    price_cents: int
    vat_deductible: bool
    mileage_km: int
    fuel: str
    transmission: str
    drive: str
    body_type: str
    power_kw: int | None
    displacement_cc: int | None
    colour: str
    doors: int | None
    seats: int | None
    registration_number: str | None
    vin: str | None
    description_fi: str
    description_en: str
    status: str
    featured: bool
    published_at: datetime | None
    sold_at: datetime | None
    updated_at: datetime
    features: list[str]
    images: list[str]


class CarPage(msgspec.Struct):
    items: list[CarOut]
    total: int
    page: int
    pages: int


Fuel = Literal["petrol", "diesel", "hybrid", "plug_in_hybrid", "electric", "gas"]
Transmission = Literal["manual", "automatic"]
Drive = Literal["fwd", "rwd", "awd"]
Body = Literal["hatchback", "sedan", "estate", "suv", "mpv", "coupe", "convertible", "van", "pickup"]
Status = Literal["draft", "available", "reserved", "sold"]
Colour = Literal["white", "black", "grey", "silver", "blue", "red", "green", "brown", "beige", "yellow", "orange",
                 "other"]
Seats = Literal["2", "3", "4", "5", "6", "7", "8", "9"]
Short = Annotated[str, msgspec.Meta(max_length=120)]
LongText = Annotated[str, msgspec.Meta(max_length=20000)]


class CarIn(msgspec.Struct, forbid_unknown_fields=True):
    brand: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    model: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    model_year: Annotated[int, msgspec.Meta(ge=1950, le=2100)]
    price_cents: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)]
    mileage_km: Annotated[int, msgspec.Meta(ge=0, le=4_999_999)]
    fuel: Fuel
    transmission: Transmission
    drive: Drive
    body_type: Body
    variant: Short = ""
    status: Status = "draft"
    first_registration: date | None = None
    vat_deductible: bool = False
    power_kw: Annotated[int, msgspec.Meta(ge=1, le=2000)] | None = None
    displacement_cc: Annotated[int, msgspec.Meta(ge=50, le=10000)] | None = None
    colour: Annotated[str, msgspec.Meta(max_length=60)] = ""
    doors: Annotated[int, msgspec.Meta(ge=1, le=7)] | None = None
    seats: Annotated[int, msgspec.Meta(ge=1, le=12)] | None = None
    registration_number: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    vin: Annotated[str, msgspec.Meta(max_length=17)] | None = None
    description_fi: LongText = ""
    description_en: LongText = ""
    featured: bool = False
    feature_ids: Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]], msgspec.Meta(max_length=200)] = []


class CarPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change."""

    brand: Annotated[str, msgspec.Meta(min_length=1, max_length=60)] | None = None
    model: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] | None = None
    model_year: Annotated[int, msgspec.Meta(ge=1950, le=2100)] | None = None
    price_cents: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)] | None = None
    mileage_km: Annotated[int, msgspec.Meta(ge=0, le=4_999_999)] | None = None
    fuel: Fuel | None = None
    transmission: Transmission | None = None
    drive: Drive | None = None
    body_type: Body | None = None
    variant: Short | None = None
    status: Status | None = None
    vat_deductible: bool | None = None
    colour: Annotated[str, msgspec.Meta(max_length=60)] | None = None
    registration_number: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    vin: Annotated[str, msgspec.Meta(max_length=17)] | None = None
    description_fi: LongText | None = None
    description_en: LongText | None = None
    featured: bool | None = None


class LeadOut(msgspec.Struct):
    id: int
    type: str
    status: str
    lost_reason: str | None
    score: int
    priority: str
    name: str
    email: str
    phone: str | None
    message: str
    language: str
    car_id: int | None
    car_price_cents: int | None
    assignee_id: int | None
    details: dict[str, Any]
    source_page: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    created_at: datetime
    updated_at: datetime


class LeadPage(msgspec.Struct):
    items: list[LeadOut]
    total: int
    page: int
    pages: int


class LeadStatusIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["new", "contacted", "qualified", "negotiating", "won", "lost"]
    lost_reason: Literal["price", "bought_elsewhere", "financing_declined", "no_response", "car_sold",
                         "not_interested", "other"] | None = None


def car_out(car: Car) -> CarOut:
    return CarOut(
        id=car.id, url=f"/cars/{car.id}-{car.slug}", title=car.title, brand=car.brand.name, model=car.model.name,
        variant=car.variant, model_year=car.model_year, first_registration=car.first_registration,
        price_cents=car.price_cents, vat_deductible=car.vat_deductible, mileage_km=car.mileage_km, fuel=car.fuel,
        transmission=car.transmission, drive=car.drive, body_type=car.body_type, power_kw=car.power_kw,
        displacement_cc=car.displacement_cc, colour=car.colour, doors=car.doors, seats=car.seats,
        registration_number=car.registration_number, vin=car.vin, description_fi=car.description_fi,
        description_en=car.description_en, status=car.status, featured=car.featured,
        published_at=car.published_at, sold_at=car.sold_at, updated_at=car.updated_at,
        features=sorted(f.code for f in car.features), images=[img.path for img in car.images])


def lead_out(lead: Lead) -> LeadOut:
    return LeadOut(**{f: getattr(lead, f) for f in LeadOut.__struct_fields__})


async def _cars(session: AsyncSession, car_ids: list[int], *, include_deleted: bool = False) -> list[Car]:
    """The cars with their brand, model, features and images, in the order of car_ids, in a fixed number of
    statements however many there are (one per relationship, not one set per car)."""
    if not car_ids:
        return []
    rows = await session.scalars(select(Car).where(Car.id.in_(car_ids)).options(
        selectinload(Car.brand), selectinload(Car.model), selectinload(Car.features), selectinload(Car.images))
        .execution_options(populate_existing=True))
    found = {car.id: car for car in rows if include_deleted or car.deleted_at is None}
    return [found[i] for i in car_ids if i in found]


async def _car(session: AsyncSession, car_id: int, *, include_deleted: bool = False) -> Car:
    cars = await _cars(session, [car_id], include_deleted=include_deleted)
    if not cars:
        raise Problem(404, "Not Found", f"no car {car_id}")
    return cars[0]


# --- cars -----------------------------------------------------------------------------------------------
@get("/cars", name="api:cars", opt={"role": "viewer"}, security=SECURITY, summary="Cars for sale, filtered like /cars")
async def api_list_cars(
    request: Request, db_session: NamedDependency[AsyncSession],
    page_size: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE, required=False)] = 24,
    brand: Annotated[str | None, Parameter(max_length=80, required=False)] = None,
    model: Annotated[str | None, Parameter(max_length=80, required=False)] = None,
    category: Annotated[list[Body] | None, Parameter(required=False)] = None,
    fuel: Annotated[list[Fuel] | None, Parameter(required=False)] = None,
    transmission: Annotated[list[Transmission] | None, Parameter(required=False)] = None,
    drive: Annotated[list[Drive] | None, Parameter(required=False)] = None,
    price_min: Annotated[int | None, Parameter(ge=0, le=10_000_000, required=False)] = None,
    price_max: Annotated[int | None, Parameter(ge=0, le=10_000_000, required=False)] = None,
    year_min: Annotated[int | None, Parameter(ge=1950, le=2100, required=False)] = None,
    year_max: Annotated[int | None, Parameter(ge=1950, le=2100, required=False)] = None,
    mileage_max: Annotated[int | None, Parameter(ge=0, le=5_000_000, required=False)] = None,
    colour: Annotated[list[Colour] | None, Parameter(required=False)] = None,
    seats: Annotated[list[Seats] | None, Parameter(required=False)] = None,
    equipment: Annotated[list[str] | None, Parameter(required=False, description="feature codes, all required",
                                                     max_items=12)] = None,
    vat: Annotated[bool | None, Parameter(required=False, description="VAT-deductible cars only")] = None,
    power_min: Annotated[int | None, Parameter(ge=0, le=2000, required=False, description="kW")] = None,
    power_max: Annotated[int | None, Parameter(ge=0, le=2000, required=False, description="kW")] = None,
    reg_year_min: Annotated[int | None, Parameter(ge=1950, le=2100, required=False)] = None,
    reg_year_max: Annotated[int | None, Parameter(ge=1950, le=2100, required=False)] = None,
    q: Annotated[str | None, Parameter(max_length=100, required=False)] = None,
    sort: Annotated[Literal["newest", "price_asc", "price_desc", "mileage_asc", "year_desc"],
                    Parameter(required=False)] = "newest",
    page: Annotated[int, Parameter(ge=1, le=10_000, required=False)] = 1,
) -> CarPage:
    raw = {k: request.query_params.getall(k) for k in request.query_params.keys()}
    query, notes = parse_query(raw)
    svc = InventoryService.of(request.app.state.kroi, db_session)
    resolved = await svc.resolve(query, notes, await svc.vocabulary(None))
    facets = await svc.facets(resolved)
    listing = await svc.listing(resolved, facets.total, page_size)
    cars = await _cars(db_session, [c.id for c in listing.cards])
    return CarPage(items=[car_out(c) for c in cars], total=listing.total, page=listing.page, pages=listing.pages)


@get("/cars/{car_id:int}", name="api:car", opt={"role": "viewer"}, security=SECURITY)
async def api_get_car(db_session: NamedDependency[AsyncSession],
                      car_id: Annotated[int, Parameter(ge=1, le=2**62)]) -> CarOut:
    return car_out(await _car(db_session, car_id))


def _form_data(values: dict[str, Any]) -> dict[str, str]:
    """API values in the shape the shared car validation reads (the admin form's)."""
    data = {k: ("" if v is None else str(v)) for k, v in values.items() if k not in ("price_cents", "feature_ids")}
    data["price"] = f"{values['price_cents'] / 100:.2f}"
    for flag in ("vat_deductible", "featured"):
        data[flag] = "on" if values.get(flag) else ""
    return data


async def _save(request: Request, session: AsyncSession, car_id: int | None, values: dict[str, Any],
                feature_ids: list[int]) -> Car:
    clean, errors = validate_car(_form_data(values), date.today())
    if clean is None:
        raise Problem(422, "Unprocessable Entity", "invalid car",
                      {k: i18n.translate("en", v) for k, v in errors.items()})
    try:
        saved = await CarEditService(session, request.app.state.kroi.cache).save(
            car_id, clean, feature_ids, actor_id=request.state.user.id, ip=client_ip(request))
    except TransitionError as exc:
        raise Problem(409, "Conflict", f"status cannot change {exc.current} -> {exc.wanted}") from None
    except Exception as exc:
        from sqlalchemy.exc import IntegrityError

        if isinstance(exc, IntegrityError):
            raise Problem(409, "Conflict", "registration number or VIN already used by another car") from None
        raise
    return await _car(session, saved.id)


@post("/cars", name="api:car_create", opt={"role": "sales"}, security=SECURITY, status_code=201)
async def api_create_car(request: Request, db_session: NamedDependency[AsyncSession], data: JSONBody[CarIn]) -> CarOut:
    values = msgspec.structs.asdict(data)
    return car_out(await _save(request, db_session, None, values, values.pop("feature_ids")))


@patch("/cars/{car_id:int}", name="api:car_update", opt={"role": "sales"}, security=SECURITY)
async def api_update_car(request: Request, db_session: NamedDependency[AsyncSession],
                         car_id: Annotated[int, Parameter(ge=1, le=2**62)], data: JSONBody[CarPatch]) -> CarOut:
    car = await _car(db_session, car_id)
    current = {f: getattr(car, f) for f in ("model_year", "price_cents", "mileage_km", "fuel", "transmission",
                                           "drive", "body_type", "variant", "status", "first_registration",
                                           "vat_deductible", "power_kw", "displacement_cc", "colour", "doors",
                                           "seats", "registration_number", "vin", "description_fi",
                                           "description_en", "featured")}
    current |= {"brand": car.brand.name, "model": car.model.name}
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    return car_out(await _save(request, db_session, car_id, current | changes, [f.id for f in car.features]))


@delete("/cars/{car_id:int}", name="api:car_delete", opt={"role": "sales"}, security=SECURITY, status_code=204)
async def api_delete_car(request: Request, db_session: NamedDependency[AsyncSession],
                         car_id: Annotated[int, Parameter(ge=1, le=2**62)]) -> None:
    await _car(db_session, car_id)
    await CarEditService(db_session, request.app.state.kroi.cache).delete(
        [car_id], actor_id=request.state.user.id, ip=client_ip(request))


# --- leads ----------------------------------------------------------------------------------------------
@get("/leads", name="api:leads", opt={"role": "viewer"}, security=SECURITY)
async def api_list_leads(
    request: Request, db_session: NamedDependency[AsyncSession],
    status: Annotated[Literal["new", "contacted", "qualified", "negotiating", "won", "lost"] | None,
                      Parameter(required=False)] = None,
    type: Annotated[Literal["general", "car_inquiry", "test_drive", "trade_in", "financing"] | None,
                    Parameter(required=False)] = None,
    priority: Annotated[Literal["high", "normal", "low"] | None, Parameter(required=False)] = None,
    assignee: Annotated[int | None, Parameter(ge=0, le=2**31, required=False)] = None,
    car: Annotated[int | None, Parameter(ge=1, le=2**62, required=False)] = None,
    page: Annotated[int, Parameter(ge=1, le=10_000, required=False)] = 1,
    page_size: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE, required=False)] = 50,
) -> LeadPage:
    f = LeadFilters(status=status, type=type, priority=priority, assignee=assignee, car_id=car)
    rows, total = await LeadPipeline(db_session).page(f, 4, page_size, (page - 1) * page_size)
    return LeadPage(items=[lead_out(x) for x in rows], total=total, page=page,
                    pages=max(1, ceil(total / page_size)))


@get("/leads/{lead_id:int}", name="api:lead", opt={"role": "viewer"}, security=SECURITY)
async def api_get_lead(db_session: NamedDependency[AsyncSession],
                       lead_id: Annotated[int, Parameter(ge=1, le=2**62)]) -> LeadOut:
    lead = await LeadPipeline(db_session).get(lead_id)
    if lead is None:
        raise Problem(404, "Not Found", f"no lead {lead_id}")
    return lead_out(lead)


@patch("/leads/{lead_id:int}", name="api:lead_update", opt={"role": "sales"}, security=SECURITY)
async def api_update_lead(request: Request, db_session: NamedDependency[AsyncSession],
                          lead_id: Annotated[int, Parameter(ge=1, le=2**62)], data: JSONBody[LeadStatusIn]) -> LeadOut:
    pipeline = LeadPipeline(db_session)
    try:
        lead = await pipeline.change_status(lead_id, data.status, data.lost_reason, actor_id=request.state.user.id,
                                            ip=client_ip(request))
    except LookupError:
        raise Problem(404, "Not Found", f"no lead {lead_id}") from None
    except PipelineError as exc:
        await db_session.rollback()
        raise Problem(409, "Conflict", i18n.translate("en", exc.key)) from None
    await db_session.refresh(lead)  # updated_at is set by the database: load it here, not lazily (async)
    return lead_out(lead)


ROUTER = Router(path="/api", guards=[token_guard], route_handlers=[
    api_list_cars, api_get_car, api_create_car, api_update_car, api_delete_car,
    api_list_leads, api_get_lead, api_update_lead], exception_handlers={Problem: problem_response}, tags=["api"])
