"""Car photos in the admin: several uploaded at once become WebP variants without EXIF/GPS; a bad file is refused
with a message while the others are saved; reorder, main photo, alt texts and delete (files removed too)."""
from __future__ import annotations

import io
import re
from types import SimpleNamespace

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import HX, admin_id, as_admin, audit_rows, confirmation, csrf, post, sign_in_as
from kroi.db.models import CarImage
from kroi.seeding.images import VARIANTS
from kroi.web import i18n
from support import with_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
__all__ = ["as_admin"]

GPS_IFD = 0x8825


def fi(key: str, **params: object) -> str:
    return i18n.translate("fi", key, **params)


def photo(width: int = 1200, height: int = 900, colour: tuple[int, int, int] = (200, 40, 40), *,
          fmt: str = "JPEG", gps: bool = True) -> bytes:
    """A camera-like photo: EXIF with the maker, an orientation and a GPS position (Helsinki)."""
    img = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 40):  # some detail, so the encoder has work to do
        img.paste((colour[2], colour[0], colour[1]), (x, 0, x + 10, height))
    exif = Image.Exif()
    exif[0x010F] = "KroiCam"
    exif[0x0110] = "Model X"
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (60.0, 10.0, 12.0), 3: "E", 4: (24.0, 56.0, 7.0)})
    buf = io.BytesIO()
    img.save(buf, fmt, exif=exif.tobytes()) if fmt == "JPEG" else img.save(buf, fmt)
    return buf.getvalue()


def upload(*files: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("images", (name, data, "image/jpeg")) for name, data in files]


async def images_of(db: AsyncSession, car_id: int) -> list[SimpleNamespace]:
    """The car's image rows in order, as plain values (they stay readable after the session moves on)."""
    db.expire_all()
    rows = (await db.scalars(select(CarImage).where(CarImage.car_id == car_id).order_by(CarImage.position))).all()
    out = [SimpleNamespace(**{c: getattr(r, c) for c in ("id", "position", "path", "width", "height", "alt_fi",
                                                         "alt_en")}) for r in rows]
    await db.commit()
    return out


