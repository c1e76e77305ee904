"""Tiny server-rendered SVG charts: horizontal bars with labels and values.

Drawn on the server so the console needs no script and no chart library, and styled only
with presentation attributes and CSS classes, because the console's CSP forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

DEFAULT_FILL = "#0b57a4"
# Rough text width at the chart's 11px font: a Chinese character is about two Latin ones.
UNIT_PX = 6


@dataclass(frozen=True)
class Bar:
    """One bar: `text` is how the value is shown (defaults to the number itself)."""

    label: str
    value: float
    text: str | None = None
    css_class: str = ""
    fill: str = DEFAULT_FILL

    @property
    def shown(self) -> str:
        if self.text is not None:
            return self.text
        return f"{self.value:g}"


def _number(value: float) -> str:
    """Coordinates with at most one decimal, so the markup stays short and stable."""
    return f"{round(value, 1):g}"


def units(char: str) -> int:
    return 2 if ord(char) >= 0x2E80 else 1


def short(label: str, room_px: int) -> str:
    """The label cut to fit `room_px`; the whole one stays in the bar's <title>."""
    room = room_px // UNIT_PX
    if sum(units(c) for c in label) <= room:
        return label
    used, kept = 1, []  # one unit for the ellipsis
    for char in label:
        used += units(char)
        if used > room:
            break
        kept.append(char)
    return "".join(kept) + "…"


def bar_chart(
    bars: Sequence[Bar],
    title: str,
    *,
    empty_text: str = "",
    width: int = 520,
    label_width: int = 150,
    value_width: int = 64,
    bar_height: int = 20,
    gap: int = 6,
) -> Markup:
    """A horizontal bar chart as inline SVG, readable by screen readers (role=img, title).

    Bars are scaled to the largest value; a chart with no bars shows `empty_text`.
    """
    label = escape(title)
    if not bars:
        height = bar_height + 2 * gap
        return Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart empty" role="img" '
            'aria-label="{label}" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
            "<title>{label}</title>"
            '<text x="0" y="{y}" class="empty">{empty}</text></svg>'
        ).format(label=label, w=width, h=height, y=_number(height / 2 + 4), empty=empty_text)
    top = max((bar.value for bar in bars), default=0)
    track = max(width - label_width - value_width, 10)
    height = len(bars) * (bar_height + gap) + gap
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" role="img" '
            'aria-label="{label}" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
            "<title>{label}</title>"
        ).format(label=label, w=width, h=height)
    ]
    for index, bar in enumerate(bars):
        y = gap + index * (bar_height + gap)
        middle = y + bar_height / 2 + 4  # text baseline near the bar's middle
        length = track * bar.value / top if top > 0 and bar.value > 0 else 0
        classes = " ".join(filter(None, ("bar", bar.css_class)))
        parts.append(
            Markup(
                '<g class="{classes}" data-value="{value}"><title>{full}: {shown}</title>'
                '<text x="{lx}" y="{ty}" text-anchor="end" class="label">{text}</text>'
                '<rect x="{x}" y="{y}" width="{bw}" height="{bh}" fill="{fill}"></rect>'
                '<text x="{vx}" y="{ty}" class="value">{shown}</text></g>'
            ).format(
                classes=classes,
                value=f"{bar.value:g}",
                lx=label_width - 6,
                ty=_number(middle),
                full=bar.label,
                text=short(bar.label, label_width - 8),
                x=label_width,
                y=y,
                bw=_number(length),
                bh=bar_height,
                fill=bar.fill,
                vx=_number(label_width + length + 4),
                shown=bar.shown,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
