"""ADF/XML 1.0 documents for dealer CRMs: structure, optional parts, escaping."""
import re
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

import pytest

from kroi.leads.adf import AdfLead, AdfVehicle, document

pytestmark = pytest.mark.unit

CREATED = datetime(2025, 6, 11, 9, 30, 15, 123456, tzinfo=timezone.utc)
CAR = AdfVehicle(year=2019, make="Toyota", model="Corolla", trim="1.8 Hybrid Active", vin="JTDKB3FU003123456",
                 stock="KRO-120", price_cents=18_900_00)


def lead(**changes: object) -> AdfLead:
    values = dict(id=42, created_at=CREATED, name="Maija Meikäläinen", email="maija@example.fi",
                  phone="+358401234567", comments="Onko auto vielä myynnissä?", lead_type="car_inquiry",
                  vehicle=CAR, trade_in=None, vendor_name="Kroi Auto Center",
                  vendor_email="myynti@kroiautocenter.fi", vendor_phone="+358 40 123 4567")
    values.update(changes)
    return AdfLead(**values)


def parse(doc: bytes) -> ET.Element:
    return ET.fromstring(doc)


def test_document_starts_with_the_xml_declaration_and_the_adf_processing_instruction() -> None:
    text = document([lead()]).decode()
    lines = text.splitlines()
    assert lines[0] == '<?xml version="1.0" encoding="UTF-8"?>'
    assert lines[1] == '<?adf version="1.0"?>'


def test_root_is_adf_with_one_prospect_per_lead() -> None:
    root = parse(document([lead(id=1), lead(id=2)]))
    assert root.tag == "adf"
    prospects = root.findall("prospect")
    assert [p.findtext("id") for p in prospects] == ["1", "2"]
    assert all(p.get("status") == "new" for p in prospects)


def test_prospect_carries_id_and_requestdate() -> None:
    p = parse(document([lead()])).find("prospect")
    ident = p.find("id")
    assert ident.text == "42" and ident.get("source") == "Kroi" and ident.get("sequence") == "1"
    assert p.findtext("requestdate") == "2025-06-11T09:30:15+00:00"
    assert datetime.fromisoformat(p.findtext("requestdate")) == CREATED.replace(microsecond=0)


def test_customer_contact() -> None:
    c = parse(document([lead()])).find("prospect/customer")
    name = c.find("contact/name")
    assert name.get("part") == "full" and name.text == "Maija Meikäläinen"
    assert c.findtext("contact/email") == "maija@example.fi"
    assert c.findtext("contact/phone") == "+358401234567"
    assert c.findtext("comments") == "Onko auto vielä myynnissä?"


def test_customer_without_phone_or_comments_leaves_them_out() -> None:
    c = parse(document([lead(phone=None, comments="")])).find("prospect/customer")
    assert c.find("contact/phone") is None
    assert c.find("comments") is None


def test_vehicle_of_interest() -> None:
    v = parse(document([lead()])).find("prospect/vehicle")
    assert v.get("interest") == "buy" and v.get("status") == "used"
    assert (v.findtext("year"), v.findtext("make"), v.findtext("model")) == ("2019", "Toyota", "Corolla")
    assert v.findtext("vin") == "JTDKB3FU003123456"
    assert v.findtext("stock") == "KRO-120"
    assert v.findtext("trim") == "1.8 Hybrid Active"
    price = v.find("price")
    assert price.text == "18900.00" and price.get("currency") == "EUR" and price.get("type") == "asking"


def test_test_drive_vehicle_interest() -> None:
    v = parse(document([lead(lead_type="test_drive")])).find("prospect/vehicle")
    assert v.get("interest") == "test-drive"


def test_no_vehicle_when_no_car() -> None:
    assert parse(document([lead(vehicle=None, lead_type="general")])).find("prospect/vehicle") is None


def test_vehicle_without_optional_parts() -> None:
    v = parse(document([lead(vehicle=AdfVehicle(year=2020, make="Skoda", model="Octavia"))])).find("prospect/vehicle")
    assert [child.tag for child in v] == ["year", "make", "model"]


def test_trade_in_vehicle() -> None:
    trade = {"registration": "ABC-123", "make": "Volvo", "model": "V70", "year": 2011, "mileage_km": 250000}
    vehicles = parse(document([lead(vehicle=None, lead_type="trade_in", trade_in=trade)])).findall("prospect/vehicle")
    assert len(vehicles) == 1
    t = vehicles[0]
    assert t.get("interest") == "trade-in"
    assert (t.findtext("year"), t.findtext("make"), t.findtext("model")) == ("2011", "Volvo", "V70")
    odo = t.find("odometer")
    assert odo.text == "250000" and odo.get("units") == "km"
    assert "ABC-123" in t.findtext("comments")


def test_vendor_and_provider() -> None:
    p = parse(document([lead()])).find("prospect")
    assert p.findtext("vendor/vendorname") == "Kroi Auto Center"
    assert p.findtext("vendor/contact/email") == "myynti@kroiautocenter.fi"
    assert p.findtext("vendor/contact/phone") == "+358 40 123 4567"
    assert p.find("vendor/contact/name").get("part") == "full"
    assert p.find("provider/name").text == "Kroi Auto Center website"


def test_special_characters_are_escaped_and_survive_a_round_trip() -> None:
    nasty = 'Tom & "Jerry" <script>alert(1)</script> \'ÅÄÖ\' ]]>'
    doc = document([lead(name=nasty, comments=nasty, vehicle=AdfVehicle(year=2020, make="A&B", model="<X>"))])
    text = doc.decode()
    assert "<script>" not in text
    assert "&lt;script&gt;" in text and "A&amp;B" in text and "&lt;X&gt;" in text
    p = parse(doc).find("prospect")
    assert p.find("customer/contact/name").text == nasty
    assert p.findtext("customer/comments") == nasty
    assert p.findtext("vehicle/make") == "A&B" and p.findtext("vehicle/model") == "<X>"


def test_document_is_utf8_bytes() -> None:
    doc = document([lead()])
    assert isinstance(doc, bytes)
    assert "Meikäläinen".encode() in doc
    assert re.search(rb"<\?adf version=\"1.0\"\?>", doc)
