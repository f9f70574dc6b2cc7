"""Browser tests: one live Kroi server per session on a free port, seeded with the nine original cars.

Run apart from tests/ (`.venv/bin/pytest e2e`): Playwright's sync API and the anyio tests do not mix.
The tests only read, so the data is seeded once; each test gets its own browser context (cookies,
localStorage and the htmx history cache start empty).
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page
from redis.asyncio import Redis

from kroi import testing
from kroi.app import create_app
from kroi.db.session import make_engine, make_sessionmaker
from kroi.seeding.original import SEED_DIR, seed_all
from kroi.settings import Settings

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path("/tmp/e2e-shots")
PAGE_SIZE = 4


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
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
        db, redis = testing.server_urls()
        tmp = tmp_path_factory.mktemp("kroi-e2e")
        settings = Settings(env="test", database_url=testing.fresh_database(db, "kroi_e2e"), redis_url=redis,
                            var_dir=tmp, media_dir=tmp / "media", page_size=PAGE_SIZE,
                            admin_email="admin@example.test", admin_password="e2e-password-not-default")
        asyncio.run(_seed(settings))
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


@pytest.fixture(scope="session")
def seed_cars() -> list[dict[str, Any]]:
    """The seeded cars as shipped in seed/cars.json: the source of every expectation."""
    return json.loads((SEED_DIR / "cars.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def listed(seed_cars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cars /cars lists, newest first (the default sort): available and reserved ones."""
    cars = [c for c in seed_cars if c["status"] in ("available", "reserved")]
    return sorted(cars, key=lambda c: c["days_listed"])


def euros(amount: int) -> str:
    """21900 -> '21 900 €' as the site prints it."""
    return f"{amount:,}".replace(",", " ") + " €"


def card_titles(page: Page) -> list[str]:
    """'Brand Model' of every car card in the result list, in order, as shown."""
    return [" ".join(t.split()) for t in page.locator("#result-list article .card-title").all_inner_texts()]


def card_ids(page: Page) -> list[str]:
    return page.locator("#result-list article").evaluate_all("els => els.map(e => e.dataset.carId)")
