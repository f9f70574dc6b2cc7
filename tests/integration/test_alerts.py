"""Saved searches (hakuvahti): subscribe from a /cars search, double opt-in through the real SMTP sink, the
worker's matching job (new car, price drop, at most once), digest mode, the manage page, RFC 8058 one-click,
and the form's protections (bad address, CSRF, honeypot, rate limit)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.alerts import worker as alerts_worker
from kroi.db.models import SavedSearch, SavedSearchHit
from kroi.mail.worker import process_due
from kroi.settings import Settings
from kroi.web import i18n
from leadforms import HX, client_for, fast, forms, outbox_rows, seeded_car
from leadforms import redis_url  # noqa: F401 - fixtures used by name
from smtp import smtp_server

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
SEARCH = "/alerts/new?fuel=diesel"


def quick(settings: Settings, **update: object) -> Settings:
    """fast() with the public address the mails' links use (the worker has no request to take it from)."""
    return fast(settings, public_url="http://testserver", **update)


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def link(body: str, path: str) -> str:
    m = re.search(rf"https?://[^\s>]+{re.escape(path)}\?[^\s>]+", body)
    assert m, body
    return m.group(0)


async def alert_form(client: httpx.AsyncClient, url: str = SEARCH) -> dict[str, str]:
    page = await client.get(url)
    assert page.status_code == 200
    # an English page's form posts to /alerts?lang=en (the language stays in every same-site address)
    [form] = [f for f in forms(page.text) if (f.attrs.get("action") or "").split("?")[0] == "/alerts"]
    return form.values


async def subscribe(client: httpx.AsyncClient, email: str, frequency: str = "immediate", url: str = SEARCH,
                    **extra: str) -> httpx.Response:
    values = await alert_form(client, url) | {"email": email, "frequency": frequency, "consent": "on"} | extra
    return await client.post("/alerts", data=values)


async def run_job(client: httpx.AsyncClient, settings: Settings, digest: bool = False) -> dict[str, int]:
    k = client.app.state.kroi  # type: ignore[attr-defined]
    return await alerts_worker.run_once(k.sessionmaker, settings, k.templates, digest=digest)


async def deliver(client: httpx.AsyncClient, settings: Settings) -> int:
    return await process_due(client.app.state.kroi.sessionmaker, settings, limit=50)  # type: ignore[attr-defined]


async def publish_now(db: AsyncSession, car_id: int) -> None:
    await db.execute(text("UPDATE cars SET published_at = now() WHERE id = :id"), {"id": car_id})
    await db.commit()


async def drop_price(db: AsyncSession, car_id: int, new_cents: int) -> None:
    await db.execute(text("INSERT INTO car_price_history (car_id, old_price_cents, new_price_cents) "
                          "SELECT id, price_cents, :p FROM cars WHERE id = :id"), {"id": car_id, "p": new_cents})
    await db.execute(text("UPDATE cars SET price_cents = :p WHERE id = :id"), {"id": car_id, "p": new_cents})
    await db.commit()


async def saved(db: AsyncSession) -> list[SavedSearch]:
    rows = list((await db.scalars(select(SavedSearch).order_by(SavedSearch.id)
                                  .execution_options(populate_existing=True))).all())
    await db.commit()
    return rows


