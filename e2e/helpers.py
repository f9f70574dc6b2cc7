"""What the browser tests expect to see, computed from seed/cars.json, and small readers of the page."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from kroi.inventory.services import slugify
from kroi.seeding.original import SEED_DIR

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path("/tmp/e2e-shots")  # screenshots for a person to look at; not compared by the tests
PAGE_SIZE = 4  # the live server's page size: the nine seeded cars make pages of 4, 4 and 1
# The staff of the admin server (conftest's admin_server), each signing in with STAFF_PASSWORD: role -> e-mail.
STAFF = {"admin": "yllapito@example.test", "sales": "myyja@example.test", "viewer": "katselija@example.test"}
STAFF_PASSWORD = "e2e-staff-password-1"

SEED: list[dict[str, Any]] = json.loads((SEED_DIR / "cars.json").read_text(encoding="utf-8"))
# What /cars lists by default (available and reserved cars), newest listing first.
LISTED: list[dict[str, Any]] = sorted((c for c in SEED if c["status"] in ("available", "reserved")),
                                      key=lambda c: c["days_listed"])


def euros(amount: int) -> str:
    """21900 -> '21 900 €' as the site prints it."""
    return f"{amount:,}".replace(",", " ") + " €"


def title(car: dict[str, Any]) -> str:
    """A car as its card heading shows it: 'Toyota Corolla'."""
    return f"{car['brand']} {car['model']}"


def titles(cars: list[dict[str, Any]]) -> list[str]:
    return [title(c) for c in cars]


def brand_slug(car: dict[str, Any]) -> str:
    return slugify(car["brand"])


def count_text(n: int, lang: str = "fi") -> str:
    if lang == "en":
        return f"{n} car" if n == 1 else f"{n} cars"
    return f"{n} auto" if n == 1 else f"{n} autoa"


def card_titles(page: Page) -> list[str]:
    """'Brand Model' of every car card in the result list, in order, as shown."""
    return [" ".join(t.split()) for t in page.locator("#result-list article .card-title").all_inner_texts()]


def card_ids(page: Page) -> list[str]:
    return page.locator("#result-list article").evaluate_all("els => els.map(e => e.dataset.carId)")


def active_element(page: Page) -> dict[str, Any]:
    """What has keyboard focus: its tag, id, classes, text and href."""
    return page.evaluate("""() => { const e = document.activeElement; return e && {
        tag: e.tagName.toLowerCase(), id: e.id, cls: e.className, text: (e.innerText || '').trim(),
        href: e.getAttribute('href'), carId: e.closest('article') && e.closest('article').dataset.carId }; }""")


def axe_problems(page: Page, within: str | None = None) -> str:
    """axe-core's serious and critical violations on the page as it is now (or in the part `within` selects),
    as a report ('' when clean).

    The page's context needs bypass_csp=True: the site's CSP (script-src 'self') would block the injected script.
    """
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("within => within ? axe.run(within) : axe.run()", within)
    assert result["passes"], "axe ran no checks"
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(n["target"]) + ": " + (n.get("failureSummary") or "").replace("\n", " ")
                    for n in v["nodes"][:5])
        for v in bad)


# Elements (other than scrolling tracks and the skip link parked off-screen) reaching past the right edge.
OVERFLOW = """(within) => {
  const w = document.documentElement.clientWidth;
  return [...document.querySelectorAll(within + ' *')].filter(e => {
    if (e.closest('.gallery-track, .thumbs, .skip-link, .visually-hidden, .table-scroll')) return false;
    // inside a box that scrolls (or clips) sideways by itself, such as the phone's chip row: not the page's doing
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return false;
    }
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > w + 1;
  }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className);
}"""


def scrolls_sideways(page: Page, within: str = "body") -> list[str]:
    """What reaches past the screen's right edge ([] when the page fits), of everything or of the part `within`
    selects. Compares the document's scroll width with the screen (clientWidth), since a mobile viewport widens
    itself to fit overflowing content."""
    if page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"):
        return []
    return page.evaluate(OVERFLOW, within) or (["(the document is wider than the screen)"] if within == "body" else [])
