"""Pure helpers of the trust pages: page texts as paragraphs, English links, colours, the response-time words."""
from __future__ import annotations

import pytest

from kroi.system import services, texts
from kroi.web import i18n
from kroi.web.context import with_language
from kroi.web.formatting import colour_name
from kroi.web.templating import keep_english, paragraphs

pytestmark = pytest.mark.unit


def test_paragraphs_escape_and_split_on_blank_lines() -> None:
    out = str(paragraphs("## Otsikko\n\nRivi <script>x</script>\ntoinen rivi\n\n\n\nViimeinen"))
    assert out == ("<h2>Otsikko</h2>\n<p>Rivi &lt;script&gt;x&lt;/script&gt;<br>toinen rivi</p>\n<p>Viimeinen</p>")
    assert str(paragraphs("")) == "" and str(paragraphs(None)) == ""


def test_english_links_keep_the_language_but_not_static_files_or_other_sites() -> None:
    body = ('<a href="/">k</a><a href="/cars?q=a&amp;b=1#x">c</a><a href="/static/a.css">s</a>'
            '<a href="//evil.example/">e</a><a href="https://x.example/">x</a><a href="/lang/fi?next=/">fi</a>'
            '<a href="/cars?lang=en">already</a><form method="get" action="/cars"></form>'
            '<form method="post" action="/leads"></form>')
    out = keep_english(body)
    assert '<a href="/?lang=en">' in out and 'href="/cars?q=a&amp;b=1&amp;lang=en#x"' in out
    for kept in ('href="/static/a.css"', 'href="//evil.example/"', 'href="https://x.example/"',
                 'href="/lang/fi?next=/"', 'href="/cars?lang=en"'):
        assert kept in out
    assert '<form method="get" action="/cars?lang=en"><input type="hidden" name="lang" value="en">' in out
    assert out.count('name="lang"') == 1  # the POST form sends its own hidden lang field


def test_with_language() -> None:
    assert with_language("/cars?fuel=diesel", "en") == "/cars?fuel=diesel&lang=en"
    assert with_language("/cars?lang=en&fuel=diesel", "fi") == "/cars?fuel=diesel"
    assert with_language("https://k.example/", "en") == "https://k.example/?lang=en"


@pytest.mark.parametrize(("finnish", "english"), [
    ("Valkoinen helmiäis", "White pearl"), ("Tummansininen metallic", "Dark blue metallic"),
    ("Musta", "Black"), ("Hopea metallic", "Silver metallic"), ("Vihreä metallic", "Green metallic"),
    ("Sateenkaari", "Sateenkaari"),  # an unknown word stays as written
])
def test_colours_in_english(finnish: str, english: str) -> None:
    assert colour_name(finnish, "en") == english
    assert colour_name(finnish, "fi") == finnish


@pytest.mark.parametrize(("hours", "fi", "en"), [
    (0.5, "puolen tunnin sisällä", "within half an hour"), (1, "tunnin sisällä", "within an hour"),
    (4, "4 tunnin sisällä", "within 4 hours"), (1.5, "1,5 tunnin sisällä", "within 1.5 hours"),
])
def test_response_time_words(hours: float, fi: str, en: str) -> None:
    assert i18n.response_within("fi", hours) == fi and i18n.response_within("en", hours) == en


def test_page_texts_fall_back_to_the_defaults_and_have_no_placeholders() -> None:
    site = services.merge({"pages": {"terms_en": "Own terms."}})
    assert site.page_text("terms", "en") == "Own terms." and site.page_text("terms", "fi") == texts.TERMS_FI
    assert site.page_text("privacy", "fi") == texts.PRIVACY_FI
    for text in texts.PAGES.values():
        assert "[" not in text and "{" not in text
