"""Browser tests: one live Kroi server per session on a free port, seeded with the nine original cars.

Run apart from tests/ (`.venv/bin/pytest e2e`): Playwright's sync API and the anyio tests do not mix.
The tests only read, so the data is seeded once; each test gets its own browser context (cookies,
sessionStorage and so the htmx history cache start empty).
"""
from __future__ import annotations

import asyncio
import os
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

from kroi import testing
from kroi.app import create_app
from kroi.db.session import make_engine, make_sessionmaker
from kroi.seeding.original import seed_all
from kroi.settings import Settings

from helpers import PAGE_SIZE

CHROMIUM = "/usr/bin/chromium"
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
    finally:
        await engine.dispose()
    redis = Redis.from_url(settings.redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The origin (http://127.0.0.1:PORT) of a running Kroi on a fresh, seeded kroi_e2e database."""
    try:
        db, redis = _in_thread(testing.server_urls)
        tmp = tmp_path_factory.mktemp("kroi-e2e")
        settings = Settings(env="test", database_url=_in_thread(lambda: testing.fresh_database(db, "kroi_e2e")),
                            redis_url=redis, var_dir=tmp, media_dir=tmp / "media", page_size=PAGE_SIZE,
                            admin_email="admin@example.test", admin_password="e2e-password-not-default")
        _in_thread(lambda: asyncio.run(_seed(settings)))
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
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
    finally:
        testing.stop_embedded()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright's base URL: page.goto("/cars") goes to the live server."""
    return live_server


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(10_000)
    return page
