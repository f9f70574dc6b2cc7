"""EXPLAIN (ANALYZE, BUFFERS) of every public listing query shape, with the exact SQL the repository builds.

The repository runs for real against the bench database; each statement is captured as it is sent (SQL text
with $n parameters, the same text the app prepares), then explained twice:

* custom plan: the parameters' values visible to the planner (what the first executions of a prepared
  statement get);
* generic plan: PREPARE + EXECUTE with plan_cache_mode = force_generic_plan (what PostgreSQL may switch to
  after five executions of the same text on one connection, which is how asyncpg runs the app's queries).

A "Seq Scan on cars" in either plan of a listing query is a failure.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from kroi.db.models import Car
from kroi.db.session import make_sessionmaker
from kroi.inventory.repositories import LISTED, InventoryRepository
from kroi.inventory.search import parse_query
from kroi.inventory.services import InventoryService, Resolved


@dataclass
class Plan:
    shape: str
    kind: str  # listing, images, facets, related, ...
    sql: str
    params: tuple
    custom_ms: float = 0.0
    generic_ms: float = 0.0
    custom_nodes: list[str] = field(default_factory=list)
    generic_nodes: list[str] = field(default_factory=list)
    custom_text: str = ""
    generic_text: str = ""
    rows: int = 0
    settings: list[str] = field(default_factory=list)  # SET LOCAL statements the repository ran before it

    @property
    def seq_scan_on_cars(self) -> bool:
        return any(n.startswith("Seq Scan on cars") for n in self.custom_nodes + self.generic_nodes)

    def as_dict(self) -> dict[str, Any]:
        return {"shape": self.shape, "kind": self.kind, "settings": self.settings, "custom_ms": round(self.custom_ms, 2),
                "generic_ms": round(self.generic_ms, 2), "custom_nodes": self.custom_nodes,
                "generic_nodes": self.generic_nodes, "rows": self.rows, "seq_scan_on_cars": self.seq_scan_on_cars,
                "sql": self.sql, "params": [str(p) for p in self.params]}


# (shape name, query parameters as the /cars URL would carry them)
LISTING_SHAPES: list[tuple[str, dict[str, list[str]]]] = [
    ("no filter (newest)", {}),
    ("brand", {"brand": ["toyota"]}),
    ("brand + model", {"brand": ["skoda"], "model": ["octavia"]}),
    ("rare brand + model", {"brand": ["mazda"], "model": ["mx-5"]}),
    ("body type + price range", {"category": ["suv"], "price_min": ["15000"], "price_max": ["30000"]}),
    ("fuel", {"fuel": ["electric"]}),
    ("two fuels + automatic", {"fuel": ["hybrid", "plug_in_hybrid"], "transmission": ["automatic"]}),
    ("year + mileage range", {"year_min": ["2018"], "mileage_max": ["100000"]}),
    ("q full-text, common word", {"q": ["vetokoukku"]}),
    ("q full-text, model name", {"q": ["octavia"]}),
    ("q full-text, two words", {"q": ["hybridi farmari"]}),
    ("q full-text, rare word", {"q": ["webasto"]}),
    ("q full-text, very rare word", {"q": ["neliveto"]}),
    ("q full-text, misspelt (no match)", {"q": ["hybirdi"]}),
    ("q full-text, brand word + sort price_asc", {"q": ["tesla"], "sort": ["price_asc"]}),
    ("q + brand", {"q": ["nahka"], "brand": ["volvo"]}),
    ("sort price_asc", {"sort": ["price_asc"]}),
    ("sort price_desc", {"sort": ["price_desc"]}),
    ("sort mileage_asc", {"sort": ["mileage_asc"]}),
    ("sort year_desc", {"sort": ["year_desc"]}),
    ("brand + sort price_asc", {"brand": ["volvo"], "sort": ["price_asc"]}),
    ("body type + sort price_desc", {"category": ["estate"], "sort": ["price_desc"]}),
    ("offset page 5", {"page": ["5"]}),
    ("offset page 100", {"page": ["100"]}),
]
CURSOR_SHAPES = ["newest", "price_asc", "mileage_asc", "year_desc"]
FACET_SHAPES: list[tuple[str, dict[str, list[str]]]] = [
    ("facets, no filter", {}),
    ("facets, price range", {"price_min": ["15000"], "price_max": ["30000"]}),
    ("facets, q", {"q": ["vetokoukku"]}),
    ("facets, year + mileage", {"year_min": ["2018"], "mileage_max": ["100000"]}),
]


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return f"'{value.isoformat()}'"
    if isinstance(value, (list, tuple)):
        return "'{" + ",".join(str(v) for v in value) + "}'"
    return "'" + str(value).replace("'", "''") + "'"


def _first_table(sql: str) -> str:
    match = re.search(r"\bFROM\s+(\w+)", sql)
    return match.group(1) if match else "?"


def _json(value: Any) -> dict:
    """EXPLAIN's JSON (SQLAlchemy installs a json codec on asyncpg connections, so it may already be decoded)."""
    data = json.loads(value) if isinstance(value, (str, bytes)) else value
    return data[0]


