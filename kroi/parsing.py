"""Untrusted request values made safe: whole numbers, dates and text that PostgreSQL and Python both accept.

str.isdigit() says yes to '²' and '١' that int() then refuses or reads differently; a date in year 9999 has no
next day; PostgreSQL refuses NUL in text. Each parser answers None (or cleaned text) instead of raising.
"""
from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable
from datetime import date

INT_MAX = 2**31 - 1  # PostgreSQL integer
LAST_DAY = date(9998, 12, 31)  # a day after it still exists, for "up to and including" ranges


def parse_int(raw: object, low: int = 0, high: int = INT_MAX) -> int | None:
    """An ASCII decimal number within [low, high], else None."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > 18:
        return None
    number = int(text)
    return number if low <= number <= high else None


def parse_ints(values: Iterable[object], limit: int = 500) -> list[int]:
    """The valid ids among many (a form's repeated field); the rest are left out."""
    return [n for n in (parse_int(v, 1) for v in values) if n is not None][:limit]


def parse_date(raw: object) -> date | None:
    """An ISO date (YYYY-MM-DD) no later than 9998-12-31, else None."""
    try:
        day = date.fromisoformat(str(raw or ""))
    except ValueError:
        return None
    return day if day <= LAST_DAY else None


def clean_text(value: str) -> str:
    """Drop control and unpaired-surrogate characters (PostgreSQL refuses NUL) and fold white space (a tab or
    line break becomes a space, not nothing)."""
    kept = "".join(" " if ch.isspace() else ch for ch in value
                   if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs", "Co"))
    return " ".join(kept.split())


def clean_lines(raw: str) -> str:
    """Multi-line text (messages, notes, descriptions): line breaks kept, other control characters dropped."""
    return "\n".join(clean_text(line) for line in raw.replace("\r\n", "\n").split("\n")).strip()


def ip_address(raw: object) -> str | None:
    """A client address as text that fits the 45-character columns: IPv4 or IPv6 (brackets, a port and an IPv6
    zone dropped; an IPv4-mapped IPv6 address as the IPv4 one), else None. A proxy's X-Forwarded-For can carry
    anything a client wrote into it."""
    text = str(raw or "").strip()
    if len(text) > 100:
        return None
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)
