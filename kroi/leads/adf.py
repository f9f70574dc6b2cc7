"""ADF/XML 1.0 ("Auto-lead Data Format"), the format dealer CRMs import leads in.

ADF 1.0 requires at least one <vehicle> per prospect (`prospect (id*, requestdate, vehicle+, customer, vendor,
provider?)`), so a lead without a car still gets one: the trade-in car, or a vehicle of interest with what is
known (possibly empty year/make/model).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET


@dataclass(frozen=True)
class AdfVehicle:
    year: int
    make: str
    model: str
    trim: str | None = None
    vin: str | None = None
    stock: str | None = None  # our car id / registration number
    price_cents: int | None = None


@dataclass(frozen=True)
class AdfLead:
    id: int
    created_at: datetime
    name: str
    email: str
    phone: str | None
    comments: str
    lead_type: str
    vehicle: AdfVehicle | None
    trade_in: dict | None
    vendor_name: str
    vendor_email: str
    vendor_phone: str
    details: Mapping[str, Any] = field(default_factory=dict)  # the form's extra fields (test drive, financing)


def _text(parent: ET.Element, tag: str, value: object, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = str(value)
    return el


def _euros(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _vehicle(p: ET.Element, lead: AdfLead) -> None:
    """The vehicle of interest: the car asked about, or as much as is known (ADF needs year, make, model)."""
    car = lead.vehicle
    v = ET.SubElement(p, "vehicle", {"interest": "test-drive" if lead.lead_type == "test_drive" else "buy",
                                     "status": "used"})
    _text(v, "year", car.year if car else "")
    _text(v, "make", car.make if car else "")
    _text(v, "model", car.model if car else "")
    if car and car.vin:
        _text(v, "vin", car.vin)
    if car and car.stock:
        _text(v, "stock", car.stock)
    if car and car.trim:
        _text(v, "trim", car.trim)
    if car and car.price_cents is not None:
        _text(v, "price", _euros(car.price_cents), type="asking", currency="EUR")
    notes = []
    down = lead.details.get("down_payment_cents")
    if lead.lead_type == "financing" and isinstance(down, int):
        finance = ET.SubElement(v, "finance")
        _text(finance, "method", "finance")
        _text(finance, "amount", _euros(down), type="downpayment", limit="exact", currency="EUR")
        if lead.details.get("term_months"):
            notes.append(f"Loan term {lead.details['term_months']} months")  # ADF's <finance> has no term
    if lead.lead_type == "test_drive" and lead.details.get("preferred_date"):
        notes.append(f"Test drive {lead.details['preferred_date']} at {lead.details.get('preferred_time', '')} "
                     "(Europe/Helsinki)")
    if notes:
        _text(v, "comments", "; ".join(notes))


def _trade_in(p: ET.Element, trade_in: Mapping[str, Any]) -> None:
    t = ET.SubElement(p, "vehicle", {"interest": "trade-in", "status": "used"})
    _text(t, "year", trade_in.get("year") or "")
    _text(t, "make", trade_in.get("make") or "")
    _text(t, "model", trade_in.get("model") or "")
    if trade_in.get("mileage_km") is not None:
        _text(t, "odometer", trade_in["mileage_km"], status="original", units="km")
    if trade_in.get("registration"):
        _text(t, "comments", f"Registration {trade_in['registration']}")


def prospect(lead: AdfLead) -> ET.Element:
    p = ET.Element("prospect", {"status": "new"})
    _text(p, "id", lead.id, sequence="1", source="Kroi")
    _text(p, "requestdate", lead.created_at.isoformat(timespec="seconds"))
    # A trade-in without a car of interest is described by its trade-in vehicle alone.
    if lead.vehicle or not lead.trade_in:
        _vehicle(p, lead)
    if lead.trade_in:
        _trade_in(p, lead.trade_in)
    c = ET.SubElement(p, "customer")
    contact = ET.SubElement(c, "contact")
    _text(contact, "name", lead.name, part="full")
    _text(contact, "email", lead.email)
    if lead.phone:
        _text(contact, "phone", lead.phone)
    if lead.comments:
        _text(c, "comments", lead.comments)
    vendor = ET.SubElement(p, "vendor")
    _text(vendor, "vendorname", lead.vendor_name)
    vc = ET.SubElement(vendor, "contact")
    _text(vc, "name", lead.vendor_name, part="full")
    _text(vc, "email", lead.vendor_email)
    _text(vc, "phone", lead.vendor_phone)
    provider = ET.SubElement(p, "provider")
    _text(provider, "name", "Kroi Auto Center website", part="full")
    return p


def document(leads: list[AdfLead]) -> bytes:
    """An ADF document with one prospect per lead (ElementTree escapes every value)."""
    root = ET.Element("adf")
    for lead in leads:
        root.append(prospect(lead))
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>\n{body}\n'.encode()
