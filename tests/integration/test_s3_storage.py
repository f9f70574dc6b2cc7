"""Images in S3-compatible object storage: a real S3 HTTP server on loopback (moto's), reached through boto3 and
KROI_S3_ENDPOINT_URL as a MinIO or a cloud bucket would be. Uploads, the public page's links, deletes, the seed
pictures and the demo pool all go to the bucket, and nothing to the local media folder."""
from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from PIL import Image
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import HX, admin_id, csrf, sign_in_as
from kroi import testing
from kroi.db.models import CarImage
from kroi.seeding.images import VARIANTS
from kroi.seeding.demo import ensure_image_pool, load_demo, pool_paths
from kroi.seeding.original import SEED_IMAGES, install_seed_images, seed_all
from kroi.settings import Settings
from kroi.storage import LocalStorage, S3Storage, make_storage
from support import with_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = testing.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str, tmp_path: Path) -> Settings:
    """The test settings pointed at a new, empty bucket; the media folder is one nobody else writes to."""
    bucket = f"kroi-{uuid.uuid4().hex[:12]}"
    s = with_settings(settings, s3_bucket=bucket, s3_endpoint_url=s3_endpoint, s3_region="eu-north-1",
                      s3_access_key="kroi-test", s3_secret_key=SecretStr("kroi-test-secret"),
                      media_url=f"{s3_endpoint}/{bucket}", media_dir=tmp_path / "local-media")
    client = _client(s)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    # Visitors' browsers fetch the pictures straight from the bucket: readable by anyone, as README says.
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    return s


def _client(s: Settings):  # noqa: ANN202
    """boto3 of the test's own, to look into the bucket independently of kroi.storage."""
    return boto3.client("s3", endpoint_url=s.s3_endpoint_url, region_name=s.s3_region,
                        aws_access_key_id=s.s3_access_key, aws_secret_access_key=s.s3_secret_key.get_secret_value())


def bucket_keys(s: Settings) -> set[str]:
    pages = _client(s).get_paginator("list_objects_v2").paginate(Bucket=s.s3_bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", ())}


def local_files(s: Settings) -> list[Path]:
    return [f for f in s.media_root.rglob("*") if f.is_file()] if s.media_root.exists() else []


def jpeg(width: int = 1200, height: int = 900) -> bytes:
    img = Image.new("RGB", (width, height), (200, 40, 40))
    for x in range(0, width, 40):
        img.paste((40, 200, 40), (x, 0, x + 10, height))
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return buf.getvalue()


async def image_rows(db: AsyncSession, car_id: int) -> list[tuple[int, str]]:
    db.expire_all()
    rows = (await db.execute(select(CarImage.id, CarImage.path).where(CarImage.car_id == car_id)
                             .order_by(CarImage.position))).all()
    await db.commit()
    return [tuple(r) for r in rows]


async def test_an_uploaded_photo_lives_in_the_bucket_is_linked_from_there_and_deleted_there(
        s3_settings: Settings, reset, make_client, db: AsyncSession, by_key) -> None:  # noqa: ANN001
    assert isinstance(make_storage(s3_settings), S3Storage)
    car = by_key["golf"]
    async with make_client(s3_settings) as c:
        await sign_in_as(c, await admin_id(db))
        r = await c.post(f"/admin/cars/{car.id}/images", headers={**HX, **await csrf(c)},
                         files=[("images", ("front.jpg", jpeg(), "image/jpeg"))])
        assert r.status_code == 200
        rows = await image_rows(db, car.id)
        assert len(rows) == 4
        new_id, stem = rows[-1]
        keys = {f"{stem}-{v}.webp" for v in VARIANTS}
        assert bucket_keys(s3_settings) == keys
        head = _client(s3_settings).head_object(Bucket=s3_settings.s3_bucket, Key=f"{stem}-full.webp")
        assert head["ContentType"] == "image/webp" and "immutable" in head["CacheControl"]

        # The public car page links the photo at KROI_MEDIA_URL + key, and that URL answers the picture.
        page = await c.get(car.url)
        assert page.status_code == 200
        srcs = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', page.text)
        full = f"{s3_settings.media_url}/{stem}-full.webp"
        assert full in srcs and f"{s3_settings.media_url}/{stem}-thumb.webp" in srcs
        async with httpx.AsyncClient() as web:
            got = await web.get(full)
        assert got.status_code == 200
        with Image.open(io.BytesIO(got.content)) as img:
            assert img.format == "WEBP" and img.size == (1200, 900)

        r = await c.post(f"/admin/cars/{car.id}/images/{new_id}/delete", headers={**HX, **await csrf(c)})
        assert r.status_code == 200
        assert [i for i, _ in await image_rows(db, car.id)] == [i for i, _ in rows[:-1]]
        assert bucket_keys(s3_settings) == set()
    assert local_files(s3_settings) == []


async def test_seeding_puts_the_seed_images_into_the_bucket_once(s3_settings: Settings, db: AsyncSession) -> None:
    storage = make_storage(s3_settings)
    shipped = {f"seed/{f.name}" for f in SEED_IMAGES.glob("*.webp")}
    assert len(shipped) == 81
    await seed_all(db, storage, None, None)
    assert bucket_keys(s3_settings) == shipped
    # Every image row of the seeded cars names objects that are there.
    paths = set((await db.scalars(select(CarImage.path))).all())
    assert paths and {f"{p}-{v}.webp" for p in paths for v in VARIANTS} == shipped
    # A second run uploads nothing; an object that differs from the shipped file is put back.
    assert await install_seed_images(storage) == 0
    _client(s3_settings).put_object(Bucket=s3_settings.s3_bucket, Key="seed/golf-1-card.webp", Body=b"half")
    assert await install_seed_images(storage) == 1
    got = _client(s3_settings).get_object(Bucket=s3_settings.s3_bucket, Key="seed/golf-1-card.webp")["Body"].read()
    assert got == (SEED_IMAGES / "golf-1-card.webp").read_bytes()
    assert local_files(s3_settings) == []


async def test_the_demo_pool_is_uploaded_once_and_shared(s3_settings: Settings, db: AsyncSession) -> None:
    # The pool drawn locally by the demo tests (drawn now if missing) goes to the bucket but for one picture, so
    # the load has to draw and upload that one and skip the rest.
    local = LocalStorage(testing.ROOT / "var" / "test-demo-media")
    await ensure_image_pool(local)
    pool = {f"{stem}-{v}.webp" for stem, *_ in pool_paths() for v in VARIANTS}
    left_out = f"{pool_paths()[7][0]}-"
    client = _client(s3_settings)
    for key in sorted(pool):
        if not key.startswith(left_out):
            client.put_object(Bucket=s3_settings.s3_bucket, Key=key, Body=(local.root / key).read_bytes())
    storage = make_storage(s3_settings)
    before = max((await db.scalars(select(CarImage.car_id))).all())
    await load_demo(db, 30, storage)
    assert bucket_keys(s3_settings) == pool
    paths = set((await db.scalars(select(CarImage.path).where(CarImage.car_id > before))).all())
    assert paths and {f"{p}-full.webp" for p in paths} <= pool
    assert await ensure_image_pool(storage) == 0
    assert local_files(s3_settings) == []
