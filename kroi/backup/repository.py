"""The SQL of backups and restores: snapshots, per-table row counts and checksums, referenced media, databases.

Plain asyncpg connections: a backup holds one REPEATABLE READ transaction open while pg_dump reads its exported
snapshot, so the manifest's counts and checksums describe exactly the rows in the dump.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy.engine import make_url

from kroi.seeding.images import VARIANTS

# Database names Kroi creates or renames: no quoting surprises, and within PostgreSQL's 63 bytes.
DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Session settings that fix every value's text form, so a row's checksum depends on its data only.
_STABLE_TEXT = ("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
                "SET extra_float_digits = 1; SET bytea_output = 'hex'")

_TABLES_SQL = """
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class TableStat:
    rows: int
    md5: str


def database_url_for(database_url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)


async def connect(database_url: str, database: str | None = None) -> asyncpg.Connection:
    dsn = make_url(database_url).set(drivername="postgresql")
    if database:
        dsn = dsn.set(database=database)
    raw = dsn.render_as_string(hide_password=False)
    parts = urlsplit(raw)
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    host = query.pop("host", None)
    rest = "&".join(f"{k}={v}" for k, v in query.items())
    return await asyncpg.connect(dsn=urlunsplit(parts._replace(query=rest)), host=host)


def _qualified(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def _ident(schema: str, name: str) -> str:
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


async def server_major(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SHOW server_version_num")) // 10000


async def server_version(conn: asyncpg.Connection) -> str:
    return str(await conn.fetchval("SHOW server_version")).split()[0]


async def begin_snapshot(conn: asyncpg.Connection) -> str:
    """Start the transaction whose view of the data the dump and the manifest share; returns its snapshot id."""
    await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    await conn.execute(_STABLE_TEXT)
    return await conn.fetchval("SELECT pg_export_snapshot()")


async def table_stats(conn: asyncpg.Connection) -> dict[str, TableStat]:
    """Every table's row count and a checksum of its rows: each row's text form is hashed (md5) and the two
    64-bit halves of the hashes are summed. A sum needs no primary key, no sort and no memory per row, so it
    costs one sequential pass even for tables of millions of rows (car_views); any changed, missing or extra
    row changes it."""
    await conn.execute(_STABLE_TEXT)
    stats = {}
    for t in await conn.fetch(_TABLES_SQL):
        row = await conn.fetchrow(
            "SELECT count(*) AS n, md5(coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0) || ':' "
            "|| coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)) AS sum "
            f"FROM (SELECT md5(kroi_row_::text) AS h FROM {_ident(t['schema'], t['name'])} kroi_row_) s")
        stats[_qualified(t["schema"], t["name"])] = TableStat(rows=row["n"], md5=row["sum"])
    return stats


async def alembic_revision(conn: asyncpg.Connection) -> str | None:
    if not await conn.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL"):
        return None
    return await conn.fetchval("SELECT version_num FROM alembic_version LIMIT 1")


async def media_keys(conn: asyncpg.Connection) -> list[str]:
    """Every storage key the data refers to: each car image in all its variants."""
    if not await conn.fetchval("SELECT to_regclass('car_images') IS NOT NULL"):
        return []
    paths = [r["path"] for r in await conn.fetch("SELECT DISTINCT path FROM car_images ORDER BY path")]
    return [f"{p}-{v}.webp" for p in paths for v in VARIANTS]


async def database_exists(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))


async def user_table_count(conn: asyncpg.Connection) -> int:
    return len(await conn.fetch(_TABLES_SQL))


async def create_database(conn: asyncpg.Connection, name: str) -> None:
    _check_name(name)
    # template0: nothing someone added to template1 ends up beside the restored objects.
    await conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")


async def drop_database(conn: asyncpg.Connection, name: str) -> None:
    _check_name(name)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def swap_databases(conn: asyncpg.Connection, restored: str, target: str, old: str) -> bool:
    """Put `restored` in place of `target` (renamed to `old`, then dropped). Sessions still connected to the
    target are ended first (the app reconnects to the restored data). Returns whether a target existed."""
    for name in (restored, target, old):
        _check_name(name)
    existed = await database_exists(conn, target)
    if existed:
        for attempt in range(10):
            await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = $1 AND pid <> pg_backend_pid()", target)
            try:
                await conn.execute(f'ALTER DATABASE "{target}" RENAME TO "{old}"')
                break
            except asyncpg.ObjectInUseError:  # a client reconnected in between
                if attempt == 9:
                    raise
    await conn.execute(f'ALTER DATABASE "{restored}" RENAME TO "{target}"')
    if existed:
        await drop_database(conn, old)
    return existed


def _check_name(name: str) -> None:
    if not DB_NAME_RE.match(name):
        raise ValueError(f"not a database name Kroi uses: {name!r} (letters, digits and _, at most 63)")