async def test_subscribe_confirm_alert_once_price_drop_manage_and_one_click(settings: Settings, reset: None,
                                                                            db: AsyncSession) -> None:
    skoda = await seeded_car(db, "GTO-77")
    ford = await seeded_car(db, "ZX-405")
    toyota = await seeded_car(db, "KRO-120")
    with smtp_server() as smtp:
        s = quick(settings, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)
        async with client_for(s) as client:
            page = await client.get(SEARCH)
            assert i18n.translate("fi", "alerts.frequency.daily") in page.text
            assert "Diesel" in page.text  # the search in words (a /cars chip)
            r = await subscribe(client, "Maija@Example.fi")
            assert r.status_code == 303 and r.headers["location"].startswith("/alerts/sent")
            [row] = await saved(db)
            assert (row.email, row.query, row.status, row.frequency) == ("maija@example.fi", "fuel=diesel",
                                                                         "pending", "immediate")
            assert await deliver(client, s) == 1
            [confirm_mail] = smtp.collector.to("maija@example.fi")
            assert confirm_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            confirm = link(confirm_mail.get_body(("plain",)).get_content(), "/alerts/confirm")

            # Not confirmed yet: a new matching car alerts nobody.
            await publish_now(db, skoda.id)
            assert (await run_job(client, s))["hits"] == 0
            r = await client.get(local(confirm))
            assert r.status_code == 200 and i18n.translate("fi", "alerts.confirmed") in r.text
            assert (await saved(db))[0].status == "active"
            assert (await client.get(local(confirm))).status_code == 200  # "already on"

            await publish_now(db, skoda.id)
            await publish_now(db, toyota.id)  # not a diesel: no alert
            stats = await run_job(client, s)
            assert stats["hits"] == 1 and stats["mails"] == 1
            assert await deliver(client, s) == 1
            alert = smtp.collector.to("maija@example.fi")[-1]
            body = alert.get_body(("plain",)).get_content()
            assert f"/cars/{skoda.id}-{skoda.slug}" in body and f"/cars/{toyota.id}-" not in body
            assert re.search(r"\d{1,3}( \d{3})* €", body) and " km" in body
            assert re.fullmatch(r"<http://testserver/alerts/unsubscribe/one-click\?token=[^>]+>",
                                alert["List-Unsubscribe"])
            assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

            # At most once per car: published again (or the overlap window) does not alert again.
            await publish_now(db, skoda.id)
            assert (await run_job(client, s))["hits"] == 0

            # A price drop of a matching car: "old → new".
            await drop_price(db, ford.id, ford.price_cents - 100_000)
            assert (await run_job(client, s))["mails"] == 1
            assert await deliver(client, s) == 1
            drop = smtp.collector.to("maija@example.fi")[-1].get_body(("plain",)).get_content()
            assert i18n.translate("fi", "alerts.mail.price_drop") in drop and " → " in drop
            assert f"/cars/{ford.id}-" in drop

            # The manage page from the mail lists the search; change it to daily, then delete all.
            manage = link(drop, "/alerts/manage")
            page = await client.get(local(manage))
            assert page.status_code == 200 and "Diesel" in page.text
            [freq_form] = [f for f in forms(page.text) if f.values.get("action") == "frequency"]
            r = await client.post("/alerts/manage", data=freq_form.values | {"frequency": "daily"})
            assert r.status_code == 303
            assert (await saved(db))[0].frequency == "daily"
            page = await client.get(local(manage))
            [all_form] = [f for f in forms(page.text) if "delete_all" in page.text and "action" not in f.values
                          and f.attrs.get("action") == "/alerts/manage" and "id" not in f.values]
            r = await client.post("/alerts/manage", data=all_form.values | {"action": "delete_all"})
            assert r.status_code == 303 and await saved(db) == []
            assert i18n.translate("fi", "alerts.none") in (await client.get(local(manage))).text

            # One-click unsubscribe (RFC 8058): no cookie, no CSRF token.
            await subscribe(client, "click@example.fi")
            [mail] = [m for m in await outbox_rows(db, kind="alert_confirm") if m["payload"]["to"] == "click@example.fi"]
            await client.get(local(link(mail["payload"]["text"], "/alerts/confirm")))
            one_click = mail["payload"]["headers"]["List-Unsubscribe"].strip("<>")
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app),  # type: ignore[attr-defined]
                                         base_url="http://testserver") as stranger:
                r = await stranger.post(local(one_click), data={"List-Unsubscribe": "One-Click"})
            assert r.status_code == 200 and r.text == "unsubscribed"
            assert await saved(db) == []


async def test_digest_waits_for_the_daily_run(settings: Settings, reset: None, db: AsyncSession) -> None:
    skoda = await seeded_car(db, "GTO-77")
    async with client_for(quick(settings)) as client:
        await subscribe(client, "daily@example.fi", frequency="daily", url="/alerts/new?fuel=diesel&lang=en")
        [mail] = await outbox_rows(db, kind="alert_confirm")
        assert mail["payload"]["subject"] == i18n.translate("en", "alerts.mail.confirm_subject")
        await client.get(local(link(mail["payload"]["text"], "/alerts/confirm")))
        await publish_now(db, skoda.id)
        s = quick(settings)
        stats = await run_job(client, s)
        assert stats["hits"] == 1 and stats["mails"] == 0
        assert await outbox_rows(db, kind="alert_digest") == []
        k = client.app.state.kroi  # type: ignore[attr-defined]
        from kroi.alerts.services import AlertJob
        async with k.sessionmaker() as session:
            assert await AlertJob(session, k.templates, alerts_worker.links_for(s)).send_digests(force=True) == 1
        [digest] = await outbox_rows(db, kind="alert_digest")
        assert "Today's digest" in digest["payload"]["text"] and f"/cars/{skoda.id}-" in digest["payload"]["text"]
        async with k.sessionmaker() as session:  # once a day: the same day's second run sends nothing
            assert await AlertJob(session, k.templates, alerts_worker.links_for(s)).send_digests() == 0
        hits = (await db.scalars(select(func.count()).select_from(SavedSearchHit)
                                 .where(SavedSearchHit.mailed_at.is_(None)))).one()
        assert hits == 0


