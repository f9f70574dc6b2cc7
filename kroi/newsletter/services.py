"""Subscriber state changes; each subscribe (re)sends a signed confirmation link through the outbox."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.db.models import NewsletterSubscriber
from kroi.mail.messages import payload
from kroi.mail.outbox import OutboxRepository
from kroi.security import signing
from kroi.web import i18n
from kroi.web.templating import Templates

CONFIRM = "news-confirm"
UNSUBSCRIBE = "news-unsub"
CONFIRM_MAX_AGE = 7 * 86400


def _confirm_payload(payload: object) -> tuple[str | None, datetime | None]:
    """(address, time of the request the link was sent for) from a confirmation token's payload. A link sent
    before requests were recorded carries the address alone and fits only a row with no recorded request."""
    if isinstance(payload, str):
        return payload, None
    if isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload):
        try:
            return payload[0], datetime.fromisoformat(payload[1])
        except ValueError:
            return None, None
    return None, None


class NewsletterService:
    def __init__(self, session: AsyncSession, templates: Templates, secret: str, public_url: str) -> None:
        self.session = session
        self.templates = templates
        self.secret = secret
        self.public_url = public_url

    async def _find(self, email: str) -> NewsletterSubscriber | None:
        return await self.session.scalar(
            select(NewsletterSubscriber).where(func.lower(NewsletterSubscriber.email) == email.lower())
            .with_for_update())

    def unsubscribe_url(self, email: str) -> str:
        token = signing.sign(self.secret, UNSUBSCRIBE, email.lower())
        return f"{self.public_url}/newsletter/unsubscribe?{urlencode({'token': token})}"

    async def subscribe(self, email: str, language: str, consent_text: str) -> str:
        """Record the wish and send a confirmation link unless already confirmed. Returns the state."""
        # Insert first (or find the row another request just inserted): two clicks at once for a new address
        # would otherwise both see no row and the second insert would fail on the unique index.
        await self.session.execute(insert(NewsletterSubscriber).values(
            email=email, status="pending", language=language, consent_text=consent_text).on_conflict_do_nothing())
        sub = await self._find(email)
        assert sub is not None
        if sub.status == "confirmed":
            await self.session.rollback()
            return "confirmed"
        sub.status, sub.language, sub.consent_text = "pending", language, consent_text
        sub.unsubscribed_at = None
        # The link names this request: a link of an earlier request (say, before an unsubscribe) no longer
        # confirms, since clearing unsubscribed_at above removes the older guard.
        sub.requested_at = datetime.now(timezone.utc)
        token = signing.sign(self.secret, CONFIRM, [email.lower(), sub.requested_at.isoformat()])
        confirm_url = f"{self.public_url}/newsletter/confirm?{urlencode({'token': token})}"
        unsubscribe = self.unsubscribe_url(email)
        ctx = self.templates.context(language, confirm_url=confirm_url, unsubscribe_url=unsubscribe)
        OutboxRepository(self.session).enqueue("newsletter_confirm", payload(
            to=email, subject=i18n.translate(language, "news.mail.subject"),
            text=self.templates.page("mail/newsletter_confirm.txt", ctx),
            headers={"List-Unsubscribe": f"<{unsubscribe.replace('/unsubscribe?', '/unsubscribe/one-click?')}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        ))
        await self.session.commit()
        return "pending"

    async def confirm(self, token: str) -> str:
        """'confirmed', 'already' or 'invalid' (bad or expired link, or an unknown address)."""
        data = signing.unsign(self.secret, CONFIRM, token, max_age=CONFIRM_MAX_AGE)
        if data is None:
            return "invalid"
        email, requested = _confirm_payload(data[0])
        if email is None:
            return "invalid"
        sub = await self._find(email)
        if sub is None:
            return "invalid"
        if sub.status == "confirmed":
            await self.session.rollback()
            return "already"
        if sub.requested_at != requested:
            await self.session.rollback()
            return "invalid"  # a link of another (earlier) subscription request
        if sub.unsubscribed_at is not None and sub.unsubscribed_at.timestamp() > data[1]:
            await self.session.rollback()
            return "invalid"  # unsubscribed after this link was sent
        sub.status, sub.confirmed_at = "confirmed", datetime.now(timezone.utc)
        await self.session.commit()
        return "confirmed"

    async def unsubscribe(self, token: str) -> bool:
        data = signing.unsign(self.secret, UNSUBSCRIBE, token)
        if data is None:
            return False
        sub = await self._find(str(data[0]))
        if sub is not None and sub.status != "unsubscribed":
            sub.status, sub.unsubscribed_at = "unsubscribed", datetime.now(timezone.utc)
        await self.session.commit()
        return True
