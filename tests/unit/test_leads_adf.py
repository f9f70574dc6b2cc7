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


# --- ADF 1.0 structure --------------------------------------------------------------------------------------
# The element content models of the ADF 1.0 DTD (Auto-lead Data Format, 2000), written as regular expressions
# over an element's child tags ("a b b c "), plus the enumerated attributes we write. lxml is not a dependency,
# so this small checker stands in for DTD validation.
def _seq(*parts: str) -> str:
    return "".join(parts)


def _one(tag: str, mark: str = "") -> str:
    return f"(?:{tag} ){mark}"


PCDATA = {"id", "requestdate", "year", "make", "model", "vin", "stock", "trim", "doors", "bodystyle",
          "transmission", "odometer", "condition", "imagetag", "price", "pricecomments", "comments", "name", "email",
          "phone", "vendorname", "service", "url", "method", "amount", "balance", "interiorcolor", "exteriorcolor",
          "preference", "optionname", "manufacturercode", "weighting", "description", "earliestdate",
          "latestdate", "street", "apartment", "city", "regioncode", "postalcode", "country"}
MODELS = {
    "adf": _one("prospect", "+"),
    "prospect": _seq(_one("id", "*"), _one("requestdate"), _one("vehicle", "+"), _one("customer"), _one("vendor"),
                     _one("provider", "?")),
    "vehicle": _seq(_one("id", "*"), _one("year"), _one("make"), _one("model"), _one("vin", "?"), _one("stock", "?"),
                    _one("trim", "?"), _one("doors", "?"), _one("bodystyle", "?"), _one("transmission", "?"),
                    _one("odometer", "?"), _one("condition", "?"), _one("colorcombination", "*"),
                    _one("imagetag", "?"), _one("price", "*"), _one("pricecomments", "?"), _one("option", "*"),
                    _one("finance", "?"), _one("comments", "?")),
    "colorcombination": _seq(_one("interiorcolor", "?"), _one("exteriorcolor", "?"), _one("preference")),
    "option": _seq(_one("optionname"), _one("manufacturercode", "?"), _one("stock", "?"), _one("weighting", "?"),
                   _one("price", "?")),
    "finance": _seq(_one("method"), _one("amount", "+"), _one("balance", "?")),
    "customer": _seq(_one("contact"), _one("id", "*"), _one("timeframe", "?"), _one("comments", "?")),
    "timeframe": _seq(_one("description"), _one("earliestdate", "?"), _one("latestdate", "?")),
    # A contact is reachable: an e-mail address, phone numbers, or both.
    "contact": _seq(_one("name", "+"), f"(?:{_one('email')}|{_one('phone', '+')}|{_one('email')}{_one('phone', '+')})",
                    _one("address", "?")),
    "address": _seq(_one("street", "+"), _one("apartment", "?"), _one("city", "?"), _one("regioncode", "?"),
                    _one("postalcode", "?"), _one("country", "?")),
    "vendor": _seq(_one("id", "*"), _one("vendorname"), _one("url", "?"), _one("contact")),
    "provider": _seq(_one("id", "*"), _one("name"), _one("service", "?"), _one("url", "?"), _one("email", "?"),
                     _one("phone", "?"), _one("contact", "?")),
}
ATTRIBUTES = {
    "prospect": {"status": {"new", "resend"}},
    "vehicle": {"interest": {"buy", "lease", "sell", "trade-in", "test-drive"}, "status": {"new", "used"}},
    "odometer": {"status": {"unknown", "rolledover", "replaced", "original"}, "units": {"km", "mi"}},
    "price": {"type": {"quote", "offer", "msrp", "invoice", "call", "appraisal", "asking"}, "currency": None,
              "delta": {"absolute", "relative", "percentage"}, "relativeto": {"msrp", "invoice"}, "source": None},
    "amount": {"type": {"downpayment", "monthly", "total"}, "limit": {"maximum", "minimum", "exact"},
               "currency": None},
    "balance": {"type": {"finance", "residual"}, "currency": None},
    "id": {"sequence": None, "source": None},
    "name": {"part": {"surname", "first", "middle", "last", "full"}, "type": {"business", "individual"}},
    "email": {"preferredcontact": {"0", "1"}},
    "phone": {"type": {"voice", "fax", "cellphone", "pager"},
              "time": {"morning", "afternoon", "evening", "nopreference", "day"}, "preferredcontact": {"0", "1"}},
    "contact": {"primarycontact": {"0", "1"}},
}


