"""Browser tests: one live Kroi server per session on a free port, seeded with the nine original cars.

Run apart from tests/ (`.venv/bin/pytest e2e`): Playwright's sync API and the anyio tests do not mix.
The data is seeded once (plus two sales users for lead assignment); the shopper tests only read, and the
lead tests add leads, which the car pages do not show. Each test gets its own browser context (cookies,
sessionStorage and so the htmx history cache start empty). The server's mail goes to a local aiosmtpd
(the `mailbox` fixture); its outbox worker runs inside the server process.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect
from redis.asyncio import Redis
from sqlalchemy import text

from kroi import testing
from kroi.app import create_app
from kroi.db.models import User
from kroi.db.session import make_engine, make_sessionmaker
from kroi.security.passwords import hash_password
from kroi.seeding.original import seed_all
from kroi.settings import Settings

import smtp
from helpers import PAGE_SIZE

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _seed(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        await testing.truncate_all(engine)
        async with make_sessionmaker(engine)() as session:
            await seed_all(session, settings.media_root, settings.admin_email,
                           settings.admin_password.get_secret_value())
            # Round-robin assignment needs active sales users; the seed makes only the admin.
            session.add_all([User(email=email, full_name=name, role="sales",
                                  password_hash=hash_password(secrets.token_urlsafe(15)))
                             for email, name in SALES_USERS])
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
    box, controller = smtp.start(_free_port())
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
        settings = Settings(env="test", database_url=_in_thread(lambda: testing.fresh_database(db, "kroi_e2e")),
                            redis_url=redis, var_dir=tmp, media_dir=tmp / "media", page_size=PAGE_SIZE,
                            admin_email="admin@example.test", admin_password="e2e-password-not-default",
                            smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_starttls=False,
                            form_min_seconds=0, outbox_poll_seconds=0.2)
        _in_thread(lambda: asyncio.run(_seed(settings)))
        yield settings
    finally:
        testing.stop_embedded()


@pytest.fixture(scope="session")
def live_server(e2e_settings: Settings) -> Iterator[str]:
    """The origin (http://127.0.0.1:PORT) of a running Kroi on a fresh, seeded kroi_e2e database."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(e2e_settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="kroi-e2e-server", daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if not thread.is_alive():
            raise RuntimeError("the e2e server thread exited during start-up")
        try:
            if httpx.get(f"{origin}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{origin}/health did not answer 200 within 30 s")
        time.sleep(0.05)
    try:
        yield origin
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="session")
def db_rows(e2e_settings: Settings) -> Callable[..., list[dict[str, Any]]]:
    """db_rows(sql, **params): the rows of a query on the live server's database, as dicts."""

    async def fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        engine = make_engine(e2e_settings)
        try:
            async with engine.connect() as conn:
                return [dict(row) for row in (await conn.execute(text(sql), params)).mappings()]
        finally:
            await engine.dispose()

    return lambda sql, **params: _in_thread(lambda: asyncio.run(fetch(sql, params)))


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright's base URL: page.goto("/cars") goes to the live server."""
    return live_server


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(10_000)
    return page
