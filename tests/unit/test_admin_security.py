"""Pure pieces of staff security: lockout delays, roles, the sign-in redirect target, passwords, the audit log's
secret filter, CSV formula injection and the lead list's filter parsing."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher

from kroi import audit
from kroi.admin.controllers import safe_admin_next
from kroi.api.tokens import hash_token
from kroi.db.models import User
from kroi.leads.admin import _csv_safe
from kroi.leads.pipeline import LeadFilters
from kroi.security.auth import has_role, lockout_minutes, session_hash
from kroi.security.passwords import generate_password, needs_rehash, password_problem

pytestmark = pytest.mark.unit


def ago(minutes: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


@pytest.mark.parametrize("failures, minutes", [(4, 0), (5, 1), (6, 2), (7, 4), (8, 8), (10, 32), (11, 60), (30, 60)])
def test_lockout_doubles_after_the_free_attempts_up_to_an_hour(failures: int, minutes: int) -> None:
    assert lockout_minutes(failures, 5, ago(0)) == minutes


def test_lockout_counts_down_from_the_latest_failure() -> None:
    assert lockout_minutes(7, 5, ago(1.5)) == 3  # 4 minutes from 1.5 minutes ago: 2.5 left, shown as 3
    assert lockout_minutes(7, 5, ago(4.1)) == 0
    assert lockout_minutes(7, 5, None) == 0
    assert lockout_minutes(20, 20, ago(0.5)) == 1  # the per-IP threshold works the same way


@pytest.mark.parametrize("role, allowed", [
    ("viewer", {"viewer"}), ("sales", {"viewer", "sales"}), ("admin", {"viewer", "sales", "admin"}), ("root", set()),
])
def test_roles_are_ranked(role: str, allowed: set[str]) -> None:
    user = User(email="x@example.test", role=role, password_hash="$argon2id$x")
    assert {need for need in ("viewer", "sales", "admin") if has_role(user, need)} == allowed


def test_only_hashes_of_session_ids_and_tokens_are_stored() -> None:
    assert session_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert hash_token("abc") == session_hash("abc") and len(hash_token("kroi_x")) == 64


@pytest.mark.parametrize("target, expected", [
    ("/admin/leads?status=new", "/admin/leads?status=new"), ("/admin", "/admin"), (None, "/admin"), ("", "/admin"),
    ("/cars", "/admin"), ("https://evil.example/admin", "/admin"), ("//evil.example/admin", "/admin"),
    ("/\\evil.example", "/admin"), ("javascript:alert(1)", "/admin"),
])
def test_sign_in_only_returns_into_the_admin(target: str | None, expected: str) -> None:
    assert safe_admin_next(target) == expected


def test_passwords() -> None:
    assert password_problem("x" * 11) and password_problem("x" * 12) is None and password_problem("x" * 1025)
    generated = {generate_password() for _ in range(20)}
    assert len(generated) == 20 and all(len(p) >= 20 and password_problem(p) is None for p in generated)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("whatever-password")
    assert needs_rehash(weak)
    assert not needs_rehash(PasswordHasher().hash("whatever-password"))


def test_audit_never_keeps_secret_fields() -> None:
    user = User(email="a@example.test", role="sales", password_hash="$argon2id$secret")
    assert audit.snapshot(user, ("email", "password_hash", "role")) == {"email": "a@example.test", "role": "sales"}
    before = {"name": "A", "nested": {"token": "t0k3n", "secret": "s", "ok": date(2026, 1, 2)}, "password": "pw"}
    plain = audit._plain(before)  # noqa: SLF001
    assert plain == {"name": "A", "nested": {"ok": "2026-01-02"}}
    assert audit.changes({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 5}) == ({"b": 2, "c": None}, {"b": 3, "c": 5})
    assert audit.changes({"a": 1}, {"a": 1}) == ({}, {})


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+358401234567", "'+358401234567"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=x", "'\t=x"), ("\r=x", "'\r=x"), ("Matti", "Matti"), ("a=b", "a=b"), (None, ""), (42, "42"),
])
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert _csv_safe(value) == cell


def test_lead_filters_parse_and_round_trip() -> None:
    raw = {"status": "new", "type": "test_drive", "priority": "high", "assignee": "0", "car": "12", "from": "2026-01-02",
           "to": "2026-01-31", "overdue": "1", "q": "  matti  ", "sort": "score"}
    f = LeadFilters.parse(raw)
    assert (f.status, f.type, f.priority, f.assignee, f.car_id, f.date_from, f.overdue, f.q, f.sort) == (
        "new", "test_drive", "high", 0, 12, date(2026, 1, 2), True, "matti", "score")
    assert LeadFilters.parse(f.params()) == f
    junk = LeadFilters.parse({"status": "maybe", "assignee": "-1", "from": "2.1.2026", "sort": "random",
                              "car": "9" * 20, "overdue": "yes"})
    assert junk == LeadFilters() and junk.params() == {}
