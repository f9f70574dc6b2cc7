"""The analytics dashboard's server-drawn SVG charts: well-formed, scaled, and every label escaped."""
from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from kroi.analytics.charts import _nice_max, hbars, stacked_bars

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # fails on anything not well-formed, e.g. an unescaped "<"


@pytest.mark.parametrize("value, nice", [(0, 1), (-3, 1), (1, 1), (3, 5), (7, 10), (12, 20), (22, 25), (99, 100),
                                         (101, 200), (2600, 5000)])
def test_axis_maximum_is_a_round_number(value: float, nice: float) -> None:
    assert _nice_max(value) == nice


def test_stacked_bars_escape_labels_series_and_title() -> None:
    svg = stacked_bars(["1.1.", "<b>2.1.</b>"], {"Kaupat & <i>vaihdot</i>": [1, 2], "Muut": [0, 3]},
                       'Liidit "päivittäin" <script>', every=1)
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    root = parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("aria-label") == 'Liidit "päivittäin" <script>'
    assert root.find(f"{SVG}title").text == 'Liidit "päivittäin" <script>'
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "1.1. Kaupat & <i>vaihdot</i>: 1", "<b>2.1.</b> Kaupat & <i>vaihdot</i>: 2", "<b>2.1.</b> Muut: 3"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>2.1.</b>" in texts and "Kaupat & <i>vaihdot</i>" in texts
    # The tallest stack (5) fills the plot up to the round maximum 5.
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] + heights[2] == pytest.approx(180.0)


def test_stacked_bars_label_every_nth_day_and_survive_no_data() -> None:
    labels = [f"{d}.1." for d in range(1, 31)]
    root = parse(stacked_bars(labels, {"Katselut": [0] * 30}, "Katselut", every=10))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert [t for t in texts if t in labels] == ["1.1.", "11.1.", "21.1."]
    assert not [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


def test_hbars_escape_and_shorten_long_labels() -> None:
    rows = [("<img src=x onerror=alert(1)>", 3), ("google", 12), ("a" * 30, 0)]
    svg = hbars(rows, "Lähteet & <kanavat>", unit=" %")
    assert "<img" not in svg
    root = parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<img src=x onerror=" in texts[0] and texts[0].endswith("…") and len(texts[0]) == 20
    assert "12 %" in texts and "a" * 19 + "…" in texts
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[1] == max(widths) and widths[2] == 1.0  # the peak fills the row; zero still shows a sliver


@pytest.mark.parametrize("days", [7, 30, 90, 365])
def test_stacked_bars_day_labels_never_overlap(days: int) -> None:
    # The dashboard asks for every (days // 10)th label; at 30 days "15.11." labels 37 px apart overlapped.
    labels = [f"{d % 28 + 1}.{d % 12 + 1}." for d in range(days)]
    root = parse(stacked_bars(labels, {"Katselut": [1] * days}, "Katselut", every=max(1, days // 10)))
    xs = [float(t.get("x")) for t in root.iter(f"{SVG}text") if t.text in labels]
    assert len(xs) >= 3
    widest = max(len(label) for label in labels) * 7.5
    assert all(b - a >= widest for a, b in zip(xs, xs[1:]))
