"""Small server-side SVG charts for the Models page: no JavaScript, no CDN, no plotting library.

Each chart is one ``<svg>`` with an ``id``, a ``<title>`` and machine-readable ``data-*`` attributes on
its marks (``data-ds``, ``data-value``), so a test or a screen reader can tell what is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

PALETTE = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#37474f")


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[str, float]]  # (YYYY-MM-DD, value)
    color: str = PALETTE[0]


@dataclass(frozen=True)
class Bar:
    ds: str
    value: float
    flagged: bool = False  # drawn in the alert colour (e.g. the day's dataset drift verdict)
    href: str | None = None


@dataclass(frozen=True)
class Frame:
    """The plot area: the days on the x axis and the value range on the y axis."""

    days: list[str]
    y_min: float
    y_max: float
    width: int = 760
    height: int = 230
    left: int = 48
    right: int = 16
    top: int = 28
    bottom: int = 40
    guides: list[tuple[float, str]] = field(default_factory=list)  # dashed horizontal lines with a label

    def x(self, ds: str) -> float:
        step = (self.width - self.left - self.right) / max(len(self.days), 1)
        return self.left + step * (self.days.index(ds) + 0.5)

    @property
    def step(self) -> float:
        return (self.width - self.left - self.right) / max(len(self.days), 1)

    def y(self, value: float) -> float:
        span = (self.y_max - self.y_min) or 1.0
        clipped = min(max(value, self.y_min), self.y_max)
        return self.top + (self.height - self.top - self.bottom) * (1 - (clipped - self.y_min) / span)


def day_range(end: str, days: int) -> list[str]:
    """The ``days`` calendar days ending on ``end`` (inclusive), oldest first."""
    last = date.fromisoformat(end)
    return [(last - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def _axes(frame: Frame, *, ticks: Sequence[float], tick_format: str) -> list[str]:
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#e0e0e0" stroke-width="1"/>')
        parts.append(f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#616161">{format(tick, tick_format)}</text>')
    every = max(1, len(frame.days) // 10)
    for index, ds in enumerate(frame.days):
        if index % every == 0 or index == len(frame.days) - 1:
            parts.append(f'<text x="{frame.x(ds):.1f}" y="{frame.height - frame.bottom + 16}" text-anchor="middle" '
                         f'font-size="11" fill="#616161">{escape(ds[5:])}</text>')
    for value, label in frame.guides:
        y = frame.y(value)
        parts.append(f'<line class="guide" x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
                     f'y2="{y:.1f}" stroke="#c62828" stroke-dasharray="5 4" stroke-width="1.2"/>')
        parts.append(f'<text x="{frame.left + 4}" y="{y - 4:.1f}" text-anchor="start" font-size="11" '
                     f'fill="#c62828" paint-order="stroke" stroke="#ffffff" stroke-width="3">{escape(label)}</text>')
    return parts


def _open(frame: Frame, svg_id: str, title: str) -> list[str]:
    return [
        f'<svg id="{escape(svg_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{frame.left}" y="16" font-size="13" font-weight="600" fill="#212121">{escape(title)}</text>',
    ]


def bar_chart(svg_id: str, title: str, bars: Sequence[Bar], frame: Frame, *, ticks: Sequence[float],
              tick_format: str = ".1f", legend: Sequence[tuple[str, str]] = ()) -> str:
    """Vertical bars per day (missing days stay empty); flagged bars in red."""
    parts = _open(frame, svg_id, title)
    parts += _axes(frame, ticks=ticks, tick_format=tick_format)
    width = frame.step * 0.7
    base = frame.y(frame.y_min)
    for bar in bars:
        if bar.ds not in frame.days:
            continue
        top = frame.y(bar.value)
        color = "#c62828" if bar.flagged else "#90a4ae"
        rect = (f'<rect class="bar" data-ds="{escape(bar.ds)}" data-value="{bar.value:.4f}" '
                f'data-flagged="{str(bar.flagged).lower()}" x="{frame.x(bar.ds) - width / 2:.1f}" y="{top:.1f}" '
                f'width="{width:.1f}" height="{max(base - top, 1.0):.1f}" fill="{color}">'
                f"<title>{escape(bar.ds)}: {bar.value:.3f}{' (flagged)' if bar.flagged else ''}</title></rect>")
        parts.append(f'<a href="{escape(bar.href)}">{rect}</a>' if bar.href else rect)
    parts += _legend(frame, legend)
    parts.append("</svg>")
    return "\n".join(parts)


def line_chart(svg_id: str, title: str, series: Sequence[Series], frame: Frame, *, ticks: Sequence[float],
               tick_format: str = ".2f") -> str:
    """One polyline with point markers per series; a gap in the days breaks nothing (points are joined)."""
    parts = _open(frame, svg_id, title)
    parts += _axes(frame, ticks=ticks, tick_format=tick_format)
    for item in series:
        points = [(ds, value) for ds, value in item.points if ds in frame.days]
        if not points:
            continue
        coords = " ".join(f"{frame.x(ds):.1f},{frame.y(value):.1f}" for ds, value in points)
        parts.append(f'<polyline class="series" data-label="{escape(item.label)}" points="{coords}" fill="none" '
                     f'stroke="{item.color}" stroke-width="2"/>')
        for ds, value in points:
            parts.append(f'<circle class="point" data-series="{escape(item.label)}" data-ds="{escape(ds)}" '
                         f'data-value="{value:.4f}" cx="{frame.x(ds):.1f}" cy="{frame.y(value):.1f}" r="3.2" '
                         f'fill="{item.color}"><title>{escape(item.label)} {escape(ds)}: {value:.3f}</title></circle>')
    parts += _legend(frame, [(item.label, item.color) for item in series])
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(frame: Frame, entries: Sequence[tuple[str, str]]) -> list[str]:
    parts, x = [], frame.width - frame.right
    for label, color in reversed(list(entries)):
        x -= 14 + 7 * len(label)
        parts.append(f'<rect x="{x}" y="7" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="16" font-size="11" fill="#424242">{escape(label)}</text>')
        x -= 8
    return parts
