"""Admin cars: the list (search, filters, sort, bulk actions, trash), the form (per-field validation, duplicates,
input kept), the status workflow, price history and the audit log, all through the admin's HTTP endpoints."""
from __future__ import annotations

import json
import re
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import (
    HX, add_user, as_admin, as_data, audit_rows, change, confirmation, field_errors, form_pairs, input_value, post,
    row_ids, scalar, staff,
)
from kroi.db.models import Brand, Car, CarModel, CarPriceHistory
from kroi.web import i18n
from support import SeedCar, is_full_page

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
__all__ = ["as_admin"]

VALID_VIN = "1HGCM82633A004352"  # a North American VIN with a correct check digit (position 9)


def fi(key: str, **params: object) -> str:
    return i18n.translate("fi", key, **params)


async def car(db: AsyncSession, car_id: int) -> Car:
    db.expire_all()
    row = await db.scalar(select(Car).where(Car.id == car_id).execution_options(populate_existing=True))
    await db.commit()
    return row


async def ids(client: httpx.AsyncClient, query: str) -> list[int]:
    r = await client.get(f"/admin/cars{query}")
    assert r.status_code == 200, (query, r.status_code)
    return row_ids(r.text)


async def new_form(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    page = await client.get("/admin/cars/new")
    assert page.status_code == 200
    return form_pairs(page.text, action="/admin/cars")


async def edit_form(client: httpx.AsyncClient, car_id: int) -> tuple[str, list[tuple[str, str]]]:
    page = await client.get(f"/admin/cars/{car_id}")
    assert page.status_code == 200
    return page.text, form_pairs(page.text, action=f"/admin/cars/{car_id}")


async def save(client: httpx.AsyncClient, car_id: int, **values: str | list[str]) -> httpx.Response:
    """Open the car's edit page, change some fields, submit it (as a person does)."""
    _, pairs = await edit_form(client, car_id)
    return await post(client, f"/admin/cars/{car_id}", as_data(change(pairs, **values)))


FOCUS = {"brand": "Ford", "model": "Focus", "variant": "1.0 EcoBoost Titanium", "model_year": "2019",
         "price": "12 900", "mileage_km": "88 000", "fuel": "petrol", "transmission": "manual", "drive": "fwd",
         "body_type": "hatchback", "registration_number": "xyz 123", "vin": VALID_VIN, "colour": "Sininen",
         "description_fi": "Siisti yksilö.", "description_en": "A tidy one."}


# --- the list ---------------------------------------------------------------------------------------------

async def test_list_searches_filters_and_sorts(client, as_admin, db, cars: list[SeedCar], by_key) -> None:  # noqa: ANN001
    page = await client.get("/admin/cars")
    assert page.status_code == 200 and is_full_page(page.text)
    assert sorted(row_ids(page.text)) == sorted(c.id for c in cars)
    assert fi("admin.cars.count", n=9) in page.text
    assert await ids(client, "?q=KRO-120") == [by_key["corolla"].id]
    assert await ids(client, "?q=golf") == [by_key["golf"].id]
    assert await ids(client, "?q=WVWZZZCDZMW512345") == [by_key["golf"].id]
    assert await ids(client, "?status=reserved") == [by_key["bmw320"].id]
    assert await ids(client, "?status=sold") == []
    volvo = await db.scalar(select(Brand.id).where(Brand.slug == "volvo"))
    assert await ids(client, f"?brand={volvo}") == [by_key["xc60"].id]
    assert await ids(client, f"?brand={volvo}&status=reserved") == []
    assert await ids(client, "?sort=price_asc") == [c.id for c in sorted(cars, key=lambda c: (c.price_eur, c.id))]
    assert await ids(client, "?sort=price_desc") == [c.id for c in sorted(cars, key=lambda c: (-c.price_eur, -c.id))]
    assert await ids(client, "?sort=year_desc") == [c.id for c in sorted(cars, key=lambda c: (-c.model_year, -c.id))]
    assert await ids(client, "?trash=1") == []
    # Unknown values are ignored, never an error.
    assert sorted(await ids(client, "?status=bogus&sort=nope&brand=x&page=-3")) == sorted(c.id for c in cars)
    # One URL, two renderings: htmx gets the table alone.
    frag = await client.get("/admin/cars?status=reserved", headers=HX)
    assert frag.status_code == 200 and not is_full_page(frag.text)
    assert frag.text.lstrip().startswith('<div id="car-table">') and row_ids(frag.text) == [by_key["bmw320"].id]
    assert 'name="ids"' in page.text and 'href="/admin/cars/new"' in page.text


async def test_viewer_sees_cars_read_only(client, db, by_key) -> None:  # noqa: ANN001
    viewer = await add_user(db, "viewer@example.test", "viewer")
    async with staff(client, viewer) as c:
        page = await c.get("/admin/cars")
        assert page.status_code == 200 and len(row_ids(page.text)) == 9
        assert 'name="ids"' not in page.text and 'href="/admin/cars/new"' not in page.text
        edit = await c.get(f"/admin/cars/{by_key['golf'].id}")
        assert edit.status_code == 200 and "<fieldset disabled>" in edit.text
        assert fi("admin.cars.save") not in edit.text and 'type="file"' not in edit.text


async def test_bulk_actions_follow_the_workflow_and_the_trash(client, as_admin, db, by_key) -> None:  # noqa: ANN001
    golf, octavia, bmw = by_key["golf"], by_key["octavia"], by_key["bmw320"]

    async def bulk(action: str, *car_ids: int, back: str = "/admin/cars") -> httpx.Response:
        r = await post(client, "/admin/cars/bulk", {"ids": [str(i) for i in car_ids], "action": action,
                                                    "back": back}, headers=HX)
        assert r.status_code == 200 and r.text.lstrip().startswith('<div id="car-table">')
        return r

    assert (await client.get(octavia.url)).status_code == 200  # public page cached before the changes
    r = await bulk("reserve", golf.id, octavia.id)
    assert fi("admin.cars.bulk_done", n=2) in r.text
    assert (await car(db, golf.id)).status == (await car(db, octavia.id)).status == "reserved"
    r = await bulk("sell", golf.id)
    sold = await car(db, golf.id)
    assert fi("admin.cars.bulk_done", n=1) in r.text and sold.status == "sold" and sold.sold_at is not None
    r = await bulk("draft", golf.id)  # sold -> draft is not a step of the workflow
    assert fi("admin.cars.bulk_done", n=0) in r.text and (await car(db, golf.id)).status == "sold"
    r = await bulk("publish", bmw.id, golf.id)
    assert fi("admin.cars.bulk_done", n=2) in r.text
    back = await car(db, golf.id)
    assert back.status == "available" and back.sold_at is None
    assert (await car(db, bmw.id)).status == "available"
    await bulk("feature", octavia.id)
    assert (await car(db, octavia.id)).featured
    r = await bulk("delete", octavia.id)
    assert octavia.id not in row_ids(r.text) and (await car(db, octavia.id)).deleted_at is not None
    assert await ids(client, "?trash=1") == [octavia.id]
    assert octavia.id not in await ids(client, "")
    assert (await client.get(octavia.url)).status_code == 410
    r = await bulk("restore", octavia.id, back="/admin/cars?trash=1")
    assert row_ids(r.text) == [] and fi("admin.cars.bulk_done", n=1) in r.text
    assert (await car(db, octavia.id)).deleted_at is None
    assert (await client.get(octavia.url)).status_code == 200
    # Without htmx: back to the list the form came from (never elsewhere).
    r = await post(client, "/admin/cars/bulk", {"ids": [str(golf.id)], "action": "unfeature", "back": "/admin/cars?status=available"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/cars?status=available"
    r = await post(client, "/admin/cars/bulk", {"action": "delete", "back": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/cars"
    actions = [(a.entity_id, a.action) for a in await audit_rows(db, "car")]
    assert actions == [(str(golf.id), "status:reserved"), (str(octavia.id), "status:reserved"),
                       (str(golf.id), "status:sold"), (str(golf.id), "status:available"),
                       (str(bmw.id), "status:available"), (str(octavia.id), "feature"),
                       (str(octavia.id), "delete"), (str(octavia.id), "restore")]
    delete_row = [a for a in await audit_rows(db, "car", octavia.id) if a.action == "delete"][0]
    assert delete_row.before == {"deleted_at": None} and delete_row.after["deleted_at"]
    assert delete_row.actor_id == as_admin and delete_row.ip == "127.0.0.1"


# --- the form ---------------------------------------------------------------------------------------------

async def test_create_shows_an_error_per_field_and_keeps_the_input(client, as_admin, db) -> None:  # noqa: ANN001
    pairs = await new_form(client)
    r = await post(client, "/admin/cars", as_data(change(pairs, **{
        **FOCUS, "model_year": "1900", "price": "12 9OO", "registration_number": "12-ABC",
        "vin": "1HGCM82623A004352"})))
    assert r.status_code == 422
    assert field_errors(r.text) == {"model_year": fi("car.error.range"), "price": fi("car.error.price"),
                                    "registration_number": fi("form.error.registration"),
                                    "vin": fi("car.error.vin_check")}
    assert fi("form.error.summary") in r.text
    for name, value in (("model", "Focus"), ("price", "12 9OO"), ("registration_number", "12-ABC"),
                        ("vin", "1HGCM82623A004352"), ("model_year", "1900"), ("colour", "Sininen")):
        assert input_value(r.text, name) == value, name
    assert 'aria-invalid="true"' in r.text
    r = await post(client, "/admin/cars", as_data(change(pairs, **{
        **FOCUS, "brand": "", "model_year": str(date.today().year + 2), "mileage_km": "", "vin": "1HGCM82633A00435I",
        "price": "-5"})))
    assert r.status_code == 422
    assert field_errors(r.text) == {"brand": fi("form.error.required"), "model_year": fi("car.error.year_future"),
                                    "mileage_km": fi("form.error.required"), "vin": fi("car.error.vin_format"),
                                    "price": fi("car.error.price")}
    assert await scalar(db, "SELECT count(*) FROM cars") == 9 and await audit_rows(db) == []


async def test_create_saves_a_draft_with_history_and_audit(client, as_admin, db) -> None:  # noqa: ANN001
    page = await client.get("/admin/cars/new")
    features = re.findall(r'name="features" value="(\d+)"', page.text)[:2]
    pairs = form_pairs(page.text, action="/admin/cars")
    r = await post(client, "/admin/cars", as_data(change(pairs, **FOCUS, features=features)))
    assert r.status_code == 303
    car_id = int(re.fullmatch(r"/admin/cars/(\d+)\?saved=1", r.headers["location"]).group(1))
    saved = await client.get(r.headers["location"])
    assert confirmation(saved.text) == fi("admin.cars.saved")
    row = await car(db, car_id)
    assert (row.status, row.price_cents, row.registration_number, row.vin, row.title, row.mileage_km) == (
        "draft", 1_290_000, "XYZ-123", VALID_VIN, "Ford Focus 1.0 EcoBoost Titanium", 88_000)
    assert row.published_at is None and row.sold_at is None
    public_url = f"/cars/{car_id}-{row.slug}"
    history = (await db.execute(select(CarPriceHistory.old_price_cents, CarPriceHistory.new_price_cents,
                                       CarPriceHistory.changed_by_id).where(CarPriceHistory.car_id == car_id))).all()
    assert [tuple(h) for h in history] == [(None, 1_290_000, as_admin)]
    [created] = await audit_rows(db, "car", car_id)
    assert created.action == "create" and not any((created.before or {}).values()) and created.actor_id == as_admin
    assert created.after["price_cents"] == 1_290_000 and created.after["registration_number"] == "XYZ-123"
    assert created.after["feature_ids"] == sorted(int(f) for f in features) and created.ip == "127.0.0.1"
    # A draft is not on the public site.
    assert (await client.get(public_url)).status_code == 404


async def test_duplicate_registration_or_vin_is_a_field_error_and_nothing_is_written(client, as_admin, db,  # noqa: ANN001
                                                                                      by_key) -> None:
    pairs = await new_form(client)
    r = await post(client, "/admin/cars", as_data(change(pairs, **{**FOCUS, "registration_number": "KRO-120"})))
    assert r.status_code == 422
    assert field_errors(r.text) == {"registration_number": fi("car.error.duplicate")}
    assert input_value(r.text, "registration_number") == "KRO-120" and input_value(r.text, "model") == "Focus"
    assert input_value(r.text, "price") == "12 900"
    # The same transaction would have written the brand/model, the price history and the audit row: none is.
    assert await db.scalar(select(func.count()).select_from(CarModel).where(CarModel.slug == "focus")) == 0
    assert await scalar(db, "SELECT count(*) FROM cars") == 9
    assert await scalar(db, "SELECT count(*) FROM car_price_history") == 9 and await audit_rows(db) == []
    golf = by_key["golf"]
    r = await save(client, golf.id, vin=by_key["corolla"].vin)
    assert r.status_code == 422 and field_errors(r.text) == {"vin": fi("car.error.duplicate")}
    assert input_value(r.text, "vin") == by_key["corolla"].vin
    assert (await car(db, golf.id)).vin == golf.vin and await audit_rows(db) == []


async def test_status_workflow_through_the_form(client, as_admin, db) -> None:  # noqa: ANN001
    r = await post(client, "/admin/cars", as_data(change(await new_form(client), **FOCUS)))
    car_id = int(r.headers["location"].split("/")[3].split("?")[0])
    page, _ = await edit_form(client, car_id)
    status_select = re.search(r'<select id="car-status" name="status".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="(\w+)"', status_select) == ["draft", "available"]

    async def move(status: str) -> httpx.Response:
        return await save(client, car_id, status=status)

    for illegal in ("reserved", "sold"):
        r = await move(illegal)
        assert r.status_code == 422 and field_errors(r.text) == {"status": fi("car.error.transition")}
        assert (await car(db, car_id)).status == "draft"
    assert (await move("available")).status_code == 303
    row = await car(db, car_id)
    assert row.status == "available" and row.published_at is not None and row.sold_at is None
    assert (await move("reserved")).status_code == 303
    assert (await move("sold")).status_code == 303
    row = await car(db, car_id)
    assert row.status == "sold" and row.sold_at is not None
    r = await move("draft")
    assert r.status_code == 422 and field_errors(r.text) == {"status": fi("car.error.transition")}
    assert (await move("available")).status_code == 303
    row = await car(db, car_id)
    assert row.status == "available" and row.sold_at is None
    statuses = [((a.before or {}).get("status") or "-") + ">" + (a.after.get("status") or "-")
                for a in await audit_rows(db, "car", car_id)]
    assert statuses == ["->draft", "draft>available", "available>reserved", "reserved>sold", "sold>available"]


async def test_every_price_change_is_in_the_history_and_the_audit_log(client, as_admin, db, by_key) -> None:  # noqa: ANN001
    golf = by_key["golf"]
    r = await save(client, golf.id, price="23 990")
    assert r.status_code == 303
    r = await save(client, golf.id, price="23990,50")
    assert r.status_code == 303
    r = await save(client, golf.id, colour="Musta")  # no price change: no history row
    assert r.status_code == 303
    history = (await db.execute(select(CarPriceHistory.old_price_cents, CarPriceHistory.new_price_cents,
                                       CarPriceHistory.changed_by_id).where(CarPriceHistory.car_id == golf.id)
                                .order_by(CarPriceHistory.id))).all()
    assert [tuple(h) for h in history] == [(None, 2_450_000, None), (2_450_000, 2_399_000, as_admin),
                                           (2_399_000, 2_399_050, as_admin)]
    rows = await audit_rows(db, "car", golf.id)
    assert [(a.before, {k: v for k, v in a.after.items() if k != "feature_ids"}) for a in rows] == [
        ({"price_cents": 2_450_000}, {"price_cents": 2_399_000}),
        ({"price_cents": 2_399_000}, {"price_cents": 2_399_050}),
        ({"colour": golf.colour}, {"colour": "Musta"}),
    ]
    assert all(a.actor_id == as_admin and a.ip == "127.0.0.1" for a in rows)
    page, pairs = await edit_form(client, golf.id)
    history_table = page.split('id="history-heading"', 1)[1]
    assert "23 990 €" in history_table and "24 500 €" in history_table
    assert dict(pairs)["price"] == "23990.50"
    # The htmx form gets a client-side redirect instead of a 303.
    r = await post(client, f"/admin/cars/{golf.id}", as_data(pairs), headers=HX)
    assert r.status_code == 200 and r.headers["hx-location"] == f"/admin/cars/{golf.id}?saved=1"


async def test_field_is_checked_on_blur(client, as_admin) -> None:  # noqa: ANN001
    r = await post(client, "/admin/cars/validate", {"field": "vin", "vin": "1HGCM82623A004352"}, headers=HX)
    assert r.status_code == 200
    assert r.text.strip() == ('<p class="field-error" id="err-car-vin" data-error-for="vin">'
                              f'{fi("car.error.vin_check")}</p>')
    r = await post(client, "/admin/cars/validate", {"field": "vin", "vin": VALID_VIN}, headers=HX)
    assert field_errors(r.text) == {}
    r = await post(client, "/admin/cars/validate", {"field": "registration_number", "registration_number": "A1B2"},
                   headers=HX)
    assert field_errors(r.text) == {"registration_number": fi("form.error.registration")}
    r = await post(client, "/admin/cars/validate", {"field": "model", "model": ""}, headers=HX)
    assert field_errors(r.text) == {}, "an untouched empty field is not scolded on blur"


async def test_audit_rows_of_car_writes_never_hold_secrets(client, as_admin, db, by_key) -> None:  # noqa: ANN001
    assert (await save(client, by_key["golf"].id, price="20000")).status_code == 303
    dumped = json.dumps([[a.before, a.after] for a in await audit_rows(db)])
    assert "password" not in dumped and "token" not in dumped and "$argon2" not in dumped
