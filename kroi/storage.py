"""Where uploaded files live: a local folder by default, S3-compatible object storage by settings.

Both store bytes under a key like "cars/12/ab34…-full.webp"; the public URL is {media_url}/{key}.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from kroi.settings import Settings


class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key (backups read the referenced media)."""
    async def sizes(self, folder: str) -> dict[str, int]:
        """Every key under `folder` ("seed/") with its size in bytes, so seeding can skip what is there."""


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"key outside the media folder: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # readers never see half a file

        await asyncio.to_thread(write)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def sizes(self, folder: str) -> dict[str, int]:
        top = self._path(folder)

        def walk() -> dict[str, int]:
            return {f.relative_to(self.root).as_posix(): f.stat().st_size
                    for f in top.rglob("*") if f.is_file()}

        return await asyncio.to_thread(walk)


class S3Storage:
    """Any S3-compatible service (AWS, MinIO, Hetzner, UpCloud…) through boto3, run in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.client = s3_client(settings)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=key, Body=data,
                                ContentType=content_type, CacheControl="public, max-age=31536000, immutable")

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=key)

    async def get(self, key: str) -> bytes | None:
        def read() -> bytes | None:
            try:
                return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except self.client.exceptions.NoSuchKey:
                return None

        return await asyncio.to_thread(read)

    async def sizes(self, folder: str) -> dict[str, int]:
        def listing() -> dict[str, int]:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder.rstrip("/") + "/")
            return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", ())}

        return await asyncio.to_thread(listing)


def s3_client(settings: Settings):  # noqa: ANN201 - a boto3 client
    """A boto3 S3 client from the KROI_S3_* settings (media and backups share them)."""
    import boto3  # optional dependency: pip install 'kroi[s3]'

    return boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
    )


def make_storage(settings: Settings) -> Storage:
    return S3Storage(settings) if settings.s3_bucket else LocalStorage(settings.media_root)
