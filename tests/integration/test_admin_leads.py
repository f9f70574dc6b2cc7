"""Admin leads: list filters (status, type, priority, assignee, dates, overdue), sorting, the board, the lead page
with its timeline, assignment and the status workflow (lost needs a reason), CSV and ADF/XML exports."""
from __future__ import annotations

import csv
import io
import re
from xml.etree import ElementTree as ET

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import HX, add_user, as_admin, as_data, audit_rows, change, form_pairs, post, row_ids
from kroi.db.models import Lead, LeadActivity
from kroi.web import i18n
from support import is_full_page

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
__all__ = ["as_admin"]


def fi(key: str, **params: object) -> str:
    return i18n.translate("fi", key, **params)


@pytest.fixture
async def leads(db: AsyncSession) -> dict[str, int]:
    """The seeded sample leads by first name: matti (car inquiry, 70 p), anna (test drive, 85 p), john (30 p)."""
    rows = (await db.execute(select(Lead.id, Lead.name))).all()
    assert len(rows) == 3
    return {name.split()[0].lower(): i for i, name in rows}


async def set_created(db: AsyncSession, lead_id: int, when: str) -> None:
    await db.execute(text(f"UPDATE leads SET created_at = {when} WHERE id = :i"), {"i": lead_id})
    await db.commit()


async def listed(client: httpx.AsyncClient, query: str = "") -> list[int]:
    r = await client.get(f"/admin/leads{query}")
    assert r.status_code == 200, (query, r.status_code)
    return row_ids(r.text, "data-lead-id")


async def lead(db: AsyncSession, lead_id: int) -> Lead:
    db.expire_all()
    row = await db.get(Lead, lead_id, populate_existing=True)
    await db.commit()
    return row


async def move(client: httpx.AsyncClient, lead_id: int, status: str, reason: str = "", **kw) -> httpx.Response:  # noqa: ANN003
    return await post(client, f"/admin/leads/{lead_id}/status", {"status": status, "lost_reason": reason}, **kw)


async def test_list_filters_and_sorts(client, as_admin, db, leads) -> None:  # noqa: ANN001
    m, a, j = leads["matti"], leads["anna"], leads["john"]
    sales = await add_user(db, "sales@example.test", "sales", full_name="Sanna Myyjä")
    await set_created(db, j, "'2024-01-15 12:00+00'")
    await set_created(db, a, "now() - interval '5 hours'")
    await set_created(db, m, "now() - interval '1 hour'")
    page = await client.get("/admin/leads")
    assert page.status_code == 200 and is_full_page(page.text)
    assert row_ids(page.text, "data-lead-id") == [m, a, j]  # newest first
    assert fi("admin.leads.count", n=3) in page.text
    assert await listed(client, "?sort=oldest") == [j, a, m]
    assert await listed(client, "?sort=score") == [a, m, j]
    assert await listed(client, "?type=test_drive") == [a]
    assert await listed(client, "?priority=low") == [j]
    assert await listed(client, "?priority=high&sort=score") == [a, m]
    assert await listed(client, "?status=new") == [m, a, j]
    assert await listed(client, "?status=won") == []
    assert await listed(client, "?from=2024-01-15&to=2024-01-15") == [j]
    assert await listed(client, "?from=2024-01-16") == [m, a]
    assert await listed(client, "?q=korhonen") == [a]
    # Overdue: still "new" after the response target (4 h by default).
    assert await listed(client, "?overdue=1") == [a, j]
    overdue_row = re.search(rf'<tr data-lead-id="{a}" class="overdue">.*?</tr>', page.text, re.S)
    assert overdue_row and fi("admin.leads.overdue") in overdue_row.group(0)
    assert f'<tr data-lead-id="{m}" class="">' in page.text
    assert (await post(client, f"/admin/leads/{m}/assign", {"assignee": str(sales)})).status_code == 303
    assert await listed(client, f"?assignee={sales}") == [m]
    assert await listed(client, "?assignee=0") == [a, j]
    assert "Sanna Myyjä" in (await client.get("/admin/leads")).text
    assert (await move(client, j, "contacted")).status_code == 303
    assert await listed(client, "?overdue=1") == [a], "answered leads are never overdue"
    # The target comes from the dealer settings.
    settings_page = await client.get("/admin/settings")
    r = await post(client, "/admin/settings", as_data(change(form_pairs(settings_page.text, action="/admin/settings"),
                                                            response_target_hours="6")))
    assert r.status_code == 303
    assert await listed(client, "?overdue=1") == []
    # htmx gets the results alone.
    frag = await client.get("/admin/leads?priority=high", headers=HX)
    assert frag.text.lstrip().startswith('<div id="lead-results">') and not is_full_page(frag.text)
    assert row_ids(frag.text, "data-lead-id") == [m, a]


