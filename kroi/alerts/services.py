"""Saved-search rules: the normalised query, signed links, subscribe/confirm/manage, and the matching job."""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from kroi.alerts.repositories import AlertRepository, Change, HitCar
from kroi.cache.client import SafeRedis
from kroi.cache.fragments import FragmentCache
from kroi.db.models import SavedSearch
from kroi.inventory.chips import active_chips
from kroi.inventory.repositories import InventoryRepository
from kroi.inventory.search import DEFAULT_SORT, CarQuery, parse_query
from kroi.inventory.services import InventoryService, Resolved, Vocabulary
from kroi.mail.messages import payload
from kroi.mail.outbox import OutboxRepository
from kroi.security import signing
from kroi.web import i18n
from kroi.web.formatting import LOCAL
from kroi.web.templating import Templates

log = logging.getLogger("kroi.alerts")
CONFIRM = "alert-confirm"
UNSUBSCRIBE = "alert-unsub"
MANAGE = "alert-manage"
CONFIRM_MAX_AGE = 7 * 86400
MAIL_MAX_CARS = 20  # a mail lists this many cars; the link to the search shows the rest
# Changes are read from a little before the mark: a car published in a transaction that committed after the last
# run had begun carries an earlier time. The hits' primary key keeps the overlap from alerting twice.
OVERLAP = timedelta(minutes=5)
DIGEST_HOUR = 7  # the daily digest goes out after 07:00 Helsinki time


def normalise(query: CarQuery) -> str:
    """The saved form of a /cars query: its filters as a query string (no sort, page or cursor)."""
    return urlencode(query.params(sort=DEFAULT_SORT, page=1, cursor=None))


def saved_query(query: str) -> CarQuery:
    return parse_query(parse_qs(query))[0]


async def load_vocabulary(session: AsyncSession) -> Vocabulary:
    repo = InventoryRepository(session)
    return Vocabulary(tuple(await repo.brands()), tuple(await repo.models()), tuple(await repo.features()))


async def resolve(session: AsyncSession, query: CarQuery, vocab: Vocabulary) -> Resolved | None:
    """The listing's own resolution of brand/model slugs; None when a part no longer exists (a saved search for
    a brand that is gone must not widen to every car)."""
    notes: list = []
    r = await InventoryService(session, FragmentCache(SafeRedis(None, 0), enabled=False)).resolve(query, notes, vocab)
    return None if notes else r


def describe(query: CarQuery, lang: str, vocab: Vocabulary) -> list[str]:
    """The search in words: the labels of the /cars chips."""
    names: dict = {"features": {f.code: (f.name_fi, f.name_en) for f in vocab.features}}
    brand = vocab.brand(query.brand) if query.brand else None
    if brand:
        names["brand"] = brand.name
        model = vocab.model(brand.id, query.model) if query.model else None
        if model:
            names["model"] = model.name
    return [chip.label for chip in active_chips(query, lang, names)]


def describe_text(query: CarQuery, lang: str, vocab: Vocabulary) -> str:
    return ", ".join(describe(query, lang, vocab)) or i18n.translate(lang, "alerts.all_cars")


@dataclass(frozen=True)
class Links:
    """Signed links of the mails: confirm a subscription, unsubscribe one, manage every alert of an address."""

    secret: str
    public_url: str

    def confirm(self, s: SavedSearch) -> str:
        token = signing.sign(self.secret, CONFIRM, [s.id, s.requested_at.isoformat()])
        return f"{self.public_url}/alerts/confirm?{urlencode({'token': token, 'lang': s.language})}"

    def unsubscribe(self, s: SavedSearch) -> str:
        token = signing.sign(self.secret, UNSUBSCRIBE, s.id)
        return f"{self.public_url}/alerts/unsubscribe?{urlencode({'token': token, 'lang': s.language})}"

    def one_click(self, s: SavedSearch) -> str:
        token = signing.sign(self.secret, UNSUBSCRIBE, s.id)
        return f"{self.public_url}/alerts/unsubscribe/one-click?{urlencode({'token': token})}"

    def manage(self, email: str, lang: str) -> str:
        token = signing.sign(self.secret, MANAGE, email.lower())
        return f"{self.public_url}/alerts/manage?{urlencode({'token': token, 'lang': lang})}"

    def search(self, s: SavedSearch) -> str:
        query = s.query + ("&" if s.query else "") + urlencode({"lang": s.language})
        return f"{self.public_url}/cars?{query}"

    def headers(self, s: SavedSearch) -> dict[str, str]:
        """RFC 8058 one-click unsubscribe, as the newsletter's mails carry it."""
        return {"List-Unsubscribe": f"<{self.one_click(s)}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def queue_mail(session: AsyncSession, templates: Templates, links: Links, kind: str, s: SavedSearch,
               subject: str, template: str, **ctx: object) -> None:
    """One mail about a saved search through the outbox, in the search's language, with its unsubscribe headers."""
    OutboxRepository(session).enqueue(kind, payload(
        to=s.email, subject=subject, text=templates.page(template, templates.context(s.language, **ctx)),
        headers=links.headers(s)))


