"""Making, pruning, checking and restoring backups (`kroi backup`, `kroi backup list`, `kroi restore`).

A backup: pg_dump of one snapshot (custom format, or directory format with parallel jobs) + manifest.json
(time, Kroi version, schema revision, per-table row counts and checksums of the same snapshot, the media keys
the data refers to, size and sha256 of every file) + optionally media.tar with those media objects.
A restore goes into a new database, is checked against the manifest, migrated forward, and only then put in
place of the target; a failed restore leaves the target as it was.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import json
import secrets
import tarfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

from kroi.backup import repository as repo
from kroi.backup.locations import MANIFEST, Location, new_name
from kroi.backup.tools import ToolError, find_tool, libpq_env, run
from kroi.settings import Settings
from kroi.storage import Storage

FORMAT = 1
DUMP_FILE = "db.dump"  # custom format
DUMP_DIR = "db"  # directory format (--jobs > 1)
MEDIA_TAR = "media.tar"
MAINTENANCE_DB = "postgres"  # where CREATE/ALTER/DROP DATABASE run from; every PostgreSQL server has it


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message is for the operator."""


class DamagedBackup(BackupError):
    """The backup's files do not match its manifest (truncated, corrupted, missing)."""


@dataclass
class BackupResult:
    name: str
    location: str
    size: int
    tables: int
    rows: int
    media: int
    missing_media: list[str]
    pruned: list[str]


@dataclass
class RestoreReport:
    name: str
    target: str
    tables: int = 0
    rows: int = 0
    differences: list[str] = field(default_factory=list)
    migrated_from: str | None = None
    migrated_to: str | None = None
    replaced_existing: bool = False
    media_restored: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences


def kroi_version() -> str:
    try:
        return metadata.version("kroi")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout without install
        return "unknown"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _file_list(folder: Path) -> dict[str, dict]:
    return {f.relative_to(folder).as_posix(): {"size": f.stat().st_size, "sha256": _sha256(f)}
            for f in sorted(folder.rglob("*")) if f.is_file() and f.name != MANIFEST}


# --- backup ---------------------------------------------------------------------------------------------------

async def make_backup(settings: Settings, location: Location, storage: Storage | None, *, media: bool,
                      keep_days: int, jobs: int = 1, now: datetime | None = None) -> BackupResult:
    """Write a new backup to `location`, then prune those older than keep_days (never the newest good one)."""
    if not settings.database_url:
        raise BackupError("no database configured (DATABASE_URL)")
    now = now or datetime.now(timezone.utc)
    name = new_name(now)
    staged = await location.stage(name)
    try:
        manifest = await _dump(settings, staged, storage, media=media, jobs=jobs, now=now)
        await asyncio.to_thread(_write_manifest, staged, manifest)
        size = sum(f["size"] for f in manifest["files"].values())
        await location.commit(staged, name)
    except BaseException:
        await location.discard(staged)
        raise
    pruned = await prune(location, keep_days, now)
    return BackupResult(name=name, location=location.description, size=size, tables=len(manifest["tables"]),
                        rows=sum(t["rows"] for t in manifest["tables"].values()),
                        media=len(manifest["media"]["objects"]) - len(manifest["media"]["missing"]),
                        missing_media=manifest["media"]["missing"], pruned=pruned)


async def _dump(settings: Settings, staged: Path, storage: Storage | None, *, media: bool, jobs: int,
                now: datetime) -> dict:
    env, dbname = libpq_env(settings.database_url)
    conn = await repo.connect(settings.database_url)
    try:
        major = await repo.server_major(conn)
        pg_dump = await find_tool("pg_dump", major)
        snapshot = await repo.begin_snapshot(conn)
        if jobs > 1:
            target = ["--format=directory", f"--jobs={jobs}", f"--file={staged / DUMP_DIR}"]
        else:
            target = ["--format=custom", f"--file={staged / DUMP_FILE}"]
        # pg_dump reads the snapshot this transaction exported, while the same transaction counts and checksums
        # the rows: the manifest describes exactly what is in the dump, whatever is written meanwhile.
        dumping = asyncio.create_task(run(pg_dump, [*target, f"--snapshot={snapshot}", "--no-password", dbname], env))
        try:
            stats = await repo.table_stats(conn)
            revision = await repo.alembic_revision(conn)
            keys = await repo.media_keys(conn)
            version = await repo.server_version(conn)
        finally:
            await dumping  # the snapshot must stay valid until pg_dump has taken it
        await conn.execute("COMMIT")
    except ToolError as exc:
        raise BackupError(str(exc)) from None
    finally:
        await conn.close()
    missing: list[str] = []
    if media:
        if storage is None:
            raise BackupError("--media needs the media storage")
        missing = await _write_media_tar(storage, keys, staged / MEDIA_TAR)
    return {
        "format": FORMAT, "created_at": now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "kroi_version": kroi_version(), "alembic_revision": revision, "database": dbname,
        "server_version": version, "pg_dump_version": pg_dump.version,
        "dump": {"format": "directory" if jobs > 1 else "custom", "path": DUMP_DIR if jobs > 1 else DUMP_FILE},
        "tables": {t: {"rows": s.rows, "md5": s.md5} for t, s in stats.items()},
        "media": {"included": media, "archive": MEDIA_TAR if media else None, "objects": keys, "missing": missing},
        "files": await asyncio.to_thread(_file_list, staged),
    }


