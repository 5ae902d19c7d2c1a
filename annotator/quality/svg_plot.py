"""Per-frame curves as inline SVG, written by hand (no plotting library): the report's plots.
Values are 0..1; NaN leaves a gap. Long videos are drawn one point per pixel column, the
lowest value of the frames in it, so that a bad frame is never averaged away."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotator.quality.series import column_minimum


@dataclass(frozen=True)
class Curve:
    """One line of a plot: its legend, RGB colour, values per frame, dashed or not."""

    label: str
    colour: tuple[int, int, int]
    values: np.ndarray
    dashed: bool = False


def plot_svg(curves: Sequence[Curve], frame_count: int, title: str, marks: Sequence[int] = (),
             width: int = 720, height: int = 180) -> str:
    """An SVG plot of `curves` over frames 0 .. frame_count - 1, with a legend and red ticks
    under the frames in `marks` (flagged frames)."""
    left, right, top, bottom = 34, 10, 22, 22
    inner_w, inner_h = width - left - right, height - top - bottom
    span = max(1, frame_count - 1)

    def x(position: float) -> float:
        return left + inner_w * position / span

    def y(value: float) -> float:
        return top + inner_h * (1 - value)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
             f'<text x="{left}" y="14" font-size="12">{html.escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{inner_w}" height="{inner_h}" fill="#fafafa" '
             'stroke="#999"/>']
    for value in (0.0, 0.5, 1.0):
        parts.append(f'<line x1="{left}" x2="{left + inner_w}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 4}" y="{y(value) + 3:.1f}" text-anchor="end">'
                     f'{value:.1f}</text>')
    for frame in (0, frame_count - 1):
        parts.append(f'<text x="{x(frame):.1f}" y="{height - 8}" text-anchor="middle">'
                     f'{frame}</text>')
    for frame in sorted(set(marks)):
        parts.append(f'<line x1="{x(frame):.1f}" x2="{x(frame):.1f}" y1="{top + inner_h}" '
                     f'y2="{top + inner_h + 6}" stroke="#d00" stroke-width="2"/>')
    legend_x = left + inner_w
    for curve in reversed(curves):
        positions, values = column_minimum(curve.values, inner_w)
        colour = "#{:02x}{:02x}{:02x}".format(*curve.colour)
        dash = ' stroke-dasharray="4 3"' if curve.dashed else ""
        for run in _runs(positions, values):
            points = " ".join(f"{x(p):.1f},{y(v):.1f}" for p, v in run)
            if len(run) == 1:
                parts.append(f'<circle cx="{x(run[0][0]):.1f}" cy="{y(run[0][1]):.1f}" r="2" '
                             f'fill="{colour}"/>')
            else:
                parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                             f'stroke-width="1.5"{dash}/>')
        legend_x -= 8 + 6 * len(curve.label) + 18
        parts.append(f'<line x1="{legend_x}" x2="{legend_x + 14}" y1="10" y2="10" '
                     f'stroke="{colour}" stroke-width="2"{dash}/>'
                     f'<text x="{legend_x + 18}" y="14">{html.escape(curve.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _runs(positions: np.ndarray, values: np.ndarray) -> list[list[tuple[float, float]]]:
    """Consecutive points without NaN, as lists of (position, value)."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for position, value in zip(positions.tolist(), values.tolist(), strict=True):
        if value != value:  # NaN
            if current:
                runs.append(current)
            current = []
        else:
            current.append((position, max(0.0, min(1.0, value))))
    if current:
        runs.append(current)
    return runs
