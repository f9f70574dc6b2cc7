"""The staff area in the browser, on a live server of its own (conftest's admin_server, own database and Redis db):
an admin adds a car with photos, publishes it, sees it on /cars at once, sells it and sees "Myyty" on its page;
a sales user takes a lead from new to won with a note on its timeline; a viewer gets no edit controls and the
server refuses the viewer's forged edits; photo order by keyboard and by drag-and-drop upload; axe-core."""
from __future__ import annotations

import base64
import io
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from helpers import AXE, STAFF, STAFF_PASSWORD, euros
from kroi.web.i18n import translate

Rows = Callable[..., list[dict[str, Any]]]
SignIn = Callable[..., Page]
FORBIDDEN = translate("fi", "admin.forbidden_text")  # the role guard's 403 page (a CSRF failure says otherwise)


def jpeg(seed: int, size: tuple[int, int] = (800, 600)) -> bytes:
    """A photo-like JPEG: noise over a colour of its own, so each file differs and weighs a few hundred kB."""
    rnd = random.Random(seed)
    base = Image.new("RGB", size, (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    noise = Image.effect_noise(size, 60).convert("RGB")
    out = io.BytesIO()
    Image.blend(base, noise, 0.35).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def signed_in() -> dict[str, Any]:
    """role -> the storage state (session and CSRF cookies) of its first sign-in: later tests skip the form."""
    return {}


@pytest.fixture
def sign_in(browser: Browser, admin_server: str, signed_in: dict[str, Any]) -> Iterator[SignIn]:
    """sign_in(role, form=False, **context_args): a new browser context on the admin server with a signed-in page
    on the dashboard; through the sign-in form the first time per role (or when form=True)."""
    contexts = []

    def open_as(role: str, form: bool = False, **context_args: Any) -> Page:
        reuse = not form and role in signed_in
        context = browser.new_context(base_url=admin_server, storage_state=signed_in[role] if reuse else None,
                                      **context_args)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if reuse:
            page.goto("/admin")
        else:
            page.goto("/admin/login")
            page.get_by_label("Sähköposti").fill(STAFF[role])
            page.get_by_label("Salasana").fill(STAFF_PASSWORD)
            page.get_by_role("button", name="Kirjaudu", exact=True).click()
        expect(page).to_have_url(f"{admin_server}/admin")
        account = page.get_by_role("navigation", name="Oma tili")
        expect(account).to_contain_text(STAFF[role])
        expect(account.get_by_role("button", name="Kirjaudu ulos")).to_be_visible()
        signed_in[role] = context.storage_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


def add_car(page: Page, model: str, price: int, status: str = "available") -> int:
    """Fill the new-car form (from the cars list) and save it; returns the new car's id from the edit page's URL."""
    page.get_by_role("navigation", name="Hallinta").get_by_role("link", name="Autot", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/cars$"))
    page.get_by_role("link", name="Lisää auto").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lisää auto")
    page.locator("#car-brand").fill("Lada")
    page.locator("#car-model").fill(model)
    page.locator("#car-model_year").fill("2021")
    page.locator("#car-price").fill(f"{price:,}".replace(",", " "))
    page.locator("#car-mileage_km").fill("45000")
    page.locator("#car-fuel").select_option("diesel")
    page.locator("#car-transmission").select_option("automatic")
    page.locator("#car-drive").select_option("awd")
    page.locator("#car-body_type").select_option("suv")
    status_select = page.locator("#car-status")
    assert status in status_select.locator("option").evaluate_all("os => os.map(o => o.value)")
    status_select.select_option(status)
    page.get_by_role("button", name="Tallenna").click()
    expect(page).to_have_url(re.compile(r"/admin/cars/\d+\?saved=1$"))
    expect(page.get_by_role("status").filter(has_text="Tallennettu")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Lada {model}")
    return int(re.search(r"/admin/cars/(\d+)", page.url).group(1))  # type: ignore[union-attr]


def axe_problems(page: Page) -> str:
    """axe-core's serious and critical violations on the page, one line each ('' when none)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run({resultTypes: ['violations']})")  # details of passes only cost time
    assert result["passes"], "axe ran no checks"
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(n["target"]) + ": " + (n.get("failureSummary") or "").replace("\n", " ")
                    for n in v["nodes"][:5])
        for v in result["violations"] if v["impact"] in ("serious", "critical"))


def thumbnail_ids(page: Page) -> list[str]:
    return page.locator("#images li.image-item").evaluate_all("els => els.map(e => e.dataset.imageId)")


def test_admin_adds_a_car_with_two_photos_publishes_it_sees_it_listed_at_once_and_sells_it(
        sign_in: SignIn, admin_rows: Rows, tmp_path: Path) -> None:
    page = sign_in("admin", form=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Kojelauta")
    page.goto("/cars")  # the listing is now in the fragment cache: the new car must show up through it anyway
    expect(page.locator("#result-list article").first).to_be_visible()
    page.go_back()

    price = 23_450
    car_id = add_car(page, "Niva Travel E2E", price)
    assert admin_rows("SELECT status, price_cents FROM cars WHERE id = :id", id=car_id) == [
        {"status": "available", "price_cents": price * 100}]

    files = []
    for n in (1, 2):
        path = tmp_path / f"kuva-{n}.jpg"
        path.write_bytes(jpeg(n))
        files.append(path)
    images = page.locator("#images")
    expect(images).to_contain_text("Ei vielä kuvia.")
    page.evaluate("""() => { window.__marker = 1; window.__progress = [];
        document.addEventListener('htmx:xhr:progress', e => window.__progress.push(e.detail.loaded)); }""")
    page.set_input_files("input[name=images]", [str(f) for f in files])
    with page.expect_response(lambda r: r.url.endswith(f"/admin/cars/{car_id}/images")) as uploaded:
        images.get_by_role("button", name="Lataa kuvat").click()
    assert uploaded.value.status == 200
    expect(images.locator("li.image-item")).to_have_count(2)
    expect(images.get_by_role("status")).to_have_text("2 kuvaa lisätty.")
    expect(images.locator("li.image-item").first.locator(".tag")).to_have_text("Pääkuva")
    for img in images.locator("li.image-item img").all():
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("i => i.naturalWidth") > 0, f"thumbnail {img.get_attribute('src')} did not load"
    assert page.evaluate("window.__marker") == 1, "the upload reloaded the page"
    assert page.evaluate("window.__progress.length") > 0, "no upload progress events"
    assert admin_rows("SELECT count(*) AS n FROM car_images WHERE car_id = :id", id=car_id) == [{"n": 2}]

    page.goto("/cars")
    card = page.locator(f"#result-list article[data-car-id='{car_id}']")
    expect(card).to_be_visible()
    expect(card.locator(".card-title")).to_have_text("Lada Niva Travel E2E")
    expect(card.locator(".card-price")).to_have_text(euros(price))
    expect(card.locator("img")).not_to_have_attribute("src", re.compile("no-photo"))
    card.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/cars/{car_id}-[a-z0-9-]+$"))
    public_url = page.url
    expect(page.locator(".status-sold")).to_have_count(0)  # this page is now cached, unsold

    page.goto("/admin/cars")
    page.locator(f"#sel-{car_id}").check()
    page.get_by_label("Valituille").select_option(label="Merkitse myydyksi")
    page.get_by_role("button", name="Suorita").click()
    table = page.locator("#car-table")
    expect(table.get_by_role("status")).to_have_text("1 autoa päivitetty.")
    expect(table.locator(f"tr[data-car-id='{car_id}'] .status")).to_have_text("Myyty")
    assert admin_rows("SELECT status, sold_at IS NOT NULL AS sold FROM cars WHERE id = :id", id=car_id) == [
        {"status": "sold", "sold": True}]

    page.goto(public_url)
    expect(page.locator(".status-note.status-sold")).to_contain_text("Myyty")


def test_sales_user_moves_a_lead_from_new_to_won_and_sees_the_timeline(sign_in: SignIn, admin_rows: Rows) -> None:
    lead_id = admin_rows(
        "INSERT INTO leads (type, name, email, message, consent_text, consent_at) VALUES "
        "('general', 'Liisa Liidi', 'liisa.liidi@example.fi', 'Kiinnostaa maasturi.', 'Suostun.', now()) "
        "RETURNING id")[0]["id"]
    page = sign_in("sales")
    page.get_by_role("navigation", name="Hallinta").get_by_role("link", name="Liidit").click()
    page.get_by_role("link", name=f"#{lead_id} Liisa Liidi").click()
    expect(page).to_have_url(re.compile(rf"/admin/leads/{lead_id}$"))
    panel = page.locator("#lead-panel")
    expect(panel.locator(".status")).to_have_text("Uusi")
    page.evaluate("window.__marker = 1")

    steps = [("contacted", "Yhteydessä"), ("qualified", "Kartoitettu"), ("negotiating", "Neuvottelu"),
             ("won", "Voitettu")]
    for status, label in steps:
        panel.get_by_label("Siirrä tilaan").select_option(status)
        with page.expect_response(lambda r: r.url.endswith(f"/admin/leads/{lead_id}/status")) as answer:
            panel.get_by_role("button", name="Vaihda tila").click()
        assert answer.value.status == 200
        expect(panel.locator(".status")).to_have_text(label)
    expect(panel.get_by_label("Siirrä tilaan")).to_have_count(0)  # won is final: no more moves offered

    note = "Kauppa tehty, auto noudetaan perjantaina."
    panel.get_by_label("Muistiinpano").fill(note)
    panel.get_by_role("button", name="Lisää muistiinpano").click()
    timeline = panel.locator("ol.timeline")
    expect(timeline.locator("li[data-kind=note]")).to_contain_text(note)
    changes = timeline.locator("li[data-kind=status_changed]")
    expect(changes).to_have_count(4)
    shown = [" ".join(t.split()) for t in changes.all_inner_texts()]
    labels = ["Uusi"] + [label for _, label in steps]
    for before, after in zip(labels, labels[1:]):  # newest first
        assert any(f"{before} → {after}" in line for line in shown), f"no {before} → {after} in {shown}"
    assert all(STAFF["sales"] in line for line in shown), shown
    assert page.evaluate("window.__marker") == 1, "a status change reloaded the page"

    lead = admin_rows("SELECT status, first_response_at IS NOT NULL AS answered FROM leads WHERE id = :id",
                      id=lead_id)
    assert lead == [{"status": "won", "answered": True}]
    assert admin_rows("SELECT body FROM lead_notes WHERE lead_id = :id", id=lead_id) == [{"body": note}]


def test_viewer_sees_no_edit_controls_and_the_server_refuses_forged_edits(
        sign_in: SignIn, admin_rows: Rows) -> None:
    car = admin_rows("SELECT id, price_cents, status FROM cars WHERE deleted_at IS NULL AND status = 'available' "
                     "ORDER BY id LIMIT 1")[0]
    lead_id = admin_rows(
        "INSERT INTO leads (type, name, email, consent_text, consent_at) VALUES "
        "('general', 'Ville Viewer', 'ville.viewer@example.fi', 'Suostun.', now()) RETURNING id")[0]["id"]
    page = sign_in("viewer")

    page.goto("/admin/cars")
    expect(page.locator(f"#car-table tr[data-car-id='{car['id']}']")).to_be_visible()
    expect(page.get_by_role("link", name="Lisää auto")).to_have_count(0)
    expect(page.locator(".bulk-bar")).to_have_count(0)
    expect(page.locator("#car-table input[type=checkbox]")).to_have_count(0)

    page.goto(f"/admin/cars/{car['id']}")
    form = page.locator("form.car-form")
    expect(form.get_by_role("button")).to_have_count(0)  # no "Tallenna"
    for field in ("#car-brand", "#car-price", "#car-status", "#car-description_fi", "#car-vat"):
        expect(form.locator(field)).to_be_disabled()
    expect(page.locator("#images form")).to_have_count(0)  # no upload, order, delete or alt-text forms
    expect(page.locator("#images [draggable=true], #images [data-sortable]")).to_have_count(0)

    # Forged: the viewer re-enables the form, changes the price and posts it with a valid CSRF token.
    forged = page.evaluate("""async () => {
        const form = document.querySelector('form.car-form');
        form.querySelector('fieldset').disabled = false;
        const data = new FormData(form);
        data.set('price', '1');
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken'];
        const r = await fetch(form.action, {method: 'POST', body: new URLSearchParams(data),
                                            headers: {'x-csrftoken': token}});
        return {status: r.status, text: await r.text()};
    }""")
    assert forged["status"] == 403 and FORBIDDEN in forged["text"], forged
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    bulk = page.request.post("/admin/cars/bulk", headers={"x-csrftoken": token},
                             form={"ids": str(car["id"]), "action": "sell"})
    assert bulk.status == 403 and FORBIDDEN in bulk.text(), (bulk.status, bulk.text()[:300])
    assert admin_rows("SELECT id, price_cents, status FROM cars WHERE id = :id", id=car["id"]) == [car]

    page.goto(f"/admin/leads/{lead_id}")
    panel = page.locator("#lead-panel")
    expect(panel).to_contain_text("Katselijana voit vain lukea.")
    expect(panel.locator("form")).to_have_count(0)  # no status, assignment or note forms
    for path, form_data in (("status", {"status": "contacted"}), ("notes", {"body": "väärennetty"}),
                            ("assign", {"assignee": ""})):
        answer = page.request.post(f"/admin/leads/{lead_id}/{path}", headers={"x-csrftoken": token},
                                   form=form_data)
        assert answer.status == 403 and FORBIDDEN in answer.text(), (path, answer.status, answer.text()[:300])
    assert admin_rows("SELECT status, assignee_id FROM leads WHERE id = :id", id=lead_id) == [
        {"status": "new", "assignee_id": None}]
    assert admin_rows("SELECT count(*) AS n FROM lead_notes WHERE lead_id = :id", id=lead_id) == [{"n": 0}]
    assert admin_rows("SELECT count(*) AS n FROM lead_activities WHERE lead_id = :id", id=lead_id) == [{"n": 0}]


def test_photos_dropped_on_the_form_upload_and_reorder_from_the_keyboard(sign_in: SignIn, admin_rows: Rows) -> None:
    page = sign_in("admin")
    car_id = add_car(page, "Niva Urban E2E", 18_900, status="draft")
    images = page.locator("#images")
    photos = [base64.b64encode(jpeg(seed)).decode() for seed in (3, 4)]
    with page.expect_response(lambda r: r.url.endswith(f"/admin/cars/{car_id}/images")) as uploaded:
        page.evaluate("""photos => {
            const dt = new DataTransfer();
            photos.forEach((b64, i) => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                dt.items.add(new File([bytes], `pudotettu-${i + 1}.jpg`, {type: 'image/jpeg'}));
            });
            const zone = document.querySelector('[data-dropzone]');
            zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""", photos)
    assert uploaded.value.status == 200
    expect(images.locator("li.image-item")).to_have_count(2)
    first, second = thumbnail_ids(page)

    # Move the second photo earlier: focus its button and press Enter.
    up = images.locator(f"li[data-image-id='{second}']").get_by_role("button", name="Siirrä aiemmaksi")
    up.focus()
    page.keyboard.press("Enter")
    expect(images.locator("li.image-item").first).to_have_attribute("data-image-id", second)
    assert thumbnail_ids(page) == [second, first]
    expect(images.locator("li.image-item").first.locator(".tag")).to_have_text("Pääkuva")
    # Focus stays with the moved photo (its first button still enabled), not lost to <body>.
    moved = images.locator(f"li[data-image-id='{second}']")
    expect(moved.get_by_role("button", name="Siirrä myöhemmäksi")).to_be_focused()
    page.keyboard.press("Enter")  # and so Enter again moves it back
    expect(images.locator("li.image-item").first).to_have_attribute("data-image-id", first)
    expect(moved.get_by_role("button", name="Siirrä aiemmaksi")).to_be_focused()

    # Make the second photo the main one, by keyboard.
    make_main = moved.get_by_role("button", name="Tee pääkuvaksi")
    make_main.focus()
    page.keyboard.press("Enter")
    expect(images.locator("li.image-item").first).to_have_attribute("data-image-id", second)
    assert thumbnail_ids(page) == [second, first]
    expect(moved.get_by_role("button", name="Siirrä myöhemmäksi")).to_be_focused()
    rows = admin_rows("SELECT id FROM car_images WHERE car_id = :id ORDER BY position", id=car_id)
    assert [str(r["id"]) for r in rows] == [second, first]


def test_no_serious_axe_violations_in_the_admin(browser: Browser, admin_server: str, sign_in: SignIn,
                                                 admin_rows: Rows) -> None:
    anonymous = browser.new_context(base_url=admin_server, bypass_csp=True)  # the CSP would block axe's script
    try:
        page = anonymous.new_page()
        page.goto("/admin/login")
        expect(page.get_by_label("Sähköposti")).to_be_visible()
        problems = {"/admin/login": axe_problems(page)}
    finally:
        anonymous.close()

    car_id = admin_rows("SELECT car_id FROM car_images GROUP BY car_id HAVING count(*) > 1 ORDER BY car_id "
                        "LIMIT 1")[0]["car_id"]  # a seeded car with photos: the image controls are checked too
    lead_id = admin_rows(
        "INSERT INTO leads (type, name, email, consent_text, consent_at, car_id) VALUES "
        "('car_inquiry', 'Aksel Axe', 'aksel.axe@example.fi', 'Suostun.', now(), :car) RETURNING id",
        car=car_id)[0]["id"]
    page = sign_in("admin", bypass_csp=True)
    for path in ("/admin/cars", f"/admin/cars/{car_id}", f"/admin/leads/{lead_id}"):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        problems[path] = axe_problems(page)
    bad = {path: found for path, found in problems.items() if found}
    assert not bad, "axe found serious/critical problems:\n" + "\n".join(f"{p}:\n{f}" for p, f in bad.items())