async def test_board_shows_a_column_per_status(client, as_admin, leads) -> None:  # noqa: ANN001
    m, a, j = leads["matti"], leads["anna"], leads["john"]
    assert (await move(client, m, "contacted")).status_code == 303
    assert (await move(client, j, "lost", "no_response")).status_code == 303
    page = await client.get("/admin/leads?view=board")
    assert page.status_code == 200
    columns = dict(re.findall(r'<section class="board-col" aria-labelledby="col-(\w+)">(.*?)</section>', page.text,
                              re.S))
    assert list(columns) == ["new", "contacted", "qualified", "negotiating", "won", "lost"]
    ids = {status: [int(i) for i in re.findall(r'data-lead-id="(\d+)"', body)] for status, body in columns.items()}
    assert ids == {"new": [a], "contacted": [m], "qualified": [], "negotiating": [], "won": [], "lost": [j]}
    board = await client.get("/admin/leads?view=board&type=test_drive")
    assert re.findall(r'data-lead-id="(\d+)"', board.text) == [str(a)]


async def test_status_workflow_is_logged_on_the_timeline(client, as_admin, db, leads) -> None:  # noqa: ANN001
    m, j = leads["matti"], leads["john"]
    page = await client.get(f"/admin/leads/{m}")
    assert page.status_code == 200 and "Matti Virtanen" in page.text and "Toyota Corolla" in page.text
    for illegal in ("won", "qualified", "new"):
        r = await move(client, m, illegal)
        assert r.status_code == 422 and fi("admin.leads.error.transition") in r.text
    assert (await lead(db, m)).first_response_at is None
    for step in ("contacted", "qualified", "negotiating", "won"):
        r = await move(client, m, step)
        assert r.status_code == 303 and r.headers["location"] == f"/admin/leads/{m}"
    row = await lead(db, m)
    assert row.status == "won" and row.first_response_at is not None
    r = await move(client, m, "lost", "price")
    assert r.status_code == 422, "won is final"
    # Lost needs a reason; the reason is kept, and a reopened lead forgets it.
    r = await move(client, j, "lost", headers=HX)
    assert r.status_code == 422 and fi("admin.leads.error.reason") in r.text
    assert r.text.lstrip().startswith('<div id="lead-panel"')
    r = await move(client, j, "lost", "bought_elsewhere", headers=HX)
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="lead-panel"')
    assert (await lead(db, j)).lost_reason == "bought_elsewhere"
    assert fi("admin.leads.reason.bought_elsewhere") in r.text
    assert (await move(client, j, "contacted")).status_code == 303
    reopened = await lead(db, j)
    assert reopened.status == "contacted" and reopened.lost_reason is None
    db.expire_all()
    acts = (await db.execute(select(LeadActivity.lead_id, LeadActivity.kind, LeadActivity.details, LeadActivity.actor_id)
                             .where(LeadActivity.kind == "status_changed").order_by(LeadActivity.id))).all()
    assert [(x.lead_id, x.details["from"], x.details["to"], x.details.get("reason")) for x in acts] == [
        (m, "new", "contacted", None), (m, "contacted", "qualified", None), (m, "qualified", "negotiating", None),
        (m, "negotiating", "won", None), (j, "new", "lost", "bought_elsewhere"), (j, "lost", "contacted", None)]
    assert {x.actor_id for x in acts} == {as_admin}
    audit = await audit_rows(db, "lead", j, action="status")
    assert [(x.before, x.after) for x in audit] == [
        ({"status": "new", "lost_reason": None}, {"status": "lost", "lost_reason": "bought_elsewhere"}),
        ({"status": "lost", "lost_reason": "bought_elsewhere"}, {"status": "contacted", "lost_reason": None})]
    # The timeline on the lead page, newest first, with notes.
    assert (await post(client, f"/admin/leads/{m}/notes", {"body": "Soitettu, tulee lauantaina."})).status_code == 303
    assert (await post(client, f"/admin/leads/{m}/notes", {"body": "   "})).status_code == 422
    page = await client.get(f"/admin/leads/{m}")
    kinds = re.findall(r'<li data-kind="(\w+)">', page.text)
    assert kinds[:5] == ["note", "status_changed", "status_changed", "status_changed", "status_changed"]
    timeline = page.text.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert "Soitettu, tulee lauantaina." in timeline and "· admin@example.test" in timeline


