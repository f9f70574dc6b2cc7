"""The two mails of a new lead, rendered from templates, and outbox payloads turned into MIME messages."""
import base64
from datetime import datetime, timezone
from email import message_from_bytes, policy
from xml.etree import ElementTree as ET

import pytest

from kroi.leads.adf import AdfVehicle
from kroi.leads.notifications import LeadView, lead_mails
from kroi.mail.messages import build, payload
from kroi.system.services import merge
from kroi.web.templating import Templates

pytestmark = pytest.mark.unit

NASTY = '<script>alert("x")</script> & Co'
SITE = merge({})


def view(**changes: object) -> LeadView:
    values = dict(id=17, type="car_inquiry", name=f"Maija {NASTY}", email="maija@example.fi", phone="+358401234567",
                  message=f"Hei {NASTY}\nToinen rivi", language="fi", score=55, priority="normal", details={},
                  created_at=datetime(2025, 6, 11, 9, 0, tzinfo=timezone.utc), car_title="Toyota Corolla 1.8",
                  car_url_path="/cars/5-toyota-corolla", car_price_cents=18_900_00,
                  car_adf=AdfVehicle(year=2019, make="Toyota", model="Corolla", stock="KRO-120"))
    values.update(changes)
    return LeadView(**values)


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates()


def test_lead_mails_are_one_for_the_dealer_and_one_for_the_visitor(templates: Templates) -> None:
    mails = dict(lead_mails(templates, SITE, view(), "https://kroi.example"))
    assert set(mails) == {"lead_dealer", "lead_visitor"}
    assert mails["lead_dealer"]["to"] == SITE.leads["notify_email"]
    assert mails["lead_dealer"]["reply_to"] == "maija@example.fi"
    assert mails["lead_visitor"]["to"] == "maija@example.fi"
    assert mails["lead_visitor"]["reply_to"] == SITE.dealer["email"]


def test_dealer_mail_links_to_the_lead_and_attaches_adf(templates: Templates) -> None:
    dealer = dict(lead_mails(templates, SITE, view(), "https://kroi.example"))["lead_dealer"]
    assert "https://kroi.example/admin/leads/17" in dealer["text"]
    assert 'href="https://kroi.example/admin/leads/17"' in dealer["html"]
    assert "#17" in dealer["subject"] and "(normal)" in dealer["subject"]
    [att] = dealer["attachments"]
    assert att["filename"] == "lead-17.adf.xml" and att["content_type"] == "application/xml"
    root = ET.fromstring(base64.b64decode(att["data"]))
    assert root.tag == "adf" and root.findtext("prospect/id") == "17"
    assert root.findtext("prospect/vehicle/make") == "Toyota"
    assert root.find("prospect/customer/contact/name").text == f"Maija {NASTY}"


def test_dealer_html_escapes_what_the_visitor_typed(templates: Templates) -> None:
    dealer = dict(lead_mails(templates, SITE, view(), "https://kroi.example"))["lead_dealer"]
    assert "<script>" not in dealer["html"]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in dealer["html"]
    # Plain text is not HTML: it carries the text as typed.
    assert NASTY in dealer["text"]


@pytest.mark.parametrize(("lang", "greeting", "subject"), [
    ("fi", "Hei Maija", "Kiitos yhteydenotostasi – Kroi Auto Center"),
    ("en", "Hello Maija", "Thank you for contacting Kroi Auto Center"),
])
def test_visitor_mail_is_in_the_visitors_language(templates: Templates, lang: str, greeting: str,
                                                 subject: str) -> None:
    visitor = dict(lead_mails(templates, SITE, view(language=lang), "https://kroi.example"))["lead_visitor"]
    assert visitor["subject"] == subject
    assert visitor["text"].startswith(greeting)
    assert "17" in visitor["text"]
    assert "https://kroi.example/cars/5-toyota-corolla" in visitor["text"]
    assert visitor["html"] is None and visitor["attachments"] == []


