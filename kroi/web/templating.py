"""The Jinja environment: autoescape on, filters for money/km/dates, static URLs with content hashes."""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from kroi.inventory import financing
from kroi.web import formatting, i18n

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


@lru_cache(maxsize=256)
def static_url(path: str) -> str:
    """/static/... with a content hash, so files can be cached for a year and still update."""
    file = STATIC / path
    version = hashlib.blake2b(file.read_bytes(), digest_size=5).hexdigest() if file.exists() else "0"
    return f"/static/{path}?v={version}"


def is_local_path(value: object) -> bool:
    """A path on this site ("/cars?…"), never another host: no scheme or host, no "//" or backslash (browsers
    read "/\\x" as "//x"), no control characters (browsers drop tabs and line breaks from a URL)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def json_ld(value: Any) -> Markup:
    """JSON for a <script type=application/ld+json> block; '<', '>' and '&' escaped so it cannot end the tag."""
    text = json.dumps(value, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML, escaped: a blank line starts a paragraph, a paragraph starting with "## " is a heading
    (h2), a single line break stays a line break."""
    parts = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        block = block.strip()
        if not block:
            continue
        if block.startswith("## "):
            parts.append(Markup("<h2>{}</h2>").format(block[3:].strip()))
        else:
            parts.append(Markup("<p>{}</p>").format(Markup("<br>").join(block.split("\n"))))
    return Markup("\n").join(parts)


def make_environment(media_base: str = "/media") -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        money=formatting.money, km=formatting.km, date_fi=formatting.date_fi, decimal=formatting.decimal,
        thousands=formatting.group_thousands, dt=formatting.local_datetime, power=formatting.power,
        monthly=financing.example_monthly_cents, paragraphs=paragraphs, colour=formatting.colour_name,
    )
    def media_url(path: str | None, variant: str) -> str:
        return f"{media_base}/{path}-{variant}.webp" if path else static_url("img/no-photo.svg")

    env.globals.update(static_url=static_url, media_url=media_url, json_ld=json_ld)
    env.tests["local_path"] = is_local_path
    return env


# trust: links within English pages keep ?lang=en, so a page's address is shareable in its language.
_SITE_LINK = re.compile(r'(\s(?:href|action|hx-get|hx-post)=")(/(?!/|static/|media/|lang/)[^"]*)"')
_GET_FORM = re.compile(r'<form\b[^>]*\bmethod="get"[^>]*>', re.IGNORECASE)
_LANG_INPUT = '<input type="hidden" name="lang" value="en">'


def _english_link(match: re.Match[str]) -> str:
    url = match.group(2)
    path, hash_mark, fragment = url.partition("#")
    if "lang=" in path:
        return match.group(0)
    path += ("&amp;" if "?" in path else "?") + "lang=en"
    return f'{match.group(1)}{path}{hash_mark}{fragment}"'


def keep_english(body: str) -> str:
    """An English page's same-site links and GET forms carry lang=en (static files and /lang/ excepted)."""
    body = _SITE_LINK.sub(_english_link, body)
    return _GET_FORM.sub(lambda m: m.group(0) + _LANG_INPUT, body)


class Templates:
    def __init__(self, media_base: str = "/media") -> None:
        self.env = make_environment(media_base.rstrip("/"))

    def context(self, lang: str, **values: Any) -> dict[str, Any]:
        def t(key: str, **params: Any) -> str:
            return i18n.translate(lang, key, **params)

        def label(vocabulary: str, value: str | None) -> str:
            return i18n.label(lang, vocabulary, value)

        def response_within(hours: float) -> str:
            return i18n.response_within(lang, hours)

        return {"lang": lang, "t": t, "label": label, "response_within": response_within, **values}

    def page(self, name: str, ctx: dict[str, Any]) -> str:
        body = self.env.get_template(name).render(ctx)
        public = name.endswith(".html") and not name.startswith(("admin/", "mail/"))
        return keep_english(body) if public and ctx.get("lang") == "en" else body
