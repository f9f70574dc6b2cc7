"""i18n fallbacks, the same-site redirect guard and JSON-LD escaping."""
import json

import pytest

from kroi.web import i18n
from kroi.web.meta import safe_next
from kroi.web.templating import json_ld

pytestmark = pytest.mark.unit


# --- i18n -------------------------------------------------------------------------------------------------

def test_translate_finnish_is_the_default_and_english_on_request() -> None:
    assert i18n.translate("fi", "nav.cars") == "Autot"
    assert i18n.translate("en", "nav.cars") == "Cars"


def test_translate_unknown_language_falls_back_to_finnish() -> None:
    assert i18n.translate("sv", "nav.cars") == "Autot"


def test_translate_unknown_key_returns_the_key() -> None:
    assert i18n.translate("en", "no.such.key") == "no.such.key"
    assert i18n.translate("fi", "no.such.key", n=3) == "no.such.key"


def test_translate_fills_parameters() -> None:
    assert i18n.translate("en", "cars.count_many", n="1 234") == "1 234 cars"
    assert i18n.translate("fi", "cars.count_one", n=1) == "1 auto"


def test_every_text_has_both_languages_and_the_same_placeholders() -> None:
    import string

    for key, (fi, en) in i18n.TEXTS.items():
        assert fi and en, key
        names = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
        assert names(fi) == names(en), key


def test_label_translates_vocabulary_values() -> None:
    assert i18n.label("fi", "fuel", "diesel") == "Diesel"
    assert i18n.label("fi", "body_type", "estate") == "Farmari"
    assert i18n.label("en", "body_type", "estate") == "Estate"
    assert i18n.label("en", "drive", "awd") == "All-wheel drive"


def test_label_fallbacks() -> None:
    assert i18n.label("en", "fuel", "steam") == "steam"  # unknown value: shown as is
    assert i18n.label("en", "no_such_vocabulary", "x") == "x"
    assert i18n.label("en", "fuel", None) == ""
    assert i18n.label("de", "fuel", "electric") == "Sähkö"  # unknown language: Finnish


def test_every_vocabulary_value_of_the_data_model_has_labels() -> None:
    from kroi.db.models.inventory import BODY_TYPES, DRIVES, FUELS, STATUSES, TRANSMISSIONS

    for vocab, values in (("fuel", FUELS), ("transmission", TRANSMISSIONS), ("drive", DRIVES),
                          ("body_type", BODY_TYPES), ("status", STATUSES)):
        for value in values:
            assert value in i18n.VOCABULARY[vocab], (vocab, value)


@pytest.mark.parametrize(("raw", "expected"), [("fi", "fi"), ("en", "en"), (None, "fi"), ("", "fi"),
                                                ("EN", "fi"), ("sv", "fi")])
def test_normalize_language(raw, expected) -> None:  # noqa: ANN001
    assert i18n.normalize_language(raw) == expected


# --- safe_next --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/", "/cars", "/cars?brand=toyota&sort=price_asc", "/cars/1-toyota#photos"])
def test_safe_next_keeps_same_site_paths(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None, "",
        "https://evil.example/", "http://evil.example", "//evil.example", "//evil.example/cars",
        "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example",
        "javascript:alert(1)", "data:text/html,hi", "mailto:x@example.com", "evil.example/cars",
        "cars", " /cars", "https:/evil.example", "///evil.example",
    ],
)
def test_safe_next_refuses_other_hosts_and_odd_forms(target) -> None:  # noqa: ANN001
    assert safe_next(target) == "/"


# --- json_ld ----------------------------------------------------------------------------------------------

def test_json_ld_cannot_close_the_script_tag() -> None:
    data = {"name": "</script><script>alert(1)</script>", "note": "a & b <!-- c -->"}
    out = str(json_ld(data))
    assert "</script" not in out.lower()
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == data  # still the same JSON once parsed


def test_json_ld_keeps_unicode_readable_and_is_markup() -> None:
    out = json_ld({"name": "Škoda Octavia – väri: sininen"})
    assert "Škoda Octavia – väri: sininen" in out
    assert hasattr(out, "__html__")  # Markup: Jinja will not escape it a second time
