"""Staff sign-in: argon2id with rehash, server-side sessions in Redis (no fixation, idle and absolute timeouts),
logout, own password change, lockouts per account and per IP, admin-started reset links, the `kroi user` CLI,
and a dead Redis answering 503 at sign-in while the shop stays up."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import time

import anyio
import httpx
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from redis.asyncio import Redis
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import (
    ADMIN_EMAIL, ADMIN_PASSWORD, STAFF_PASSWORD, add_user, admin_id, api_token, audit_rows, bearer, browser, cookie,
    csrf, is_login_redirect, login, login_error, post, scalar, set_cookie, sign_in_as, staff,
)
from kroi.cache import keys
from kroi.cli import main as cli
from kroi.db.models import LoginAttempt, PasswordResetToken, User
from kroi.security.passwords import needs_rehash
from kroi.web import i18n
from support import DEAD_REDIS, with_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CURRENT_PARAMS = "$argon2id$v=19$m=65536,t=3,p=4$"


def fi(key: str, **params: object) -> str:
    return i18n.translate("fi", key, **params)


def session_key(token: str) -> str:
    return keys.session(hashlib.sha256(token.encode()).hexdigest())


@pytest.fixture
async def redis(redis_url: str):  # noqa: ANN201
    r = Redis.from_url(redis_url)
    yield r
    await r.aclose()


async def user(db: AsyncSession, email: str = ADMIN_EMAIL) -> User:
    db.expire_all()
    u = await db.scalar(select(User).where(User.email == email))
    await db.commit()
    return u


async def attempts(db: AsyncSession, **where: object) -> list[tuple[str, str, bool]]:
    db.expire_all()
    stmt = select(LoginAttempt.email, LoginAttempt.ip, LoginAttempt.succeeded).order_by(LoginAttempt.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(LoginAttempt, name) == value)
    rows = [tuple(r) for r in (await db.execute(stmt)).all()]
    await db.commit()
    return rows


async def signed_in(c: httpx.AsyncClient) -> bool:
    r = await c.get("/admin")
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 200


# --- signing in -------------------------------------------------------------------------------------------

async def test_sign_in_opens_a_server_side_session_in_an_httponly_lax_cookie(client, db, redis) -> None:  # noqa: ANN001
    before = (await user(db)).password_hash
    assert not await signed_in(client)
    r = await login(client, ADMIN_EMAIL, ADMIN_PASSWORD, next_url="/admin/leads?status=new")
    assert r.status_code == 303 and r.headers["location"] == "/admin/leads?status=new"
    set_cookie_header = next(v for k, v in r.headers.multi_items()
                             if k == "set-cookie" and v.startswith("kroi_session="))
    attrs = [a.strip().lower() for a in set_cookie_header.split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    token = cookie(client, "kroi_session")
    assert token and len(token) >= 40
    # Redis holds only the id's hash -> the user id; the id itself is stored nowhere.
    stored = json.loads(await redis.get(session_key(token)))
    assert stored["uid"] == await admin_id(db)
    assert token.encode() not in b"".join([k for k in await redis.keys("*")])
    assert await scalar(db, "SELECT count(*) FROM user_sessions WHERE id = :h AND revoked_at IS NULL",
                        h=hashlib.sha256(token.encode()).hexdigest()) == 1
    assert await attempts(db) == [(ADMIN_EMAIL, "127.0.0.1", True)]
    page = await client.get("/admin")
    assert page.status_code == 200 and ADMIN_EMAIL in page.text
    assert page.headers["cache-control"] == "no-store"
    u = await user(db)
    assert u.last_login_at is not None
    assert u.password_hash == before, "a hash with the current parameters is not rewritten"


async def test_sign_in_rehashes_a_hash_made_with_weaker_parameters(client, db) -> None:  # noqa: ANN001
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(ADMIN_PASSWORD)
    assert needs_rehash(weak)
    await db.execute(update(User).where(User.email == ADMIN_EMAIL).values(password_hash=weak))
    await db.commit()
    r = await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert r.status_code == 303
    new = (await user(db)).password_hash
    assert new != weak and new.startswith(CURRENT_PARAMS) and not needs_rehash(new)


async def test_next_never_leaves_the_admin(client) -> None:  # noqa: ANN001
    page = await client.get("/admin/login?next=https://evil.example/admin")
    assert 'name="next" value="/admin"' in page.text
    page = await client.get("/admin/login?next=//evil.example/admin")
    assert 'name="next" value="/admin"' in page.text


async def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, db) -> None:  # noqa: ANN001
    wrong = await login(client, ADMIN_EMAIL, "not-the-password-at-all")
    unknown = await login(client, "nobody@example.test", ADMIN_PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert login_error(wrong) == login_error(unknown) == fi("admin.login.failed")
    assert cookie(client, "kroi_session") is None
    assert await attempts(db) == [(ADMIN_EMAIL, "127.0.0.1", False), ("nobody@example.test", "127.0.0.1", False)]
    # The e-mail typed is kept in the form, the password never is.
    assert 'value="nobody@example.test"' in unknown.text and ADMIN_PASSWORD not in unknown.text


async def test_inactive_user_cannot_sign_in(client, db) -> None:  # noqa: ANN001
    await add_user(db, "gone@example.test", "sales", active=False)
    r = await login(client, "gone@example.test", STAFF_PASSWORD)
    assert r.status_code == 401 and login_error(r) == fi("admin.login.failed")


# --- session ids -------------------------------------------------------------------------------------------

async def test_a_session_id_set_before_sign_in_is_never_adopted(client, redis) -> None:  # noqa: ANN001
    planted = secrets.token_urlsafe(32)
    set_cookie(client, "kroi_session", planted)
    assert not await signed_in(client), "an id the server never issued opens nothing"
    r = await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert r.status_code == 303
    issued = cookie(client, "kroi_session")
    assert issued != planted
    assert await redis.exists(session_key(planted)) == 0
    async with browser(client) as attacker:
        set_cookie(attacker, "kroi_session", planted)
        assert not await signed_in(attacker)
    assert await signed_in(client)
    # Signing in again issues another id and ends the previous one.
    r = await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert r.status_code == 303
    again = cookie(client, "kroi_session")
    assert again not in (issued, planted)
    assert await redis.exists(session_key(issued)) == 0
    async with browser(client) as old:
        set_cookie(old, "kroi_session", issued)
        assert not await signed_in(old)
    assert await signed_in(client)


async def test_idle_timeout_slides_with_use_and_ends_an_unused_session(settings, reset, make_client, db,  # noqa: ANN001
                                                                       redis) -> None:
    async with make_client(with_settings(settings, session_idle_minutes=1)) as c:
        token = await sign_in_as(c, await admin_id(db))
        key = session_key(token)
        assert 0 < await redis.ttl(key) <= 60
        await redis.expire(key, 5)
        assert await signed_in(c)
        assert await redis.ttl(key) > 5, "each request refreshes the idle timeout"
        await redis.pexpire(key, 1)  # as if a minute had passed without a request
        await anyio.sleep(0.02)
        r = await c.get("/admin/cars")
        assert is_login_redirect(r) and r.headers["location"] == "/admin/login?next=%2Fadmin%2Fcars"


async def test_absolute_timeout_ends_a_session_in_use(client, db, redis, settings) -> None:  # noqa: ANN001
    token = await sign_in_as(client, await admin_id(db))
    key = session_key(token)
    assert await signed_in(client)
    data = json.loads(await redis.get(key))
    data["created"] = time.time() - settings.session_absolute_hours * 3600 - 5
    await redis.set(key, json.dumps(data), keepttl=True)
    assert await redis.ttl(key) > 0, "still within the idle timeout"
    assert not await signed_in(client)
    assert await redis.exists(key) == 0


async def test_logout_ends_the_session_on_the_server(client, db, redis) -> None:  # noqa: ANN001
    assert (await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 303
    token = cookie(client, "kroi_session")
    no_csrf = await client.post("/admin/logout")
    assert no_csrf.status_code == 403 and await signed_in(client), "logout needs the CSRF token"
    r = await post(client, "/admin/logout")
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    cleared = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("kroi_session="))
    assert "max-age=0" in cleared.lower()
    assert await redis.exists(session_key(token)) == 0
    assert await scalar(db, "SELECT count(*) FROM user_sessions WHERE id = :h AND revoked_at IS NOT NULL",
                        h=hashlib.sha256(token.encode()).hexdigest()) == 1
    async with browser(client) as replay:
        set_cookie(replay, "kroi_session", token)
        assert not await signed_in(replay)


async def test_changing_own_password_ends_the_other_sessions(client, db) -> None:  # noqa: ANN001
    uid = await admin_id(db)
    changed_before = (await user(db)).password_changed_at
    other_token = None
    async with staff(client, uid) as other:
        other_token = cookie(other, "kroi_session")
        mine = await sign_in_as(client, uid)
        bad = await post(client, "/admin/password", {"current": "wrong-password-x", "new": "short", "again": "short"})
        assert bad.status_code == 422
        errors = dict(re.findall(r'data-error-for="(\w+)">([^<]+)</p>', bad.text))
        assert errors == {"current": fi("admin.password.wrong"), "new": fi("admin.password.weak", min=12)}
        new_password = "a-brand-new-password-42"
        ok = await post(client, "/admin/password", {"current": ADMIN_PASSWORD, "new": new_password,
                                                    "again": new_password})
        assert ok.status_code == 200 and fi("admin.password.done") in ok.text
        assert not await signed_in(other), "the other browser is signed out at once"
        fresh = cookie(client, "kroi_session")
        assert fresh != mine, "this browser gets a new session id"
        assert await signed_in(client)
    async with browser(client) as replay:
        for old in (mine, other_token):
            set_cookie(replay, "kroi_session", old)
            assert not await signed_in(replay)
        assert (await login(replay, ADMIN_EMAIL, new_password)).status_code == 303
    assert (await user(db)).password_changed_at > changed_before
    # Audited (the failed try is not a write), with nothing secret in the entry.
    [changed] = await audit_rows(db, "user", uid)
    assert (changed.action, changed.actor_id, changed.ip) == ("password_changed", uid, "127.0.0.1")
    assert new_password not in json.dumps([changed.before, changed.after])


# --- lockouts ---------------------------------------------------------------------------------------------

async def _age_attempts(db: AsyncSession, minutes: int) -> None:
    await db.execute(text("UPDATE login_attempts SET created_at = created_at - make_interval(mins => :m)"),
                     {"m": minutes})
    await db.commit()


async def test_account_lockout_grows_with_each_failure_and_is_explained(client, db) -> None:  # noqa: ANN001
    async with browser(client, "192.0.2.10") as c:
        for _ in range(2):
            r = await login(c, ADMIN_EMAIL, "wrong-password-1")
            assert r.status_code == 401 and login_error(r) == fi("admin.login.failed")
        db.add_all([LoginAttempt(email=ADMIN_EMAIL, ip="192.0.2.10", succeeded=False) for _ in range(2)])
        await db.commit()
        r = await login(c, ADMIN_EMAIL, "wrong-password-1")  # the fifth failure within the hour
        assert r.status_code == 429
        assert login_error(r) == fi("admin.login.failed") + " " + fi("admin.login.locked", minutes=1)
        # While locked, even the right password opens nothing, and is not tried (nor recorded).
        r = await login(c, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert r.status_code == 429 and login_error(r) == fi("admin.login.locked", minutes=1)
        assert cookie(c, "kroi_session") is None
        assert len(await attempts(db, email=ADMIN_EMAIL)) == 5
        # Each further failure doubles the wait: 1, 2, 4 minutes.
        await _age_attempts(db, 2)
        r = await login(c, ADMIN_EMAIL, "wrong-password-1")
        assert r.status_code == 429 and fi("admin.login.locked", minutes=2) in login_error(r)
        await _age_attempts(db, 3)
        r = await login(c, ADMIN_EMAIL, "wrong-password-1")
        assert r.status_code == 429 and fi("admin.login.locked", minutes=4) in login_error(r)
        assert [s for _, _, s in await attempts(db, email=ADMIN_EMAIL)] == [False] * 7
        # Once the wait is over the right password works, and the count starts again.
        await _age_attempts(db, 5)
        assert (await login(c, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 303
        r = await login(c, ADMIN_EMAIL, "wrong-password-1")
        assert r.status_code == 401


async def test_ip_lockout_blocks_every_account_from_that_address_only(client, db) -> None:  # noqa: ANN001
    db.add_all([LoginAttempt(email=f"guess{i}@example.test", ip="192.0.2.20", succeeded=False) for i in range(19)])
    await db.commit()
    async with browser(client, "192.0.2.20") as c:
        r = await login(c, "guess19@example.test", "whatever-password")
        assert r.status_code == 401  # the twentieth failure from this address
        r = await login(c, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert r.status_code == 429 and login_error(r) == fi("admin.login.locked", minutes=1)
        assert not await signed_in(c)
    async with browser(client, "192.0.2.21") as elsewhere:
        assert (await login(elsewhere, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 303
    assert len(await attempts(db, ip="192.0.2.20")) == 20


async def test_signing_in_to_one_account_does_not_reset_the_addresss_count_for_others(client, db) -> None:  # noqa: ANN001
    """Failures against other accounts stay counted for the address after a successful sign-in to one account
    (an attacker with one staff account cannot keep guessing the others' passwords); the account's own
    earlier failures from the address are forgiven."""
    db.add_all([LoginAttempt(email=f"victim{i}@example.test", ip="192.0.2.30", succeeded=False) for i in range(17)]
               + [LoginAttempt(email=ADMIN_EMAIL, ip="192.0.2.30", succeeded=False) for _ in range(2)])
    await db.commit()
    async with browser(client, "192.0.2.30") as c:
        assert (await login(c, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 303  # 19 failures: still free
        r = await login(c, "victim17@example.test", "whatever-password")
        assert r.status_code == 401  # failure 18 of the 17 + 1 against others (the admin's 2 forgiven)
        assert (await login(c, "victim18@example.test", "whatever-password")).status_code == 401
        r = await login(c, "victim19@example.test", "whatever-password")
        assert r.status_code == 401  # the twentieth: the address is now limited
        r = await login(c, "victim0@example.test", "whatever-password")
        assert r.status_code == 429 and login_error(r) == fi("admin.login.locked", minutes=1)


# --- password resets started by an admin ------------------------------------------------------------------

def reset_link(page: str) -> str:
    m = re.search(r'<code class="reset-link">https?://[^/<]+(/admin/reset/([A-Za-z0-9_-]+))</code>', page)
    assert m, "no reset link on the page"
    return m.group(1)


async def test_reset_link_works_once_and_ends_the_users_sessions(client, db) -> None:  # noqa: ANN001
    sales = await add_user(db, "sales@example.test", "sales")
    async with staff(client, sales) as victim:
        await sign_in_as(client, await admin_id(db))
        first = reset_link((await post(client, f"/admin/users/{sales}", {"action": "reset"})).text)
        page = await post(client, f"/admin/users/{sales}", {"action": "reset"})
        assert page.status_code == 200
        link = reset_link(page.text)
        assert link != first
        token = link.rsplit("/", 1)[1]
        async with browser(client) as person:
            assert (await person.get(first)).status_code == 410, "a new link replaces the earlier one"
            form = await person.get(link)
            assert form.status_code == 200 and 'name="password"' in form.text
            mismatch = await post(person, link, {"password": "long-enough-password", "again": "other-password-1"})
            assert mismatch.status_code == 422 and fi("admin.password.mismatch") in mismatch.text
            short = await post(person, link, {"password": "short", "again": "short"})
            assert short.status_code == 422 and fi("admin.password.weak", min=12) in short.text
            new_password = "chosen-by-the-user-1"
            done = await post(person, link, {"password": new_password, "again": new_password})
            assert done.status_code == 303 and done.headers["location"] == "/admin/login"
            assert not await signed_in(victim), "the reset ends the user's sessions"
            again = await post(person, link, {"password": "another-password-2", "again": "another-password-2"})
            assert again.status_code == 410
            assert (await person.get(link)).status_code == 410
            assert (await login(person, "sales@example.test", new_password)).status_code == 303
    rows = (await db.scalars(select(PasswordResetToken).where(PasswordResetToken.user_id == sales))).all()
    assert hashlib.sha256(token.encode()).hexdigest() in {r.token_hash for r in rows}
    assert all(r.used_at is not None for r in rows)
    audit = await audit_rows(db, "user", sales)
    assert [a.action for a in audit] == ["password_reset_started", "password_reset_started",
                                         "password_reset_completed"]
    dumped = json.dumps([[a.before, a.after] for a in audit])
    assert token not in dumped and new_password not in dumped


async def test_expired_reset_link_fails(client, db) -> None:  # noqa: ANN001
    sales = await add_user(db, "late@example.test", "sales")
    await sign_in_as(client, await admin_id(db))
    link = reset_link((await post(client, f"/admin/users/{sales}", {"action": "reset"})).text)
    await db.execute(update(PasswordResetToken).where(PasswordResetToken.user_id == sales).values(
        created_at=text("now() - interval '2 days'"), expires_at=text("now() - interval '1 day'")))
    await db.commit()
    before = (await user(db, "late@example.test")).password_hash
    async with browser(client) as person:
        page = await person.get(link)
        assert page.status_code == 410 and fi("admin.reset.invalid") in page.text
        r = await post(person, link, {"password": "chosen-too-late-1", "again": "chosen-too-late-1"})
        assert r.status_code == 410
    assert (await user(db, "late@example.test")).password_hash == before


async def test_unknown_reset_token_fails(client) -> None:  # noqa: ANN001
    assert (await client.get("/admin/reset/" + secrets.token_urlsafe(32))).status_code == 410


# --- the command line -------------------------------------------------------------------------------------

async def run_cli(settings, *args: str, input: str | None = None):  # noqa: ANN001, ANN201, A002
    env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    runner = CliRunner()
    return await anyio.to_thread.run_sync(lambda: runner.invoke(cli, list(args), env=env, input=input))


async def test_cli_creates_users_sets_passwords_and_deactivates(client, db, settings) -> None:  # noqa: ANN001
    email = "cli@example.test"
    result = await run_cli(settings, "user", "create", email, "--role", "sales", "--generate")
    assert result.exit_code == 0, result.output
    password = re.search(r"password \(shown once\): (\S+)", result.output).group(1)
    assert len(password) >= 16
    u = await user(db, email)
    assert u.role == "sales" and u.is_active and u.password_hash.startswith("$argon2id$")
    assert password not in u.password_hash
    async with browser(client) as c:
        assert (await login(c, email, password)).status_code == 303
        result = await run_cli(settings, "user", "set-password", email, "--generate")
        assert result.exit_code == 0, result.output
        assert not await signed_in(c), "setting a password ends the user's sessions"
        new_password = re.search(r"new password: (\S+)", result.output).group(1)
        assert new_password != password
        assert (await login(c, email, new_password)).status_code == 303
        result = await run_cli(settings, "user", "deactivate", email)
        assert result.exit_code == 0, result.output
        assert not await signed_in(c)
        assert not (await user(db, email)).is_active
        assert (await login(c, email, new_password)).status_code == 401


async def test_cli_writes_are_audited_and_deactivation_revokes_api_tokens(client, db, settings) -> None:  # noqa: ANN001
    email = "cli@example.test"
    result = await run_cli(settings, "user", "create", email, "--role", "sales", "--generate")
    assert result.exit_code == 0, result.output
    uid = (await user(db, email)).id
    token_id, token = await api_token(client, uid)
    await db.execute(update(User).where(User.id == uid).values(password_changed_at=text("now() - interval '1 day'")))
    await db.commit()
    aged = (await user(db, email)).password_changed_at
    result = await run_cli(settings, "user", "set-password", email, "--generate")
    assert result.exit_code == 0, result.output
    new_password = re.search(r"new password: (\S+)", result.output).group(1)
    assert (await user(db, email)).password_changed_at > aged
    result = await run_cli(settings, "user", "deactivate", email)
    assert result.exit_code == 0, result.output
    assert await scalar(db, "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = :i", i=token_id)
    assert (await client.get("/api/cars", headers=bearer(token))).status_code == 401
    rows = await audit_rows(db, "user", uid)
    assert [(r.action, r.actor_id, r.after) for r in rows] == [
        ("create", None, {"email": email, "role": "sales", "full_name": ""}),
        ("password_changed", None, None),
        ("update", None, {"is_active": False})]
    assert new_password not in json.dumps([[r.before, r.after] for r in rows])


async def test_cli_has_no_default_password(db, settings) -> None:  # noqa: ANN001
    # Without --generate the password is asked for; a short one is refused and no user is made.
    result = await run_cli(settings, "user", "create", "typed@example.test", "--role", "viewer",
                           input="short\nshort\n")
    assert result.exit_code != 0 and "at least 12 characters" in result.output
    result = await run_cli(settings, "user", "create", "typed@example.test", "--role", "viewer", input="")
    assert result.exit_code != 0
    assert await user(db, "typed@example.test") is None
    result = await run_cli(settings, "user", "create", ADMIN_EMAIL, "--role", "viewer", "--generate")
    assert result.exit_code != 0 and "already exists" in result.output
    result = await run_cli(settings, "user", "deactivate", "nobody@example.test")
    assert result.exit_code != 0 and "no user" in result.output


# --- Redis down -------------------------------------------------------------------------------------------

async def test_dead_redis_refuses_sign_in_with_503_while_the_shop_works(settings, reset, make_client) -> None:  # noqa: ANN001
    async with make_client(with_settings(settings, redis_url=DEAD_REDIS)) as c:
        r = await login(c, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert r.status_code == 503 and login_error(r) == fi("admin.login.unavailable")
        assert cookie(c, "kroi_session") is None
        assert is_login_redirect(await c.get("/admin"))
        for path in ("/", "/cars", "/cars?fuel=diesel"):
            assert (await c.get(path)).status_code == 200, path
        assert (await c.post("/admin/logout", headers=await csrf(c))).status_code == 303