async def test_bad_address_consent_csrf_honeypot_and_rate_limit(settings: Settings, reset: None,
                                                               db: AsyncSession) -> None:
    async with client_for(quick(settings, rate_limit_ip=2)) as client:
        r = await subscribe(client, "not-an-address")
        assert r.status_code == 422 and i18n.translate("fi", "form.error.email") in r.text
        r = await subscribe(client, "ok@example.fi", consent="")
        assert r.status_code == 422 and i18n.translate("fi", "alerts.error.consent") in r.text
        r = await subscribe(client, "äö@example.fi")
        assert r.status_code == 422 and 'aria-invalid="true"' in r.text
        values = await alert_form(client) | {"email": "ok@example.fi", "consent": "on"}
        values.pop("_csrf_token")
        assert (await client.post("/alerts", data=values)).status_code == 403
        r = await subscribe(client, "bot@example.fi", website="http://spam")
        assert r.status_code == 303 and await saved(db) == []  # looks fine, nothing stored
        # htmx: the form fragment with the error
        values = await alert_form(client) | {"email": "x", "consent": "on"}
        r = await client.post("/alerts", data=values, headers=HX)
        assert r.status_code == 422 and not r.text.lstrip().startswith("<!")
        assert (await subscribe(client, "one@example.fi")).status_code == 303
        assert (await subscribe(client, "two@example.fi")).status_code == 303
        r = await subscribe(client, "three@example.fi")
        assert r.status_code == 429
        assert len(await saved(db)) == 2


async def test_the_cars_results_link_to_the_alert_form_with_the_query(settings: Settings, reset: None) -> None:
    async with client_for(quick(settings)) as client:
        page = (await client.get("/cars?fuel=diesel&sort=price_asc&lang=en")).text
        m = re.search(r'href="(/alerts/new[^"]*)"[^>]*data-save-search', page)
        assert m, "no save-search link"
        href = m.group(1).replace("&amp;", "&")
        assert "fuel=diesel" in href and "lang=en" in href
        form_page = await client.get(href)
        assert form_page.status_code == 200 and "Save the alert" in form_page.text
        # Junk in the query never answers 500.
        assert (await client.get("/alerts/new?price_min=abc&brand=%00")).status_code == 200
        assert (await client.get("/alerts/manage?token=junk")).status_code == 400
        assert (await client.get("/alerts/confirm?token=junk")).status_code == 400
        assert (await client.post("/alerts/unsubscribe/one-click?token=junk")).status_code == 400


@pytest.mark.parametrize("frequency", ["immediate", "daily"])
async def test_a_mail_lists_the_first_cars_and_counts_the_rest(settings: Settings, reset: None, db: AsyncSession,
                                                              monkeypatch: pytest.MonkeyPatch, frequency: str) -> None:
    """A busy day: the mail lists the first MAIL_MAX_CARS cars (two here) and says how many more the search has;
    every hit is recorded as mailed, so neither the next run nor the next digest sends them again."""
    from kroi.alerts import services
    from kroi.alerts.services import AlertJob
    monkeypatch.setattr(services, "MAIL_MAX_CARS", 2)
    cars = [await seeded_car(db, plate) for plate in ("GTO-77", "ZX-405", "KRO-120")]
    s = quick(settings)
    async with client_for(s) as client:
        await subscribe(client, "busy@example.fi", frequency=frequency, url="/alerts/new?price_max=500000")
        [mail] = await outbox_rows(db, kind="alert_confirm")
        await client.get(local(link(mail["payload"]["text"], "/alerts/confirm")))
        for car in cars:
            await publish_now(db, car.id)
        stats = await run_job(client, s)
        assert stats["hits"] == 3 and stats["mails"] == (1 if frequency == "immediate" else 0)
        k = client.app.state.kroi  # type: ignore[attr-defined]
        if frequency == "daily":
            async with k.sessionmaker() as session:
                assert await AlertJob(session, k.templates, alerts_worker.links_for(s)).send_digests(force=True) == 1
        [alert] = await outbox_rows(db, kind="alert" if frequency == "immediate" else "alert_digest")
        body = alert["payload"]["text"]
        listed = [car for car in cars if f"/cars/{car.id}-" in body]
        assert len(listed) == 2, body
        assert i18n.translate("fi", "alerts.mail.more", n=1) in body
        assert alert["payload"]["subject"].startswith(i18n.translate("fi", "alerts.mail.subject_many", n=3,
                                                                     search="")[:20])
        unmailed = (await db.scalars(select(func.count()).select_from(SavedSearchHit)
                                     .where(SavedSearchHit.mailed_at.is_(None)))).one()
        assert unmailed == 0
        for car in cars:
            await publish_now(db, car.id)
        assert (await run_job(client, s))["hits"] == 0
        async with k.sessionmaker() as session:
            assert await AlertJob(session, k.templates, alerts_worker.links_for(s)).send_digests(force=True) == 0
