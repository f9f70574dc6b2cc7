"""The JSON API: tokens made in /admin/tokens (shown once, stored hashed), /api/cars with the /cars filters and
create/update/delete, /api/leads with status changes; every error as application/problem+json; /schema."""
from __future__ import annotations

import hashlib
import re

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import (
    add_user, admin_id, api_token, audit_rows, bearer, browser, post, scalar, sign_in_as, staff,
)
from kroi.db.models import ApiToken, Car, CarPriceHistory, Lead, LeadActivity
from support import SeedCar, all_pages, get_ok

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PROBLEM = "application/problem+json"


@pytest.fixture
async def sales(client: httpx.AsyncClient, db: AsyncSession) -> tuple[int, dict[str, str]]:
    """A sales user and the Authorization header of their API token."""
    uid = await add_user(db, "sales@example.test", "sales")
    _, token = await api_token(client, uid)
    return uid, bearer(token)


@pytest.fixture
async def viewer(client: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    uid = await add_user(db, "viewer@example.test", "viewer")
    return bearer((await api_token(client, uid))[1])


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status and body["title"]
    return body


def car_body(**over: object) -> dict:
    body = {"brand": "Ford", "model": "Focus", "variant": "1.0 EcoBoost", "model_year": 2019, "price_cents": 1_290_000,
            "mileage_km": 88_000, "fuel": "petrol", "transmission": "manual", "drive": "fwd",
            "body_type": "hatchback", "registration_number": "XYZ-123", "colour": "Sininen"}
    body.update(over)
    return body


# --- tokens -----------------------------------------------------------------------------------------------

async def test_token_is_shown_once_stored_hashed_and_revocable(client, db) -> None:  # noqa: ANN001
    uid = await add_user(db, "sales@example.test", "sales")
    await sign_in_as(client, uid)
    r = await post(client, "/admin/tokens", {"name": "  CRM   sync "})
    assert r.status_code == 200
    token = re.search(r"<code class=\"reset-link\" data-new-token>([^<]+)</code>", r.text).group(1)
    m = re.fullmatch(r"kroi_([0-9a-f]{8})_[A-Za-z0-9_-]{40,}", token)
    assert m
    row = await db.scalar(select(ApiToken).where(ApiToken.user_id == uid))
    token_id, prefix = row.id, row.prefix
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.prefix == m.group(1)
    assert row.name == "CRM sync"
    assert token not in repr([getattr(row, c.key) for c in ApiToken.__table__.columns])
    listing = await get_ok(client, "/admin/tokens")
    assert token not in listing.text and f"<code>kroi_{prefix}_…</code>" in listing.text
    assert (await client.get("/api/cars?page_size=1", headers=bearer(token))).status_code == 200
    assert await scalar(db, "SELECT last_used_at IS NOT NULL FROM api_tokens WHERE id = :i", i=token_id)
    # Someone else's token cannot be revoked from here; one's own can, and stops at once.
    other = await add_user(db, "other@example.test", "sales")
    other_id, other_token = await api_token(client, other)
    assert (await post(client, f"/admin/tokens/{other_id}/revoke")).status_code == 404
    assert (await client.get("/api/leads", headers=bearer(other_token))).status_code == 200
    r = await post(client, f"/admin/tokens/{token_id}/revoke")
    assert r.status_code == 200 and "Peruttu" in r.text
    problem(await client.get("/api/cars", headers=bearer(token)), 401)
    assert [a.action for a in await audit_rows(db, "api_token", token_id)] == ["create", "revoke"]


async def test_wrong_revoked_or_expired_tokens_get_401_problem_json(client, db, sales, viewer) -> None:  # noqa: ANN001
    uid, header = sales
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwYXNz"},
                    {"Authorization": header["Authorization"][:-2] + "xx"}, {"Authorization": "Bearer "},
                    {"Authorization": "Bearer kroi_" + "a" * 200}):
        body = problem(await client.get("/api/cars", headers=headers), 401)
        assert body["type"] == "about:blank"
    assert (await client.get("/api/cars", headers=header)).status_code == 200
    await db.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = :u"),
                     {"u": uid})
    await db.commit()
    problem(await client.get("/api/cars", headers=header), 401)
    # A signed-in browser's session cookie is no key to the API.
    async with staff(client, await admin_id(db)) as admin_browser:
        problem(await admin_browser.get("/api/leads"), 401)
    # A viewer's token reads but never writes.
    assert (await client.get("/api/leads", headers=viewer)).status_code == 200
    problem(await client.post("/api/cars", json=car_body(), headers=viewer), 403)
    assert await scalar(db, "SELECT count(*) FROM cars") == 9


