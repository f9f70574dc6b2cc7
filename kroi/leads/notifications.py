"""The two mails a new lead sends: to the dealer (with the lead as ADF/XML) and to the visitor."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kroi.db.models import Car
from kroi.leads import adf
from kroi.mail.messages import payload
from kroi.system.services import SiteSettings
from kroi.web import formatting, i18n
from kroi.web.templating import Templates


@dataclass(frozen=True)
class LeadView:
    id: int
    type: str
    name: str
    email: str
    phone: str | None
    message: str
    language: str
    score: int
    priority: str
    details: dict[str, Any]
    created_at: datetime
    car_title: str | None
    car_url_path: str | None
    car_price_cents: int | None
    car_adf: adf.AdfVehicle | None

    @classmethod
    def of(cls, lead_id: int, values: dict[str, Any], car: Car | None, now: datetime) -> "LeadView":
        vehicle = None
        if car is not None:
            vehicle = adf.AdfVehicle(year=car.model_year, make=car.search_names.split(" ", 1)[0],
                                     model=car.search_names.split(" ", 1)[-1], trim=car.variant, vin=car.vin,
                                     stock=car.registration_number or str(car.id), price_cents=car.price_cents)
        return cls(id=lead_id, type=values["type"], name=values["name"], email=values["email"],
                   phone=values["phone"], message=values["message"], language=values["language"],
                   score=values["score"], priority=values["priority"], details=values["details"], created_at=now,
                   car_title=car.title if car else None,
                   car_url_path=f"/cars/{car.id}-{car.slug}" if car else None,
                   car_price_cents=car.price_cents if car else None, car_adf=vehicle)


# The form's extra fields in the order a salesperson reads them (test drive, trade-in car, financing).
DETAIL_ORDER = ("preferred_date", "preferred_time", "registration", "make", "model", "year", "mileage_km",
                "down_payment_cents", "term_months")


def _detail_value(lang: str, key: str, value: Any) -> str:
    try:
        if key == "down_payment_cents":
            return formatting.money(int(value))
        if key == "mileage_km":
            return formatting.km(int(value))
        if key == "term_months":
            return i18n.translate(lang, "lead.detail.months", n=int(value))
        if key == "preferred_date":
            return formatting.date_fi(date.fromisoformat(str(value)))
        if key == "preferred_time":
            return i18n.translate(lang, "lead.detail.at", time=str(value).replace(":", ".") if lang == "fi" else value)
    except (TypeError, ValueError):
        pass  # an older or hand-edited row: show it as stored
    return "" if value is None else str(value)


def detail_rows(lang: str, details: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of a lead's extra fields for people: "Käsiraha: 5 000 €", not "down_payment_cents: 500000"."""
    known = [k for k in DETAIL_ORDER if k in details]
    rest = sorted(k for k in details if k not in DETAIL_ORDER)
    return [(i18n.translate(lang, f"lead.detail.{k}") if k in DETAIL_ORDER else k, _detail_value(lang, k, details[k]))
            for k in (*known, *rest)]


def adf_for(lead: LeadView, site: SiteSettings) -> bytes:
    return adf.document([_adf_of_view(lead, site)])


def _adf_of_view(lead: LeadView, site: SiteSettings) -> adf.AdfLead:
    return adf.AdfLead(
        id=lead.id, created_at=lead.created_at, name=lead.name, email=lead.email, phone=lead.phone,
        comments=lead.message, lead_type=lead.type, vehicle=lead.car_adf,
        trade_in=lead.details if lead.type == "trade_in" else None, vendor_name=site.dealer["name"],
        vendor_email=site.dealer["email"], vendor_phone=site.dealer["phone"], details=lead.details or {},
    )


def lead_mails(templates: Templates, site: SiteSettings, lead: LeadView,
               public_url: str) -> list[tuple[str, dict[str, Any]]]:
    """(kind, outbox payload) for the dealer notification and the visitor's confirmation."""
    dealer_ctx = templates.context("fi", lead=lead, site=site, admin_url=f"{public_url}/admin/leads/{lead.id}",
                                   public_url=public_url, details=detail_rows("fi", lead.details or {}))
    type_label = i18n.translate("fi", f"lead.type.{lead.type}")
    dealer = payload(
        to=site.leads.get("notify_email") or site.dealer["email"],
        subject=f"Uusi liidi #{lead.id}: {type_label} – {lead.name} ({lead.priority})",
        text=templates.page("mail/dealer_lead.txt", dealer_ctx),
        html=templates.page("mail/dealer_lead.html", dealer_ctx),
        attachments=[(f"lead-{lead.id}.adf.xml", "application/xml", adf_for(lead, site))],
        reply_to=lead.email,
    )
    visitor_ctx = templates.context(lead.language, lead=lead, site=site, public_url=public_url)
    visitor = payload(
        to=lead.email,
        subject=i18n.translate(lead.language, "mail.confirm.subject", dealer=site.dealer["name"]),
        text=templates.page("mail/visitor_confirmation.txt", visitor_ctx),
        reply_to=site.dealer["email"],
    )
    return [("lead_dealer", dealer), ("lead_visitor", visitor)]


def adf_lead(lead, car: Car | None, site: SiteSettings) -> adf.AdfLead:  # noqa: ANN001
    """A stored lead (and its car, if still there) as an ADF prospect, for exports."""
    view = LeadView.of(lead.id, {
        "type": lead.type, "name": lead.name, "email": lead.email, "phone": lead.phone, "message": lead.message,
        "language": lead.language, "score": lead.score, "priority": lead.priority, "details": lead.details,
    }, car, lead.created_at)
    return _adf_of_view(view, site)