class AlertService:
    def __init__(self, session: AsyncSession, templates: Templates, links: Links) -> None:
        self.session = session
        self.templates = templates
        self.links = links
        self.repo = AlertRepository(session)

    async def subscribe(self, email: str, query: str, frequency: str, language: str, consent: str) -> str:
        """Record the wish and send a confirmation link; an active search only gets the new frequency."""
        await self.repo.insert_pending(email, query, frequency, language, consent)
        s = await self.repo.find(email, query)
        assert s is not None
        s.frequency, s.language = frequency, language
        if s.status == "active":
            await self.session.commit()
            return "active"
        s.consent_text = consent
        s.requested_at = datetime.now(timezone.utc)
        await self.session.flush()
        vocab = await load_vocabulary(self.session)
        queue_mail(self.session, self.templates, self.links, "alert_confirm", s,
                   i18n.translate(language, "alerts.mail.confirm_subject"), "mail/alerts_confirm.txt",
                   confirm_url=self.links.confirm(s), search=describe_text(saved_query(query), language, vocab),
                   manage_url=self.links.manage(email, language))
        await self.session.commit()
        return "pending"

    async def confirm(self, token: str) -> str:
        """'confirmed', 'already' or 'invalid' (bad or expired link, deleted search, an older request's link)."""
        data = signing.unsign(self.links.secret, CONFIRM, token, max_age=CONFIRM_MAX_AGE)
        if data is None or not isinstance(data[0], list) or len(data[0]) != 2 or not isinstance(data[0][0], int):
            return "invalid"
        s = await self.repo.get(data[0][0])
        if s is None:
            return "invalid"
        if s.status == "active":
            await self.session.rollback()
            return "already"
        if s.requested_at.isoformat() != data[0][1]:
            await self.session.rollback()
            return "invalid"
        s.status, s.confirmed_at = "active", datetime.now(timezone.utc)
        await self.session.commit()
        return "confirmed"

    def address(self, token: str) -> str | None:
        """The address a manage link was signed for."""
        data = signing.unsign(self.links.secret, MANAGE, token)
        return data[0] if data and isinstance(data[0], str) else None

    async def searches(self, email: str) -> list[SavedSearch]:
        searches = await self.repo.of_address(email)
        await self.session.commit()  # ends the read; a rollback would expire the rows just read
        return searches

    async def delete(self, email: str, saved_search_id: int | None = None) -> int:
        n = await self.repo.delete(email, saved_search_id)
        await self.session.commit()
        return n

    async def set_frequency(self, email: str, saved_search_id: int, frequency: str) -> int:
        n = await self.repo.set_frequency(email, saved_search_id, frequency)
        await self.session.commit()
        return n

    async def unsubscribe(self, token: str) -> bool:
        """Delete the search the link names (already gone counts as done); False for a bad link."""
        data = signing.unsign(self.links.secret, UNSUBSCRIBE, token)
        if data is None or not isinstance(data[0], int):
            return False
        s = await self.repo.get(data[0])
        if s is not None:
            await self.session.delete(s)
        await self.session.commit()
        return True


# --- the job ----------------------------------------------------------------------------------------------

