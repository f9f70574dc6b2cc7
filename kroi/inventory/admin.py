"""Admin pages for cars: list with search, filters, sort and bulk actions; create/edit; trash and restore."""
from __future__ import annotations

from datetime import date
from math import ceil
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.datastructures import UploadFile
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.admin.controllers import render
from kroi.admin.guards import staff_guard
from kroi.db.models.inventory import BODY_TYPES, DRIVES, FUELS, STATUSES, TRANSMISSIONS
from kroi.inventory import images
from kroi.inventory.editing import TRANSITIONS, CarEditService, CarImageService, TransitionError
from kroi.inventory.repositories import STAFF_SORTS, InventoryRepository, StaffCarRepository
from kroi.inventory.schemas import validate_car
from kroi.leads.controllers import client_ip
from kroi.parsing import clean_text, parse_int, parse_ints
from kroi.web import guard, i18n
from kroi.web.context import kroi, language
from kroi.web.render import html, wants_fragment

PAGE = 50
BULK = {"publish": "available", "reserve": "reserved", "sell": "sold", "draft": "draft"}
VIEW, EDIT = {"role": "viewer"}, {"role": "sales"}


def _list_args(p: Mapping[str, str]) -> dict[str, Any]:
    status = p.get("status") if p.get("status") in STATUSES else None
    sort = p.get("sort") if p.get("sort") in STAFF_SORTS else "updated"
    page = parse_int(p.get("page"), 1, 9999) or 1
    brand = parse_int(p.get("brand"))
    return {"q": clean_text(p.get("q") or "")[:100] or None, "status": status, "brand_id": brand,
            "trash": p.get("trash") == "1", "sort": sort, "page": page}


async def _table_context(session: AsyncSession, args: dict[str, Any]) -> dict[str, Any]:
    rows, total = await StaffCarRepository(session).page(
        q=args["q"], status=args["status"], brand_id=args["brand_id"], trash=args["trash"], sort=args["sort"],
        limit=PAGE, offset=(args["page"] - 1) * PAGE)
    query = {k: v for k, v in (("q", args["q"]), ("status", args["status"]), ("brand", args["brand_id"]),
                               ("trash", "1" if args["trash"] else None), ("sort", args["sort"])) if v}
    return {"rows": rows, "total": total, "args": args, "pages": max(1, ceil(total / PAGE)),
            "page_url": lambda n: "/admin/cars?" + urlencode(query | {"page": n}),
            "brands": await InventoryRepository(session).brands(), "statuses": STATUSES, "sorts": STAFF_SORTS}


