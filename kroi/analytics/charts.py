"""Small server-drawn SVG charts (no JavaScript, no third-party code): bars, stacked bars, horizontal bars, steps.

Used by the admin analytics and by the public car page (its price history)."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

PALETTE = ("#1d4ed8", "#b4380c", "#15803d", "#7c3aed", "#a16207", "#0e7490", "#be123c")


def _svg_open(width: float, height: float, title: str) -> str:
    """The opening of a chart: it scales with its box (viewBox) and is named for assistive technology."""
    return (f'<svg class="chart" viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def stacked_bars(labels: Sequence[str], series: dict[str, Sequence[float]], title: str, *, height: int = 220,
                 every: int = 1) -> Markup:
    """Vertical bars per label, stacked by series; a legend below. Readable on a phone (viewBox scales)."""
    width, left, bottom, top = 420, 36, 30, 10
    n = max(1, len(labels))
    totals = [sum(s[i] for s in series.values()) for i in range(len(labels))]
    peak = _nice_max(max(totals, default=0))
    plot_h = height - bottom - top
    slot = (width - left - 10) / n
    bar = max(2.0, slot * 0.7)
    # Every label gets room of its own: 13 px text is about 7.5 px a character, plus a gap.
    label_px = max((len(label) for label in labels), default=0) * 7.5 + 8
    every = max(every, math.ceil(label_px / slot))
    parts = [_svg_open(width, height + 24 * ((len(series) + 2) // 3), title)]
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d7dce3"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" fill="#4b5563">'
                     f'{peak * frac:g}</text>')
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for (name, values), colour in zip(series.items(), PALETTE):
            h = plot_h * values[i] / peak if peak else 0
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                             f'<title>{escape(label)} {escape(name)}: {values[i]:g}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle" font-size="13" '
                         f'fill="#4b5563">{escape(label)}</text>')
    for j, (name, colour) in enumerate(zip(series, PALETTE)):
        lx, ly = 4 + (j % 3) * 140, height + 8 + 24 * (j // 3)
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{lx + 18}" y="{ly + 11}" font-size="13" fill="#18202c">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(rows: Sequence[tuple[str, float]], title: str, unit: str = "") -> Markup:
    """Horizontal bars with their labels, e.g. a funnel or a top-10 list."""
    width, label_w, row_h = 420, 150, 26
    height = max(1, len(rows)) * row_h + 8
    peak = max((v for _, v in rows), default=0) or 1
    parts = [_svg_open(width, height, title)]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 50) * value / peak
        text = label if len(label) <= 20 else label[:19] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="13" fill="#18202c">'
                     f'{escape(text)}</text><rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="18" '
                     f'fill="{PALETTE[0]}"/><text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="13" '
                     f'fill="#18202c">{value:g}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def step_line(points: Sequence[tuple[float, float]], title: str, *, x_text: Callable[[float], str],
              y_text: Callable[[float], str], height: int = 170) -> Markup:
    """A value that holds until it changes (a price over time): steps through (x, y) points sorted by x, a dot
    at each change, the lowest and highest value and the first and last x labelled."""
    width, left, right, top, bottom = 420, 78, 12, 12, 28
    if not points:
        return Markup(_svg_open(width, height, title) + "</svg>")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    lo, hi = min(ys), max(ys)
    pad = (hi - lo) * 0.15 or abs(hi) * 0.05 or 1
    y_lo, y_hi = lo - pad, hi + pad
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(i: int, x: float) -> float:  # points on one day (or all on one) are spread evenly instead
        return left + (plot_w * (x - x0) / (x1 - x0) if x1 > x0 else plot_w * i / max(1, len(points) - 1))

    def py(y: float) -> float:
        return top + plot_h * (y_hi - y) / (y_hi - y_lo)

    parts = [_svg_open(width, height, title)]
    for value in sorted({lo, hi}):
        y = py(value)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d7dce3"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" fill="#4b5563">'
                     f'{escape(y_text(value))}</text>')
    coords = [(px(i, x), py(y)) for i, (x, y) in enumerate(points)]
    path = [f"M{coords[0][0]:.1f},{coords[0][1]:.1f}"]
    for x, y in coords[1:]:
        path.append(f"H{x:.1f}V{y:.1f}")
    parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{PALETTE[0]}" stroke-width="2.5"/>')
    for (cx, cy), (x, y) in zip(coords, points):
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{PALETTE[1]}">'
                     f'<title>{escape(x_text(x))}: {escape(y_text(y))}</title></circle>')
    base = height - 8
    parts.append(f'<text x="{left}" y="{base}" font-size="13" fill="#4b5563">{escape(x_text(x0))}</text>')
    if x1 > x0:
        parts.append(f'<text x="{width - right}" y="{base}" text-anchor="end" font-size="13" fill="#4b5563">'
                     f'{escape(x_text(x1))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
