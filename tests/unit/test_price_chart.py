"""The car page's price-history chart (a step line drawn on the server): well-formed, scaled, escaped."""
from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest

from kroi.analytics.charts import step_line

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"


def chart(points, title="Hintahistoria"):  # noqa: ANN001, ANN201
    return ET.fromstring(str(step_line(points, title, x_text=lambda x: f"päivä {x:g}", y_text=lambda y: f"{y:g} €")))


def test_steps_hold_each_price_until_it_changes() -> None:
    root = chart([(0, 23900), (30, 22900), (58, 21900)])
    path = root.find(f"{SVG}path").get("d")
    # Move to the first point, then per change: along (H) to its day, down (V) to its price.
    assert re.fullmatch(r"M[\d.]+,[\d.]+ H[\d.]+V[\d.]+ H[\d.]+V[\d.]+", path)
    dots = root.findall(f"{SVG}circle")
    assert len(dots) == 3
    xs = [float(d.get("cx")) for d in dots]
    ys = [float(d.get("cy")) for d in dots]
    assert xs == sorted(xs) and xs[0] < xs[1] < xs[2]
    assert ys[0] < ys[1] < ys[2]  # a falling price goes down the chart (SVG y grows downwards)
    # Time is to scale: the second change is 30 of 58 days along.
    assert (xs[1] - xs[0]) / (xs[2] - xs[0]) == pytest.approx(30 / 58, abs=0.01)
    assert [d.find(f"{SVG}title").text for d in dots] == ["päivä 0: 23900 €", "päivä 30: 22900 €", "päivä 58: 21900 €"]


def test_axis_labels_are_the_lowest_and_highest_price_and_the_first_and_last_day() -> None:
    texts = [t.text for t in chart([(0, 23900), (30, 22900), (58, 21900)]).findall(f"{SVG}text")]
    assert texts == ["21900 €", "23900 €", "päivä 0", "päivä 58"]


def test_viewbox_holds_every_point() -> None:
    root = chart([(0, 100), (10, 5000), (20, 99)])
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    for dot in root.findall(f"{SVG}circle"):
        assert 0 <= float(dot.get("cx")) <= width and 0 <= float(dot.get("cy")) <= height


def test_changes_on_one_day_and_a_price_back_where_it_was() -> None:
    root = chart([(5, 1000), (5, 900)])  # both on one day: spread out, not on top of each other
    xs = [float(d.get("cx")) for d in root.findall(f"{SVG}circle")]
    assert xs[0] < xs[1]
    flat = chart([(0, 1000), (9, 1000)])  # no span of prices: still drawn, one grid line
    assert len(flat.findall(f"{SVG}line")) == 1
    assert chart([]).findall(f"{SVG}circle") == []


def test_title_and_labels_are_escaped_and_named_for_assistive_technology() -> None:
    svg = str(step_line([(0, 1), (1, 2)], 'Hinta <script>"x"', x_text=lambda x: "<b>", y_text=lambda y: "&"))
    assert "<script>" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-label") == 'Hinta <script>"x"'
    assert root.find(f"{SVG}title").text == 'Hinta <script>"x"'
