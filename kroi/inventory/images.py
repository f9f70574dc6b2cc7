"""Car photos: check the real type, size and pixel count, drop EXIF/GPS, make WebP variants (in a thread)."""
from __future__ import annotations

import asyncio
import io
import secrets
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from kroi.seeding.images import VARIANTS

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}  # MPO: many phone cameras' JPEGs
# What Pillow raises for a file it cannot read (truncated, corrupt, not an image, a decompression bomb).
UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)


class ImageRejected(ValueError):
    """Not an image we accept; `key` is an i18n message key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class ProcessedImage:
    stem: str  # storage key without the variant suffix
    width: int
    height: int
    variants: dict[str, bytes]  # variant name -> WebP bytes


def _process(data: bytes, max_bytes: int, max_pixels: int, stem: str) -> ProcessedImage:
    if len(data) > max_bytes:
        raise ImageRejected("admin.images.too_big")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            probe.verify()
    except UNREADABLE:
        raise ImageRejected("admin.images.not_image") from None
    if fmt not in ALLOWED_FORMATS:
        raise ImageRejected("admin.images.not_image")
    if width * height > max_pixels or width < 200 or height < 150:
        raise ImageRejected("admin.images.pixels")
    try:  # verify() reads the headers only: a truncated or corrupt body fails here, while decoding
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)  # keep the camera's orientation, then forget all metadata
            clean = Image.new("RGB", img.size, (255, 255, 255))
            clean.paste(img.convert("RGBA"), mask=img.convert("RGBA").split()[-1])
    except UNREADABLE:
        raise ImageRejected("admin.images.not_image") from None
    variants: dict[str, bytes] = {}
    for name, size in VARIANTS.items():
        fitted = ImageOps.fit(clean, size, Image.Resampling.LANCZOS) if name != "full" else _contain(clean, size)
        buf = io.BytesIO()
        fitted.save(buf, "WEBP", quality=78, method=4)  # a fresh image: no EXIF, no GPS
        variants[name] = buf.getvalue()
    full = Image.open(io.BytesIO(variants["full"]))
    return ProcessedImage(stem=stem, width=full.width, height=full.height, variants=variants)


def _contain(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    copy = img.copy()
    copy.thumbnail((size[0] * 5 // 3, size[1] * 5 // 3), Image.Resampling.LANCZOS)  # up to 1600×1200
    return copy


async def process(data: bytes, car_id: int, max_mb: int, max_megapixels: int) -> ProcessedImage:
    stem = f"cars/{car_id}/{secrets.token_hex(8)}"
    return await asyncio.to_thread(_process, data, max_mb * 1024 * 1024, max_megapixels * 1_000_000, stem)