async def _write_media_tar(storage: Storage, keys: list[str], path: Path) -> list[str]:
    """The referenced media objects into an uncompressed tar (WebP is compressed already); returns the keys
    the storage does not have."""
    missing = []
    with tarfile.open(path, "w") as tar:
        for key in keys:
            data = await storage.get(key)
            if data is None:
                missing.append(key)
                continue
            info = tarfile.TarInfo(key)
            info.size = len(data)
            info.mtime = int(datetime.now(timezone.utc).timestamp())
            await asyncio.to_thread(tar.addfile, info, io.BytesIO(data))
    return missing


def _write_manifest(staged: Path, manifest: dict) -> None:
    tmp = staged / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    tmp.replace(staged / MANIFEST)


async def prune(location: Location, keep_days: int, now: datetime | None = None) -> list[str]:
    """Remove backups older than keep_days; the newest good one always stays, however old. Incomplete ones
    (no manifest) older than that go too. Returns the removed names."""
    now = now or datetime.now(timezone.utc)
    entries = await location.entries()
    good = [e for e in entries if e.good]
    newest_good = good[-1].name if good else None
    cutoff = now - timedelta(days=keep_days)
    removed = []
    for e in entries:
        if e.created_at < cutoff and e.name != newest_good:
            await location.remove(e.name)
            removed.append(e.name)
    return removed


# --- restore --------------------------------------------------------------------------------------------------

