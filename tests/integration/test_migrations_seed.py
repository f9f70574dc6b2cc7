"""The Alembic migration goes up and down on an empty database; the seed is idempotent and hashes passwords."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from kroi import testing
from kroi.db.base import Base
from kroi.db.migrate import downgrade, upgrade
from kroi.db.models import User
from kroi.security.passwords import verify_password
from kroi.seeding.original import seed_all
from kroi.storage import make_storage

TABLES_SQL = ("SELECT table_name FROM information_schema.tables "
              "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'")


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set((await conn.execute(text(TABLES_SQL))).scalars())
    finally:
        await engine.dispose()


async def _drop_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        await engine.dispose()


@pytest.mark.integration
def test_migrations_upgrade_and_downgrade_an_empty_database(servers: tuple[str, str]) -> None:
    """Sync on purpose: Alembic's env.py runs its own asyncio.run."""
    url = testing.fresh_database(servers[0], "kroi_migrations", migrate=False)
    try:
        assert asyncio.run(_tables(url)) == set()
        upgrade(url)
        tables = asyncio.run(_tables(url))
        assert len(tables) >= 20
        assert {t.name for t in Base.metadata.sorted_tables} <= tables, "the models and the migration agree"
        downgrade(url)
        assert asyncio.run(_tables(url)) == set()
        upgrade(url)  # down left nothing behind that would stop the way up again
        assert asyncio.run(_tables(url)) == tables
    finally:
        asyncio.run(_drop_database(servers[0], "kroi_migrations"))


async def _counts(session) -> dict[str, int]:  # noqa: ANN001
    out = {}
    for table in Base.metadata.sorted_tables:
        out[table.name] = (await session.execute(select(func.count()).select_from(table))).scalar()
    return out


@pytest.mark.integration
@pytest.mark.anyio
async def test_seeding_twice_adds_nothing(db, settings) -> None:  # noqa: ANN001
    before = await _counts(db)
    assert before["cars"] == 9 and before["users"] == 1 and before["settings"] >= 1 and before["leads"] == 3
    report = await seed_all(db, make_storage(settings), settings.admin_email, settings.admin_password.get_secret_value())
    assert (report.cars_added, report.settings_added, report.leads_added) == (0, 0, 0)
    assert report.admin_email is None and report.admin_password is None
    assert await _counts(db) == before


@pytest.mark.integration
@pytest.mark.anyio
async def test_admin_password_is_argon2_hashed(db, settings) -> None:  # noqa: ANN001
    admin = (await db.scalars(select(User).where(User.role == "admin"))).one()
    given = settings.admin_password.get_secret_value()
    assert admin.email == settings.admin_email
    assert admin.password_hash.startswith("$argon2id$")
    assert given not in admin.password_hash
    assert verify_password(admin.password_hash, given)
    assert not verify_password(admin.password_hash, given + "x")


async def _drop_admin(db) -> None:  # noqa: ANN001
    await db.execute(text("DELETE FROM users WHERE role = 'admin'"))
    await db.commit()


@pytest.mark.integration
@pytest.mark.anyio
async def test_without_a_given_password_each_seed_generates_its_own(db, settings) -> None:  # noqa: ANN001
    generated = []
    hashes = []
    for _ in range(2):
        await _drop_admin(db)
        report = await seed_all(db, make_storage(settings), None, None)
        assert report.cars_added == 0  # the rest of the seed is already there
        assert report.admin_email == "admin@kroiautocenter.fi"
        assert report.admin_password and len(report.admin_password) >= 12
        admin = (await db.scalars(select(User).where(User.role == "admin"))).one()
        assert admin.password_hash.startswith("$argon2id$")
        assert report.admin_password not in admin.password_hash
        assert verify_password(admin.password_hash, report.admin_password)
        generated.append(report.admin_password)
        hashes.append(admin.password_hash)
    assert generated[0] != generated[1]
    assert hashes[0] != hashes[1]


@pytest.mark.integration
@pytest.mark.anyio
async def test_a_weak_admin_password_is_refused(db, settings) -> None:  # noqa: ANN001
    await _drop_admin(db)
    with pytest.raises(ValueError, match="KROI_ADMIN_PASSWORD"):
        await seed_all(db, make_storage(settings), None, "short")
    await db.rollback()
    assert (await db.execute(text("SELECT count(*) FROM users WHERE role = 'admin'"))).scalar() == 0