def test_dealer_mail_lists_trade_in_details(templates: Templates) -> None:
    details = {"registration": "ABC-123", "make": "Volvo", "model": "V70", "year": 2011, "mileage_km": 250000}
    dealer = dict(lead_mails(templates, SITE, view(type="trade_in", details=details, car_title=None, car_url_path=None,
                                                   car_price_cents=None, car_adf=None),
                             "https://kroi.example"))["lead_dealer"]
    for line in ("Rekisterinumero: ABC-123", "Merkki: Volvo", "Malli: V70", "Vuosimalli: 2011",
                 "Mittarilukema: 250 000 km"):
        assert f"\n{line}\n" in dealer["text"], line
    assert "registration" not in dealer["text"] and "mileage_km" not in dealer["text"]
    root = ET.fromstring(base64.b64decode(dealer["attachments"][0]["data"]))
    assert root.find("prospect/vehicle").get("interest") == "trade-in"


def dealer_mail(templates: Templates, lead_type: str, details: dict) -> dict:
    return dict(lead_mails(templates, SITE, view(type=lead_type, details=details), "https://kroi.example"))[
        "lead_dealer"]


def test_dealer_mail_shows_financing_in_words_and_euros(templates: Templates) -> None:
    dealer = dealer_mail(templates, "financing", {"down_payment_cents": 500000, "term_months": 48})
    assert "\nKäsiraha: 5 000 €\nLaina-aika: 48 kk\n" in dealer["text"]
    assert "down_payment_cents" not in dealer["text"] and "500000" not in dealer["text"]
    assert "term_months" not in dealer["text"]
    assert '<th align="left">Käsiraha</th><td>5 000 €</td>' in dealer["html"]
    assert "down_payment_cents" not in dealer["html"]


def test_dealer_mail_shows_the_test_drive_day_as_a_finnish_date(templates: Templates) -> None:
    dealer = dealer_mail(templates, "test_drive", {"preferred_date": "2025-06-16", "preferred_time": "10:00"})
    assert "\nToivottu päivä: 16.6.2025\nToivottu kellonaika: klo 10.00\n" in dealer["text"]
    assert "preferred_date" not in dealer["text"] and "2025-06-16" not in dealer["text"]
    assert '<th align="left">Toivottu päivä</th><td>16.6.2025</td>' in dealer["html"]


def test_dealer_mail_shows_an_unexpected_detail_as_stored(templates: Templates) -> None:
    dealer = dealer_mail(templates, "financing", {"down_payment_cents": "lots", "campaign": "kevät"})
    assert "\nKäsiraha: lots\ncampaign: kevät\n" in dealer["text"]


def test_build_turns_a_payload_into_a_mime_message() -> None:
    data = payload(to="maija@example.fi", subject="Hei – ÅÄÖ", text="Teksti", html="<p>HTML</p>",
                   attachments=[("a.xml", "application/xml", b"<adf/>")],
                   headers={"List-Unsubscribe": "<https://x/one-click?token=t>"}, reply_to="myynti@example.fi")
    msg = message_from_bytes(bytes(build(data, "Kroi <noreply@example.fi>")), policy=policy.default)
    assert msg["To"] == "maija@example.fi"
    assert msg["From"] == "Kroi <noreply@example.fi>"
    assert msg["Subject"] == "Hei – ÅÄÖ"
    assert msg["Reply-To"] == "myynti@example.fi"
    assert msg["List-Unsubscribe"] == "<https://x/one-click?token=t>"
    assert msg["Message-ID"] and msg["Date"]
    assert msg.get_body(("plain",)).get_content().strip() == "Teksti"
    assert msg.get_body(("html",)).get_content().strip() == "<p>HTML</p>"
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == "a.xml" and att.get_content_type() == "application/xml"
    assert att.get_payload(decode=True) == b"<adf/>"


def test_build_without_html_is_plain_text() -> None:
    msg = build(payload(to="a@example.fi", subject="s", text="t"), "noreply@example.fi")
    assert msg.get_content_type() == "text/plain"
    assert msg["Reply-To"] is None
