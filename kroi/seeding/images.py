"""Illustrated car pictures drawn locally with Pillow (no photos can be fetched), saved as WebP variants."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

VARIANTS = {"thumb": (160, 120), "card": (480, 360), "full": (960, 720)}
BASE = (960, 720)
SCENES = (("#dbeafe", "#94a3b8"), ("#fde68a", "#a8a29e"), ("#e0e7ff", "#64748b"))  # sky, ground

# Body silhouettes on a 960x720 canvas: roof height and length differ per body type.
SILHOUETTES = {
    "hatchback": [(150, 470), (170, 400), (300, 380), (380, 300), (600, 295), (700, 380), (790, 400), (810, 470)],
    "sedan": [(120, 470), (140, 405), (280, 385), (370, 310), (590, 305), (690, 380), (820, 395), (840, 470)],
    "estate": [(120, 470), (140, 400), (280, 380), (360, 300), (760, 295), (800, 380), (840, 400), (840, 470)],
    "suv": [(130, 480), (140, 370), (270, 350), (350, 260), (740, 255), (790, 350), (830, 370), (830, 480)],
    "mpv": [(130, 480), (140, 370), (230, 340), (330, 250), (760, 245), (800, 350), (830, 370), (830, 480)],
    "coupe": [(120, 470), (140, 410), (300, 390), (420, 320), (580, 318), (720, 390), (840, 405), (850, 470)],
    "convertible": [(120, 470), (140, 410), (320, 395), (400, 360), (430, 395), (840, 405), (850, 470)],
    "van": [(120, 480), (130, 330), (220, 300), (280, 220), (830, 215), (840, 300), (840, 480)],
    "pickup": [(120, 480), (130, 380), (260, 360), (320, 270), (520, 268), (540, 370), (840, 370), (840, 480)],
}


def _hex(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _font(size: int) -> ImageFont.ImageFont:
    for name in ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def draw_car(colour_hex: str, body_type: str, label: str, scene: int = 0, mirror: bool = False) -> Image.Image:
    sky, ground = SCENES[scene % len(SCENES)]
    img = Image.new("RGB", BASE, _hex(sky))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 500, BASE[0], BASE[1]], fill=_hex(ground))
    d.rectangle([0, 496, BASE[0], 504], fill=(90, 90, 90))
    body = SILHOUETTES.get(body_type, SILHOUETTES["sedan"])
    colour = _hex(colour_hex)
    shade = tuple(max(0, int(c * 0.7)) for c in colour)
    d.polygon(body, fill=colour, outline=shade)
    # Windows: a lighter band inside the upper body.
    xs = [p[0] for p in body]
    top = min(p[1] for p in body)
    d.polygon([(min(xs) + 240, top + 85), (min(xs) + 280, top + 20), (max(xs) - 200, top + 18),
               (max(xs) - 150, top + 85)], fill=(40, 56, 80))
    d.rectangle([min(xs) + 10, 440, max(xs) - 10, 452], fill=shade)
    for cx in (min(xs) + 150, max(xs) - 150):
        d.ellipse([cx - 62, 418, cx + 62, 542], fill=(25, 25, 25))
        d.ellipse([cx - 32, 448, cx + 32, 512], fill=(170, 170, 175))
    if mirror:  # the car faces the other way; the captions stay readable
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        d = ImageDraw.Draw(img)
    d.text((40, 40), label, fill=(20, 30, 50), font=_font(44))
    d.text((40, 660), "Kroi Auto Center · illustration", fill=(30, 30, 30), font=_font(22))
    return img


def encode_variants(img: Image.Image) -> dict[str, bytes]:
    """The thumb/card/full variants as WebP bytes, for whatever storage they go to."""
    out = {}
    for name, size in VARIANTS.items():
        buf = io.BytesIO()
        img.resize(size, Image.Resampling.LANCZOS).save(buf, "WEBP", quality=72, method=6)
        out[name] = buf.getvalue()
    return out


def save_variants(img: Image.Image, stem: Path) -> tuple[int, int]:
    """Write {stem}-thumb/card/full.webp; return the full variant's size."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    for name, data in encode_variants(img).items():
        Path(f"{stem}-{name}.webp").write_bytes(data)
    return VARIANTS["full"]
