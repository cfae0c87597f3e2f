"""Inline SVG charts (no scripts, no fonts to fetch): bars against targets, a time series,
stacked domestic / foreign / unknown bars. Text is escaped; sizes are fixed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None
    target: float | None = None
    passed: bool | None = None
    references: tuple[float, ...] = ()  # cited context figures: thin grey ticks


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _t(x: float, y: float, text: str, anchor: str = "start", size: int = 11,
       fill: str = "#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}">{escape(text)}</text>')


def bar_chart(title: str, bars: Sequence[Bar], unit: str = "%", max_value: float = 100.0,
              width: int = 720) -> str:
    """Horizontal bars; a target is a black tick with its value."""
    label_w, row_h, top = 300, 22, 28
    plot_w = width - label_w - 70
    height = top + row_h * len(bars) + 10
    vmax = max([max_value, *(b.value or 0 for b in bars), *(b.target or 0 for b in bars)])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">', _t(4, 16, title, size=13)]
    for k, b in enumerate(bars):
        y = top + k * row_h
        parts.append(_t(label_w - 6, y + 14, _short(b.label, 46), anchor="end"))
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="{row_h - 8}" '
                     'fill="#f0f0f0"/>')
        if b.value is not None:
            w = plot_w * min(b.value, vmax) / vmax
            color = "#2ca02c" if b.passed else ("#d62728" if b.passed is False else "#1f77b4")
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" '
                         f'height="{row_h - 8}" fill="{color}"/>')
            parts.append(_t(label_w + plot_w + 4, y + 14, f"{b.value:.2f}{unit}"))
        else:
            parts.append(_t(label_w + 4, y + 14, "no data / 无数据", fill="#888"))
        for ref in b.references:
            x = label_w + plot_w * min(ref, vmax) / vmax
            parts.append(f'<line x1="{x:.1f}" y1="{y + 2}" x2="{x:.1f}" y2="{y + row_h - 4}" '
                         'stroke="#888" stroke-width="1" stroke-dasharray="2 2"/>')
        if b.target is not None:
            x = label_w + plot_w * min(b.target, vmax) / vmax
            parts.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + row_h - 2}" '
                         'stroke="#000" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_chart(title: str, rows: Sequence[tuple[str, int, int, int]], width: int = 720) -> str:
    """(label, domestic, foreign, unknown) per row, as shares of the row total."""
    label_w, row_h, top = 200, 22, 40
    plot_w = width - label_w - 120
    height = top + row_h * len(rows) + 10
    colors = (("#2ca02c", "国产 domestic"), ("#d62728", "非国产 foreign"),
              ("#bbbbbb", "未知 unknown"))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">', _t(4, 16, title, size=13)]
    for k, (color, name) in enumerate(colors):
        parts.append(f'<rect x="{label_w + k * 150}" y="22" width="10" height="10" '
                     f'fill="{color}"/>')
        parts.append(_t(label_w + k * 150 + 14, 31, name))
    for k, (label, *counts) in enumerate(rows):
        y = top + k * row_h
        total = sum(counts)
        parts.append(_t(label_w - 6, y + 14, _short(label, 30), anchor="end"))
        x = float(label_w)
        for (color, _), c in zip(colors, counts, strict=True):
            if total and c:
                w = plot_w * c / total
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" '
                             f'height="{row_h - 8}" fill="{color}"/>')
                x += w
        if not total:
            parts.append(_t(label_w + 4, y + 14, "no items / 无", fill="#888"))
        parts.append(_t(label_w + plot_w + 4, y + 14, "/".join(str(c) for c in counts)))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, series: Sequence[tuple[str, Sequence[tuple[int, float]]]],
               unit: str = "%", threshold: float | None = None, width: int = 720,
               height: int = 240) -> str:
    left, right, top, bottom = 50, 10, 40, 30
    pw, ph = width - left - right, height - top - bottom
    pts = [p for _, s in series for p in s]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">', _t(4, 16, title, size=13)]
    if not pts:
        parts.append(_t(left, top + 20, "no data / 无数据", fill="#888"))
        parts.append("</svg>")
        return "".join(parts)
    t0, t1 = min(p[0] for p in pts), max(p[0] for p in pts)
    span = max(t1 - t0, 1)
    vmax = max(100.0 if unit == "%" else 0.0, *(p[1] for p in pts), threshold or 0.0) or 1.0

    def xy(ts: int, v: float) -> tuple[float, float]:
        return left + pw * (ts - t0) / span, top + ph * (1 - v / vmax)

    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" '
                 'stroke="#ccc"/>')
    for frac in (0, 0.5, 1):
        y = top + ph * (1 - frac)
        parts.append(_t(left - 4, y + 4, f"{vmax * frac:g}{unit}", anchor="end", size=10))
    for ts, anchor in ((t0, "start"), (t1, "end")):
        label = dt.datetime.fromtimestamp(ts / 1e9, dt.UTC).strftime("%m-%d %H:%M UTC")
        parts.append(_t(xy(ts, 0)[0], top + ph + 16, label, anchor=anchor, size=10))
    if threshold is not None:
        y = xy(t0, threshold)[1]
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                     'stroke="#d62728" stroke-dasharray="4 3"/>')
    for k, (name, s) in enumerate(series):
        color = _PALETTE[k % len(_PALETTE)]
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(ts, v) for ts, v in s))
        if coords:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
                         f'points="{coords}"/>')
        parts.append(f'<rect x="{left + 8 + k * 170}" y="24" width="10" height="10" '
                     f'fill="{color}"/>')
        parts.append(_t(left + 22 + k * 170, 33, name, size=10))
    parts.append("</svg>")
    return "".join(parts)
