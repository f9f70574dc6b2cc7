"""Where backups live: a local folder or an S3-compatible bucket prefix, behind one small interface.

A backup is a folder `kroi-YYYYMMDDTHHMMSSZ/` (names sort by time) holding manifest.json, the dump and
optionally media.tar. It counts as good only once its manifest is there: in a folder the backup is written
under a hidden temporary name and renamed at the end; in a bucket the manifest is uploaded last.
"""
from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from kroi.settings import Settings

NAME_RE = re.compile(r"^kroi-(\d{8}T\d{6}Z)$")
MANIFEST = "manifest.json"
PARTIAL_PREFIX = ".partial-"


def new_name(now: datetime) -> str:
    return "kroi-" + now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def name_time(name: str) -> datetime | None:
    found = NAME_RE.match(name)
    if not found:
        return None
    return datetime.strptime(found.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Entry:
    name: str
    created_at: datetime
    size: int  # bytes
    good: bool  # the manifest is there: the backup was completed


class Location(Protocol):
    description: str

    def scan(self) -> list[Entry]:
        """Every backup here, oldest first (incomplete ones included, marked); blocking."""

    async def entries(self) -> list[Entry]:
        """scan() off the event loop."""

    async def stage(self, name: str) -> Path:
        """A local folder to write the new backup into."""

    async def commit(self, staged: Path, name: str) -> None:
        """Publish the staged folder as backup `name` (the manifest last)."""

    async def discard(self, staged: Path) -> None: ...

    async def remove(self, name: str) -> None: ...

    async def fetch(self, name: str) -> tuple[Path, bool]:
        """A local folder with the backup's files, and whether it is a temporary copy to delete afterwards."""


class FolderLocation:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.description = str(self.root)

    def scan(self) -> list[Entry]:
        if not self.root.is_dir():
            return []
        out = []
        for d in self.root.iterdir():
            created = name_time(d.name)
            if created and d.is_dir():
                size = sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
                out.append(Entry(d.name, created, size, (d / MANIFEST).is_file()))
        return sorted(out, key=lambda e: e.name)

    async def entries(self) -> list[Entry]:
        return await asyncio.to_thread(self.scan)

    async def stage(self, name: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self._clear_stale_partials()
        if (self.root / name).exists():
            raise FileExistsError(f"a backup named {name} already exists in {self.root}")
        staged = self.root / f"{PARTIAL_PREFIX}{name}"
        staged.mkdir()
        return staged

    def _clear_stale_partials(self) -> None:
        # Left behind by a backup that died; a day is far longer than any backup runs.
        for d in self.root.glob(f"{PARTIAL_PREFIX}*"):
            if d.stat().st_mtime < time.time() - 86400:
                shutil.rmtree(d, ignore_errors=True)

    async def commit(self, staged: Path, name: str) -> None:
        staged.rename(self.root / name)  # atomic on one file system: listed only when complete

    async def discard(self, staged: Path) -> None:
        await asyncio.to_thread(shutil.rmtree, staged, True)

    async def remove(self, name: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.root / name)

    async def fetch(self, name: str) -> tuple[Path, bool]:
        path = self.root / name
        if not name_time(name) or not path.is_dir():
            raise FileNotFoundError(f"no backup {name!r} in {self.root}")
        return path, False


class S3Location:
    """s3://bucket/prefix with the KROI_S3_* endpoint and credentials."""

    def __init__(self, settings: Settings, bucket: str, prefix: str) -> None:
        from kroi.storage import s3_client

        self.client = s3_client(settings)
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}"

    def _objects(self, under: str) -> list[dict]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=under)
        return [o for page in pages for o in page.get("Contents", ())]

    def scan(self) -> list[Entry]:
        sizes: dict[str, int] = {}
        good: set[str] = set()
        for o in self._objects(self.prefix):
            name, _, rest = o["Key"][len(self.prefix):].partition("/")
            if name_time(name) and rest:
                sizes[name] = sizes.get(name, 0) + o["Size"]
                if rest == MANIFEST:
                    good.add(name)
        return [Entry(n, name_time(n), sizes[n], n in good) for n in sorted(sizes)]  # type: ignore[arg-type]

    async def entries(self) -> list[Entry]:
        return await asyncio.to_thread(self.scan)

    async def stage(self, name: str) -> Path:
        if any(e.name == name for e in await self.entries()):
            raise FileExistsError(f"a backup named {name} already exists in {self.description}")
        return Path(tempfile.mkdtemp(prefix=f"kroi-backup-{name}-"))

    async def commit(self, staged: Path, name: str) -> None:
        def upload() -> None:
            manifest = staged / MANIFEST
            files = sorted(f for f in staged.rglob("*") if f.is_file() and f != manifest)
            for f in files + [manifest]:
                self.client.upload_file(str(f), self.bucket, f"{self.prefix}{name}/{f.relative_to(staged).as_posix()}")

        await asyncio.to_thread(upload)
        await self.discard(staged)

    async def discard(self, staged: Path) -> None:
        await asyncio.to_thread(shutil.rmtree, staged, True)

    async def remove(self, name: str) -> None:
        def delete() -> None:
            keys = [o["Key"] for o in self._objects(f"{self.prefix}{name}/")]
            # The manifest first: a half-deleted backup must not look good.
            keys.sort(key=lambda k: not k.endswith("/" + MANIFEST))
            for i in range(0, len(keys), 1000):
                self.client.delete_objects(Bucket=self.bucket,
                                           Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]]})

        await asyncio.to_thread(delete)

    async def fetch(self, name: str) -> tuple[Path, bool]:
        def download() -> Path:
            objects = self._objects(f"{self.prefix}{name}/") if name_time(name) else []
            if not objects:
                raise FileNotFoundError(f"no backup {name!r} in {self.description}")
            local = Path(tempfile.mkdtemp(prefix=f"kroi-restore-{name}-"))
            for o in objects:
                dest = local / o["Key"][len(f"{self.prefix}{name}/"):]
                dest.parent.mkdir(parents=True, exist_ok=True)
                self.client.download_file(self.bucket, o["Key"], str(dest))
            return local

        return await asyncio.to_thread(download), True


def location_for(settings: Settings, where: str | None = None) -> Location:
    """The backup location `where` (a folder or s3://bucket/prefix), by default the configured one."""
    where = where or settings.backup_location
    if where.startswith("s3://"):
        bucket, _, prefix = where[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {where!r} (s3://bucket/prefix)")
        return S3Location(settings, bucket, prefix)
    return FolderLocation(Path(where))
