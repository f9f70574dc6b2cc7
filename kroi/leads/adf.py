"""ADF/XML 1.0 ("Auto-lead Data Format"), the format dealer CRMs import leads in."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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


def _text(parent: ET.Element, tag: str, value: object, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = str(value)
    return el


def prospect(lead: AdfLead) -> ET.Element:
    p = ET.Element("prospect", {"status": "new"})
    _text(p, "id", lead.id, sequence="1", source="Kroi")
    _text(p, "requestdate", lead.created_at.isoformat(timespec="seconds"))
    if lead.vehicle:
        v = ET.SubElement(p, "vehicle", {"interest": "test-drive" if lead.lead_type == "test_drive" else "buy",
                                         "status": "used"})
        _text(v, "year", lead.vehicle.year)
        _text(v, "make", lead.vehicle.make)
        _text(v, "model", lead.vehicle.model)
        if lead.vehicle.vin:
            _text(v, "vin", lead.vehicle.vin)
        if lead.vehicle.stock:
            _text(v, "stock", lead.vehicle.stock)
        if lead.vehicle.trim:
            _text(v, "trim", lead.vehicle.trim)
        if lead.vehicle.price_cents is not None:
            _text(v, "price", f"{lead.vehicle.price_cents / 100:.2f}", type="asking", currency="EUR")
    if lead.trade_in:
        t = ET.SubElement(p, "vehicle", {"interest": "trade-in", "status": "used"})
        _text(t, "year", lead.trade_in.get("year") or "")
        _text(t, "make", lead.trade_in.get("make") or "")
        _text(t, "model", lead.trade_in.get("model") or "")
        if lead.trade_in.get("mileage_km") is not None:
            _text(t, "odometer", lead.trade_in["mileage_km"], status="original", units="km")
        if lead.trade_in.get("registration"):
            _text(t, "comments", f"Registration {lead.trade_in['registration']}")
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
