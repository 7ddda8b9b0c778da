"""Small inline SVG charts for the HTML report (no scripts, no external files)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2f6fb0", "#d9822b", "#3a9a5b", "#b0413e", "#7b5ea7", "#8c8c8c")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    """A share, 0 to 1."""
    interval: tuple[float, float] | None = None
    series: int = 0
    """Which colour (one per model)."""


def bar_chart(title: str, bars: Sequence[Bar], *, width: int = 640) -> str:
    """Horizontal bars of shares, with optional interval whiskers, as an ``<svg>`` element."""
    label_width, row, top = 260, 22, 28
    plot = width - label_width - 60
    height = top + row * len(bars) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_width + tick * plot
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 20}" stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">'
            f"{tick:.0%}</text>"
        )
    for index, bar in enumerate(bars):
        y = top + index * row
        colour = PALETTE[bar.series % len(PALETTE)]
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
            f"{escape(bar.label[:42])}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{max(bar.value, 0) * plot:.1f}" '
            f'height="{row - 8}" fill="{colour}"><title>{escape(bar.label)}: '
            f"{bar.value:.1%}</title></rect>"
            f'<text x="{label_width + max(bar.value, 0) * plot + 4:.1f}" y="{y + 14}" '
            f'font-size="10">{bar.value:.0%}</text>'
        )
        if bar.interval is not None:
            low, high = (label_width + v * plot for v in bar.interval)
            middle = y + row / 2 - 1
            parts.append(
                f'<line x1="{low:.1f}" y1="{middle}" x2="{high:.1f}" y2="{middle}" '
                'stroke="#222" stroke-width="1.5"/>'
            )
    parts.append("</svg>")
    return "".join(parts)
