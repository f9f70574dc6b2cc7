"""SQL for favourites and compare: a few cars by id, in a constant number of queries whatever the count."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from kroi.db.models import Car, CarImage
from kroi.inventory.repositories import CarCard, InventoryRepository

# Sold cars stay on a shopper's list (shown as sold); drafts and deleted cars are not public.
_PUBLIC = (Car.deleted_at.is_(None), Car.status != "draft")


class FavouritesRepository(InventoryRepository):
    """The inventory's card query, asked for given ids instead of a search."""

    async def cards(self, ids: list[int]) -> dict[int, CarCard]:
        """Cards of the public cars among `ids` (two queries: the cars, their main images)."""
        if not ids:
            return {}
        rows = (await self.session.execute(self._card_select().where(Car.id.in_(ids), *_PUBLIC))).all()
        return {card.id: card for card in await self._with_main_images(rows)}

    async def cars_to_compare(self, ids: list[int]) -> tuple[dict[int, Car], dict[int, CarImage]]:
        """Whole cars with make, model and equipment (two queries), and their main images (one)."""
        if not ids:
            return {}, {}
        cars = (await self.session.scalars(
            select(Car).where(Car.id.in_(ids), *_PUBLIC)
            .options(joinedload(Car.brand), joinedload(Car.model), selectinload(Car.features))
        )).unique().all()
        images = await self.session.scalars(
            select(CarImage).where(CarImage.car_id.in_(ids), CarImage.position == 0))
        return {c.id: c for c in cars}, {img.car_id: img for img in images}
