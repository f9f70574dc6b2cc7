"""Read what a shopper typed: words that name a filter (body type, fuel, gearbox, drive, make, model) become that
filter; the rest stays a full-text search. Makes and models tolerate typos, spacing and hyphens.

Matching is done here in Python against the vocabulary (a few hundred names), not in SQL: the embedded
PostgreSQL has no pg_trgm, and the same code then serves both it and production.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from kroi.inventory.search import MULTI, CarQuery

# Words (normalized: lower case, no accents, no spaces or hyphens) → (filter, value). Finnish and English, with the
# common synonyms; simple Finnish inflections are handled by _stems.
WORDS: dict[str, tuple[str, str]] = {}


def _add(name: str, value: str, *words: str) -> None:
    for w in words:
        WORDS[normalize(w)] = (name, value)


def normalize(text: str) -> str:
    """'Škoda', 'RAV-4', 'xc 60' → 'skoda', 'rav4', 'xc60': case, accents, spaces and hyphens do not count."""
    text = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text)


_add("category", "suv", "maasturi", "katumaasturi", "citymaasturi", "suv", "crossover", "jeeppi", "maastoauto",
     "sport utility")
_add("category", "estate", "farmari", "farmariauto", "estate", "wagon", "kombi", "touring", "sportswagon")
_add("category", "mpv", "tila-auto", "tilaauto", "mpv", "minivan", "perheauto")
_add("category", "van", "pakettiauto", "paku", "pakkari", "van", "kaappiauto")
_add("category", "hatchback", "viistoperä", "hatchback", "hatchi")
_add("category", "sedan", "sedan", "porrasperä", "saloon")
_add("category", "coupe", "coupe", "coupé", "urheiluauto")
_add("category", "convertible", "avoauto", "cabriolet", "cabrio", "convertible", "avo-auto")
_add("category", "pickup", "avolava", "pickup", "lava-auto", "pick-up")
_add("fuel", "electric", "sähköauto", "sähkö", "täyssähkö", "täyssähköauto", "electric", "ev", "bev", "sähköinen")
_add("fuel", "plug_in_hybrid", "lataushybridi", "ladattava hybridi", "plug-in hybrid", "plug-in", "pluginhybrid",
     "phev", "plugin")
_add("fuel", "hybrid", "hybridi", "hybrid", "hev", "täyshybridi", "hybridiauto")
_add("fuel", "diesel", "diesel", "dieselauto", "tdi", "dieselmoottori")
_add("fuel", "petrol", "bensiini", "bensa", "bensiiniauto", "petrol", "gasoline", "bensakone")
_add("fuel", "gas", "kaasu", "kaasuauto", "biokaasu", "cng", "gas", "maakaasu")
_add("transmission", "automatic", "automaatti", "automaattivaihteisto", "automaattivaihteinen", "automatic",
     "autom", "aut", "dsg", "automaattilaatikko")
_add("transmission", "manual", "manuaali", "manuaalivaihteisto", "manuaalivaihteinen", "manual", "käsivalintainen",
     "käsivaihteinen", "manuaalilaatikko")
_add("drive", "awd", "neliveto", "nelivetoinen", "nelivetoauto", "4x4", "awd", "4wd", "allwheel", "all-wheel drive",
     "quattro", "4motion", "xdrive")
_add("drive", "fwd", "etuveto", "etuvetoinen", "fwd", "front-wheel drive")
_add("drive", "rwd", "takaveto", "takavetoinen", "rwd", "rear-wheel drive")

# Finnish endings tried when a word is not known as such: "maasturit", "dieselit", "farmareita", "hybridejä".
_ENDINGS = ("eita", "eja", "ina", "ia", "ja", "ita", "it", "na", "ksi", "lla", "n", "t", "a")
_MAX_WORDS = 3  # "all wheel drive", "land rover defender"


@dataclass(frozen=True)
class Name:
    """A make or model name to match: its normalized form and what it sets."""

    key: str
    brand: str  # brand slug
    model: str | None  # model slug (None: the make itself)
    label: str  # "Toyota Corolla"
    own: str  # "Corolla": the name as written on its own
    id: int = 0  # the brand's id for a make, the model's id for a model


@dataclass
class Understood:
    """What a search's words became: the query with those filters, the leftover text, and how it was read."""

    query: CarQuery
    words: list[str] = field(default_factory=list)  # the words that became filters, as typed
    corrected: str | None = None  # "Toyota Corolla" when a make or model was read from a misspelling

    @property
    def changed(self) -> bool:
        return bool(self.words)


def names(brands: Sequence, models: Sequence) -> list[Name]:
    """Matchable names from the vocabulary's brands and models (objects with id, name, slug[, brand_id])."""
    by_id = {b.id: b for b in brands}
    out = [Name(normalize(b.name), b.slug, None, b.name, b.name, b.id) for b in brands]
    for m in models:
        b = by_id.get(m.brand_id)
        if b is None:
            continue
        label = f"{b.name} {m.name}"
        out.append(Name(normalize(m.name), b.slug, m.slug, label, m.name, m.id))
        out.append(Name(normalize(b.name + m.name), b.slug, m.slug, label, label, m.id))
    return [n for n in out if n.key]


def _allowed_typos(word: str) -> int:
    # Short words are too easy to mistake for a name ("musta" is not "Mustang", "ford" not "fiat").
    if len(word) >= 8:
        return 2
    return 1 if len(word) >= 5 else 0


def _stems(word: str) -> list[str]:
    out = [word]
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            out.append(word[: -len(ending)])
    return out


def _vocabulary_word(key: str) -> tuple[str, str] | None:
    for stem in _stems(key):
        if stem in WORDS:
            return WORDS[stem]
    return None