# --- cars -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    {}, {"fuel": "diesel"}, {"brand": "volvo"}, {"price_max": "25000", "sort": "price_asc"},
    {"category": ["suv", "estate"], "sort": "price_desc"}, {"year_min": "2020", "transmission": "automatic"},
    {"q": "tesla"}, {"mileage_max": "60000", "sort": "mileage_asc"}, {"brand": "toyota", "model": "corolla"},
])
async def test_car_list_filters_like_the_public_list(client, sales, query) -> None:  # noqa: ANN001
    _, header = sales
    expected = await all_pages(client, query)
    r = await client.get("/api/cars", params={**query, "page_size": "100"}, headers=header)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["id"] for c in body["items"]] == expected
    assert body["total"] == len(expected) and body["page"] == 1 and body["pages"] == 1
    if len(expected) > 1:
        paged = (await client.get("/api/cars", params={**query, "page_size": "1", "page": "2"}, headers=header)).json()
        assert [c["id"] for c in paged["items"]] == expected[1:2] and paged["pages"] == len(expected)


async def test_car_list_refuses_bad_parameters_as_problem_json(client, sales) -> None:  # noqa: ANN001
    _, header = sales
    for params in ({"fuel": "banana"}, {"page_size": "0"}, {"page_size": "101"}, {"sort": "cheapest"},
                   {"year_min": "abc"}):
        problem(await client.get("/api/cars", params=params, headers=header), 400)


async def test_get_create_update_delete_a_car(client, db, sales, by_key) -> None:  # noqa: ANN001
    uid, header = sales
    golf: SeedCar = by_key["golf"]
    r = await client.get(f"/api/cars/{golf.id}", headers=header)
    assert r.status_code == 200
    got = r.json()
    assert (got["price_cents"], got["registration_number"], got["vin"], got["status"], got["url"]) == (
        2_450_000, "LMN-482", golf.vin, "available", golf.url)
    assert got["features"] == sorted(golf.features) and got["images"] == [f"seed/golf-{n}" for n in (1, 2, 3)]
    problem(await client.get("/api/cars/999999", headers=header), 404)

    created = await client.post("/api/cars", json=car_body(vin="1HGCM82633A004352"), headers=header)
    assert created.status_code == 201, created.text
    car = created.json()
    assert (car["status"], car["price_cents"], car["title"], car["registration_number"]) == (
        "draft", 1_290_000, "Ford Focus 1.0 EcoBoost", "XYZ-123")
    assert [a.actor_id for a in await audit_rows(db, "car", car["id"])] == [uid]
    body = problem(await client.post("/api/cars", json=car_body(registration_number="12", vin="1HGCM82623A004352"),
                                     headers=header), 422)
    assert body["errors"] == {"registration_number": "Registration number as ABC-123.",
                              "vin": "The VIN check digit does not match."}
    problem(await client.post("/api/cars", json=car_body(registration_number="KRO-120"), headers=header), 409)
    problem(await client.post("/api/cars", json=car_body(model_year=1800), headers=header), 400)
    problem(await client.post("/api/cars", json=car_body(colour_code="red"), headers=header), 400)
    problem(await client.post("/api/cars", content=b"{not json", headers={**header, "content-type": "application/json"}),
            400)

    # A price change through the API shows on the (cached) public page at once and is in the history.
    await get_ok(client, golf.url)
    r = await client.patch(f"/api/cars/{golf.id}", json={"price_cents": 2_299_000}, headers=header)
    assert r.status_code == 200 and r.json()["price_cents"] == 2_299_000
    assert r.json()["registration_number"] == "LMN-482", "fields not given stay as they were"
    assert '<p class="big-price price">22 990 €</p>' in (await get_ok(client, golf.url)).text
    history = (await db.execute(select(CarPriceHistory.old_price_cents, CarPriceHistory.new_price_cents,
                                       CarPriceHistory.changed_by_id).where(CarPriceHistory.car_id == golf.id)
                                .order_by(CarPriceHistory.id))).all()
    assert tuple(history[-1]) == (2_450_000, 2_299_000, uid)
    problem(await client.patch(f"/api/cars/{car['id']}", json={"status": "sold"}, headers=header), 409)
    problem(await client.patch(f"/api/cars/{golf.id}", json={"vin": by_key["corolla"].vin}, headers=header), 409)
    problem(await client.patch(f"/api/cars/{golf.id}", json={"registration_number": "bad"}, headers=header), 422)
    problem(await client.patch("/api/cars/999999", json={"price_cents": 1}, headers=header), 404)

    r = await client.delete(f"/api/cars/{golf.id}", headers=header)
    assert r.status_code == 204 and r.content == b""
    problem(await client.get(f"/api/cars/{golf.id}", headers=header), 404)
    problem(await client.delete(f"/api/cars/{golf.id}", headers=header), 404)
    assert (await client.get(golf.url)).status_code == 410
    db.expire_all()
    assert (await db.scalar(select(Car.deleted_at).where(Car.id == golf.id))) is not None
    assert [a.action for a in await audit_rows(db, "car", golf.id)] == ["update", "delete"]


