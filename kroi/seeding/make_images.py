"""Regenerate the shipped seed images (seed/images/*.webp): `python -m kroi.seeding.make_images`."""
from __future__ import annotations

from kroi.seeding.images import draw_car, save_variants
from kroi.seeding.original import IMAGES_PER_CAR, SEED_IMAGES, load_cars


def main() -> None:
    for item in load_cars():
        label = f"{item['brand']} {item['model']} {item['model_year']}"
        for n in range(IMAGES_PER_CAR):
            img = draw_car(item["colour_hex"], item["body_type"], label, scene=n, mirror=n == 1)
            save_variants(img, SEED_IMAGES / f"{item['key']}-{n + 1}")


if __name__ == "__main__":
    main()
