"""Signed, expiring tokens: round trip, tampering, purpose, secret and age."""
import base64
import json

import pytest

from kroi.security.signing import sign, unsign

pytestmark = pytest.mark.unit

SECRET = "s" * 48
T0 = 1_750_000_000


def test_round_trip_gives_payload_and_issue_time() -> None:
    token = sign(SECRET, "news-confirm", "maija@example.fi", now=T0)
    assert unsign(SECRET, "news-confirm", token, now=T0 + 1) == ("maija@example.fi", T0)


def test_structured_payloads_survive() -> None:
    payload = {"id": 7, "email": "ä@example.fi", "list": [1, "two"]}
    token = sign(SECRET, "lead-done", payload, now=T0)
    assert unsign(SECRET, "lead-done", token, now=T0)[0] == payload


def test_token_is_url_safe() -> None:
    token = sign(SECRET, "p", {"x": "?&=/+" * 10}, now=T0)
    assert all(ch.isalnum() or ch in "-_." for ch in token)


def test_wrong_purpose_is_refused() -> None:
    token = sign(SECRET, "news-unsub", "maija@example.fi", now=T0)
    assert unsign(SECRET, "news-confirm", token, now=T0) is None


def test_wrong_secret_is_refused() -> None:
    token = sign(SECRET, "p", "x", now=T0)
    assert unsign("t" * 48, "p", token, now=T0) is None


def test_tampered_payload_is_refused() -> None:
    token = sign(SECRET, "p", "maija@example.fi", now=T0)
    body, mac = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"p": "mallory@example.fi", "t": T0}, separators=(",", ":"))
                                      .encode()).decode().rstrip("=")
    assert unsign(SECRET, "p", f"{forged}.{mac}", now=T0) is None


def test_tampered_signature_is_refused() -> None:
    token = sign(SECRET, "p", "x", now=T0)
    body, mac = token.split(".")
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    assert unsign(SECRET, "p", f"{body}.{flipped}", now=T0) is None


def test_older_issue_time_cannot_be_forged() -> None:
    """Moving the time inside the body breaks the signature (so an expired link cannot be refreshed)."""
    token = sign(SECRET, "p", "x", now=T0)
    _, mac = token.split(".")
    newer = base64.urlsafe_b64encode(json.dumps({"p": "x", "t": T0 + 999}, separators=(",", ":")).encode())
    assert unsign(SECRET, "p", f"{newer.decode().rstrip('=')}.{mac}", now=T0) is None


@pytest.mark.parametrize("junk", ["", ".", "abc", "a.b.c", "!!!.???", "e30.AAAA", "x" * 500])
def test_junk_is_refused(junk: str) -> None:
    assert unsign(SECRET, "p", junk, now=T0) is None


def test_expiry_boundary() -> None:
    token = sign(SECRET, "p", "x", now=T0)
    assert unsign(SECRET, "p", token, max_age=3600, now=T0 + 3600) == ("x", T0)
    assert unsign(SECRET, "p", token, max_age=3600, now=T0 + 3601) is None


def test_no_max_age_never_expires() -> None:
    token = sign(SECRET, "p", "x", now=T0)
    assert unsign(SECRET, "p", token, now=T0 + 10 * 365 * 86400) == ("x", T0)