def adf_violations(el: ET.Element, path: str = "") -> list[str]:
    """Where this element tree breaks ADF 1.0's content models and attribute lists (empty when valid)."""
    here = f"{path}/{el.tag}"
    out = []
    for name, value in el.attrib.items():
        allowed = ATTRIBUTES.get(el.tag, {})
        if name not in allowed:
            out.append(f"{here}: attribute {name!r} not declared")
        elif allowed[name] is not None and value not in allowed[name]:
            out.append(f"{here}: {name}={value!r} not one of {sorted(allowed[name])}")
    children = "".join(f"{c.tag} " for c in el)
    if el.tag in PCDATA:
        if len(el):
            out.append(f"{here}: #PCDATA element has children {children!r}")
    elif el.tag not in MODELS:
        out.append(f"{here}: element not declared")
    elif not re.fullmatch(MODELS[el.tag], children):
        out.append(f"{here}: children {children!r} break the content model")
    elif (el.text or "").strip():
        out.append(f"{here}: text in element content")
    for child in el:
        out.extend(adf_violations(child, here))
    return out


TRADE = {"registration": "ABC-123", "make": "Volvo", "model": "V70", "year": 2011, "mileage_km": 250000}
EVERY_KIND = {
    "contact": lead(vehicle=None, lead_type="general"),
    "inquiry": lead(),
    "test-drive": lead(lead_type="test_drive", details={"preferred_date": "2025-06-12", "preferred_time": "10:00"}),
    "test-drive-without-car": lead(vehicle=None, lead_type="test_drive",
                                   details={"preferred_date": "2025-06-12", "preferred_time": "10:00"}),
    "trade-in": lead(vehicle=None, lead_type="trade_in", trade_in=TRADE, details=TRADE),
    "trade-in-with-car": lead(lead_type="trade_in", trade_in=TRADE, details=TRADE),
    "financing": lead(lead_type="financing", details={"down_payment_cents": 500000, "term_months": 48}),
    "financing-without-car": lead(vehicle=None, lead_type="financing",
                                  details={"down_payment_cents": 500000, "term_months": 48}),
    "phone-less-minimal": lead(vehicle=AdfVehicle(year=2020, make="Skoda", model="Octavia"), phone=None, comments=""),
}


def test_the_checker_catches_a_prospect_without_a_vehicle() -> None:
    root = parse(document([lead()]))
    root.find("prospect").remove(root.find("prospect/vehicle"))
    assert adf_violations(root) == ["/adf/prospect: children 'id requestdate customer vendor provider ' break the "
                                    "content model"]


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_every_kind_of_lead_is_valid_adf_1_0(kind: str) -> None:
    assert adf_violations(parse(document([EVERY_KIND[kind]]))) == []


def test_several_prospects_in_one_document_are_valid() -> None:
    assert adf_violations(parse(document(list(EVERY_KIND.values())))) == []


def test_a_lead_without_a_car_still_names_a_vehicle_of_interest() -> None:
    [v] = parse(document([lead(vehicle=None, lead_type="general")])).findall("prospect/vehicle")
    assert v.get("interest") == "buy"
    assert [child.tag for child in v] == ["year", "make", "model"]
    assert all(not (child.text or "") for child in v)


def test_financing_goes_into_the_finance_element() -> None:
    doc = document([lead(lead_type="financing", details={"down_payment_cents": 500000, "term_months": 48})])
    [v] = parse(doc).findall("prospect/vehicle")
    assert v.findtext("make") == "Toyota"
    assert v.findtext("finance/method") == "finance"
    amount = v.find("finance/amount")
    assert (amount.text, amount.get("type"), amount.get("limit"), amount.get("currency")) == (
        "5000.00", "downpayment", "exact", "EUR")
    assert "48 months" in v.findtext("comments")


def test_test_drive_day_and_time_are_in_the_comments() -> None:
    for car in (CAR, None):
        doc = document([lead(vehicle=car, lead_type="test_drive",
                             details={"preferred_date": "2025-06-12", "preferred_time": "10:00"})])
        [v] = parse(doc).findall("prospect/vehicle")
        assert v.get("interest") == "test-drive"
        assert "2025-06-12" in v.findtext("comments") and "10:00" in v.findtext("comments")


def test_trade_in_with_a_car_of_interest_has_both_vehicles() -> None:
    vehicles = parse(document([lead(lead_type="trade_in", trade_in=TRADE)])).findall("prospect/vehicle")
    assert [(v.get("interest"), v.findtext("make")) for v in vehicles] == [("buy", "Toyota"), ("trade-in", "Volvo")]


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
