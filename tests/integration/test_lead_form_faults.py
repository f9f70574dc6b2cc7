"""A car's inquiry, test-drive, trade-in or financing form whose submission loses its database connection: the
form comes back with everything typed and the car, "try again", never a 500 that loses the message."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.web import i18n
from leadforms import (client_for, fast, field_error, get_form, is_full_page, lead_form, new_leads, post,
                       seeded_car, valid_input)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MESSAGE = "Onko auto vielä myynnissä? Soittakaa iltapäivällä."


async def _cut_connection_on_insert(db: AsyncSession) -> None:
    """A trigger that ends its own backend (pg_terminate_backend) when a lead is inserted: the connection is cut
    in the middle of the submission, after the car and the settings were read."""
    await db.execute(text(
        "CREATE FUNCTION kroi_test_cut() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$"))
    await db.execute(text("CREATE TRIGGER kroi_test_cut BEFORE INSERT ON leads "
                          "FOR EACH ROW EXECUTE FUNCTION kroi_test_cut()"))
    await db.commit()


async def _uncut(db: AsyncSession) -> None:
    await db.rollback()
    await db.execute(text("DROP TRIGGER IF EXISTS kroi_test_cut ON leads"))
    await db.execute(text("DROP FUNCTION IF EXISTS kroi_test_cut()"))
    await db.commit()


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize("kind", ["inquiry", "test-drive", "trade-in", "financing"])
async def test_a_car_form_cut_from_the_database_keeps_the_input(settings, reset, db: AsyncSession, kind: str,
                                                                htmx: bool) -> None:  # noqa: ANN001
    volvo = await seeded_car(db, "VLV-60")
    async with client_for(fast(settings)) as client:
        page = volvo.url if kind == "inquiry" else f"/contact?type={kind}&car={volvo.id}"
        form = await get_form(client, page, kind)
        data = form.data(**valid_input(kind, "cut@example.fi", message=MESSAGE))
        await _cut_connection_on_insert(db)
        try:
            r = await post(client, data, htmx=htmx)
        finally:
            await _uncut(db)
        assert r.status_code == 503, r.text[:500]
        assert "Traceback" not in r.text
        assert is_full_page(r.text) != htmx
        assert field_error(r.text, "form") == i18n.translate("fi", "form.error.unavailable", phone="+358 40 123 4567")
        kept = lead_form(r.text, kind)
        assert kept.values["message"] == MESSAGE
        assert kept.values["car_id"] == str(volvo.id)
        assert kept.values["idempotency_key"] == data["idempotency_key"]
        assert await new_leads(db) == []
        # The database answers again: the kept form, sent again, is stored, about that car.
        again = await post(client, kept.data(), htmx=True)
        assert again.status_code == 200, again.text[:300]
        [lead] = await new_leads(db)
        assert (lead["car_id"], lead["message"]) == (volvo.id, MESSAGE)
