"""Browser tests: one live Kroi server per session on a free port, seeded with the nine original cars.

Run apart from tests/ (`.venv/bin/pytest e2e`): Playwright's sync API and the anyio tests do not mix.
The data is seeded once (plus two sales users for lead assignment); the shopper tests only read, and the
lead tests add leads, which the car pages do not show. Each test gets its own browser context (cookies,
sessionStorage and so the htmx history cache start empty). The server's mail goes to a local aiosmtpd
(the `mailbox` fixture); its outbox worker runs inside the server process.

The staff tests (test_admin.py) add, publish and sell a car, so they get a second live server (`admin_server`)
over a database of their own (kroi_e2e_admin_{pid}, seeded alike, plus an admin, a sales user and a viewer with known
passwords) and a Redis database of their own: the shopper tests keep seeing exactly the nine seeded cars.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Page, expect
from redis.asyncio import Redis
from sqlalchemy import text

from kroi import testing
from kroi.app import create_server_app
from kroi.db.models import User
from kroi.db.session import make_engine, make_sessionmaker
from kroi.security.passwords import hash_password
from kroi.seeding.original import seed_all
from kroi.settings import Settings
from kroi.storage import make_storage

import smtp
from helpers import PAGE_SIZE, STAFF, STAFF_PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Active sales users added after seeding, so that new leads are assigned round robin: (e-mail, name).
SALES_USERS = (("myyja.yksi@example.test", "Myyjä Yksi"), ("myyja.kaksi@example.test", "Myyjä Kaksi"))
T = TypeVar("T")

expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: install Debian's chromium (make e2e-deps)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"],
    }


def _in_thread(fn: Callable[[], T]) -> T:
    """Run fn in a fresh thread: asyncio.run() fails where Playwright's sync API already runs a loop."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _seed(settings: Settings, users: list[User]) -> None:
    engine = make_engine(settings)
    try:
        await testing.truncate_all(engine)
        async with make_sessionmaker(engine)() as session:
            await seed_all(session, make_storage(settings), settings.admin_email,
                           settings.admin_password.get_secret_value())
            session.add_all(users)  # after the seed, which makes only the admin
            await session.commit()
    finally:
        await engine.dispose()
    redis = Redis.from_url(settings.redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[smtp.Mailbox]:
    """Every mail the live server sends: an aiosmtpd server on 127.0.0.1 and a free port."""
    box, controller = smtp.start(testing.free_port())
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def e2e_settings(tmp_path_factory: pytest.TempPathFactory, mailbox: smtp.Mailbox) -> Iterator[Settings]:
    """The live server's settings, over a fresh, seeded kroi_e2e database."""
    try:
        db, redis = _in_thread(testing.server_urls)
        tmp = tmp_path_factory.mktemp("kroi-e2e")
        settings = Settings(env="test", database_url=_in_thread(lambda: testing.fresh_database(db, f"kroi_e2e_{os.getpid()}")),
                            redis_url=redis, var_dir=tmp, media_dir=tmp / "media", page_size=PAGE_SIZE,
                            admin_email="admin@example.test", admin_password="e2e-password-not-default",
                            smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_starttls=False,
                            form_min_seconds=0, outbox_poll_seconds=0.2)
        # Round-robin assignment needs active sales users.
        _in_thread(lambda: asyncio.run(_seed(settings, [
            User(email=email, full_name=name, role="sales", password_hash=hash_password(secrets.token_urlsafe(15)))
            for email, name in SALES_USERS])))
        yield settings
        # One database per test process (two runs on one server never meet); gone with the run.
        for name in (f"kroi_e2e_{os.getpid()}", f"kroi_e2e_admin_{os.getpid()}"):
            _in_thread(lambda: testing.drop_database(db, name))
    finally:
        testing.stop_embedded()


@contextmanager
def _serve(settings: Settings, name: str) -> Iterator[str]:
    """Run Kroi with these settings in a uvicorn thread on a free port; yields its origin once /health answers."""
    with testing.serve_in_thread(create_server_app(settings), name) as origin:
        yield origin


@pytest.fixture(scope="session")
def live_server(e2e_settings: Settings) -> Iterator[str]:
    """The origin (http://127.0.0.1:PORT) of a running Kroi on a fresh, seeded kroi_e2e database."""
    with _serve(e2e_settings, "kroi-e2e-server") as origin:
        yield origin


def _other_redis_db(url: str) -> str:
    """The same Redis server, the next database number: fragment caches and generations apart."""
    parts = urlsplit(url)
    if parts.scheme == "unix":  # unix:///path.sock?db=N
        query = [p for p in parts.query.split("&") if p]
        db = next((int(p[3:]) for p in query if p.startswith("db=")), 0)
        query = [p for p in query if not p.startswith("db=")] + [f"db={(db + 1) % 16}"]
        return urlunsplit(parts._replace(query="&".join(query)))
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(db + 1) % 16}"))


@pytest.fixture(scope="session")
def admin_settings(e2e_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the staff tests' server: the kroi_e2e_admin database seeded alike, plus STAFF; no mail worker."""
    tmp = tmp_path_factory.mktemp("kroi-e2e-admin")
    settings = e2e_settings.model_copy(update={
        "database_url": _in_thread(lambda: testing.fresh_database(e2e_settings.database_url, f"kroi_e2e_admin_{os.getpid()}")),
        "redis_url": _other_redis_db(e2e_settings.redis_url), "var_dir": tmp, "media_dir": tmp / "media",
        "run_worker": False, "redis_timeout": 0.5})  # a busy 2-core machine misses 50 ms: no flaky sign-ins
    password = hash_password(STAFF_PASSWORD)
    _in_thread(lambda: asyncio.run(_seed(settings, [
        User(email=email, full_name=f"E2E {role}", role=role, password_hash=password)
        for role, email in STAFF.items()])))
    return settings


@pytest.fixture(scope="session")
def admin_server(admin_settings: Settings) -> Iterator[str]:
    """The origin of a second live Kroi, over admin_settings: the staff tests change its data freely."""
    with _serve(admin_settings, "kroi-e2e-admin-server") as origin:
        yield origin


def _rows(settings: Settings) -> Callable[..., list[dict[str, Any]]]:
    async def run(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        engine = make_engine(settings)
        try:
            async with engine.begin() as conn:  # committed: a test may insert its own rows
                result = await conn.execute(text(sql), params)
                return [dict(row) for row in result.mappings()] if result.returns_rows else []
        finally:
            await engine.dispose()

    return lambda sql, **params: _in_thread(lambda: asyncio.run(run(sql, params)))


@pytest.fixture(scope="session")
def db_rows(e2e_settings: Settings) -> Callable[..., list[dict[str, Any]]]:
    """db_rows(sql, **params): the rows of a query on the live server's database, as dicts."""
    return _rows(e2e_settings)


@pytest.fixture(scope="session")
def admin_rows(admin_settings: Settings) -> Callable[..., list[dict[str, Any]]]:
    """admin_rows(sql, **params): run a statement on the admin server's database (committed); rows as dicts."""
    return _rows(admin_settings)


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright's base URL: page.goto("/cars") goes to the live server."""
    return live_server


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(10_000)
    return page
