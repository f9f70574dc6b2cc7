"""What guards the lead forms: CSRF, honeypot, minimum fill time, rate limits, idempotency, escaping, and
what happens when Redis or the database is away."""
from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from redis import Redis as SyncRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import embedded
from kroi.leads.controllers import TS_PURPOSE
from kroi.security import csrf, signing
from kroi.settings import Settings
from kroi.web import i18n
from leadforms import (HX, client_for, confirmation_reference, fast, field_error, get_form, is_confirmation,
                       is_full_page, lead_form, new_leads, outbox_rows, post, seeded_car, valid_input)
from leadforms import lead_client, lead_settings, redis_url  # noqa: F401 - fixtures used by name
from smtp import free_port

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"


# --- CSRF ---------------------------------------------------------------------------------------------------

async def test_post_without_token_or_cookie_is_refused(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    data = form.data(**valid_input("contact", "csrf@example.fi"))
    del data["_csrf_token"]
    lead_client.cookies.clear()
    for htmx in (False, True):
        r = await post(lead_client, data, htmx=htmx)
        assert r.status_code == 403
        assert i18n.translate("fi", "form.error.request_failed") in r.text
        assert "Traceback" not in r.text
    assert await new_leads(db) == []


@pytest.mark.parametrize("case", ["no-field", "no-cookie", "other-token", "header-mismatch"])
async def test_post_with_half_a_token_is_refused(lead_client: httpx.AsyncClient, db: AsyncSession,
                                                 case: str) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    data = form.data(**valid_input("contact", "csrf@example.fi"))
    headers = dict(HX)
    if case == "no-field":
        del data["_csrf_token"]
    elif case == "no-cookie":
        lead_client.cookies.clear()
    elif case == "other-token":
        async with client_for(lead_client.app.state.kroi.settings) as other:  # type: ignore[attr-defined]
            data["_csrf_token"] = (await get_form(other, "/contact", "contact")).values["_csrf_token"]
    else:
        del data["_csrf_token"]
        headers["x-csrftoken"] = "0" * 64
    r = await lead_client.post("/leads", data=data, headers=headers)
    assert r.status_code == 403
    assert await new_leads(db) == []


async def test_token_in_the_header_is_accepted(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    data = form.data(**valid_input("contact", "header@example.fi"))
    token = data.pop("_csrf_token")
    r = await lead_client.post("/leads", data=data, headers={**HX, "x-csrftoken": token})
    assert r.status_code == 200 and is_confirmation(r.text)
    assert len(await new_leads(db)) == 1


async def test_field_check_needs_the_token_too(lead_client: httpx.AsyncClient) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    data = form.data(email="x", field="email")
    del data["_csrf_token"]
    r = await lead_client.post("/leads/validate", data=data, headers=HX)
    assert r.status_code == 403


# --- bots ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
async def test_filled_honeypot_looks_like_success_and_stores_nothing(lead_client: httpx.AsyncClient,
                                                                     db: AsyncSession, htmx: bool) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    assert form.values["website"] == ""
    r = await post(lead_client, form.data(**valid_input("contact", "bot@example.fi"), website="http://spam.example"),
                   htmx=htmx)
    if htmx:
        assert r.status_code == 200
    else:
        assert r.status_code == 303
        r = await lead_client.get(r.headers["location"])
    assert is_confirmation(r.text)
    assert i18n.translate("fi", "form.done.title") in r.text
    assert await new_leads(db) == []
    assert await outbox_rows(db) == []


async def test_a_form_sent_faster_than_a_person_can_is_refused(settings: Settings, reset: None,
                                                              db: AsyncSession) -> None:
    async with client_for(fast(settings, form_min_seconds=60)) as client:
        form = await get_form(client, "/contact", "contact")
        r = await post(client, form.data(**valid_input("contact", "fast@example.fi")), htmx=True)
        assert r.status_code == 422
        assert field_error(r.text, "form") == i18n.translate("fi", "form.error.too_fast")
        again = lead_form(r.text, "contact")
        assert again.values["email"] == "fast@example.fi"
        assert again.values["ts"]  # a fresh timestamp to try again with
    assert await new_leads(db) == []


async def test_a_form_old_enough_passes_the_fill_time_check(settings: Settings, reset: None,
                                                           db: AsyncSession) -> None:
    s = fast(settings, form_min_seconds=60)
    async with client_for(s) as client:
        form = await get_form(client, "/contact", "contact")
        # The form was opened two minutes ago (signed by the server, so it cannot be faked by the visitor).
        ts = signing.sign(s.secret(), TS_PURPOSE, "contact", now=time.time() - 120)
        r = await post(client, form.data(**valid_input("contact", "slow@example.fi"), ts=ts), htmx=True)
        assert r.status_code == 200 and is_confirmation(r.text)
    assert len(await new_leads(db)) == 1


@pytest.mark.parametrize("case", ["missing", "tampered", "other-form", "expired"])
async def test_a_bad_or_stale_timestamp_is_refused(lead_client: httpx.AsyncClient, lead_settings: Settings,
                                                  db: AsyncSession, case: str) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    ts = {"missing": "",
          "tampered": form.values["ts"][:-2] + ("AA" if not form.values["ts"].endswith("AA") else "BB"),
          "other-form": signing.sign(lead_settings.secret(), TS_PURPOSE, "financing"),
          "expired": signing.sign(lead_settings.secret(), TS_PURPOSE, "contact", now=time.time() - 2 * 86400)}[case]
    r = await post(lead_client, form.data(**valid_input("contact", "ts@example.fi"), ts=ts), htmx=True)
    assert r.status_code == 422
    assert field_error(r.text, "form") == i18n.translate("fi", "form.error.expired")
    assert await new_leads(db) == []


# --- rate limits --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
async def test_too_many_submissions_from_one_address_get_429(settings: Settings, reset: None, db: AsyncSession,
                                                             htmx: bool) -> None:
    async with client_for(fast(settings, rate_limit_ip=2)) as client:
        answers = []
        for n in range(3):
            form = await get_form(client, "/contact", "contact")
            answers.append(await post(client, form.data(**valid_input("contact", f"ip{n}@example.fi")), htmx=htmx))
    assert [r.status_code for r in answers] == ([200, 200, 429] if htmx else [303, 303, 429])
    limited = answers[2]
    assert is_full_page(limited.text) != htmx
    assert field_error(limited.text, "form") == i18n.translate("fi", "form.error.rate_limited", minutes=10)
    assert lead_form(limited.text, "contact").values["email"] == "ip2@example.fi"
    assert sorted(r["email"] for r in await new_leads(db)) == ["ip0@example.fi", "ip1@example.fi"]


async def test_too_many_submissions_for_one_email_get_429(settings: Settings, reset: None,
                                                          db: AsyncSession) -> None:
    async with client_for(fast(settings, rate_limit_email=2)) as client:
        codes = []
        for email in ("same@example.fi", "SAME@example.fi", "other@example.fi", "same@example.fi"):
            form = await get_form(client, "/contact", "contact")
            codes.append((await post(client, form.data(**valid_input("contact", email)), htmx=True)).status_code)
    assert codes == [200, 200, 200, 429]
    assert len(await new_leads(db)) == 3


async def test_rate_limit_fails_open_when_redis_is_down(settings: Settings, reset: None, db: AsyncSession) -> None:
    async with client_for(fast(settings, redis_url=DEAD_REDIS, rate_limit_ip=1, rate_limit_email=1)) as client:
        for n in range(3):
            form = await get_form(client, "/contact", "contact")
            r = await post(client, form.data(**valid_input("contact", "down@example.fi")), htmx=True)
            assert r.status_code == 200 and is_confirmation(r.text), r.text[:300]
    assert len(await new_leads(db)) == 3


# --- idempotency --------------------------------------------------------------------------------------------

async def test_the_same_form_posted_twice_is_one_lead(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    form = await get_form(lead_client, "/contact?type=financing", "financing")
    data = form.data(**valid_input("financing", "twice@example.fi"))
    first = await post(lead_client, data, htmx=True)
    second = await post(lead_client, data, htmx=True)
    plain = await post(lead_client, data)
    assert first.status_code == second.status_code == 200
    assert confirmation_reference(first.text) == confirmation_reference(second.text)
    assert plain.status_code == 303
    shown = (await lead_client.get(plain.headers["location"])).text
    assert confirmation_reference(shown) == confirmation_reference(first.text)
    [lead] = await new_leads(db)
    assert lead["id"] == confirmation_reference(first.text)
    assert len(await outbox_rows(db)) == 2


async def test_ten_concurrent_copies_make_one_lead(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    # Ten copies are more than the per-address limit (5): copies of one form are one message, not ten.
    form = await get_form(lead_client, "/contact?type=test-drive", "test-drive")
    data = form.data(**valid_input("test-drive", "race@example.fi"))
    answers = await asyncio.gather(*(post(lead_client, data, htmx=True) for _ in range(10)))
    assert [r.status_code for r in answers] == [200] * 10, [r.text[:200] for r in answers if r.status_code != 200]
    refs = {confirmation_reference(r.text) for r in answers}
    [lead] = await new_leads(db)
    assert refs == {lead["id"]}
    assert len(await outbox_rows(db)) == 2


async def test_resending_an_accepted_form_is_not_a_new_message(settings: Settings, reset: None,
                                                               db: AsyncSession) -> None:
    async with client_for(fast(settings, rate_limit_email=2)) as client:
        forms = [await get_form(client, "/contact", "contact") for _ in range(3)]
        data = [f.data(**valid_input("contact", "again@example.fi")) for f in forms]
        first = await post(client, data[0], htmx=True)
        assert first.status_code == 200
        for _ in range(3):  # the same form again and again: the same answer, and it uses up nothing
            r = await post(client, data[0], htmx=True)
            assert r.status_code == 200 and confirmation_reference(r.text) == confirmation_reference(first.text)
        second = await post(client, data[1], htmx=True)
        assert second.status_code == 200
        third = await post(client, data[2], htmx=True)
        assert third.status_code == 429
        # A refused form stays refused when sent again: resending is no way around the limit.
        again = lead_form(third.text, "contact").data()
        assert again["idempotency_key"] == data[2]["idempotency_key"]
        assert (await post(client, again, htmx=True)).status_code == 429
    assert len(await new_leads(db)) == 2


async def test_different_forms_are_different_leads(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    for _ in range(2):
        form = await get_form(lead_client, "/contact", "contact")
        await post(lead_client, form.data(**valid_input("contact", "two@example.fi")), htmx=True)
    assert len(await new_leads(db)) == 2


# --- escaping -----------------------------------------------------------------------------------------------

SCRIPT_NAME = "<script>alert('name')</script>"
SCRIPT_MESSAGE = 'Hei <script>alert("x")</script> & <img src=x onerror=alert(1)>\nkiitos'
ODD_EMAIL = "o'brien&co@example.fi"


async def test_what_is_typed_is_stored_verbatim_and_escaped_where_shown(lead_client: httpx.AsyncClient,
                                                                        db: AsyncSession) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    r = await post(lead_client, form.data(**valid_input("contact", ODD_EMAIL, name=SCRIPT_NAME,
                                                        message=SCRIPT_MESSAGE)), htmx=True)
    assert r.status_code == 200
    assert "o&#39;brien&amp;co@example.fi" in r.text
    assert ODD_EMAIL not in r.text
    [lead] = await new_leads(db)
    assert lead["name"] == SCRIPT_NAME
    assert lead["message"] == SCRIPT_MESSAGE
    assert lead["email"] == ODD_EMAIL

    dealer = (await outbox_rows(db, lead_id=lead["id"], kind="lead_dealer"))[0]["payload"]
    assert "<script>" not in dealer["html"] and "<img" not in dealer["html"]
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in dealer["html"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in dealer["html"]


async def test_plain_confirmation_page_escapes_the_address(lead_client: httpx.AsyncClient) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    r = await post(lead_client, form.data(**valid_input("contact", ODD_EMAIL)), follow=True)
    assert is_confirmation(r.text)
    assert "o&#39;brien&amp;co@example.fi" in r.text and ODD_EMAIL not in r.text


async def test_refused_input_is_escaped_in_the_form(lead_client: httpx.AsyncClient) -> None:
    form = await get_form(lead_client, "/contact", "contact")
    r = await post(lead_client, form.data(**valid_input("contact", "bad", name=SCRIPT_NAME, message=SCRIPT_MESSAGE,
                                                        utm_source='"><script>x</script>')), htmx=True)
    assert r.status_code == 422
    assert "<script>" not in r.text and "<img" not in r.text
    again = lead_form(r.text, "contact")
    assert again.values["name"] == SCRIPT_NAME and again.values["message"] == SCRIPT_MESSAGE


# --- Redis or the database away -----------------------------------------------------------------------------

@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen]]:
    """A redis-server of this test's own on a free port (so the test may stop it)."""
    port = free_port()
    proc = subprocess.Popen([embedded.redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = SyncRedis(host="127.0.0.1", port=port, socket_timeout=1)
        for _ in range(200):
            try:
                if client.ping():
                    break
            except OSError:
                pass
            except Exception:  # noqa: BLE001 - redis.ConnectionError while it starts
                pass
            time.sleep(0.025)
        else:
            raise RuntimeError("redis-server did not start")
        client.close()
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


async def test_redis_stopping_during_submissions_loses_nothing(settings: Settings, reset: None, db: AsyncSession,
                                                               own_redis: tuple[str, subprocess.Popen]) -> None:
    url, proc = own_redis
    emails = [f"r{n}@example.fi" for n in range(8)]
    async with client_for(fast(settings, redis_url=url)) as client:
        for n, email in enumerate(emails):
            if n == 3:
                keys = SyncRedis.from_url(url).keys("*")
                assert any(b"lead-ip" in k for k in keys), keys  # Redis was in use until now
                proc.kill()
                proc.wait(10)
            form = await get_form(client, "/contact?type=trade-in", "trade-in")
            r = await post(client, form.data(**valid_input("trade-in", email)), htmx=n % 2 == 0)
            assert r.status_code in (200, 303), (n, r.status_code, r.text[:300])
            if r.status_code == 200:
                assert is_confirmation(r.text)
    assert sorted(r["email"] for r in await new_leads(db)) == sorted(emails)
    assert len(await outbox_rows(db)) == 2 * len(emails)


async def _token_pair(client: httpx.AsyncClient, secret: str) -> str:
    """A CSRF cookie and its token made without a page (the pages need the database, which is away)."""
    token = csrf.new_token(secret.encode())
    client.cookies.set(csrf.COOKIE, token)
    return token


def _hand_filled(secret: str, token: str, email: str) -> dict[str, str]:
    return {"_csrf_token": token, "form_type": "contact", "form_id": "contact", "idempotency_key": "a" * 32,
            "ts": signing.sign(secret, TS_PURPOSE, "contact"), "source_page": "/contact",
            **valid_input("contact", email, message="Tärkeä viesti, älä hukkaa")}


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
async def test_database_unreachable_answers_503_with_the_input_kept(settings: Settings, reset: None,
                                                                    htmx: bool) -> None:
    s = fast(settings, database_url=DEAD_DATABASE)
    async with client_for(s) as client:
        client.cookies.set("kroi_lang", "en")
        data = _hand_filled(s.secret(), await _token_pair(client, s.secret()), "away@example.fi")
        r = await post(client, data, htmx=htmx)
    assert r.status_code == 503
    assert "try again in a moment" in r.text
    assert "Traceback" not in r.text
    assert is_full_page(r.text) != htmx
    kept = lead_form(r.text, "contact")
    for name in ("name", "email", "phone", "message"):
        assert kept.values[name] == data[name]
    assert kept.checkboxes["consent"] is True
    assert kept.values["idempotency_key"] == "a" * 32  # sending again later cannot make a second lead


async def test_database_unreachable_keeps_the_car_of_an_inquiry(settings: Settings, reset: None,
                                                               db: AsyncSession) -> None:
    volvo = await seeded_car(db, "VLV-60")
    s = fast(settings, database_url=DEAD_DATABASE)
    async with client_for(s) as client:
        data = _hand_filled(s.secret(), await _token_pair(client, s.secret()), "car@example.fi")
        data |= {"form_type": "inquiry", "form_id": "inquiry", "car_id": str(volvo.id), "source_page": volvo.url,
                 "ts": signing.sign(s.secret(), TS_PURPOSE, "inquiry")}
        r = await post(client, data, htmx=True)
        cookies = dict(client.cookies)
    assert r.status_code == 503
    kept = lead_form(r.text, "inquiry")
    assert kept.values.get("car_id") == str(volvo.id)

    # The database is back: the kept form, sent again, is the inquiry about that car.
    async with client_for(fast(settings)) as client:
        client.cookies.update(cookies)
        again = await post(client, kept.data(), htmx=True)
    assert again.status_code == 200 and is_confirmation(again.text), again.text[:300]
    [lead] = await new_leads(db)
    assert (lead["type"], lead["car_id"], lead["car_price_cents"]) == ("car_inquiry", volvo.id, volvo.price_cents)
    assert lead["idempotency_key"] == "a" * 32


async def test_database_lost_after_settings_were_cached_still_answers_503(settings: Settings, reset: None,
                                                                         db: AsyncSession) -> None:
    async with client_for(fast(settings)) as up:
        await up.get("/contact")  # puts the dealer settings into Redis
    s = fast(settings, database_url=DEAD_DATABASE)
    async with client_for(s) as client:
        data = _hand_filled(s.secret(), await _token_pair(client, s.secret()), "cached@example.fi")
        r = await post(client, data, htmx=True)
    assert r.status_code == 503
    assert field_error(r.text, "form") == i18n.translate("fi", "form.error.unavailable", phone="+358 40 123 4567")
    assert lead_form(r.text, "contact").values["message"] == "Tärkeä viesti, älä hukkaa"
    assert await new_leads(db) == []


@pytest.mark.parametrize("settings_cached", [False, True], ids=["first-query", "settings-cached"])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
async def test_an_exhausted_connection_pool_answers_try_again_with_the_input_kept(
        settings: Settings, reset: None, db: AsyncSession, htmx: bool, settings_cached: bool) -> None:
    """Every pooled connection busy (a slow database): the pool checkout times out (sqlalchemy.exc.TimeoutError),
    which must be the same clear 503 as a database that is away, never a 500 that loses what was typed."""
    async with client_for(fast(settings)) as up:
        form = await get_form(up, "/contact", "contact")  # also puts the dealer settings into Redis
        cookies = dict(up.cookies)
    if not settings_cached:
        redis = SyncRedis.from_url(settings.redis_url)
        redis.flushdb()  # site_settings.load is then the first query, and it is the one that times out
        redis.close()
    busy = fast(settings, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.2)
    data = form.data(**valid_input("contact", "busy@example.fi", message="Tärkeä viesti, älä hukkaa"))
    async with client_for(busy) as client:
        client.cookies.update(cookies)
        async with client.app.state.kroi.engine.connect() as held:  # type: ignore[attr-defined]
            await held.execute(text("SELECT 1"))  # the pool's only connection, checked out
            r = await post(client, data, htmx=htmx)
    assert r.status_code == 503, r.text[:300]
    assert field_error(r.text, "form") == i18n.translate("fi", "form.error.unavailable", phone="+358 40 123 4567")
    assert is_full_page(r.text) != htmx
    kept = lead_form(r.text, "contact")
    for name in ("name", "email", "phone", "message"):
        assert kept.values[name] == data[name]
    assert kept.checkboxes["consent"] is True
    assert kept.values["idempotency_key"] == data["idempotency_key"]
    assert await new_leads(db) == []
    assert await outbox_rows(db) == []


async def test_a_lead_is_never_stored_without_its_mails(lead_client: httpx.AsyncClient, db: AsyncSession) -> None:
    await db.execute(text(
        "CREATE FUNCTION kroi_test_refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'outbox refused by test'; END $$"))
    await db.execute(text(
        "CREATE TRIGGER kroi_test_refuse_outbox BEFORE INSERT ON outbox_messages "
        "FOR EACH ROW EXECUTE FUNCTION kroi_test_refuse_outbox()"))
    await db.commit()
    try:
        form = await get_form(lead_client, "/contact", "contact")
        r = await post(lead_client, form.data(**valid_input("contact", "atomic@example.fi")), htmx=True)
        assert r.status_code in (500, 503), r.status_code
        assert "Traceback" not in r.text and "outbox refused" not in r.text
        assert not is_confirmation(r.text)
        assert await new_leads(db) == []
        assert await outbox_rows(db) == []
    finally:
        await db.rollback()
        await db.execute(text("DROP TRIGGER IF EXISTS kroi_test_refuse_outbox ON outbox_messages"))
        await db.execute(text("DROP FUNCTION IF EXISTS kroi_test_refuse_outbox()"))
        await db.commit()
    # With the trigger gone, the very same submission goes through.
    r = await post(lead_client, form.data(**valid_input("contact", "atomic@example.fi")), htmx=True)
    assert is_confirmation(r.text)
    assert len(await new_leads(db)) == 1
    assert len(await outbox_rows(db)) == 2