def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise DamagedBackup(f"{folder.name} is incomplete: it has no {MANIFEST} (the backup did not finish)")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DamagedBackup(f"{folder.name}/{MANIFEST} is not readable JSON: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise DamagedBackup(f"{folder.name}: unknown manifest format {manifest.get('format')!r}")
    return manifest


def check_files(folder: Path, manifest: dict) -> None:
    """Every file the manifest lists is there with its size and sha256, and no dump file is unlisted."""
    problems = []
    listed = manifest.get("files", {})
    for rel, want in sorted(listed.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != want["size"]:
            kind = "truncated" if path.stat().st_size < want["size"] else "longer than written"
            problems.append(f"{rel}: {kind} ({path.stat().st_size} bytes, the backup wrote {want['size']})")
        elif _sha256(path) != want["sha256"]:
            problems.append(f"{rel}: corrupted (sha256 {_sha256(path)[:16]}…, the backup wrote {want['sha256'][:16]}…)")
    dump = manifest["dump"]["path"]
    for f in (folder / dump).rglob("*") if (folder / dump).is_dir() else [folder / dump]:
        rel = f.relative_to(folder).as_posix()
        if f.is_file() and rel not in listed:
            problems.append(f"{rel}: not in the manifest")
    if problems:
        raise DamagedBackup(f"backup {folder.name} is damaged, not restoring it:\n  " + "\n  ".join(problems))


def compare(manifest: dict, stats: dict[str, repo.TableStat]) -> list[str]:
    """Differences between the manifest's tables and the restored ones, as lines for the report."""
    out = []
    want = manifest["tables"]
    for table in sorted(set(want) | set(stats)):
        if table not in stats:
            out.append(f"{table}: missing from the restored database")
        elif table not in want:
            out.append(f"{table}: in the restored database but not in the backup")
        elif stats[table].rows != want[table]["rows"]:
            out.append(f"{table}: {stats[table].rows} rows, the backup had {want[table]['rows']}")
        elif stats[table].md5 != want[table]["md5"]:
            out.append(f"{table}: same row count ({want[table]['rows']}) but different contents (checksum)")
    return out


def _head_and_known(revision: str | None) -> tuple[str, bool]:
    from alembic.script import ScriptDirectory

    from kroi.db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused/unused"))
    known = revision is None or any(r.revision == revision for r in script.walk_revisions())
    return script.get_current_head(), known


@dataclass
class Target:
    name: str
    exists: bool
    tables: int


async def inspect_target(settings: Settings, name: str) -> Target:
    conn = await repo.connect(settings.database_url, MAINTENANCE_DB)
    try:
        if not await repo.database_exists(conn, name):
            return Target(name, False, 0)
    finally:
        await conn.close()
    conn = await repo.connect(settings.database_url, name)
    try:
        return Target(name, True, await repo.user_table_count(conn))
    finally:
        await conn.close()


async def restore(settings: Settings, folder: Path, target: str, storage: Storage | None, *, media: bool,
                  jobs: int = 1, progress: Callable[[str], None] = lambda _: None) -> RestoreReport:
    """Restore the backup in `folder` into database `target` (created or replaced). The caller has asked for
    confirmation already. Raises DamagedBackup / BackupError; a report with differences leaves target as it was."""
    manifest = await asyncio.to_thread(read_manifest, folder)
    progress(f"checking the files of {folder.name} against its manifest")
    await asyncio.to_thread(check_files, folder, manifest)
    head, known = _head_and_known(manifest.get("alembic_revision"))
    if not known:
        raise BackupError(f"the backup's schema revision {manifest['alembic_revision']} is newer than this Kroi "
                          f"knows (head {head}): restore it with the Kroi version that wrote it "
                          f"({manifest.get('kroi_version')}) or newer")
    report = RestoreReport(name=folder.name, target=target)
    env, _ = libpq_env(settings.database_url)
    admin = await repo.connect(settings.database_url, MAINTENANCE_DB)
    scratch = f"{target[:40]}_restoring_{secrets.token_hex(4)}"
    try:
        major = await repo.server_major(admin)
        dumped_by = int(str(manifest.get("pg_dump_version", "0")).split(".")[0])
        try:
            pg_restore = await find_tool("pg_restore", major, at_least=dumped_by)
        except ToolError as exc:
            raise BackupError(str(exc)) from None
        await repo.create_database(admin, scratch)
        try:
            progress(f"restoring into a new database {scratch} with {Path(pg_restore.path).name} {pg_restore.version}")
            try:
                await run(pg_restore, ["--no-owner", "--no-acl", "--exit-on-error", "--no-password",
                                       f"--jobs={max(1, jobs)}", f"--dbname={scratch}",
                                       str(folder / manifest["dump"]["path"])], env)
            except ToolError as exc:
                raise DamagedBackup(f"pg_restore could not read backup {folder.name}; {target} is unchanged.\n"
                                    f"{exc}") from None
            progress("verifying row counts and checksums of every table")
            conn = await repo.connect(settings.database_url, scratch)
            try:
                stats = await repo.table_stats(conn)
            finally:
                await conn.close()
            report.tables, report.rows = len(stats), sum(s.rows for s in stats.values())
            report.differences = compare(manifest, stats)
            if report.differences:
                return report
            revision = manifest.get("alembic_revision")
            if revision and revision != head:
                from kroi.db.migrate import upgrade

                progress(f"migrating the restored schema forward: {revision} -> {head}")
                await asyncio.to_thread(upgrade, repo.database_url_for(settings.database_url, scratch))
                report.migrated_from, report.migrated_to = revision, head
            progress(f"putting the restored database in place of {target}")
            report.replaced_existing = await repo.swap_databases(admin, scratch, target,
                                                                 f"{target[:40]}_replaced_{secrets.token_hex(4)}")
            scratch = ""
        finally:
            if scratch:
                await repo.drop_database(admin, scratch)
    finally:
        await admin.close()
    if media and manifest["media"].get("included") and storage is not None:
        progress("putting the media files back")
        report.media_restored = await restore_media(storage, folder / MEDIA_TAR)
    return report


async def restore_media(storage: Storage, tar_path: Path) -> int:
    """Put the tar's objects into storage where they are missing or differ; returns how many were written."""
    written = 0
    with tarfile.open(tar_path, "r") as tar:
        for member in tar:
            if not member.isfile():
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if await storage.get(member.name) != data:
                await storage.put(member.name, data, "image/webp" if member.name.endswith(".webp")
                                  else "application/octet-stream")
                written += 1
    return written
