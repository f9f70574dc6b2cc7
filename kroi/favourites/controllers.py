"""GET /favourites (page or HTMX fragment) and GET /compare: server-rendered from the car ids in the address.

Nothing here is per visitor beyond the address: the list itself lives in the visitor's browser
(static/js/favourites.js) and reaches us only as `?ids=`.
"""
from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.favourites.schemas import COMPARE_MAX, COMPARE_MIN, MAX_FAVOURITES, ids_param, parse_ids
from kroi.favourites.services import FavouritesService
from kroi.inventory import financing
from kroi.system import services as site_settings
from kroi.web import i18n
from kroi.web.context import absolute_url, kroi, language, page_context
from kroi.web.render import html, wants_fragment

LIST_TEMPLATE = "favourites/list.html"
LIST_FRAGMENT = "favourites/_list.html"
COMPARE_TEMPLATE = "favourites/compare.html"


def _favourites_url(request: Request, ids: list[int], prices: dict[int, int] | None = None) -> str:
    path = request.app.route_reverse("favourites:list")
    return f"{path}?ids={ids_param(ids, prices)}" if ids else path


def _skipped_notes(lang: str, missing: int, ignored: int, capped: bool, cap: int,
                   capped_key: str = "fav.note.capped") -> list[str]:
    notes = []
    if missing:
        notes.append(i18n.translate(lang, "fav.note.missing", n=missing))
    if capped:
        notes.append(i18n.translate(lang, capped_key, n=cap))
    elif ignored:
        notes.append(i18n.translate(lang, "fav.note.ignored", n=ignored))
    return notes


@get("/favourites", name="favourites:list")
async def list_favourites(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    lang = language(request)
    wanted = parse_ids(request.query_params.getall("ids", []))
    saved = await FavouritesService(db_session).saved(wanted)
    shown = [s.card.id for s in saved.cars]
    prices = {i: p for i, p in wanted.saved_prices.items() if i in shown}
    ctx: dict[str, Any] = {
        "saved": saved, "asked": bool(wanted.ids) or wanted.ignored > 0,
        "ids_value": ids_param(shown, prices),
        "share_url": absolute_url(request, _favourites_url(request, shown, prices)) if shown else "",
        "remove_urls": {i: _favourites_url(request, [j for j in shown if j != i], prices) for i in shown},
        "notes": _skipped_notes(lang, saved.missing, wanted.ignored, wanted.capped, MAX_FAVOURITES),
        "compare_min": COMPARE_MIN, "compare_max": COMPARE_MAX,
        "compare_url": request.app.route_reverse("favourites:compare"),
        "list_url": request.app.route_reverse("favourites:list"),
    }
    site = await site_settings.load(db_session, k.cache)
    ctx["financing"] = site.financing
    if wants_fragment(request):
        return html(k.templates.page(LIST_FRAGMENT, k.templates.context(lang, **ctx)))
    return html(k.templates.page(LIST_TEMPLATE, page_context(request, lang, site, **ctx)))


@get("/compare", name="favourites:compare")
async def compare_cars(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    lang = language(request)
    values = request.query_params.getall("ids", [])
    wanted = parse_ids(values, cap=COMPARE_MAX)
    if len(values) > 1 and wanted.ids:
        # The favourites page's checkboxes send ids=1&ids=2: answer with the one short address to share.
        target = request.app.route_reverse("favourites:compare") + f"?ids={ids_param(wanted.ids)}"
        if request.query_params.get("lang") in i18n.LANGUAGES:
            target += f"&lang={request.query_params['lang']}"
        return Redirect(target, status_code=303)
    site = await site_settings.load(db_session, k.cache)

    def monthly(price_cents: int) -> int | None:
        return financing.example_monthly_cents(price_cents, site.financing)

    comparison = await FavouritesService(db_session).compare(wanted, lang, monthly)
    shown = [c.car.id for c in comparison.columns]
    ctx = page_context(
        request, lang, site, comparison=comparison, enough=len(shown) >= COMPARE_MIN,
        compare_min=COMPARE_MIN, compare_max=COMPARE_MAX,
        notes=_skipped_notes(lang, comparison.missing, wanted.ignored, wanted.capped, COMPARE_MAX, "fav.compare.capped"),
        favourites_url=_favourites_url(request, shown),
        share_url=absolute_url(request, request.app.route_reverse("favourites:compare") + f"?ids={ids_param(shown)}")
        if shown else "",
    )
    return html(k.templates.page(COMPARE_TEMPLATE, ctx))


ROUTES = [list_favourites, compare_cars]