# --- leads ------------------------------------------------------------------------------------------------

async def test_leads_list_get_and_status(client, db, sales, viewer) -> None:  # noqa: ANN001
    uid, header = sales
    r = await client.get("/api/leads", headers=header)
    assert r.status_code == 200 and r.json()["total"] == 3
    by_name = {x["name"]: x for x in r.json()["items"]}
    assert set(by_name) == {"Matti Virtanen", "Anna Korhonen", "John Smith"}
    assert [x["name"] for x in (await client.get("/api/leads?type=test_drive", headers=header)).json()["items"]] == [
        "Anna Korhonen"]
    assert (await client.get("/api/leads?priority=high", headers=header)).json()["total"] == 2
    assert (await client.get("/api/leads?status=won", headers=header)).json()["items"] == []
    problem(await client.get("/api/leads?status=maybe", headers=header), 400)
    matti = by_name["Matti Virtanen"]
    got = (await client.get(f"/api/leads/{matti['id']}", headers=header)).json()
    assert (got["email"], got["status"], got["score"], got["car_price_cents"]) == (
        "matti.virtanen@example.fi", "new", 70, 2_190_000)
    problem(await client.get("/api/leads/999999", headers=header), 404)

    r = await client.patch(f"/api/leads/{matti['id']}", json={"status": "contacted"}, headers=header)
    assert r.status_code == 200 and r.json()["status"] == "contacted"
    body = problem(await client.patch(f"/api/leads/{matti['id']}", json={"status": "new"}, headers=header), 409)
    assert body["detail"] == "The lead cannot move to this status."
    body = problem(await client.patch(f"/api/leads/{matti['id']}", json={"status": "lost"}, headers=header), 409)
    assert body["detail"] == "Choose why the lead was lost."
    r = await client.patch(f"/api/leads/{matti['id']}", json={"status": "lost", "lost_reason": "price"}, headers=header)
    assert r.status_code == 200 and r.json()["lost_reason"] == "price"
    problem(await client.patch(f"/api/leads/{matti['id']}", json={"status": "won", "extra": 1}, headers=header), 400)
    problem(await client.patch(f"/api/leads/{matti['id']}", json={"status": "contacted"}, headers=viewer), 403)
    problem(await client.patch("/api/leads/999999", json={"status": "contacted"}, headers=header), 404)
    db.expire_all()
    moves = (await db.execute(select(LeadActivity.details, LeadActivity.actor_id)
                              .where(LeadActivity.lead_id == matti["id"], LeadActivity.kind == "status_changed")
                              .order_by(LeadActivity.id))).all()
    assert [(d["from"], d["to"], who) for d, who in moves] == [("new", "contacted", uid), ("contacted", "lost", uid)]
    assert (await db.scalar(select(Lead.status).where(Lead.id == matti["id"]))) == "lost"


