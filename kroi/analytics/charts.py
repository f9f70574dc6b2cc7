"""Small server-drawn SVG charts (no JavaScript, no third-party code): bars, stacked bars, horizontal bars."""
from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#1d4ed8", "#b4380c", "#15803d", "#7c3aed", "#a16207", "#0e7490", "#be123c")


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
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 24 * ((len(series) + 2) // 3)}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
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
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
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