class AlertJob:
    """Run by the worker: match the day's changes against active searches, queue immediate mails and digests."""

    def __init__(self, session: AsyncSession, templates: Templates, links: Links) -> None:
        self.session = session
        self.templates = templates
        self.links = links
        self.repo = AlertRepository(session)

    async def match_changes(self) -> dict[str, int]:
        """One run: changes since the mark → hits → mails for immediate searches. Returns counts for the log."""
        run = await self.repo.lock_run()
        if run is None:
            await self.session.rollback()
            return {"skipped": 1}
        started = time.perf_counter()
        until = await self.repo.now()
        changes = await self.repo.changes(run.checked_until - OVERLAP, until)
        stats: dict = {"changes": len(changes), "searches": 0, "hits": 0, "mails": 0}
        if changes:
            searches = await self.repo.active()
            stats["searches"] = len(searches)
            stats["read_s"] = time.perf_counter() - started
            hits = await self._hits(changes, searches)
            stats["match_s"] = time.perf_counter() - started - stats["read_s"]
            mark = time.perf_counter()
            immediate = {s.id for s in searches if s.frequency == "immediate"}
            stats["hits"], new = await self.repo.record_hits(hits, immediate, MAIL_MAX_CARS)
            stats["record_s"] = time.perf_counter() - mark
            mark = time.perf_counter()
            change_of = {c.car_id: c for c in changes}
            lines = await self.repo.car_lines(sorted({car_id for _, ids in new.values() for car_id in ids}))
            mails = {}
            for sid, (total, car_ids) in new.items():
                mails[sid] = (total, [HitCar(sid, car_id, change_of[car_id].kind, change_of[car_id].old_price_cents,
                                             change_of[car_id].price_cents, *lines[car_id])
                                      for car_id in car_ids if car_id in lines])
            stats["mails"] = await self._mail(mails, {s.id: s for s in searches})
            stats["mail_s"] = time.perf_counter() - mark
        run.checked_until = until
        await self.session.commit()
        return stats

    async def _hits(self, changes: list[Change], searches: list[SavedSearch]) -> list[tuple[int, Change]]:
        """Each distinct saved query is evaluated once (many addresses save the same search)."""
        vocab = await load_vocabulary(self.session)
        by_query: dict[str, list[SavedSearch]] = defaultdict(list)
        for s in searches:
            by_query[s.query].append(s)
        resolved = []
        for query in by_query:
            r = await resolve(self.session, saved_query(query), vocab)
            if r is not None:
                resolved.append((query, r))
        matched = await self.repo.match([c.car_id for c in changes], resolved)
        change_of = {c.car_id: c for c in changes}
        hits = []
        for query, car_ids in matched.items():
            for s in by_query[query]:
                for car_id in car_ids:
                    change = change_of[car_id]
                    # Only what happened after the search was confirmed is news to its subscriber.
                    if s.confirmed_at is not None and change.at > s.confirmed_at:
                        hits.append((s.id, change))
        return hits

    async def _mail(self, mails: dict[int, tuple[int, list[HitCar]]], by_id: dict[int, SavedSearch],
                    digest: bool = False) -> int:
        """Queue one mail per search: its first cars (MAIL_MAX_CARS) and how many more the search link shows."""
        vocab = await load_vocabulary(self.session)
        for sid, (total, cars) in mails.items():
            s = by_id[sid]
            search = describe_text(saved_query(s.query), s.language, vocab)
            key = "alerts.mail.subject_one" if total == 1 else "alerts.mail.subject_many"
            queue_mail(self.session, self.templates, self.links, "alert_digest" if digest else "alert", s,
                       i18n.translate(s.language, key, n=total, search=search[:80]), "mail/alerts_cars.txt",
                       search=search, cars=cars, more=max(0, total - len(cars)), public_url=self.links.public_url,
                       search_url=self.links.search(s), manage_url=self.links.manage(s.email, s.language),
                       unsubscribe_url=self.links.unsubscribe(s), digest=digest)
        return len(mails)

    async def send_digests(self, now: datetime | None = None, force: bool = False) -> int:
        """The daily digest: once a day after DIGEST_HOUR (or when forced), one mail per daily search with hits."""
        run = await self.repo.lock_run()
        if run is None:
            await self.session.rollback()
            return 0
        now = now or datetime.now(timezone.utc)
        local = now.astimezone(LOCAL)
        sent_today = run.digest_sent_at is not None and run.digest_sent_at.astimezone(LOCAL).date() == local.date()
        if not force and (sent_today or local.hour < DIGEST_HOUR):
            await self.session.rollback()
            return 0
        waiting = await self.repo.unmailed(MAIL_MAX_CARS)
        by_id = await self.repo.searches_by_id(list(waiting))
        # Every search with waiting hits: the daily ones, and any switched from daily to immediate since.
        active = {sid: w for sid, w in waiting.items() if by_id[sid].status == "active"}
        mails = await self._mail(active, by_id, digest=True)
        await self.repo.mark_mailed(list(active))
        run.digest_sent_at = now
        await self.session.commit()
        return mails