async def test_assignment_only_to_active_sales_staff(client, as_admin, db, leads) -> None:  # noqa: ANN001
    a = leads["anna"]
    sales = await add_user(db, "sales@example.test", "sales")
    viewer = await add_user(db, "viewer@example.test", "viewer")
    gone = await add_user(db, "gone@example.test", "sales", active=False)
    page = await client.get(f"/admin/leads/{a}")
    options = re.search(r'<select id="lead-assignee" name="assignee">(.*?)</select>', page.text, re.S).group(1)
    offered = {int(i) for i in re.findall(r'<option value="(\d+)"', options)}
    assert offered == {as_admin, sales}
    for wrong in (viewer, gone, 999999):
        r = await post(client, f"/admin/leads/{a}/assign", {"assignee": str(wrong)})
        assert r.status_code == 422 and fi("admin.leads.error.assignee") in r.text
    assert (await post(client, f"/admin/leads/{a}/assign", {"assignee": str(sales)})).status_code == 303
    assert (await lead(db, a)).assignee_id == sales
    assert (await post(client, f"/admin/leads/{a}/assign", {"assignee": ""})).status_code == 303
    assert (await lead(db, a)).assignee_id is None
    db.expire_all()
    acts = (await db.scalars(select(LeadActivity.details).where(LeadActivity.lead_id == a,
                                                                LeadActivity.kind == "assigned")
                             .order_by(LeadActivity.id))).all()
    assert [(d["from"], d["to"]) for d in acts][-2:] == [(None, sales), (sales, None)]
    assert [x.after for x in await audit_rows(db, "lead", a, action="assign")] == [
        {"assignee_id": sales}, {"assignee_id": None}]
    # The list's assignee filter offers the same people; a lead of a deactivated user still shows their name.
    listing = await client.get("/admin/leads")
    options = re.search(r'<select id="leads-assignee" name="assignee">(.*?)</select>', listing.text, re.S).group(1)
    assert {int(i) for i in re.findall(r'<option value="(\d+)"', options)} - {0} == {as_admin, sales}
    await db.execute(text("UPDATE users SET full_name = 'Entinen Myyjä' WHERE id = :g"), {"g": gone})
    await db.execute(text("UPDATE leads SET assignee_id = :g WHERE id = :a"), {"g": gone, "a": a})
    await db.commit()
    row = re.search(rf'<tr data-lead-id="{a}".*?</tr>', (await client.get("/admin/leads")).text, re.S).group(0)
    assert "Entinen Myyjä" in row


async def test_timeline_translates_priority_and_names_a_former_assignee(client, as_admin, db, leads) -> None:  # noqa: ANN001
    a = leads["anna"]
    sales = await add_user(db, "sanna@example.test", "sales", full_name="Sanna Myyjä")
    assert (await post(client, f"/admin/leads/{a}/assign", {"assignee": str(sales)})).status_code == 303
    assert (await post(client, f"/admin/leads/{a}/assign", {"assignee": ""})).status_code == 303
    await db.execute(text("UPDATE users SET role = 'viewer', is_active = false WHERE id = :s"), {"s": sales})
    db.add(LeadActivity(lead_id=a, kind="scored", details={"score": 85, "priority": "high", "rules": []}))
    await db.commit()
    page = await client.get(f"/admin/leads/{a}")
    entries = [(kind, " ".join(re.sub(r"<[^>]+>", " ", body).split()))
               for kind, body in re.findall(r'<li data-kind="(\w+)">(.*?)</li>', page.text, re.S)]
    [scored] = [body for kind, body in entries if kind == "scored"]
    assert scored.endswith(f"85 p, {fi('admin.leads.priority.high')}"), scored
    assigned = [body for kind, body in entries if kind == "assigned"]
    assert assigned[0].endswith(f"→ {fi('admin.leads.unassigned')}") and assigned[1].endswith("→ Sanna Myyjä")


