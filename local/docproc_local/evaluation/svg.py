"""A small reliability chart as SVG text (written by hand: matplotlib is not a dependency, and the chart is a
few rectangles and lines). Bars: accuracy of the field values in each confidence bin (bar opacity grows with
the bin's count); dots joined by a line: the records' overall confidence against "fully correct"; the dashed
diagonal is perfect calibration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 520, 380
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 40, 48
FIELD_COLOUR = "#4472c4"
RECORD_COLOUR = "#c0504d"


def _x(value: float) -> float:
    return LEFT + value * (WIDTH - LEFT - RIGHT)


def _y(value: float) -> float:
    return HEIGHT - BOTTOM - value * (HEIGHT - TOP - BOTTOM)


def _ece(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def reliability_svg(fields: Mapping[str, Any], records: Mapping[str, Any], title: str = "Reliability") -> str:
    """The chart for two calibration results of :func:`scoring.calibration`."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2:.0f}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]
    for i in range(6):  # grid and ticks
        v = i / 5
        parts.append(f'<line x1="{_x(0):.1f}" y1="{_y(v):.1f}" x2="{_x(1):.1f}" y2="{_y(v):.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{_x(0) - 6:.1f}" y="{_y(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        parts.append(f'<text x="{_x(v):.1f}" y="{_y(0) + 16:.1f}" text-anchor="middle">{v:.1f}</text>')
    parts += [
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(1):.1f}" y2="{_y(0):.1f}" stroke="black"/>',
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(0):.1f}" y2="{_y(1):.1f}" stroke="black"/>',
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(1):.1f}" y2="{_y(1):.1f}" stroke="#888" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{_x(0.5):.1f}" y="{HEIGHT - 10}" text-anchor="middle">confidence</text>',
        f'<text x="14" y="{_y(0.5):.1f}" text-anchor="middle" transform="rotate(-90 14 {_y(0.5):.1f})">accuracy</text>',
    ]
    parts += _bars(fields.get("bins") or [])
    parts += _line(records.get("bins") or [])
    legend_x = _x(1) + 14
    parts += [
        f'<rect x="{legend_x:.1f}" y="{TOP + 4}" width="12" height="12" fill="{FIELD_COLOUR}"/>',
        f'<text x="{legend_x + 18:.1f}" y="{TOP + 14}">field values</text>',
        f'<text x="{legend_x + 18:.1f}" y="{TOP + 28}">n={fields.get("values", 0)} ECE {_ece(fields.get("ece"))}'
        "</text>",
        f'<circle cx="{legend_x + 6:.1f}" cy="{TOP + 52}" r="4" fill="{RECORD_COLOUR}"/>',
        f'<text x="{legend_x + 18:.1f}" y="{TOP + 56}">records</text>',
        f'<text x="{legend_x + 18:.1f}" y="{TOP + 70}">n={records.get("values", 0)} ECE {_ece(records.get("ece"))}'
        "</text>",
        f'<line x1="{legend_x:.1f}" y1="{TOP + 92}" x2="{legend_x + 12:.1f}" y2="{TOP + 92}" stroke="#888" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{legend_x + 18:.1f}" y="{TOP + 96}">perfect</text>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _bars(bins: Sequence[Mapping[str, Any]]) -> list[str]:
    most = max((b["count"] for b in bins), default=0) or 1
    out = []
    for b in bins:
        if not b["count"]:
            continue
        x0, x1 = _x(b["low"]) + 1, _x(b["high"]) - 1
        y = _y(b["accuracy"])
        opacity = 0.35 + 0.65 * b["count"] / most
        out.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{x1 - x0:.1f}" height="{_y(0) - y:.1f}" fill="{FIELD_COLOUR}" '
            f'fill-opacity="{opacity:.2f}"><title>{b["bin"]}: {b["count"]} value(s), accuracy {b["accuracy"]:.2f}, '
            f"mean confidence {b['confidence']:.2f}</title></rect>"
        )
        out.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="9">{b["count"]}</text>'
        )
    return out


def _line(bins: Sequence[Mapping[str, Any]]) -> list[str]:
    points = [(_x(b["confidence"]), _y(b["accuracy"]), b) for b in bins if b["count"]]
    if not points:
        return []
    out = []
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{RECORD_COLOUR}" stroke-width="1.5"/>')
    for x, y, b in points:
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{RECORD_COLOUR}"><title>{b["bin"]}: {b["count"]} '
            f"record(s), fully correct {b['accuracy']:.2f}</title></circle>"
        )
    return out
