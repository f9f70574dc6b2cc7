"""Public inventory pages: home, /cars (page or HTMX fragment), car pages, sitemap and robots."""
from __future__ import annotations

import json
import re
import struct
from dataclasses import replace
from datetime import date
from math import ceil
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.exceptions import NotFoundException
from litestar.response import Redirect
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from kroi.analytics import charts
from kroi.cache import keys
from kroi.leads import controllers as lead_forms
from kroi.inventory import financing, understand
from kroi.inventory.chips import active_chips
from kroi.inventory.search import FIELD_LABEL_KEYS, MULTI, NUMBERS, Q_MAX, SORTS, CarQuery, Note, parse_query
from kroi.parsing import clean_text
from kroi.inventory.services import CarGone, InventoryService, Resolved, Vocabulary
from kroi.system import services as site_settings
from kroi.web import i18n
from kroi.web.context import absolute_url, alternates, kroi, language, page_context, same_site_referer, with_language
from kroi.web.errors import GoneException
from kroi.web.formatting import date_fi, local_date, money
from kroi.web.render import gzip_body, gzipped_html, html, wants_fragment

LIST_TEMPLATE = "inventory/list.html"
DETAIL_TEMPLATE = "inventory/detail.html"
CAR_REF = re.compile(r"^(\d{1,18})(?:-([a-z0-9-]*))?$")


def _args(request: Request) -> dict[str, list[str]]:
    return {k: request.query_params.getall(k) for k in request.query_params.keys()}


def _note_texts(lang: str, notes: list[Note]) -> list[str]:
    out = []
    for n in notes:
        field = i18n.translate(lang, FIELD_LABEL_KEYS.get(n.field or "", "")) if n.field else ""
        out.append(i18n.translate(lang, n.key, field=field, value=n.value or "", n=n.n or 0))
    return out




def _chip_names(r: Resolved, vocab: Vocabulary) -> dict[str, Any]:
    return vocab.chip_names(r.brand_id, r.model_id)


def _chips(request: Request, r: Resolved, vocab: Vocabulary, lang: str) -> dict[str, Markup]:
    """The active filters as removable chips and the filter button's count: rendered from the query alone."""
    t = kroi(request).templates
    ctx = t.context(lang, chips=active_chips(r.query, lang, _chip_names(r, vocab)), query=r.query,
                    clear_url=CarQuery(sort=r.query.sort).url("/cars"))
    return {"chips_html": Markup(t.page("inventory/_chips.html", ctx)),
            "filter_count_html": Markup(t.page("inventory/_filter_count.html", ctx))}


def _save_search(request: Request, r: Resolved, lang: str, total: int) -> Markup:
    """The results bar's "Tallenna hakuvahti" link for this search (empty when nothing is found)."""
    t = kroi(request).templates
    return Markup(t.page("alerts/_save_search.html", t.context(lang, query=r.query, total=total)))


async def _listing_pieces(request: Request, svc: InventoryService, r: Resolved, vocab: Vocabulary,
                          gens: dict[str, int] | None, lang: str, more: bool) -> dict[str, Any]:
    """The cached, rendered pieces of a listing: facet groups + count, and the results (or, when more, the next
    batch of a "show more" request). Cards show the financing example, so results depend on the settings too."""
    k = kroi(request)
    t = k.templates

    def key(*what: str) -> str | None:
        return keys.fragment(keys.INVENTORY, gens[keys.INVENTORY], *what) if gens else None

    base_ctx = t.context(lang, query=r.query, sorts=SORTS, multi=MULTI)

    async def render_facets() -> str:
        facets = await svc.facets(r)
        ctx = base_ctx | {"facets": facets, "brands": vocab.brands, "models": vocab.models, "brand_id": r.brand_id,
                          "model_id": r.model_id, "total": facets.total, "features": vocab.features}
        return json.dumps({
            "total": facets.total,
            "facets": t.page("inventory/_facets.html", ctx),
            "facets_more": t.page("inventory/_facets_more.html", ctx),
            "count": t.page("inventory/_count.html", ctx),
            "apply": t.page("inventory/_apply_label.html", ctx),
        })

    facets = json.loads(await k.cache.get_or_render(
        key("facets", lang, keys.digest(r.query.filters())), keys.TTL_FACETS, render_facets))

    async def render_results() -> str:
        listing = await svc.listing(r, facets["total"], k.settings.page_size)
        site = await site_settings.load(svc.session, k.cache)
        ctx = base_ctx | {"listing": listing, "financing": site.financing}
        if not listing.total and not more:
            ctx |= await _no_results(request, svc, r, vocab, lang)
        return t.page("inventory/_more.html" if more else "inventory/_results.html", ctx)

    results = await k.cache.get_or_render(
        key("more" if more else "results", lang, _settings_part(gens), keys.digest(r.query.cache_identity())),
        keys.TTL_LISTING, render_results)
    return {"facets_html": Markup(facets["facets"]), "facets_more_html": Markup(facets["facets_more"]),
            "count_html": Markup(facets["count"]), "apply_html": Markup(facets["apply"]),
            "results_html": Markup(results), "total": facets["total"]}