def shown_order(fragment: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="image-item" data-image-id="(\d+)"', fragment)]


def errors_shown(fragment: str) -> list[str]:
    block = re.search(r'<div class="form-error" role="alert"><ul>(.*?)</ul>', fragment, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


async def test_upload_many_makes_clean_webp_variants_and_refuses_a_fake(client, as_admin, db, by_key,  # noqa: ANN001
                                                                        settings) -> None:
    car = by_key["golf"]
    original = photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD), "the test photo carries GPS"
    r = await post(client, f"/admin/cars/{car.id}/images", files=upload(
        ("front.jpg", original), ("back.jpg", photo(colour=(30, 90, 200))), ("notes.jpg", b"just some text\n" * 50)),
        headers=HX)
    assert r.status_code == 200
    assert confirmation(r.text) == fi("admin.images.added", n=2)
    assert errors_shown(r.text) == [f"notes.jpg: {fi('admin.images.not_image')}"]
    rows = await images_of(db, car.id)
    assert len(rows) == 5 and [img.position for img in rows] == [0, 1, 2, 3, 4]
    assert shown_order(r.text) == [img.id for img in rows]
    new = rows[3:]
    for img in new:
        assert re.fullmatch(rf"cars/{car.id}/[0-9a-f]{{16}}", img.path)
        assert (img.width, img.height) == (1200, 900)  # kept whole: within the largest size, 1600×1200
        assert img.alt_fi.startswith(car.data["brand"])
        for variant, size in VARIANTS.items():
            file = settings.media_root / f"{img.path}-{variant}.webp"
            data = file.read_bytes()
            with Image.open(io.BytesIO(data)) as out:
                assert out.format == "WEBP"
                if variant != "full":
                    assert out.size == size
                assert not out.getexif(), "no EXIF survives"
                assert "exif" not in out.info and "xmp" not in out.info
            assert b"Exif" not in data and b"KroiCam" not in data and b"GPS" not in data
    [added] = await audit_rows(db, "car", car.id, action="images:add")
    assert added.after == {"paths": [img.path for img in new]}
    # Without htmx the browser is sent back to the car page.
    r = await post(client, f"/admin/cars/{car.id}/images", files=upload(("one.jpg", photo(gps=False))))
    assert r.status_code == 303 and r.headers["location"] == f"/admin/cars/{car.id}#images"
    assert len(await images_of(db, car.id)) == 6


async def test_a_truncated_photo_is_refused_on_its_own_and_the_rest_saved(client, as_admin, db, by_key) -> None:  # noqa: ANN001
    car = by_key["golf"]
    whole = photo()
    r = await post(client, f"/admin/cars/{car.id}/images", files=upload(
        ("good.jpg", whole), ("cut.jpg", whole[: len(whole) // 3]), ("also-good.jpg", photo(colour=(30, 90, 200)))),
        headers=HX)
    assert r.status_code == 200
    assert errors_shown(r.text) == [f"cut.jpg: {fi('admin.images.not_image')}"]
    assert confirmation(r.text) == fi("admin.images.added", n=2)
    assert len(await images_of(db, car.id)) == 5


async def test_too_big_and_too_many_pixels_are_refused_the_rest_saved(settings, reset, make_client, db,  # noqa: ANN001
                                                                      by_key) -> None:
    car = by_key["octavia"]
    async with make_client(with_settings(settings, upload_max_mb=1, upload_max_megapixels=1)) as c:
        await sign_in_as(c, await admin_id(db))
        big = b"\xff\xd8\xff\xe0" + bytes(1024 * 1024)  # over 1 MB, whatever it is
        wide = io.BytesIO()
        Image.new("RGB", (1300, 1000), (10, 120, 10)).save(wide, "PNG")  # 1.3 megapixels
        r = await c.post(f"/admin/cars/{car.id}/images", headers={**HX, **await csrf(c)}, files=upload(
            ("big.jpg", big), ("wide.png", wide.getvalue()), ("tiny.jpg", photo(120, 90)),
            ("fine.jpg", photo(800, 600))))
        assert r.status_code == 200
        assert errors_shown(r.text) == [f"big.jpg: {fi('admin.images.too_big', mb=1)}",
                                        f"wide.png: {fi('admin.images.pixels')}",
                                        f"tiny.jpg: {fi('admin.images.pixels')}"]
        assert confirmation(r.text) == fi("admin.images.added", n=1)
        assert len(await images_of(db, car.id)) == 4
        # Nothing acceptable at all: 422 with the reasons, nothing written.
        r = await c.post(f"/admin/cars/{car.id}/images", headers={**HX, **await csrf(c)},
                         files=upload(("big.jpg", big)))
        assert r.status_code == 422 and errors_shown(r.text) == [f"big.jpg: {fi('admin.images.too_big', mb=1)}"]
        assert len(await images_of(db, car.id)) == 4


async def test_reorder_main_photo_alt_text_and_delete(client, as_admin, db, by_key, settings) -> None:  # noqa: ANN001
    car = by_key["xc60"]
    r = await post(client, f"/admin/cars/{car.id}/images", files=upload(("a.jpg", photo()), ("b.jpg", photo())),
                   headers=HX)
    assert r.status_code == 200
    s1, s2, s3, n1, n2 = [img.id for img in await images_of(db, car.id)]

    async def act(path: str, data: dict | None = None) -> list[int]:
        r = await post(client, f"/admin/cars/{car.id}/images/{path}", data or {}, headers=HX)
        assert r.status_code == 200, (path, r.status_code)
        order = [img.id for img in await images_of(db, car.id)]
        assert shown_order(r.text) == order
        assert re.search(rf'data-image-id="{order[0]}".*?{fi("admin.images.main")}', r.text, re.S)
        return order

    assert await act("order", {"order": [str(n2), str(s1)]}) == [n2, s1, s2, s3, n1]
    assert await act(f"{s3}/first") == [s3, n2, s1, s2, n1]
    assert await act(f"{s1}/up") == [s3, s1, n2, s2, n1]
    assert await act(f"{s3}/down") == [s1, s3, n2, s2, n1]
    assert await act(f"{n1}/down") == [s1, s3, n2, s2, n1], "the last one stays last"
    assert await act(f"{s1}/up") == [s1, s3, n2, s2, n1], "the first one stays first"
    r = await post(client, f"/admin/cars/{car.id}/images/{n2}/alt",
                   {"alt_fi": "  Etuosa <b>kiiltää</b>  ", "alt_en": "The front\x00 shines"}, headers=HX)
    assert r.status_code == 200
    img = next(i for i in await images_of(db, car.id) if i.id == n2)
    assert img.alt_fi == "Etuosa <b>kiiltää</b>" and "\x00" not in img.alt_en and img.alt_en.startswith("The front")
    assert 'value="Etuosa &lt;b&gt;kiiltää&lt;/b&gt;"' in r.text
    # Delete: the row goes, the positions close up, the files are removed (shared seed files stay).
    path = img.path
    files = [settings.media_root / f"{path}-{v}.webp" for v in VARIANTS]
    assert all(f.exists() for f in files)
    assert await act(f"{n2}/delete") == [s1, s3, s2, n1]
    assert [i.position for i in await images_of(db, car.id)] == [0, 1, 2, 3]
    assert not any(f.exists() for f in files)
    seed_path = next(i for i in await images_of(db, car.id) if i.id == s1).path
    assert await act(f"{s1}/delete") == [s3, s2, n1]
    assert (settings.media_root / f"{seed_path}-full.webp").exists()
    # An image of another car, an unknown action: not found, nothing changed.
    other = by_key["golf"]
    assert (await post(client, f"/admin/cars/{other.id}/images/{s3}/delete", headers=HX)).status_code == 404
    assert (await post(client, f"/admin/cars/{car.id}/images/{s3}/rotate", headers=HX)).status_code == 404
    assert [i.id for i in await images_of(db, car.id)] == [s3, s2, n1]
    actions = [a.action for a in await audit_rows(db, "car", car.id)]
    assert actions == ["images:add"] + ["images:reorder"] * 6 + ["images:alt", "images:delete", "images:delete"]
