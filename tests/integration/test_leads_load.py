"""2,000 concurrent submissions against a live server: no 5xx, every confirmation is exactly one stored lead,
duplicates collapse into one, refused ones store nothing. Not a benchmark: nothing here is timed."""
from __future__ import annotations

import asyncio
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from kroi import testing
from kroi.app import create_server_app
from kroi.leads.schemas import LEAD_TYPE
from kroi.settings import Settings
from leadforms import (HX, SEEDED_LEADS, confirmation_reference, fast, is_confirmation, lead_form, lead_rows,
                       outbox_rows, seeded_car, SeededCar, valid_input)
from leadforms import redis_url  # noqa: F401 - fixtures used by name

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TOTAL = 2000
IN_FLIGHT = 100
DUPLICATE_GROUPS = 100  # each posted DUPLICATE_COPIES times with one idempotency key
DUPLICATE_COPIES = 3
INVALID = 300
KINDS = ("contact", "test-drive", "trade-in", "financing", "inquiry")


@pytest.fixture
def live_server(settings: Settings, reset: None) -> Iterator[str]:
    """The app under uvicorn in a thread, on a free port, with limits that a load from one address passes."""
    # A pool wait as long as SQLAlchemy's default (30 s, not KROI_DB_POOL_TIMEOUT's 5 s): 100 submissions in flight
    # queue for 20 connections behind the assignment lock, and on a shared 2-core machine some waited over 5 s
    # and were (correctly) answered 503. This test is about correctness under concurrency; the overload answer
    # is test_leads_protection's test_an_exhausted_connection_pool_answers_try_again_with_the_input_kept.
    s = fast(settings, rate_limit_ip=1_000_000, rate_limit_email=1_000_000, db_pool_size=10, db_max_overflow=10,
             db_pool_timeout=30)
    with testing.serve_in_thread(create_server_app(s), "kroi-load-server", backlog=2048) as origin:
        yield origin


@dataclass
class Job:
    kind: str
    data: dict[str, str]
    email: str
    expect: str  # "lead", "duplicate" or "refused"
    group: int | None = None


async def blank_forms(client: httpx.AsyncClient, car: SeededCar) -> dict[str, dict[str, str]]:
    """One form of each kind, as served (its CSRF token and signed timestamp are reused)."""
    out = {}
    for kind in KINDS:
        url = car.url if kind == "inquiry" else f"/contact?type={kind}&utm_source=load"
        r = await client.get(url)
        assert r.status_code == 200
        out[kind] = lead_form(r.text, kind).values
    return out


def plan(blanks: dict[str, dict[str, str]]) -> list[Job]:
    jobs: list[Job] = []
    n = 0

    def fill(kind: str, email: str) -> dict[str, str]:
        data = dict(blanks[kind])
        data.update(valid_input(kind, email))
        data["idempotency_key"] = secrets.token_hex(16)  # every page view has its own key
        return data

    for group in range(DUPLICATE_GROUPS):
        kind = KINDS[group % len(KINDS)]
        data = fill(kind, f"dup{group}@example.fi")
        jobs += [Job(kind, data, data["email"], "duplicate", group) for _ in range(DUPLICATE_COPIES)]
    for i in range(INVALID):
        kind = KINDS[i % len(KINDS)]
        data = fill(kind, f"bad{i}(at)example.fi")
        jobs.append(Job(kind, data, data["email"], "refused"))
    while len(jobs) < TOTAL:
        kind = KINDS[n % len(KINDS)]
        data = fill(kind, f"load{n}@example.fi")
        jobs.append(Job(kind, data, data["email"], "lead"))
        n += 1
    random.Random(8058).shuffle(jobs)
    return jobs


async def test_two_thousand_concurrent_submissions(live_server: str, db: AsyncSession) -> None:
    car = await seeded_car(db, "VLV-60")
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=live_server, limits=limits, timeout=120) as client:
        jobs = plan(await blank_forms(client, car))
        assert len(jobs) == TOTAL
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def run(job: Job) -> httpx.Response:
            async with gate:
                return await client.post("/leads", data=job.data, headers=HX)

        answers = await asyncio.gather(*(run(job) for job in jobs))

    statuses = Counter(r.status_code for r in answers)
    assert not [s for s in statuses if s >= 500], statuses
    refs: dict[int, list[str]] = defaultdict(list)  # reference -> e-mails it was given to
    group_refs: dict[int, set[int]] = defaultdict(set)
    for job, r in zip(jobs, answers, strict=True):
        if job.expect == "refused":
            assert r.status_code == 422, (job.email, r.status_code)
            assert 'data-error-for="email"' in r.text and not is_confirmation(r.text)
            continue
        assert r.status_code == 200, (job.email, r.status_code, r.text[:300])
        ref = confirmation_reference(r.text)
        refs[ref].append(job.email)
        if job.group is not None:
            group_refs[job.group].add(ref)

    rows = await lead_rows(db)
    by_id = {row["id"]: row for row in rows}
    new = [row for row in rows if row["source_page"] != "/seed"]
    assert len(rows) - len(new) == SEEDED_LEADS

    # Every duplicate group got one reference for all its copies.
    assert len(group_refs) == DUPLICATE_GROUPS
    assert all(len(r) == 1 for r in group_refs.values()), {g: r for g, r in group_refs.items() if len(r) != 1}
    # Every reference shown is one stored lead with the e-mail that was sent, and no other lead has that e-mail.
    email_count = Counter(row["email"] for row in rows)
    for ref, emails in refs.items():
        assert len(set(emails)) == 1, (ref, emails)
        assert ref in by_id, ref
        assert by_id[ref]["email"] == emails[0]
        assert email_count[emails[0]] == 1
    valid = TOTAL - INVALID - DUPLICATE_GROUPS * DUPLICATE_COPIES
    assert len(refs) == valid + DUPLICATE_GROUPS
    # Nothing else was stored: no lead without a confirmation, nothing from the refused ones.
    assert {row["id"] for row in new} == set(refs)
    assert not [row for row in rows if "(at)" in row["email"]]
    expected_types = Counter(LEAD_TYPE[job.kind] for job in jobs if job.expect == "lead")
    expected_types.update(LEAD_TYPE[KINDS[g % len(KINDS)]] for g in range(DUPLICATE_GROUPS))
    assert Counter(row["type"] for row in new) == expected_types
    assert all(row["utm_source"] == "load" for row in new if row["type"] != "car_inquiry")
    assert len(await outbox_rows(db)) == 2 * len(new)
