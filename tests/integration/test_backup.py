"""`kroi backup` / `kroi backup list` / `kroi restore` against the real PostgreSQL, through the command line.

Each test makes databases of its own (names with this process id) and drops them. The round trip uses 2,000
demo cars, leads, users and media files and checks every table with a digest computed here, independently of
the manifest's checksums; the others use a small seeded database to stay fast.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner, Result

from kroi import testing
from kroi.backup import last_backup_at, repository
from kroi.backup.locations import FolderLocation, new_name
from kroi.backup.services import make_backup, prune
from kroi.backup.tools import ToolError, find_tool
from kroi.cli import main
from kroi.db.session import make_engine, make_sessionmaker
from kroi.seeding.demo import load_demo, pool_paths
from kroi.seeding.images import VARIANTS
from kroi.seeding.original import SEED_IMAGES, seed_all
from kroi.settings import Settings
from kroi.storage import LocalStorage

pytestmark = pytest.mark.integration

PID = os.getpid()


# --- helpers ----------------------------------------------------------------------------------------------------

def _dbname(what: str) -> str:
    return f"kroi_bk{PID}_{what}_{uuid.uuid4().hex[:6]}"


@pytest.fixture
def dbs(servers: tuple[str, str]) -> Iterator[list[str]]:
    """Names appended here are dropped after the test (with whatever a failed restore may have left)."""
    names: list[str] = []
    yield names
    for name in names:
        testing.drop_database(servers[0], name)
    leftovers = asyncio.run(_databases_like(servers[0], f"kroi_bk{PID}_%"))
    for name in leftovers:
        testing.drop_database(servers[0], name)


async def _databases_like(url: str, pattern: str) -> list[str]:
    conn = await repository.connect(url)
    try:
        return [r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1",
                                                       pattern)]
    finally:
        await conn.close()


def _settings(db_url: str, redis_url: str, tmp: Path, **more: object) -> Settings:
    return Settings(env="test", database_url=db_url, redis_url=redis_url, var_dir=tmp / "var",
                    media_dir=tmp / "media", backup_dir=str(tmp / "backups"), **more)


def _cli(settings: Settings, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    env = (env or {}) | {"KROI_ENV": "test", "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "KROI_VAR_DIR": str(settings.var_dir), "KROI_MEDIA_DIR": str(settings.media_root),
           "KROI_BACKUP_DIR": settings.backup_location}
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


async def _seed(settings: Settings, demo: int = 0) -> None:
    storage = LocalStorage(settings.media_root)
    engine = make_engine(settings, command_timeout=None)
    try:
        async with make_sessionmaker(engine)() as session:
            await seed_all(session, storage, "admin@example.test", "test-password-not-default")
        if demo:
            # The demo pool's pictures, put in place from a shipped seed picture instead of drawn (~50 s):
            # load_demo only draws what storage lacks, and the bytes only have to survive the round trip.
            sample = {v: next(SEED_IMAGES.glob(f"*-{v}.webp")).read_bytes() for v in VARIANTS}
            for stem, *_ in pool_paths():
                for v in VARIANTS:
                    await storage.put(f"{stem}-{v}.webp", sample[v] + stem.encode(), "image/webp")
            async with make_sessionmaker(engine)() as session:
                await load_demo(session, demo, storage)
        async with engine.begin() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            # Leads and users beyond the seed's, with non-ASCII text, JSON and time stamps.
            await raw.execute("""
                INSERT INTO leads (type, name, email, phone, message, consent_text, consent_at, details, car_id)
                SELECT 'car_inquiry', 'Äijä Öhman ' || i, 'lead' || i || '@example.test', '+35840' || (1000000 + i),
                       E'Onko auto vielä myynnissä?\\nKiitos 🚗 ' || i, 'Suostun', now() - i * interval '1 hour',
                       jsonb_build_object('i', i, 'utm', 'kevät'), (SELECT min(id) FROM cars)
                FROM generate_series(1, 300) i""")
            await raw.execute("""
                INSERT INTO users (email, full_name, password_hash, role)
                SELECT 'staff' || i || '@example.test', 'Myyjä ' || i, '$argon2id$v=19$m=65536,t=3,p=4$x$y', 'sales'
                FROM generate_series(1, 25) i""")
            # An uploaded photo, as the admin stores one.
            car_id = await raw.fetchval("SELECT max(id) FROM cars")
            await raw.execute("INSERT INTO car_images (car_id, position, path, width, height) "
                              "VALUES ($1, 99, $2, 960, 720)", car_id, f"cars/{car_id}/upload-test")
        for v in VARIANTS:
            await storage.put(f"cars/{car_id}/upload-test-{v}.webp", f"uploaded {v}".encode() * 100, "image/webp")
    finally:
        await engine.dispose()


async def _digest(url: str) -> dict[str, tuple[int, str]]:
    """Per table: (rows, sha256 of the sorted rows' text), computed here without the product's checksum SQL."""
    conn = await repository.connect(url)
    try:
        await conn.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 1")
        tables = [r["relname"] for r in await conn.fetch(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")]
        out = {}
        for t in tables:
            rows = sorted(r[0] for r in await conn.fetch(f'SELECT x::text FROM "{t}" x'))
            out[t] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return out
    finally:
        await conn.close()


def _media_files(root: Path) -> dict[str, str]:
    return {f.relative_to(root).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in root.rglob("*") if f.is_file()}


def _small_source(servers: tuple[str, str], redis_url: str, tmp: Path, dbs: list[str]) -> Settings:
    name = _dbname("small")
    dbs.append(name)
    settings = _settings(testing.fresh_database(servers[0], name), redis_url, tmp)
    asyncio.run(_seed(settings))
    return settings


def _only_backup(settings: Settings) -> Path:
    [entry] = [e for e in FolderLocation(Path(settings.backup_location)).scan() if e.good]
    return Path(settings.backup_location) / entry.name


# --- the round trip -------------------------------------------------------------------------------------------

def test_backup_drop_restore_gives_identical_tables_and_media(servers: tuple[str, str], redis_url: str,
                                                              tmp_path: Path, dbs: list[str]) -> None:
    name = _dbname("src")
    dbs.append(name)
    settings = _settings(testing.fresh_database(servers[0], name), redis_url, tmp_path)
    asyncio.run(_seed(settings, demo=2000))
    before = asyncio.run(_digest(settings.database_url))
    media_before = _media_files(settings.media_root)
    assert before["cars"][0] == 2009 and before["leads"][0] == 303 and before["users"][0] == 26

    result = _cli(settings, "backup")
    assert result.exit_code == 0, result.output
    folder = _only_backup(settings)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["alembic_revision"] and manifest["kroi_version"] and manifest["created_at"].endswith("Z")
    assert {t: v["rows"] for t, v in manifest["tables"].items()} == {t: n for t, (n, _) in before.items()}
    assert "cars/" in " ".join(manifest["media"]["objects"]) and manifest["media"]["missing"] == []
    assert set(manifest["files"]) == {"db.dump", "media.tar"}

    listing = _cli(settings, "backup", "list")
    assert folder.name in listing.output and "MB" in listing.output and "min ago" in listing.output

    testing.drop_database(servers[0], name)
    shutil.rmtree(settings.media_root)
    result = _cli(settings, "restore", folder.name, "--force")
    assert result.exit_code == 0, result.output
    assert f"restored {folder.name} into {name}" in result.output and "match the manifest" in result.output

    assert asyncio.run(_digest(settings.database_url)) == before
    referenced = {k for k in manifest["media"]["objects"]}
    assert {k: v for k, v in _media_files(settings.media_root).items() if k in referenced} == \
        {k: v for k, v in media_before.items() if k in referenced}
    assert referenced <= set(_media_files(settings.media_root))


class _Writer(threading.Thread):
    """Inserts leads, one transaction each, until stopped: the shop keeps taking inquiries during a backup."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.started_writing, self.written = url, threading.Event(), threading.Event(), 0
        self.cut_off: Exception | None = None  # the connection was ended under it (a restore replacing the db)

    def run(self) -> None:
        async def write() -> None:
            conn = await repository.connect(self.url)
            try:
                while not self.stop.is_set():
                    await conn.execute(
                        "INSERT INTO leads (type, name, email, consent_text, consent_at) "
                        "VALUES ('general', 'Kesken Varmuuskopion', 'busy@example.test', 'Suostun', now())")
                    self.written += 1
                    self.started_writing.set()
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                self.cut_off = exc
            finally:
                if not conn.is_closed():
                    await conn.close()

        asyncio.run(write())


def test_directory_format_with_parallel_jobs_while_the_shop_writes(servers: tuple[str, str], redis_url: str,
                                                                   tmp_path: Path, dbs: list[str]) -> None:
    settings = _small_source(servers, redis_url, tmp_path, dbs)
    writer = _Writer(settings.database_url)
    writer.start()
    assert writer.started_writing.wait(30)
    try:
        result = _cli(settings, "backup", "--jobs", "2", "--no-media")
    finally:
        writer.stop.set()
        writer.join(30)
    assert result.exit_code == 0, result.output
    folder = _only_backup(settings)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["dump"] == {"format": "directory", "path": "db"} and (folder / "db" / "toc.dat").is_file()
    assert not (folder / "media.tar").exists() and manifest["media"]["included"] is False
    target = _dbname("dir")
    dbs.append(target)
    # The counts and checksums were taken in the snapshot pg_dump read, so the dump verifies although the
    # leads table grew all the time.
    result = _cli(settings, "restore", folder.name, "--target-db", target, "--jobs", "2")
    assert result.exit_code == 0, result.output
    restored = asyncio.run(_digest(repository.database_url_for(settings.database_url, target)))
    assert restored["leads"][0] == manifest["tables"]["leads"]["rows"] > 303
    assert asyncio.run(_digest(settings.database_url))["leads"][0] == 303 + writer.written
    assert restored["cars"] == asyncio.run(_digest(settings.database_url))["cars"]


def test_an_older_dump_is_migrated_forward_after_verification(servers: tuple[str, str], redis_url: str,
                                                              tmp_path: Path, dbs: list[str]) -> None:
    from kroi.backup.services import _head_and_known
    from kroi.db.migrate import upgrade

    name = _dbname("old")
    dbs.append(name)
    url = testing.fresh_database(servers[0], name, migrate=False)
    upgrade(url, "0006")
    settings = _settings(url, redis_url, tmp_path)
    assert _cli(settings, "backup", "--no-media").exit_code == 0
    folder = _only_backup(settings)
    assert json.loads((folder / "manifest.json").read_text())["alembic_revision"] == "0006"
    target = _dbname("new")
    dbs.append(target)
    result = _cli(settings, "restore", folder.name, "--target-db", target)
    assert result.exit_code == 0, result.output
    head, _ = _head_and_known(None)
    assert f"migrated 0006 -> {head}" in result.output

    async def revision() -> str:
        conn = await repository.connect(settings.database_url, target)
        try:
            return await repository.alembic_revision(conn)
        finally:
            await conn.close()

    assert asyncio.run(revision()) == head != "0006"


# --- overwriting needs a confirmation ---------------------------------------------------------------------

def test_restore_refuses_a_non_empty_database_without_yes_or_force(servers: tuple[str, str], redis_url: str,
                                                                   tmp_path: Path, dbs: list[str]) -> None:
    settings = _small_source(servers, redis_url, tmp_path, dbs)
    assert _cli(settings, "backup", "--no-media").exit_code == 0
    folder = _only_backup(settings)
    target = _dbname("busy")
    dbs.append(target)
    target_url = testing.fresh_database(servers[0], target, migrate=False)

    async def sql(query: str) -> object:
        conn = await repository.connect(target_url)
        try:
            return await conn.fetchval(query)
        finally:
            await conn.close()

    asyncio.run(sql("CREATE TABLE precious (x int)"))
    asyncio.run(sql("INSERT INTO precious VALUES (42)"))

    refused = _cli(settings, "restore", folder.name, "--target-db", target)
    assert refused.exit_code == 1 and f"database {target} is not empty" in refused.output
    assert "--yes" in refused.output and "--force" in refused.output
    wrong = _cli(settings, "restore", folder.name, "--target-db", target, "--yes", input="kroi\n")
    assert wrong.exit_code == 1 and "Type the database name" in wrong.output and "does not match" in wrong.output
    assert asyncio.run(sql("SELECT x FROM precious")) == 42

    typed = _cli(settings, "restore", folder.name, "--target-db", target, "--yes", input=f"{target}\n")
    assert typed.exit_code == 0, typed.output
    assert "replacing the database that was there" in typed.output
    assert asyncio.run(sql("SELECT to_regclass('precious') IS NULL")) is True
    assert asyncio.run(sql("SELECT count(*) FROM cars")) == 9

    # --force, while a client keeps writing into the target: its session is ended, the restore goes in.
    writer = _Writer(target_url)
    writer.start()
    assert writer.started_writing.wait(30)
    try:
        forced = _cli(settings, "restore", folder.name, "--target-db", target, "--force")
    finally:
        writer.stop.set()
        writer.join(30)
    assert forced.exit_code == 0 and "Type the database name" not in forced.output, forced.output
    assert writer.cut_off is not None
    assert asyncio.run(sql("SELECT count(*) FROM leads")) == 303  # what the backup had, none of the writer's


# --- damaged backups ----------------------------------------------------------------------------------------

def _copy_as(folder: Path, minutes_later: int) -> Path:
    from kroi.backup.locations import name_time

    copy = folder.parent / new_name(name_time(folder.name) + timedelta(minutes=minutes_later))
    shutil.copytree(folder, copy)
    return copy


def test_corrupted_truncated_and_unreadable_dumps_are_reported(servers: tuple[str, str], redis_url: str,
                                                              tmp_path: Path, dbs: list[str]) -> None:
    settings = _small_source(servers, redis_url, tmp_path, dbs)
    assert _cli(settings, "backup").exit_code == 0
    good = _only_backup(settings)
    size = (good / "db.dump").stat().st_size

    corrupted = _copy_as(good, 1)
    with (corrupted / "db.dump").open("r+b") as f:
        f.seek(size // 2)
        f.write(b"\x00garbage\xff" * 64)
    truncated = _copy_as(good, 2)
    with (truncated / "db.dump").open("r+b") as f:
        f.truncate(size // 3)
    # Damaged before the manifest was written (a bad disk, a bug): only pg_restore itself can tell.
    unreadable = _copy_as(good, 3)
    with (unreadable / "db.dump").open("r+b") as f:
        f.seek(size // 2)
        f.write(b"\x00garbage\xff" * 512)
    manifest = json.loads((unreadable / "manifest.json").read_text())
    manifest["files"]["db.dump"]["sha256"] = hashlib.sha256((unreadable / "db.dump").read_bytes()).hexdigest()
    (unreadable / "manifest.json").write_text(json.dumps(manifest))
    # A backup that never finished (no manifest).
    unfinished = _copy_as(good, 4)
    (unfinished / "manifest.json").unlink()

    target = _dbname("none")
    for folder, expected in ((corrupted, "db.dump: corrupted"), (truncated, "db.dump: truncated"),
                             (unreadable, "pg_restore could not read"), (unfinished, "is incomplete")):
        result = _cli(settings, "restore", folder.name, "--target-db", target)
        assert result.exit_code == 1, result.output
        assert expected in result.output and "Traceback" not in result.output, result.output
        assert asyncio.run(_databases_like(servers[0], f"{target}%")) == []  # nothing created, nothing left
    assert f"{truncated.name}" in _cli(settings, "backup", "list").output
    assert "INCOMPLETE" in _cli(settings, "backup", "list").output

    # Files all intact, but the restored rows differ from what the manifest says: exit 2, target untouched.
    tampered = _copy_as(good, 5)
    manifest = json.loads((tampered / "manifest.json").read_text())
    manifest["tables"]["cars"]["rows"] += 1
    manifest["tables"]["brands"]["md5"] = "0" * 32
    (tampered / "manifest.json").write_text(json.dumps(manifest))
    result = _cli(settings, "restore", tampered.name, "--target-db", target)
    assert result.exit_code == 2, result.output
    assert "cars: 9 rows, the backup had 10" in result.output and "brands: same row count" in result.output
    assert asyncio.run(_databases_like(servers[0], f"{target}%")) == []


# --- retention ----------------------------------------------------------------------------------------------

def test_retention_prunes_old_backups_after_a_good_one_and_keeps_the_last_good(
        servers: tuple[str, str], redis_url: str, tmp_path: Path, dbs: list[str]) -> None:
    settings = _small_source(servers, redis_url, tmp_path, dbs)
    location = FolderLocation(Path(settings.backup_location))
    # a few seconds back: the CLI's own backup below is named by the clock, and names have whole seconds
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=5)
    assert last_backup_at(settings) is None

    def backup(at: datetime, s: Settings = settings) -> list[str]:
        return asyncio.run(make_backup(s, location, None, media=False, keep_days=30, now=at)).pruned

    assert backup(now - timedelta(days=40)) == []
    assert backup(now - timedelta(days=35)) == []
    # A failed backup prunes nothing and leaves nothing behind, however old the others are.
    broken = settings.model_copy(update={"database_url": repository.database_url_for(
        settings.database_url, _dbname("missing"))})
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        backup(now - timedelta(days=1), broken)
    assert len(location.scan()) == 2 and not list(Path(settings.backup_location).glob(".partial-*"))
    # An unfinished one (no manifest) is listed but never counts as good.
    (Path(settings.backup_location) / new_name(now - timedelta(days=20))).mkdir()
    assert last_backup_at(settings) == now - timedelta(days=35)

    pruned = backup(now)
    assert pruned == [new_name(now - timedelta(days=40)), new_name(now - timedelta(days=35))]
    assert [e.name for e in location.scan()] == [new_name(now - timedelta(days=20)), new_name(now)]
    assert last_backup_at(settings) == now

    # Long after: the only good backup is old, but it is the last good one, so it stays.
    later = now + timedelta(days=100)
    assert asyncio.run(prune(location, 30, later)) == [new_name(now - timedelta(days=20))]
    assert [e.name for e in location.scan()] == [new_name(now)]
    assert asyncio.run(prune(location, 0, later)) == []

    # The CLI prunes with --keep-days after its own good backup.
    result = _cli(settings, "backup", "--no-media", "--keep-days", "0")
    assert result.exit_code == 0 and f"pruned {new_name(now)}" in result.output, result.output
    assert len(location.scan()) == 1
    # A schedule catching up after downtime backs up only when the newest good one is old enough.
    skipped = _cli(settings, "backup", "--no-media", "--if-older-than", "24")
    assert skipped.exit_code == 0 and "backup skipped" in skipped.output and len(location.scan()) == 1
    time.sleep(1)  # names have whole seconds
    ran = _cli(settings, "backup", "--no-media", "--if-older-than", "0")
    assert ran.exit_code == 0 and "skipped" not in ran.output and len(location.scan()) == 2, ran.output


# --- S3 ---------------------------------------------------------------------------------------------------------

def test_backup_to_an_s3_bucket_lists_and_restores(servers: tuple[str, str], redis_url: str, tmp_path: Path,
                                                   dbs: list[str]) -> None:
    import boto3
    from moto.server import ThreadedMotoServer
    from pydantic import SecretStr

    port = testing.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        base = _small_source(servers, redis_url, tmp_path, dbs)
        bucket = f"kroi-backups-{uuid.uuid4().hex[:8]}"
        settings = base.model_copy(update={"s3_endpoint_url": endpoint, "s3_region": "eu-north-1",
                                           "s3_access_key": "k", "s3_secret_key": SecretStr("s"),
                                           "backup_dir": f"s3://{bucket}/nightly"})
        client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-north-1", aws_access_key_id="k",
                              aws_secret_access_key="s")
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        env = {"KROI_S3_ENDPOINT_URL": endpoint, "KROI_S3_REGION": "eu-north-1", "KROI_S3_ACCESS_KEY": "k",
               "KROI_S3_SECRET_KEY": "s"}
        result = _cli(settings, "backup", env=env)
        assert result.exit_code == 0, result.output
        keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
        name = keys[0].split("/")[1]
        assert keys == [f"nightly/{name}/{f}" for f in ("db.dump", "manifest.json", "media.tar")]
        assert last_backup_at(settings) is not None
        assert name in _cli(settings, "backup", "list", env=env).output
        target = _dbname("s3")
        dbs.append(target)
        result = _cli(settings, "restore", "latest", "--target-db", target, env=env)
        assert result.exit_code == 0, result.output
        assert asyncio.run(_digest(repository.database_url_for(settings.database_url, target))) == \
            asyncio.run(_digest(settings.database_url))
    finally:
        server.stop()


# --- the tools ----------------------------------------------------------------------------------------------

def test_missing_or_too_old_tools_are_named_clearly() -> None:
    with pytest.raises(ToolError, match="pg_nonesuch not found .*postgresql-client-15"):
        asyncio.run(find_tool("pg_nonesuch", 15))
    with pytest.raises(ToolError, match=r"every pg_dump found is too old \(.*\); the server is PostgreSQL 99"):
        asyncio.run(find_tool("pg_dump", 99))
    tool = asyncio.run(find_tool("pg_restore", 15, at_least=14))
    assert tool.major >= 15


def test_backup_of_an_unreachable_database_fails_clearly(redis_url: str, tmp_path: Path) -> None:
    settings = _settings(f"postgresql+asyncpg://postgres@127.0.0.1:{testing.free_port()}/kroi", redis_url, tmp_path)
    result = _cli(settings, "backup")
    assert result.exit_code == 1 and "backup failed:" in result.output and "Traceback" not in result.output
    assert not any(Path(settings.backup_location).glob("*"))


# --- the docker-compose schedule ------------------------------------------------------------------------------

def test_the_daily_schedule_catches_up_then_sleeps_until_backup_at(tmp_path: Path) -> None:
    """deploy/backup-daily.sh with a `kroi` and a `sleep` that record what they were asked (the sleep then ends
    the loop): one catch-up backup at start, then a sleep until the next BACKUP_AT."""
    import subprocess

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    (bin_dir / "kroi").write_text(f'#!/bin/sh\necho "kroi $*" >> {log}\n')
    (bin_dir / "sleep").write_text(f'#!/bin/sh\necho "sleep $1" >> {log}\nkill $PPID\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    at = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%H:%M")  # passed today: tomorrow's
    subprocess.run(["sh", str(testing.ROOT / "deploy" / "backup-daily.sh")], timeout=60, capture_output=True,
                   env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "BACKUP_AT": at})
    calls = log.read_text().splitlines()
    assert calls[0] == "kroi backup --if-older-than 24" and calls[1].startswith("sleep ")
    assert 23 * 3600 - 120 < int(calls[1].split()[1]) <= 23 * 3600 + 60
