"""Alembic environment (async). The URL comes from the config (set by kroi.db.migrate) or DATABASE_URL."""
from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from kroi.db import models  # noqa: F401  (registers every table)
from kroi.db.base import Base
from kroi.settings import Settings

config = context.config
target_metadata = Base.metadata

# Hand-written DDL that autogenerate cannot compare reliably (expression indexes, generated tsvector).
HAND_WRITTEN = {"uq_users_email_lower", "uq_newsletter_subscribers_email_lower", "ix_login_attempts_email_created",
                "ix_search_queries_lower_query", "ix_cars_search_vector"}


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    return not (type_ == "index" and name in HAND_WRITTEN)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        url = Settings().database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    return url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def _do_run(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, target_metadata=target_metadata, include_object=include_object,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = async_engine_from_config({"sqlalchemy.url": _url()}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_do_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