def _nodes(plan: dict, out: list[str]) -> list[str]:
    kind = plan["Node Type"]
    name = kind
    if "Relation Name" in plan:
        name += f" on {plan['Relation Name']}"
    if "Index Name" in plan:
        name += f" using {plan['Index Name']}"
    out.append(f"{name} ({plan.get('Actual Total Time', 0):.2f} ms, {plan.get('Actual Rows', 0)} rows)")
    for child in plan.get("Plans", []):
        _nodes(child, out)
    return out


class Capture:
    """Collects the statements an engine sends."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[tuple[str, tuple]] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        self.statements.append((statement, tuple(parameters or ())))

    def take(self) -> list[tuple[str, tuple]]:
        out, self.statements = self.statements, []
        return out


async def _explain(raw, plan: Plan) -> None:  # noqa: ANN001
    """Fill in the custom and generic plans (each run twice; the second, warm run is kept)."""
    for setting in plan.settings:  # SET LOCAL x = v -> SET x = v for this connection, reset afterwards
        await raw.execute(setting.replace("SET LOCAL", "SET", 1))
    try:
        await _explain_both(raw, plan)
    finally:
        for setting in plan.settings:
            await raw.execute("RESET " + setting.split()[2])


async def _explain_both(raw, plan: Plan) -> None:  # noqa: ANN001
    for _ in range(2):
        rows = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + plan.sql, *plan.params)
    data = _json(rows[0][0])
    plan.custom_ms = data["Execution Time"] + data["Planning Time"]
    plan.custom_nodes = _nodes(data["Plan"], [])
    plan.rows = data["Plan"].get("Actual Rows", 0)
    plan.custom_text = "\n".join(r[0] for r in await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + plan.sql, *plan.params))

    await raw.execute("PREPARE bench_stmt AS " + plan.sql)
    args = ", ".join(_literal(p) for p in plan.params)
    execute = f"EXECUTE bench_stmt({args})" if plan.params else "EXECUTE bench_stmt"
    await raw.execute("SET plan_cache_mode = force_generic_plan")
    try:
        for _ in range(2):
            rows = await raw.fetch(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {execute}")
        data = _json(rows[0][0])
        plan.generic_ms = data["Execution Time"] + data.get("Planning Time", 0)
        plan.generic_nodes = _nodes(data["Plan"], [])
        plan.generic_text = "\n".join(r[0] for r in await raw.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {execute}"))
    finally:
        await raw.execute("RESET plan_cache_mode")
        await raw.execute("DEALLOCATE bench_stmt")


async def explain_all(engine: AsyncEngine, cache) -> list[Plan]:  # noqa: ANN001
    """Run every query shape through the repository, capture its SQL and explain it."""
    capture = Capture(engine)
    plans: list[Plan] = []

    async with make_sessionmaker(engine)() as session:
        svc = InventoryService(session, cache)
        repo = InventoryRepository(session)

        vocab = await svc.vocabulary(None)

        async def resolve(args: dict[str, list[str]]) -> Resolved:
            query, notes = parse_query(args)
            return await svc.resolve(query, notes, vocab)

        def grab(shape: str, kinds: list[str] | None) -> None:
            """Record the statements captured since the last grab; kinds None: name each by its first table."""
            settings: list[str] = []
            queries = []
            for sql, params in capture.take():
                if sql.startswith("SET LOCAL"):
                    if not sql.rstrip().endswith("TO DEFAULT"):
                        settings.append(sql.strip())
                    continue
                queries.append(Plan(shape, "", sql, params, settings=settings))
                settings = []
            for i, plan in enumerate(queries):
                if kinds is None:
                    plan.kind = _first_table(plan.sql)
                elif i < len(kinds):
                    plan.kind = kinds[i]
                else:
                    continue
                plans.append(plan)

        for shape, args in LISTING_SHAPES:
            r = await resolve(args)
            capture.take()  # the brand/model look-ups
            offset = (r.query.page - 1) * 24
            await repo.list_cards(r.query, r.brand_id, r.model_id, limit=25, offset=offset)
            probes = r.query.q and r.query.sort != "newest"  # list_cards first fetches the ids of few matches
            grab(shape, (["text ids"] if probes else []) + ["listing", "main images"])

        for sort in CURSOR_SHAPES:
            r = await resolve({"sort": [sort]})
            capture.take()
            cursor = (await svc.listing(r, total=10**6, page_size=24)).next_cursor
            capture.take()
            r = await resolve({"sort": [sort], "cursor": [cursor.encode()]})
            capture.take()
            await repo.list_cards(r.query, None, None, limit=25, cursor=r.query.cursor)
            grab(f"keyset cursor, page 2 ({sort})", ["listing", "main images"])

        for shape, args in FACET_SHAPES:
            r = await resolve(args)
            capture.take()
            await repo.facets(r.query, r.brand_id, r.model_id)
            grab(shape, ["facets"])

        # Related cars for a car of a common and of a rare kind.
        for label, where in (("related, common car (Skoda Octavia estate)", "car_models.slug = 'octavia'"),
                             ("related, rare car (Tesla Model X)", "car_models.slug = 'model-x'")):
            car_id = await session.scalar(text(
                f"SELECT cars.id FROM cars JOIN car_models ON car_models.id = cars.model_id WHERE {where} "
                "AND cars.deleted_at IS NULL AND cars.status = 'available' ORDER BY cars.id LIMIT 1"))
            if car_id is None:
                continue
            car = await repo.get_car(car_id)
            capture.take()
            await repo.related(car)
            grab(label, ["related", "main images"])

        some_id = await session.scalar(select(Car.id).where(LISTED).order_by(Car.id.desc()).limit(1))
        capture.take()
        await repo.get_car(some_id)
        grab("car page (get_car + selectinloads)", None)
        await repo.latest_price_drop(some_id)
        grab("car page price drop", ["price history"])
        await repo.featured()
        grab("home: featured", ["featured", "main images"])
        await repo.counts_by_body_type()
        grab("home: counts by body type", ["counts"])

        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        await session.rollback()
        for plan in plans:
            await _explain(raw, plan)
    event.remove(engine.sync_engine, "before_cursor_execute", capture._on)
    return plans


def summary_rows(plans: list[Plan]) -> list[str]:
    """Markdown table rows: shape, query, plan (custom), time custom/generic, flags."""
    rows = []
    for p in plans:
        scans = [n for n in p.custom_nodes if " on " in n or n.startswith(("Index", "Bitmap"))]
        top = p.custom_nodes[0].split(" (")[0] if p.custom_nodes else ""
        access = "; ".join(s.split(" (")[0] for s in scans[:3])
        same = "same" if [n.split(" (")[0] for n in p.custom_nodes] == [n.split(" (")[0] for n in p.generic_nodes] \
            else "differs: " + "; ".join(n.split(" (")[0] for n in p.generic_nodes
                                         if " on " in n or n.startswith(("Index", "Bitmap")))[:160]
        flag = "**SEQ SCAN ON CARS**" if p.seq_scan_on_cars else ""
        rows.append(f"| {p.shape} | {p.kind} | {top} → {access} | {p.custom_ms:.1f} | {p.generic_ms:.1f} | "
                    f"{same} | {flag} |")
    return rows


async def time_statements(engine: AsyncEngine, plans: list[Plan], repeat: int = 10) -> dict[str, tuple[float, float]]:
    """Each statement run `repeat` times on one connection, as the app runs it (an asyncpg prepared statement).

    Returns (median of runs 1-5, median of runs 6-10) in ms: PostgreSQL plans the first five executions with the
    parameters' values and may then switch to the generic plan, so a jump between the two shows that switch.
    """
    out: dict[str, tuple[float, float]] = {}
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        for p in plans:
            if p.kind not in ("listing", "text ids", "facets", "related", "featured", "counts"):
                continue
            for setting in p.settings:
                await raw.execute(setting.replace("SET LOCAL", "SET", 1))
            statement = await raw.prepare(p.sql)
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                await statement.fetch(*p.params)
                times.append((time.perf_counter() - t) * 1000)
            for setting in p.settings:
                await raw.execute("RESET " + setting.split()[2])
            half = repeat // 2
            out[f"{p.shape} / {p.kind}"] = (sorted(times[:half])[half // 2], sorted(times[half:])[half // 2])
    return out