@get("/", name="admin:cars", opt=VIEW)
async def list_cars(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    ctx = await _table_context(db_session, _list_args(request.query_params))
    if wants_fragment(request):
        return render(request, "admin/cars/_table.html", **ctx)
    return render(request, "admin/cars/list.html", **ctx)


@post("/bulk", name="admin:cars_bulk", opt=EDIT, status_code=200)
async def bulk(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    form = await request.form()
    ids = parse_ints(form.getall("ids", []))
    action = str(form.get("action") or "")
    editor = CarEditService(db_session, kroi(request).cache)
    actor, ip = request.state.user.id, client_ip(request)
    if action in BULK:
        changed = await editor.set_status(ids, BULK[action], actor_id=actor, ip=ip, strict=False)
    elif action in ("feature", "unfeature"):
        changed = await editor.set_featured(ids, action == "feature", actor_id=actor, ip=ip)
    elif action == "delete":
        changed = await editor.delete(ids, actor_id=actor, ip=ip)
    elif action == "restore":
        changed = await editor.restore(ids, actor_id=actor, ip=ip)
    else:
        changed = []
    back = str(form.get("back") or "/admin/cars")
    back = back if back.startswith("/admin/cars") else "/admin/cars"
    if wants_fragment(request):
        ctx = await _table_context(db_session, _list_args(dict(parse_qsl(urlsplit(back).query))))
        return render(request, "admin/cars/_table.html", message=("admin.cars.bulk_done", len(changed)), **ctx)
    return Redirect(back, status_code=303)


def _form_context(car: Any, values: dict[str, str], errors: dict[str, str], features: list, chosen: set[int],
                  history: list, **extra: Any) -> dict[str, Any]:
    return {"car": car, "values": values, "errors": errors, "features": features, "chosen": chosen,
            "history": history, "choices": {"fuel": FUELS, "transmission": TRANSMISSIONS, "drive": DRIVES,
                                             "body_type": BODY_TYPES},
            "statuses": [s for s in STATUSES if car is None and s in ("draft", "available")
                         or car is not None and s in TRANSITIONS[car.status]], **extra}


def _values_of(car: Any) -> dict[str, str]:
    return {
        "brand": car.brand.name if car else "", "model": car.model.name if car else "",
        **{f: "" if getattr(car, f) is None else str(getattr(car, f)) for f in (
            "variant", "model_year", "mileage_km", "fuel", "transmission", "drive", "body_type", "power_kw",
            "displacement_cc", "colour", "doors", "seats", "registration_number", "vin", "description_fi",
            "description_en", "status", "first_registration")},
        "price": f"{car.price_cents / 100:.2f}".removesuffix(".00"),
        "vat_deductible": "on" if car.vat_deductible else "", "featured": "on" if car.featured else "",
    } if car else {"status": "draft", "fuel": "petrol", "transmission": "manual", "drive": "fwd",
                   "body_type": "hatchback"}


async def _load(session: AsyncSession, car_id: int):  # noqa: ANN202
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from kroi.db.models import Car

    car = await session.scalar(select(Car).where(Car.id == car_id).options(
        selectinload(Car.brand), selectinload(Car.model), selectinload(Car.features), selectinload(Car.images))
        .execution_options(populate_existing=True))  # fresh after a write earlier in the same request
    if car is None:
        raise NotFoundException()
    return car


@get("/new", name="admin:car_new", opt=EDIT)
async def new_car(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    features = await StaffCarRepository(db_session).features()
    return render(request, "admin/cars/form.html", **_form_context(None, _values_of(None), {}, features, set(), []))


@get("/{car_id:int}", name="admin:car", opt=VIEW)
async def edit_car(request: Request, db_session: NamedDependency[AsyncSession], car_id: FromPath[int]) -> Response:
    car = await _load(db_session, car_id)
    repo = StaffCarRepository(db_session)
    return render(request, "admin/cars/form.html", **_form_context(
        car, _values_of(car), {}, await repo.features(), {f.id for f in car.features},
        await repo.price_history(car_id), saved=request.query_params.get("saved") == "1"))


async def _save(request: Request, session: AsyncSession, car_id: int | None) -> Response:
    form = await request.form()
    data = {k: str(form.get(k) or "") for k in form.keys() if k != "_csrf_token"}
    chosen = set(parse_ints(form.getall("features", [])))
    car = await _load(session, car_id) if car_id else None
    values, errors = validate_car(data, date.today())
    if values is not None:
        try:
            saved = await CarEditService(session, kroi(request).cache).save(
                car_id, values, sorted(chosen), actor_id=request.state.user.id, ip=client_ip(request))
        except TransitionError:
            errors = {"status": "car.error.transition"}
        except Exception as exc:  # a unique registration number or VIN already in use
            from sqlalchemy.exc import IntegrityError

            if not isinstance(exc, IntegrityError):
                raise
            text = str(exc.orig)
            errors = {"vin" if "vin" in text else "registration_number": "car.error.duplicate"}
        else:
            target = f"/admin/cars/{saved.id}?saved=1"
            if wants_fragment(request):
                return Response("", status_code=200, headers={"HX-Location": target})
            return Redirect(target, status_code=303)
    car = await _load(session, car_id) if car_id else None
    repo = StaffCarRepository(session)
    return render(request, "admin/cars/form.html", status_code=422, **_form_context(
        car, data, errors, await repo.features(), chosen, await repo.price_history(car_id) if car_id else []))


@post("/", name="admin:car_create", opt=EDIT, status_code=200)
async def create_car(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    return await _save(request, db_session, None)


@post("/{car_id:int}", name="admin:car_update", opt=EDIT, status_code=200)
async def update_car(request: Request, db_session: NamedDependency[AsyncSession],
                     car_id: FromPath[int]) -> Response:
    await _load(db_session, car_id)
    return await _save(request, db_session, car_id)


@post("/validate", name="admin:car_validate", opt=EDIT, status_code=200)
async def validate_field(request: Request) -> Response:
    """One field's error, checked when the field loses focus."""
    form = await request.form()
    data = {k: str(form.get(k) or "") for k in form.keys()}
    name = data.get("field", "")
    _, errors = validate_car(data, date.today())
    if not data.get(name if name != "price" else "price"):
        errors.pop(name, None)
    return render(request, "admin/cars/_error.html", name=name, errors=errors)


async def _images_response(request: Request, session: AsyncSession, car_id: int,
                           message: str | None = None, errors: list[str] | None = None,
                           status_code: int = 200) -> Response:
    car = await _load(session, car_id)
    ctx = {"car": car, "images": car.images, "image_message": message, "image_errors": errors or []}
    if wants_fragment(request):
        return render(request, "admin/cars/_images.html", status_code=status_code, **ctx)
    return Redirect(f"/admin/cars/{car_id}#images", status_code=303)


def _images(request: Request, session: AsyncSession) -> CarImageService:
    k = kroi(request)
    return CarImageService(session, k.cache, k.storage)


# The size limit is the input guard's (kroi/web/guard.py), from KROI_UPLOAD_MAX_MB.
@post("/{car_id:int}/images", name="admin:car_images_add", opt={**EDIT, "body": guard.UPLOAD}, status_code=200,
      request_max_body_size=None)
async def add_images(request: Request, db_session: NamedDependency[AsyncSession], car_id: FromPath[int]) -> Response:
    """Upload one or many photos; each is checked and converted on its own, so one bad file spares the rest."""
    k = kroi(request)
    car = await _load(db_session, car_id)
    form = await request.form()
    uploads = [f for f in form.getall("images", []) if isinstance(f, UploadFile)][:30]
    processed, errors = [], []
    for upload in uploads:
        data = await upload.read(k.settings.upload_max_mb * 1024 * 1024 + 1)
        try:
            processed.append(await images.process(data, car_id, k.settings.upload_max_mb,
                                                  k.settings.upload_max_megapixels))
        except images.ImageRejected as exc:
            errors.append(f"{upload.filename}: {i18n.translate(language(request), exc.key, mb=k.settings.upload_max_mb)}")
    if processed:
        await _images(request, db_session).add(car_id, processed, car.title, actor_id=request.state.user.id,
                                               ip=client_ip(request))
    message = i18n.translate(language(request), "admin.images.added", n=len(processed)) if processed else None
    return await _images_response(request, db_session, car_id, message, errors, 200 if processed else 422)


@post("/{car_id:int}/images/{image_id:int}/{action:str}", name="admin:car_image_action", opt=EDIT,
      status_code=200)
async def image_action(request: Request, db_session: NamedDependency[AsyncSession], car_id: FromPath[int],
                       image_id: FromPath[int], action: FromPath[str]) -> Response:
    svc = _images(request, db_session)
    actor, ip = request.state.user.id, client_ip(request)
    form = await request.form()
    try:
        if action in ("first", "up", "down"):
            await svc.move(car_id, image_id, action, actor_id=actor, ip=ip)
        elif action == "alt":
            await svc.set_alt(car_id, image_id, str(form.get("alt_fi") or ""), str(form.get("alt_en") or ""),
                              actor_id=actor, ip=ip)
        elif action == "delete":
            await svc.delete(car_id, image_id, actor_id=actor, ip=ip)
        else:
            raise NotFoundException()
    except LookupError:
        raise NotFoundException() from None
    return await _images_response(request, db_session, car_id)


@post("/{car_id:int}/images/order", name="admin:car_images_order", opt=EDIT, status_code=200)
async def order_images(request: Request, db_session: NamedDependency[AsyncSession],
                       car_id: FromPath[int]) -> Response:
    """The order after a drag and drop: image ids in their new order."""
    form = await request.form()
    order = parse_ints(form.getall("order", []))
    if order:  # nothing valid to follow: leave the order (and the audit log) as it is
        await _images(request, db_session).reorder(car_id, order, actor_id=request.state.user.id,
                                                   ip=client_ip(request))
    return await _images_response(request, db_session, car_id)


ROUTER = Router(path="/admin/cars", guards=[staff_guard], route_handlers=[
    list_cars, bulk, new_car, edit_car, create_car, update_car, validate_field, add_images, image_action,
    order_images])