async def test_csv_export_is_filtered_and_safe_in_a_spreadsheet(client, as_admin, db, leads) -> None:  # noqa: ANN001
    j = leads["john"]
    await db.execute(text("UPDATE leads SET name = :n, message = :m WHERE id = :i"),
                     {"n": '=HYPERLINK("http://evil.example","x")', "m": "@SUM(A1)\nsecond line", "i": j})
    await db.commit()
    r = await client.get("/admin/leads/export.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="leads.csv"'
    assert r.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")), delimiter=";"))
    assert {int(x["id"]) for x in rows} == set(leads.values())
    by_id = {int(x["id"]): x for x in rows}
    assert by_id[j]["name"] == "'" + '=HYPERLINK("http://evil.example","x")'
    assert by_id[j]["message"] == "'@SUM(A1)\nsecond line"
    assert by_id[leads["matti"]]["phone"] == "'+358401234567"
    assert by_id[leads["matti"]]["name"] == "Matti Virtanen"
    assert by_id[leads["matti"]]["car_price_eur"] == "21900.00"
    r = await client.get("/admin/leads/export.csv?type=test_drive")
    assert [x["name"] for x in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")), delimiter=";")] == [
        "Anna Korhonen"]


async def test_adf_xml_per_lead_and_for_the_filtered_list(client, as_admin, db, leads, by_key) -> None:  # noqa: ANN001
    m = leads["matti"]
    await db.execute(text("UPDATE leads SET message = :t WHERE id = :i"), {"t": "Hinta <alle> 20 000 & vaihto?", "i": m})
    await db.commit()
    r = await client.get(f"/admin/leads/{m}/adf.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert r.headers["content-disposition"] == f'attachment; filename="lead-{m}.adf.xml"'
    root = ET.fromstring(r.content)
    assert root.tag == "adf"
    [prospect] = root.findall("prospect")
    assert prospect.findtext("id") == str(m)
    vehicle = prospect.find("vehicle")
    corolla = by_key["corolla"]
    assert (vehicle.findtext("make"), vehicle.findtext("model"), vehicle.findtext("vin")) == (
        "Toyota", "Corolla", corolla.vin)
    assert vehicle.findtext("price") == "21900.00"
    assert prospect.findtext("customer/contact/name") == "Matti Virtanen"
    assert prospect.findtext("customer/contact/email") == "matti.virtanen@example.fi"
    assert prospect.findtext("customer/comments") == "Hinta <alle> 20 000 & vaihto?"
    assert prospect.findtext("vendor/vendorname") == "Kroi Auto Center"
    r = await client.get("/admin/leads/export.adf.xml?priority=high")
    assert r.status_code == 200
    names = [p.findtext("customer/contact/name") for p in ET.fromstring(r.content).findall("prospect")]
    assert sorted(names) == ["Anna Korhonen", "Matti Virtanen"]
    r = await client.get("/admin/leads/export.adf.xml")
    assert len(ET.fromstring(r.content).findall("prospect")) == 3
    assert (await client.get("/admin/leads/999999/adf.xml")).status_code == 404


async def set_search_url(db: AsyncSession, lead_id: int, url: str) -> None:
    await db.execute(text("UPDATE leads SET details = jsonb_build_object('search_url', CAST(:u AS text)) WHERE id = :i"),
                     {"u": url, "i": lead_id})
    await db.commit()


async def test_the_customers_search_is_a_link_only_when_it_is_a_path_of_this_site(client, as_admin, db, leads) -> None:  # noqa: ANN001
    """An "Etsi minulle auto" lead keeps the /cars search it came from: staff open it from the lead page. Only a
    relative path becomes a link, escaped; anything else (another host, javascript:) stays text."""
    j = leads["john"]
    await set_search_url(db, j, '/cars?make=Toyota&q="<b>"')
    page = (await client.get(f"/admin/leads/{j}")).text
    assert '<a href="/cars?make=Toyota&amp;q=&#34;&lt;b&gt;&#34;">/cars?make=Toyota&amp;q=&#34;&lt;b&gt;&#34;</a>' in page
    for unsafe in ("javascript:alert(1)", "//evil.example/cars", "/\\evil.example", "https://evil.example/",
                   "/\t/evil.example"):
        await set_search_url(db, j, unsafe)
        r = await client.get(f"/admin/leads/{j}")
        assert r.status_code == 200
        dd = re.search(r"<dt>" + re.escape(fi("search.lead_link")) + r"</dt><dd>(.*?)</dd>", r.text, re.S)
        assert dd is not None, unsafe
        shown = dd.group(1)
        assert "<a" not in shown and ("evil.example" in shown or "alert(1)" in shown), (unsafe, shown)