@get("/cars", name="inventory:list")
async def list_cars(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    lang = language(request)
    query, notes = parse_query(_args(request))
    svc = InventoryService.of(k, db_session)
    gens = await k.cache.generations([keys.INVENTORY, keys.SETTINGS])
    gen = gens[keys.INVENTORY] if gens else None
    vocab = await svc.vocabulary(gen)
    r = await svc.resolve(query, notes, vocab)
    fragment = wants_fragment(request)
    note_texts = _note_texts(lang, r.notes)
    more = fragment and r.query.cursor is not None
    if fragment:
        # The whole HTMX answer is cached too, compressed: a warm filter change costs two Redis reads.
        async def render_fragment() -> bytes:
            pieces = await _listing_pieces(request, svc, r, vocab, gens, lang, more)
            body = pieces["results_html"]
            if not more:
                texts = note_texts + _page_note(lang, r, pieces["total"], k.settings.page_size)
                notes_html = k.templates.page("inventory/_notes.html", k.templates.context(lang, notes=texts))
                chips = _chips(request, r, vocab, lang)
                body += (pieces["count_html"] + pieces["apply_html"] + pieces["facets_html"]
                         + pieces["facets_more_html"] + Markup(notes_html) + chips["chips_html"]
                         + chips["filter_count_html"] + _save_search(request, r, lang, pieces["total"]))
            return _TOTAL.pack(pieces["total"]) + gzip_body(body)

        key = (keys.fragment(keys.INVENTORY, gen, "htmx", lang, _settings_part(gens),
                             keys.digest([r.query.cache_identity(), note_texts])) if gens else None)
        cached = await k.cache.get_or_compute(key, keys.TTL_LISTING, render_fragment)
        (total,) = _TOTAL.unpack_from(cached)
        await _record_search(request, svc, r, total, lang)
        canonical = _last_page(r, total, k.settings.page_size).url("/cars")
        return gzipped_html(request, cached[_TOTAL.size:],
                            headers=None if more else {"HX-Push-Url": with_language(canonical, lang)})
    pieces = await _listing_pieces(request, svc, r, vocab, gens, lang, more=False)
    await _record_search(request, svc, r, pieces["total"], lang)
    site = await site_settings.load(db_session, k.cache)
    canonical = _last_page(r, pieces["total"], k.settings.page_size).url("/cars")
    note_texts += _page_note(lang, r, pieces["total"], k.settings.page_size)
    ctx = page_context(request, lang, site, query=r.query, notes=note_texts, sorts=SORTS, multi=MULTI,
                       **_chips(request, r, vocab, lang), save_search_html=_save_search(request, r, lang, pieces["total"]),
                       canonical=absolute_url(request, canonical), **pieces)
    return html(k.templates.page(LIST_TEMPLATE, ctx))


async def _no_results(request: Request, svc: InventoryService, r: Resolved, vocab: Vocabulary,
                      lang: str) -> dict[str, Any]:
    """What a search that found nothing tried, and what would find cars: each constraint dropped in turn (with its
    count), the nearest make or model to a word of the text, a search alert and a "find me a car" request."""
    chips = active_chips(r.query, lang, _chip_names(r, vocab))
    relax = []
    for chip in chips:
        n = await svc.count(parse_query(parse_qs(urlsplit(chip.url).query))[0], vocab)
        if n:
            relax.append((i18n.translate(lang, "search.without_one" if n == 1 else "search.without",
                                         what=chip.label, n=n), chip.url))
    spelling = await svc.spelling(r, vocab)
    if spelling is not None:
        n = await svc.count(spelling[1], vocab)
        if n:
            relax.insert(0, (i18n.translate(lang, "search.spelling_one" if n == 1 else "search.spelling",
                                            name=spelling[0], n=n), spelling[1].url("/cars")))
    search = r.query.url("/cars", page=1, cursor=None)
    pairs = r.query.params(page=1, cursor=None) + ([("lang", lang)] if request.query_params.get("lang") else [])
    return {"tried": ", ".join(c.label for c in chips), "relax": relax,
            "alert_url": "/alerts/new?" + urlencode(pairs),
            "find_me_url": "/contact?" + urlencode([("type", "contact"), ("search", search)]
                                                   + ([("lang", lang)] if request.query_params.get("lang") else []))}


def _settings_part(gens: dict[str, int] | None) -> str:
    """The settings generation as a key part: cards carry the financing example of the dealer's terms."""
    return f"s{gens[keys.SETTINGS]}" if gens else ""


def _last_page(r: Resolved, total: int, page_size: int) -> CarQuery:
    """The query as shown: a page number past the end shows (and links to) the last page."""
    pages = max(1, ceil(total / page_size))
    return replace(r.query, page=pages) if r.query.cursor is None and r.query.page > pages else r.query


def _page_note(lang: str, r: Resolved, total: int, page_size: int) -> list[str]:
    shown = _last_page(r, total, page_size)
    if shown.page == r.query.page:
        return []
    return _note_texts(lang, [Note("note.page_past_end", "page", str(r.query.page), shown.page)])


_TOTAL = struct.Struct(">Q")  # the result count, stored ahead of a cached fragment for the search log


async def _record_search(request: Request, svc: InventoryService, r: Resolved, total: int, lang: str) -> None:
    # The search as typed is recorded, with the filters its words became: "maasturi" that found SUVs is a search
    # with results, not one for the "searches without results" list.
    if r.typed_q and r.query.page == 1 and r.query.cursor is None:
        who = keys.digest([request.client.host if request.client else "", request.headers.get("user-agent", "")])
        await svc.record_search(r.typed_q, r.query.filters(), total, lang, who)


@get("/cars/suggest", name="inventory:suggest")
async def suggest_search(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    """Search-as-you-type: the options of the search box's combobox (an HTML fragment, cached like the others)."""
    k = kroi(request)
    lang = language(request)
    q = clean_text(request.query_params.get("q") or "")[:Q_MAX]
    svc = InventoryService.of(k, db_session)
    gens = await k.cache.generations([keys.INVENTORY])
    gen = gens[keys.INVENTORY] if gens else None

    async def render() -> str:
        vocab = await svc.vocabulary(gen)
        facets = await svc.facets(await svc.resolve(CarQuery(), [], vocab))
        labels = {name: {v: i18n.label(lang, vocabulary, v) for v in MULTI[name]}
                  for name, vocabulary in (("category", "body_type"), ("fuel", "fuel"))}
        options = understand.suggest(q, vocab.names, facets.counts, labels)
        return k.templates.page("inventory/_suggest.html", k.templates.context(lang, options=options, q=q))

    key = keys.fragment(keys.INVENTORY, gen, "suggest", lang, keys.digest(understand.normalize(q) + "|" + q)) \
        if gens else None
    body = await k.cache.get_or_render(key, keys.TTL_LISTING, render)
    return html(body, cache_control="public, max-age=60")


@get("/", name="home")
async def home(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    lang = language(request)
    svc = InventoryService.of(k, db_session)
    site = await site_settings.load(db_session, k.cache)
    gens = await k.cache.generations([keys.INVENTORY, keys.SETTINGS])

    async def render_featured() -> str:
        cards = await svc.repo.featured()
        counts = await svc.repo.counts_by_body_type()
        return json.dumps({
            "html": k.templates.page("home/_featured.html", k.templates.context(
                lang, featured=cards, body_counts=counts, financing=site.financing)),
            "brand_ids": await svc.repo.listed_brand_ids(),
        })

    key = keys.fragment(keys.INVENTORY, gens[keys.INVENTORY], "home", lang, _settings_part(gens)) if gens else None
    featured = json.loads(await k.cache.get_or_render(key, keys.TTL_FEATURED, render_featured))
    vocab = await svc.vocabulary(gens[keys.INVENTORY] if gens else None)
    for_sale = set(featured["brand_ids"])
    ctx = page_context(request, lang, site, featured_html=Markup(featured["html"]),
                       brands=[b for b in vocab.brands if b.id in for_sale], canonical=absolute_url(request, "/"))
    return html(k.templates.page("home.html", ctx))


@get("/cars/{ref:str}", name="inventory:detail")
async def show_car(request: Request, db_session: NamedDependency[AsyncSession], ref: FromPath[str]) -> Response:
    return await _car_page(request, db_session, ref)


@get("/cars/{ref:str}/financing", name="inventory:financing")
async def car_financing(request: Request, db_session: NamedDependency[AsyncSession], ref: FromPath[str]) -> Response:
    """The financing calculator for a down payment (€) and a term (months): the result fragment for htmx, the
    whole car page with the result otherwise (the calculator's GET form without JavaScript)."""
    q = request.query_params
    return await _car_page(request, db_session, ref, calculator=(q.get("down"), q.get("months")))


async def _car_page(request: Request, db_session: AsyncSession, ref: str,
                    calculator: tuple[str | None, str | None] | None = None) -> Response:
    """A car page; with calculator (raw down payment and term), the financing calculator shows their result
    (the page body is then rendered for this request instead of taken from the cache)."""
    k = kroi(request)
    lang = language(request)
    match = CAR_REF.match(ref)
    if not match:
        raise NotFoundException(detail="car")
    car_id = int(match.group(1))
    svc = InventoryService.of(k, db_session)
    gens = await k.cache.generations([keys.car_scope(car_id), keys.INVENTORY, keys.SETTINGS])

    async def load_head() -> str:
        try:
            car = await svc.car(car_id)
        except CarGone:
            return json.dumps({"state": "gone"})
        if car is None:
            # Not cached: a car created later under this id (a seed or import that bypasses the services
            # and their invalidation) must not answer 404 for a day.
            raise NotFoundException(detail="car")
        return json.dumps({"state": "ok", "slug": car.slug})

    head_key = keys.fragment(keys.car_scope(car_id), gens[keys.car_scope(car_id)], "head") if gens else None
    head = json.loads(await k.cache.get_or_render(head_key, keys.TTL_DETAIL, load_head))
    if head["state"] == "gone":
        raise GoneException()
    if match.group(2) != head["slug"]:
        route = "inventory:detail" if calculator is None else "inventory:financing"
        target = request.app.route_reverse(route, ref=f"{car_id}-{head['slug']}")
        # The query string (utm_* tags, lang) survives the move to the canonical address.
        return Redirect(target + (f"?{request.url.query}" if request.url.query else ""), status_code=301)

    site = await site_settings.load(db_session, k.cache)
    page_path = request.app.route_reverse("inventory:detail", ref=f"{car_id}-{head['slug']}")
    canonical = absolute_url(request, page_path)

    async def render_body(calc: financing.Calculation | None = None) -> str:
        car = await svc.car(car_id)
        if car is None:
            raise NotFoundException(detail="car")
        drop = await svc.repo.latest_price_drop(car_id)
        history = _price_history(lang, await svc.repo.price_history(car_id))
        ctx = k.templates.context(lang, car=car, price_drop=drop,
                                  financing=calc or _financing(car.price_cents, car.status, site),
                                  json_ld_data=_json_ld(car, canonical, lang, media_link(request, "").rstrip("/")),
                                  site=site, page_url=canonical, price_history=history)
        return json.dumps({"body": k.templates.page("inventory/_detail_body.html", ctx),
                           "title": car.title, "status": car.status, "brand_id": car.brand_id,
                           "price": car.price_cents,
                           "description": (car.description_en if lang == "en" else car.description_fi)[:160],
                           "image": car.images[0].path if car.images else None})

    body_key = (keys.fragment(keys.car_scope(car_id), gens[keys.car_scope(car_id)], "body", lang,
                              str(gens[keys.SETTINGS])) if gens else None)
    body = json.loads(await k.cache.get_or_render(body_key, keys.TTL_DETAIL, render_body))
    status_code = 200
    if calculator is not None:
        if not financing.offered(body["price"], body["status"]):
            raise NotFoundException(detail="financing")
        calc = financing.calculate(body["price"], financing.Terms.from_settings(site.financing), *calculator)
        status_code = 422 if calc.errors else 200
        if wants_fragment(request):
            fragment = k.templates.page("inventory/_financing_result.html", k.templates.context(
                lang, financing=calc, car=lead_forms.CarRef(car_id, body["title"], body["price"]), oob=True))
            return html(fragment, status_code=status_code)
        body = json.loads(await render_body(calc))

    async def render_related() -> str:
        car = await svc.car(car_id)
        cards = await svc.repo.related(car) if car else []
        return k.templates.page("inventory/_related.html",
                                k.templates.context(lang, related=cards, financing=site.financing))

    related_key = (keys.fragment(keys.INVENTORY, gens[keys.INVENTORY], "related", str(car_id), lang,
                                 _settings_part(gens)) if gens else None)
    related_html = await k.cache.get_or_render(related_key, keys.TTL_RELATED, render_related)
    if calculator is None:
        await svc.record_view(car_id)
    inquiry_html = None
    if body["status"] != "sold":
        inquiry = lead_forms.form_context(request, lang, site, "inquiry", lead_forms.CarRef(car_id, body["title"], body["price"]))
        inquiry_html = Markup(lead_forms.render_form(request, inquiry))
    ctx = page_context(request, lang, site, body_html=Markup(body["body"]), related_html=Markup(related_html),
                       back_url=_back_to_results(request),
                       inquiry_html=inquiry_html,
                       title=body["title"], description=body["description"], canonical=canonical,
                       og_image=media_link(request, f"{body['image']}-full.webp") if body["image"] else None)
    return html(k.templates.page(DETAIL_TEMPLATE, ctx), status_code=status_code)


def _back_to_results(request: Request) -> str:
    """The shopper's own search when they came from one on this site, else the whole inventory."""
    referer = same_site_referer(request)
    if referer and referer.path == "/cars" and len(referer.query) <= 2000:
        return "/cars" + (f"?{referer.query}" if referer.query else "")
    return "/cars"


def _financing(price_cents: int, status: str, site: site_settings.SiteSettings) -> financing.Calculation | None:
    """The calculator with the dealer's default down payment and term (the page as cached)."""
    if not financing.offered(price_cents, status):
        return None
    return financing.calculate(price_cents, financing.Terms.from_settings(site.financing))


def _price_history(lang: str, rows: list) -> dict[str, Any] | None:  # noqa: ANN001 (CarPriceHistory rows)
    """The prices the car has had, oldest first, and their chart; None while the price has never changed."""
    points = [(local_date(r.changed_at), r.new_price_cents) for r in sorted(rows, key=lambda r: (r.changed_at, r.id))]
    if len(points) < 2 or all(r.old_price_cents is None for r in rows):
        return None
    title = i18n.translate(lang, "car.price_history")
    chart = charts.step_line([(d.toordinal(), cents / 100) for d, cents in points], title,
                             x_text=lambda x: date_fi(date.fromordinal(int(x))),
                             y_text=lambda y: money(round(y * 100)))
    return {"points": points, "chart": chart}


SCHEMA_FUEL = {"petrol": "Gasoline", "diesel": "Diesel", "hybrid": "Hybrid", "plug_in_hybrid": "Plug-in hybrid",
               "electric": "Electricity", "gas": "CNG"}
SCHEMA_DRIVE = {"fwd": "https://schema.org/FrontWheelDriveConfiguration",
                "rwd": "https://schema.org/RearWheelDriveConfiguration",
                "awd": "https://schema.org/AllWheelDriveConfiguration"}


def media_link(request: Request, key: str) -> str:
    """Absolute URL of a stored file (media_url may already be absolute, e.g. a bucket or CDN)."""
    base = kroi(request).settings.media_url.rstrip("/")
    return f"{base}/{key}" if base.startswith(("http://", "https://")) else absolute_url(request, f"{base}/{key}")


def _json_ld(car, url: str, lang: str, media_base: str) -> dict[str, Any]:  # noqa: ANN001
    availability = {"available": "InStock", "reserved": "LimitedAvailability", "sold": "SoldOut"}[car.status]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Car",
        "name": car.title,
        "url": url,
        "brand": {"@type": "Brand", "name": car.brand.name},
        "model": car.model.name,
        "vehicleModelDate": str(car.model_year),
        "mileageFromOdometer": {"@type": "QuantitativeValue", "value": car.mileage_km, "unitCode": "KMT"},
        "fuelType": SCHEMA_FUEL[car.fuel],
        "vehicleTransmission": i18n.label("en", "transmission", car.transmission),
        "driveWheelConfiguration": SCHEMA_DRIVE[car.drive],
        "bodyType": i18n.label(lang, "body_type", car.body_type),
        "color": car.colour or None,
        "itemCondition": "https://schema.org/UsedCondition",
        "description": (car.description_en if lang == "en" else car.description_fi)[:500],
        "offers": {"@type": "Offer", "price": f"{car.price_cents / 100:.2f}", "priceCurrency": "EUR",
                   "availability": f"https://schema.org/{availability}", "url": url},
    }
    if car.first_registration:
        data["dateVehicleFirstRegistered"] = car.first_registration.isoformat()
    if car.vin:
        data["vehicleIdentificationNumber"] = car.vin
    if car.power_kw:
        data["vehicleEngine"] = {"@type": "EngineSpecification",
                                 "enginePower": {"@type": "QuantitativeValue", "value": car.power_kw, "unitCode": "KWT"}}
    if car.images:
        data["image"] = [f"{media_base}/{img.path}-full.webp" for img in car.images]
    return {k: v for k, v in data.items() if v is not None}


@get("/sitemap.xml", name="sitemap", media_type="application/xml")
async def sitemap(request: Request, db_session: NamedDependency[AsyncSession]) -> Response:
    k = kroi(request)
    gens = await k.cache.generations([keys.INVENTORY])

    async def render() -> str:
        entries = await InventoryService.of(k, db_session).repo.sitemap_entries()
        pages = [(request.app.route_reverse(name), None)
                 for name in ("home", "inventory:list", "leads:contact", "pages:privacy", "pages:terms")]
        pages += [(f"/cars/{i}-{slug}", updated) for i, slug, updated in entries]
        # Each language's address is its own <url>, listing the same hreflang alternates as the page's <head>.
        urls = []
        for path, updated in pages:
            links = alternates(request, absolute_url(request, path))
            urls += [(href, updated, links) for code, href in links if code != "x-default"]
        return k.templates.page("sitemap.xml", {"urls": urls})

    key = keys.fragment(keys.INVENTORY, gens[keys.INVENTORY], "sitemap") if gens else None
    body = await k.cache.get_or_render(key, keys.TTL_LISTING, render)
    return Response(body, media_type="application/xml")


@get("/robots.txt", name="robots", media_type="text/plain")
async def robots(request: Request) -> str:
    return f"User-agent: *\nAllow: /\nDisallow: /admin\nDisallow: /api\n\nSitemap: {absolute_url(request, '/sitemap.xml')}\n"


ROUTES = [home, list_cars, suggest_search, show_car, car_financing, sitemap, robots]
