"""Helpers for the lead-form tests: reading a form as a browser would, submitting it, and reading the rows."""
from __future__ import annotations

import contextlib
import html
import os
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.app import create_app
from kroi.db.models import Car, Lead, LeadActivity, OutboxMessage, User
from kroi.settings import Settings

HX = {"HX-Request": "true"}
TZ = ZoneInfo("Europe/Helsinki")
SEEDED_LEADS = 3
_rng = random.Random()
# One argon2 hash for every sales user a test adds (hashing is deliberately slow).
_HASH: list[str] = []


@contextlib.asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app built from these settings, reached through httpx in this event loop (like tests/conftest.py's)."""
    app = create_app(settings)
    async with app.lifespan():
        # A client address of its own: rate limits count per address, and test processes may share one Redis.
        transport = httpx.ASGITransport(app=app, client=(f"10.{_rng.randrange(256)}.{_rng.randrange(256)}."
                                                         f"{_rng.randrange(1, 255)}", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def fast(settings: Settings, **update: Any) -> Settings:
    """Test settings for submitting forms: no minimum fill time, no background mail worker."""
    return settings.model_copy(update={"form_min_seconds": 0, "run_worker": False, **update})


# --- reading forms ------------------------------------------------------------------------------------------

@dataclass
class Form:
    """One <form> as a browser sees it: its attributes and the values it would submit."""

    attrs: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)
    checkboxes: dict[str, bool] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return self.attrs.get("data-form")

    def data(self, **typed: str) -> dict[str, str]:
        """What a person submits after typing `typed` (checkboxes count when checked)."""
        out = dict(self.values)
        out.update({name: "on" for name, on in self.checkboxes.items() if on})
        out.update(typed)
        return {k: v for k, v in out.items() if v is not None}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._option: dict[str, str] | None = None
        self._option_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(attrs=a)
            self.forms.append(self._form)
            return
        f = self._form
        if f is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "checkbox":
                f.checkboxes[name] = "checked" in a
            elif kind not in ("submit", "button"):
                f.values[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            f.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            f.options[name] = []
            f.values.setdefault(name, "")
        elif tag == "option" and self._select:
            self._option = a
            self._option_text = ""

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.values[self._textarea] += data
        if self._option is not None:
            self._option_text += data

    def handle_endtag(self, tag: str) -> None:
        f = self._form
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "option" and self._option is not None and f is not None and self._select:
            value = self._option.get("value", self._option_text.strip())
            f.options[self._select].append(value)
            if "selected" in self._option:
                f.values[self._select] = value
            self._option = None
        elif tag == "select":
            self._select = None


def forms(page: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def lead_form(page: str, kind: str | None = None) -> Form:
    """The lead form (data-form=…) in a page or fragment; exactly one is expected."""
    found = [f for f in forms(page) if f.kind and (kind is None or f.kind == kind)]
    assert len(found) == 1, f"expected one lead form {kind!r}, found {[f.kind for f in found]}"
    return found[0]


def field_error(page: str, name: str) -> str | None:
    """The text of the [data-error-for=name] element, unescaped; None when there is no such element."""
    m = re.search(rf'<(p|div)\b[^>]*\bdata-error-for="{re.escape(name)}"[^>]*>(.*?)</\1>', page, re.S)
    return html.unescape(m.group(2)).strip() if m else None


def error_fields(page: str) -> dict[str, str]:
    """Every non-empty field error in a page: name -> message."""
    out = {}
    for name, body in re.findall(r'<p\b[^>]*\bdata-error-for="([^"]+)"[^>]*>(.*?)</p>', page, re.S):
        if body.strip():
            out[name] = html.unescape(body).strip()
    return out


def confirmation_reference(page: str) -> int:
    """The reference number shown in the [data-confirmation] block."""
    m = re.search(r"<div\b[^>]*\bdata-confirmation\b[^>]*>(.*?)</div>", page, re.S)
    assert m, f"no confirmation in: {page[:400]}"
    ref = re.search(r"(?:Viitenumero|Reference): (\d+)", m.group(1))
    assert ref, m.group(1)
    return int(ref.group(1))


def is_confirmation(page: str) -> bool:
    return re.search(r"<div\b[^>]*\bdata-confirmation\b", page) is not None


def is_full_page(page: str) -> bool:
    return page.lstrip().lower().startswith("<!doctype html")


# --- filling and sending -----------------------------------------------------------------------------------

def open_day(after: date | None = None, weekdays: tuple[int, ...] = (0, 1, 2, 3)) -> date:
    """The first Monday–Thursday (09–18 in the default hours) after today, Helsinki time."""
    day = (after or datetime.now(TZ).date()) + timedelta(days=1)
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return day


def next_weekday(weekday: int) -> date:
    day = datetime.now(TZ).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def valid_input(kind: str, email: str, **extra: str) -> dict[str, str]:
    """What a person types into a form of this kind to send it successfully."""
    base = {"name": "Maija Meikäläinen", "email": email, "phone": "040 123 4567", "consent": "on",
            "message": "Onko auto vielä myynnissä?"}
    if kind == "test-drive":
        base |= {"preferred_date": open_day().isoformat(), "preferred_time": "10:00"}
    elif kind == "trade-in":
        base |= {"registration": "abc-123", "trade_make": "Toyota", "trade_model": "Corolla", "trade_year": "2015",
                 "trade_mileage": "150000"}
    elif kind == "financing":
        base |= {"down_payment": "2000", "term_months": "48"}
    base.update(extra)
    return base


async def get_form(client: httpx.AsyncClient, url: str, kind: str | None = None) -> Form:
    r = await client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return lead_form(r.text, kind)


async def post(client: httpx.AsyncClient, data: dict[str, str], *, htmx: bool = False,
               follow: bool = False) -> httpx.Response:
    headers = dict(HX) if htmx else {}
    return await client.post("/leads", data=data, headers=headers, follow_redirects=follow)


async def send(client: httpx.AsyncClient, url: str, kind: str, email: str, *, htmx: bool = True,
               **extra: str) -> httpx.Response:
    """GET the page with the form, fill it in validly and POST it."""
    form = await get_form(client, url, kind)
    return await post(client, form.data(**valid_input(kind, email, **extra)), htmx=htmx)


# --- rows ---------------------------------------------------------------------------------------------------

async def lead_rows(db: AsyncSession, **where: Any) -> list[dict[str, Any]]:
    """Lead rows as plain mappings (always read fresh from the database), in id order."""
    t = Lead.__table__
    stmt = select(t).order_by(t.c.id)
    for name, value in where.items():
        stmt = stmt.where(t.c[name] == value)
    rows = (await db.execute(stmt)).mappings().all()
    await db.commit()
    return [dict(r) for r in rows]


async def new_leads(db: AsyncSession) -> list[dict[str, Any]]:
    """Leads beyond the seeded sample ones."""
    rows = await lead_rows(db)
    return [r for r in rows if r["source_page"] != "/seed"]


async def outbox_rows(db: AsyncSession, **where: Any) -> list[dict[str, Any]]:
    t = OutboxMessage.__table__
    stmt = select(t).order_by(t.c.id)
    for name, value in where.items():
        stmt = stmt.where(t.c[name] == value)
    rows = (await db.execute(stmt)).mappings().all()
    await db.commit()
    return [dict(r) for r in rows]


async def activities(db: AsyncSession, lead_id: int) -> list[dict[str, Any]]:
    t = LeadActivity.__table__
    rows = (await db.execute(select(t).where(t.c.lead_id == lead_id).order_by(t.c.id))).mappings().all()
    await db.commit()
    return [dict(r) for r in rows]


async def db_now(db: AsyncSession) -> datetime:
    value = await db.scalar(text("SELECT now()"))
    await db.commit()
    return value


@dataclass(frozen=True)
class SeededCar:
    id: int
    slug: str
    registration_number: str
    price_cents: int
    model_year: int

    @property
    def url(self) -> str:
        return f"/cars/{self.id}-{self.slug}"


async def seeded_car(db: AsyncSession, registration: str) -> SeededCar:
    """One of the nine seeded cars (seed/cars.json), by its registration number."""
    row = (await db.execute(select(Car.id, Car.slug, Car.registration_number, Car.price_cents, Car.model_year)
                            .where(Car.registration_number == registration))).one()
    await db.commit()
    return SeededCar(*row)


async def add_user(db: AsyncSession, email: str, role: str, active: bool = True) -> int:
    from kroi.security.passwords import hash_password

    if not _HASH:
        _HASH.append(hash_password("not-a-real-password-1"))
    user = User(email=email, full_name=email.split("@")[0], password_hash=_HASH[0], role=role, is_active=active)
    db.add(user)
    await db.commit()
    return user.id


# --- fixtures (import them into a test module to use them) ---------------------------------------------------

@pytest.fixture(scope="session")
def redis_url(servers: tuple[str, str]) -> str:
    """Overrides tests/conftest.py's: with the embedded servers, which test processes share and each flush at
    every test, a Redis database of this process's own, so no other run resets a rate-limit count mid-test."""
    url = servers[1]
    if os.environ.get("KROI_TEST_REDIS_URL"):
        return url  # chosen by whoever runs the tests
    return f"{url}{'&' if '?' in url else '?'}db={2 + os.getpid() % 14}"


@pytest.fixture
def lead_settings(settings: Settings) -> Settings:
    return fast(settings)


@pytest.fixture
async def lead_client(lead_settings: Settings, reset: None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with no minimum fill time and no background mail worker, on freshly seeded data."""
    async with client_for(lead_settings) as c:
        yield c
