"""Newsletter: double opt-in with signed links, the same answer whatever the state, unsubscribe (page and
RFC 8058 one-click), re-subscribing, one row per address."""
from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import NewsletterSubscriber
from kroi.mail.worker import process_due
from kroi.newsletter.services import CONFIRM, UNSUBSCRIBE
from kroi.security import signing
from kroi.settings import Settings
from kroi.web import i18n
from leadforms import HX, client_for, fast, forms, outbox_rows
from leadforms import redis_url  # noqa: F401 - fixtures used by name
from smtp import smtp_server

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def news_settings(settings: Settings) -> Settings:
    return fast(settings)


@pytest.fixture
async def client(news_settings: Settings, reset: None) -> httpx.AsyncClient:
    async with client_for(news_settings) as c:
        yield c


async def footer_token(client: httpx.AsyncClient) -> str:
    page = (await client.get("/contact")).text
    [form] = [f for f in forms(page) if f.attrs.get("action") == "/newsletter"]
    return form.values["_csrf_token"]


async def subscribe(client: httpx.AsyncClient, email: str, htmx: bool = True) -> httpx.Response:
    token = await footer_token(client)
    return await client.post("/newsletter", data={"_csrf_token": token, "email": email},
                             headers=HX if htmx else {})


async def subscribers(db: AsyncSession) -> list[dict]:
    t = NewsletterSubscriber.__table__
    rows = (await db.execute(select(t).order_by(t.c.id))).mappings().all()
    await db.commit()
    return [dict(r) for r in rows]


async def the_row(db: AsyncSession, email: str) -> dict:
    rows = [r for r in await subscribers(db) if r["email"].lower() == email.lower()]
    assert len(rows) == 1, rows
    return rows[0]


def status_text(page: str) -> str:
    m = re.search(r'role="status"[^>]*>([^<]*)<', page)
    assert m, page[:300]
    return m.group(1).strip()


def link(text: str, path: str) -> str:
    m = re.search(rf"https?://[^\s>]+{re.escape(path)}\?token=[A-Za-z0-9_.%-]+", text)
    assert m, text
    return m.group(0)


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def confirm_link(db: AsyncSession, email: str) -> str:
    mails = [r for r in await outbox_rows(db, kind="newsletter_confirm") if r["payload"]["to"] == email]
    return link(mails[-1]["payload"]["text"], "/newsletter/confirm")


async def test_subscribe_sends_a_confirmation_with_list_unsubscribe(news_settings: Settings, reset: None,
                                                                    db: AsyncSession) -> None:
    with smtp_server() as smtp:
        s = fast(news_settings, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)
        async with client_for(s) as client:
            r = await subscribe(client, "Maija@Example.fi")
            assert r.status_code == 200
            assert status_text(r.text) == i18n.translate("fi", "news.check_inbox")
            row = await the_row(db, "maija@example.fi")
            assert row["status"] == "pending" and row["confirmed_at"] is None
            assert row["consent_text"] == i18n.translate("fi", "news.consent")
            assert await process_due(client.app.state.kroi.sessionmaker, s) == 1  # type: ignore[attr-defined]
        [mail] = smtp.collector.to("maija@example.fi")

    assert mail["Subject"] == i18n.translate("fi", "news.mail.subject")
    header = mail["List-Unsubscribe"]
    assert re.fullmatch(r"<http://testserver/newsletter/unsubscribe/one-click\?token=[^>]+>", header), header
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = mail.get_body(("plain",)).get_content()
    confirm = link(body, "/newsletter/confirm")
    assert link(body, "/newsletter/unsubscribe")

    async with client_for(news_settings) as client:
        r = await client.get(local(confirm))
        assert r.status_code == 200
        assert status_text(r.text) == i18n.translate("fi", "news.confirmed")
        row = await the_row(db, "maija@example.fi")
        assert row["status"] == "confirmed" and row["confirmed_at"] is not None
        again = await client.get(local(confirm))
        assert again.status_code == 200 and status_text(again.text) == i18n.translate("fi", "news.already")


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
async def test_the_answer_is_the_same_for_new_pending_and_confirmed(client: httpx.AsyncClient, db: AsyncSession,
                                                                    htmx: bool) -> None:
    new = await subscribe(client, "same@example.fi", htmx)
    assert (await the_row(db, "same@example.fi"))["status"] == "pending"
    pending = await subscribe(client, "same@example.fi", htmx)
    await client.get(local(await confirm_link(db, "same@example.fi")))
    assert (await the_row(db, "same@example.fi"))["status"] == "confirmed"
    confirmed = await subscribe(client, "same@example.fi", htmx)

    assert new.status_code == pending.status_code == confirmed.status_code == 200
    assert new.text == pending.text == confirmed.text
    assert is_fragment(new.text) == htmx
    # A pending address gets a fresh link; a confirmed one gets nothing.
    assert len(await outbox_rows(db, kind="newsletter_confirm")) == 2
    assert len(await subscribers(db)) == 1


