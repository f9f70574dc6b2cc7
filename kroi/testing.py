"""Test and benchmark support: servers from KROI_TEST_* or embedded ones, fresh databases, a seeded reset.

Used by tests/, e2e/ and bench/; never by the running app.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from kroi import embedded
from kroi.db.base import Base
from kroi.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
_started: list[embedded.Embedded] = []


def server_urls() -> tuple[str, str]:
    """(database URL of an existing database to connect through, redis URL) for tests."""
    db = os.environ.get("KROI_TEST_DATABASE_URL")
    redis = os.environ.get("KROI_TEST_REDIS_URL")
    if db and redis:
        return db, redis
    emb = embedded.start(ROOT / "var", need_db=not db, need_redis=not redis, prefix="test-")
    _started.append(emb)
    return db or emb.database_url, redis or emb.redis_url


def stop_embedded() -> None:
    while _started:
        _started.pop().stop()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin_connect(admin_url: str) -> asyncpg.Connection:
    dsn = _asyncpg_dsn(admin_url)
    parts = urlsplit(dsn)
    host = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get("host")
    return await asyncpg.connect(dsn=urlunsplit(parts._replace(query="")) if host else dsn, host=host)


async def _drop(admin_url: str, name: str, create: bool = False) -> None:
    conn = await _admin_connect(admin_url)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_drop(admin_url, name))


def fresh_database(admin_url: str, name: str, migrate: bool = True) -> str:
    """Drop and create database `name` on the server of admin_url, migrate it; return its URL."""
    asyncio.run(_drop(admin_url, name, create=True))
    url = with_database(admin_url, name)
    if migrate:
        upgrade(url)
    return url


async def truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_in_thread(app: Any, name: str, **config: Any) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread on a free port; yields its origin once /health answers 200."""
    import threading
    import time

    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           **config))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if not thread.is_alive():
            raise RuntimeError(f"the {name} thread exited during start-up")
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
        thread.join(30)