def _name(key: str, known: list[Name]) -> tuple[Name, bool] | None:
    """The make or model `key` names: (name, exact?). A typo is accepted only when one name is nearest."""
    exact = [n for n in known if n.key == key]
    if exact:
        return _prefer(exact), True
    allowed = _allowed_typos(key)
    if not allowed or key.isdigit():
        return None
    best: list[tuple[int, Name]] = []
    for n in known:
        if abs(len(n.key) - len(key)) > allowed:
            continue
        d = Levenshtein.distance(key, n.key, score_cutoff=allowed)
        if d <= allowed:
            best.append((d, n))
    if not best:
        return None
    low = min(d for d, _ in best)
    nearest = [n for d, n in best if d == low]
    if len({(n.brand, n.model) for n in nearest}) > 1:
        return None
    return nearest[0], False


def _prefer(found: list[Name]) -> Name:
    # A word that is both a make and a model of it ("Mini") is read as the make.
    return next((n for n in found if n.model is None), found[0])


def understand(query: CarQuery, known: list[Name]) -> Understood:
    """The query with the filter words of its q applied (and removed from q)."""
    if not query.q:
        return Understood(query)
    tokens = re.findall(r"[\w]+(?:[-/][\w]+)*", query.q)
    values: dict[str, list[str]] = {n: list(getattr(query, n)) for n in ("category", "fuel", "transmission", "drive")}
    brand, model = query.brand, query.model
    used: list[str] = []
    leftover: list[str] = []
    corrected = False
    label: str | None = None
    i = 0
    while i < len(tokens):
        took = 0
        for size in range(min(_MAX_WORDS, len(tokens) - i), 0, -1):
            phrase = tokens[i:i + size]
            key = normalize("".join(phrase))
            if not key:
                continue
            hit = _vocabulary_word(key)
            if hit is not None:
                name, value = hit
                if value not in values[name]:
                    values[name].append(value)
                took = size
                break
            found = _name(key, known)
            if found is not None:
                n, exact = found
                if n.model is not None:
                    brand, model = n.brand, n.model
                    label = n.label
                elif brand != n.brand or not model:
                    # A make alone (or a make after a model of another make) drops the model; "corolla toyota"
                    # keeps it.
                    brand, model = n.brand, None
                    label = n.label
                # "corola", "RAV 4", "skooda": the shopper is told what was searched for instead.
                corrected = corrected or not exact or " ".join(phrase).casefold() != n.own.casefold()
                took = size
                break
        if took:
            used.extend(tokens[i:i + took])
            i += took
        else:
            leftover.append(tokens[i])
            i += 1
    if not used:
        return Understood(query)
    changes = {n: tuple(sorted(v, key=MULTI[n].index)) for n, v in values.items()}
    new = replace(query, brand=brand, model=model, q=" ".join(leftover) or None, **changes)
    return Understood(new, used, label if corrected else None)


def nearest_name(word: str, known: list[Name]) -> Name | None:
    """The make or model a word not understood most resembles, for "Did you mean …?" (looser than understand)."""
    key = normalize(word)
    if len(key) < 3 or key.isdigit():
        return None
    best = process.extractOne(key, {i: n.key for i, n in enumerate(known)}, scorer=fuzz.ratio, score_cutoff=60)
    return known[best[2]] if best else None


@dataclass(frozen=True)
class Suggestion:
    kind: str  # brand, model, category, fuel
    label: str  # what the list shows
    text: str  # what goes into the search box when chosen (understood as the filter)
    count: int


SUGGEST_MAX = 8


def suggest(q: str, known: list[Name], counts: dict[str, dict], labels: dict[str, dict[str, str]]) -> list[Suggestion]:
    """Makes, models, body types and fuels that what is typed begins (or, misspelt, nearly begins), with counts.

    `counts` are the facet counts of the whole inventory ({"brand": {id: n}, "model": …, "category": {value: n}});
    `labels` the shown names of the vocabulary values ({"category": {"suv": "Maasturi / SUV"}, …}). Only the last
    word is completed when the whole text matches nothing ("hybridi cor" → "hybridi Toyota Corolla").
    """
    words = q.split()
    found = _suggest(normalize(q), known, counts, labels) if words else []
    if not found and len(words) > 1:
        head = " ".join(words[:-1])
        found = [replace(s, text=f"{head} {s.text}") for s in _suggest(normalize(words[-1]), known, counts, labels)]
    return found


def _suggest(key: str, known: list[Name], counts: dict[str, dict], labels: dict[str, dict[str, str]]) -> list:
    if len(key) < 2:
        return []
    out: dict[tuple, tuple[int, Suggestion]] = {}
    for n in known:
        starts = n.key.startswith(key)
        near = (not starts and len(key) >= 4
                and Levenshtein.distance(key, n.key[:len(key)], score_cutoff=1) <= 1)
        if not (starts or near):
            continue
        kind = "brand" if n.model is None else "model"
        count = counts.get(kind, {}).get(n.id, 0)
        ident = (kind, n.id)
        if count and ident not in out:
            out[ident] = (0 if starts else 1, Suggestion(kind, n.label, n.label, count))
    for word, (name, value) in WORDS.items():
        if name not in ("category", "fuel") or not word.startswith(key):
            continue
        count = counts.get(name, {}).get(value, 0)
        ident = (name, value)
        if count and ident not in out:
            shown = labels.get(name, {}).get(value, value)
            # The list shows "Maasturi / SUV"; the search box gets "Maasturi", a word the search understands.
            out[ident] = (0, Suggestion(name, shown, shown.split(" / ")[0], count))
    ranked = sorted(out.values(), key=lambda p: (p[0], -p[1].count, p[1].label))
    return [s for _, s in ranked[:SUGGEST_MAX]]