def is_fragment(page: str) -> bool:
    return not page.lstrip().lower().startswith("<!doctype")


async def test_one_click_unsubscribe_needs_no_csrf_token(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await subscribe(client, "click@example.fi")
    await client.get(local(await confirm_link(db, "click@example.fi")))
    mail = (await outbox_rows(db, kind="newsletter_confirm"))[-1]["payload"]
    one_click = mail["headers"]["List-Unsubscribe"].strip("<>")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app),  # type: ignore[attr-defined]
                                 base_url="http://testserver") as stranger:
        # A mail client: no cookies, no CSRF token, the RFC 8058 body.
        r = await stranger.post(local(one_click), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and r.text == "unsubscribed"
    row = await the_row(db, "click@example.fi")
    assert row["status"] == "unsubscribed" and row["unsubscribed_at"] is not None


async def test_unsubscribe_page_and_form(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await subscribe(client, "page@example.fi")
    unsubscribe = link((await outbox_rows(db))[-1]["payload"]["text"], "/newsletter/unsubscribe")
    page = await client.get(local(unsubscribe))
    assert page.status_code == 200
    [form] = [f for f in forms(page.text) if f.attrs.get("action") == "/newsletter/unsubscribe"]
    assert form.values["token"] == parse_qs(urlsplit(unsubscribe).query)["token"][0]

    refused = await client.post("/newsletter/unsubscribe", data={"token": form.values["token"]})
    assert refused.status_code == 403
    assert (await the_row(db, "page@example.fi"))["status"] == "pending"

    r = await client.post("/newsletter/unsubscribe", data=form.values)
    assert r.status_code == 200
    assert status_text(r.text) == i18n.translate("fi", "news.unsubscribed")
    assert (await the_row(db, "page@example.fi"))["status"] == "unsubscribed"


async def test_resubscribing_makes_the_same_row_pending_again(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await subscribe(client, "back@example.fi")
    old_confirm = await confirm_link(db, "back@example.fi")
    await client.get(local(old_confirm))
    one_click = (await outbox_rows(db))[-1]["payload"]["headers"]["List-Unsubscribe"].strip("<>")
    assert (await client.post(local(one_click))).status_code == 200
    first = await the_row(db, "back@example.fi")
    assert first["status"] == "unsubscribed"

    # A confirmation link sent before the unsubscribe does not subscribe the address again.
    r = await client.get(local(old_confirm))
    assert r.status_code == 400
    assert (await the_row(db, "back@example.fi"))["status"] == "unsubscribed"

    await subscribe(client, "BACK@example.fi")
    row = await the_row(db, "back@example.fi")
    assert row["id"] == first["id"]
    assert row["status"] == "pending" and row["unsubscribed_at"] is None
    await client.get(local(await confirm_link(db, "back@example.fi")))
    assert (await the_row(db, "back@example.fi"))["status"] == "confirmed"
    assert len(await subscribers(db)) == 1


async def test_an_old_confirmation_link_does_not_confirm_a_later_subscription(client: httpx.AsyncClient,
                                                                             db: AsyncSession) -> None:
    """Subscribe, unsubscribe, subscribe again: the first request's link (still within its 7 days) must not
    confirm the new request; only the link sent for it does."""
    await subscribe(client, "twice@example.fi")
    old_confirm = await confirm_link(db, "twice@example.fi")
    one_click = (await outbox_rows(db))[-1]["payload"]["headers"]["List-Unsubscribe"].strip("<>")
    assert (await client.post(local(one_click))).status_code == 200
    assert (await the_row(db, "twice@example.fi"))["status"] == "unsubscribed"

    await subscribe(client, "twice@example.fi")
    new_confirm = await confirm_link(db, "twice@example.fi")
    assert new_confirm != old_confirm
    r = await client.get(local(old_confirm))
    assert r.status_code == 400 and status_text(r.text) == i18n.translate("fi", "news.bad_link")
    assert (await the_row(db, "twice@example.fi"))["status"] == "pending"

    # A second request while pending also replaces the first one's link.
    await subscribe(client, "twice@example.fi")
    newest = await confirm_link(db, "twice@example.fi")
    assert (await client.get(local(new_confirm))).status_code == 400
    assert (await the_row(db, "twice@example.fi"))["status"] == "pending"
    r = await client.get(local(newest))
    assert r.status_code == 200 and status_text(r.text) == i18n.translate("fi", "news.confirmed")
    assert (await the_row(db, "twice@example.fi"))["status"] == "confirmed"


async def test_a_link_of_the_older_kind_works_only_while_no_later_request_was_made(
        client: httpx.AsyncClient, news_settings: Settings, db: AsyncSession) -> None:
    """Links mailed before the request time was recorded carry the address alone (valid for 7 days)."""
    await subscribe(client, "legacy@example.fi")
    t = NewsletterSubscriber.__table__
    await db.execute(t.update().where(t.c.email == "legacy@example.fi").values(requested_at=None))
    await db.commit()
    legacy = signing.sign(news_settings.secret(), CONFIRM, "legacy@example.fi")
    assert (await client.get("/newsletter/confirm", params={"token": legacy})).status_code == 200
    assert (await the_row(db, "legacy@example.fi"))["status"] == "confirmed"

    await subscribe(client, "other@example.fi")
    stale = signing.sign(news_settings.secret(), CONFIRM, "other@example.fi")
    assert (await client.get("/newsletter/confirm", params={"token": stale})).status_code == 400


async def test_one_row_per_address_whatever_the_case(client: httpx.AsyncClient, db: AsyncSession) -> None:
    for email in ("Case@Example.fi", "case@example.FI", "CASE@EXAMPLE.FI"):
        assert (await subscribe(client, email)).status_code == 200
    t = NewsletterSubscriber.__table__
    count = await db.scalar(select(func.count()).select_from(t).where(func.lower(t.c.email) == "case@example.fi"))
    await db.commit()
    assert count == 1


@pytest.mark.parametrize("case", ["expired", "tampered", "wrong-purpose", "unknown-address", "missing"])
async def test_bad_confirmation_links_get_a_400_page(client: httpx.AsyncClient, news_settings: Settings,
                                                     db: AsyncSession, case: str) -> None:
    await subscribe(client, "link@example.fi")
    good = parse_qs(urlsplit(await confirm_link(db, "link@example.fi")).query)["token"][0]
    secret = news_settings.secret()
    token = {
        "expired": signing.sign(secret, CONFIRM, "link@example.fi", now=time.time() - 8 * 86400),
        "tampered": good[:-3] + ("xyz" if not good.endswith("xyz") else "abc"),
        "wrong-purpose": signing.sign(secret, UNSUBSCRIBE, "link@example.fi"),
        "unknown-address": signing.sign(secret, CONFIRM, "nobody@example.fi"),
        "missing": "",
    }[case]
    r = await client.get("/newsletter/confirm", params={"token": token})
    assert r.status_code == 400
    assert status_text(r.text) == i18n.translate("fi", "news.bad_link")
    assert "Traceback" not in r.text
    assert (await the_row(db, "link@example.fi"))["status"] == "pending"


async def test_tampered_unsubscribe_tokens_change_nothing(client: httpx.AsyncClient, news_settings: Settings,
                                                          db: AsyncSession) -> None:
    await subscribe(client, "keep@example.fi")
    forged = signing.sign("another-secret-" * 4, UNSUBSCRIBE, "keep@example.fi")
    r = await client.post("/newsletter/unsubscribe/one-click", params={"token": forged})
    assert r.status_code == 400
    wrong = signing.sign(news_settings.secret(), CONFIRM, "keep@example.fi")
    assert (await client.post("/newsletter/unsubscribe/one-click", params={"token": wrong})).status_code == 400
    assert (await the_row(db, "keep@example.fi"))["status"] == "pending"


async def test_bad_address_is_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    r = await subscribe(client, "not an address")
    assert r.status_code == 422
    assert status_text(r.text) == i18n.translate("fi", "form.error.email")
    assert await subscribers(db) == []


async def test_subscribing_needs_the_csrf_token(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await client.get("/contact")
    r = await client.post("/newsletter", data={"email": "nocsrf@example.fi"}, headers=HX)
    assert r.status_code == 403
    assert await subscribers(db) == []


async def test_repeated_subscribing_is_rate_limited(client: httpx.AsyncClient, db: AsyncSession) -> None:
    codes = [(await subscribe(client, "spam@example.fi")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert len(await outbox_rows(db, kind="newsletter_confirm")) == 3


async def test_a_double_click_on_subscribe_makes_one_row(client: httpx.AsyncClient, db: AsyncSession) -> None:
    token = await footer_token(client)
    answers = await asyncio.gather(*(client.post("/newsletter", data={"_csrf_token": token, "email": "dbl@example.fi"},
                                                 headers=HX) for _ in range(3)))
    assert [r.status_code for r in answers] == [200, 200, 200], [r.text[:200] for r in answers]
    assert len({r.text for r in answers}) == 1
    assert (await the_row(db, "dbl@example.fi"))["status"] == "pending"