# --- the schema -------------------------------------------------------------------------------------------

async def test_schema_describes_the_api_only(client) -> None:  # noqa: ANN001
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "Kroi Auto Center API"
    assert set(doc["paths"]) == {"/api/cars", "/api/cars/{car_id}", "/api/leads", "/api/leads/{lead_id}"}
    assert set(doc["paths"]["/api/cars/{car_id}"]) >= {"get", "patch", "delete"}
    assert doc["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert all(op.get("security") == [{"BearerToken": []}] for path in doc["paths"].values()
               for op in path.values() if isinstance(op, dict) and "responses" in op)
    async with browser(client) as anyone:
        assert (await anyone.get("/schema/openapi.json")).status_code == 200, "the description is public"


async def _more_cars(db: AsyncSession, copies: int) -> None:
    """Copies of the available seeded cars (with their features and images) until `copies` more exist."""
    cols = [r[0] for r in (await db.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'cars' AND is_generated = 'NEVER' "
        "AND column_name NOT IN ('id', 'slug', 'registration_number', 'vin') ORDER BY ordinal_position"))).all()]
    listed = ", ".join(cols)
    await db.execute(text(
        f"WITH src AS (SELECT * FROM cars WHERE status = 'available' AND deleted_at IS NULL ORDER BY id), "
        f"n AS (SELECT g FROM generate_series(1, :copies) g), "
        f"pick AS (SELECT src.*, n.g FROM n JOIN LATERAL (SELECT * FROM src OFFSET (n.g - 1) % "
        f"(SELECT count(*) FROM src) LIMIT 1) src ON true), "
        f"made AS (INSERT INTO cars (slug, {listed}) SELECT slug || '-copy-' || g, {listed} FROM pick "
        f"RETURNING id, slug) "
        f"SELECT 1 FROM made"), {"copies": copies})
    await db.execute(text(
        "INSERT INTO car_features (car_id, feature_id) SELECT c.id, f.feature_id FROM cars c "
        "JOIN cars o ON c.slug LIKE o.slug || '-copy-%' JOIN car_features f ON f.car_id = o.id"))
    await db.commit()


async def _statements(client: httpx.AsyncClient, url: str, header: dict[str, str]) -> tuple[int, int]:
    """(items in the answer, SQL statements the request ran), counted on the app's engine."""
    from sqlalchemy import event

    statements: list[str] = []
    engine = client.app.state.kroi.engine.sync_engine

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        r = await client.get(url, headers=header)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 200, r.text[:300]
    return len(r.json()["items"]), len(statements)


async def test_car_list_loads_related_rows_in_a_fixed_number_of_statements(client, db, sales) -> None:  # noqa: ANN001
    """9 cars or 30, the same few statements (each car's brand, model, features and images were fetched on their
    own: 56 statements for 9 cars, 161 for 30)."""
    await client.get("/api/cars", headers=sales[1])  # token and vocabulary caches warm
    few, few_statements = await _statements(client, "/api/cars?page_size=50", sales[1])
    await _more_cars(db, 30 - few)
    many, many_statements = await _statements(client, "/api/cars?page_size=50", sales[1])
    assert few >= 8 and many == 30
    assert many_statements == few_statements <= 20  # token, vocabulary, facets, page, one per relationship


async def test_lead_list_runs_a_fixed_number_of_statements(client, db, sales) -> None:  # noqa: ANN001
    few, few_statements = await _statements(client, "/api/leads?page_size=50", sales[1])
    cols = [r[0] for r in (await db.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'leads' AND is_generated = 'NEVER' "
        "AND column_name NOT IN ('id', 'idempotency_key') ORDER BY ordinal_position"))).all()]
    listed = ", ".join(cols)
    await db.execute(text(f"INSERT INTO leads ({listed}) SELECT {listed} FROM leads, generate_series(1, 10)"))
    await db.commit()
    many, many_statements = await _statements(client, "/api/leads?page_size=50", sales[1])
    assert many == 11 * few > few
    assert many_statements == few_statements <= 10
