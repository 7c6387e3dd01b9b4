"""The dashboard's charts as inline SVG, drawn on the server (no script, nothing fetched).

Every mark is drawn in `currentColor` (the page sets it from the theme's CSS variables; the
PDF in dark grey), and every bar or cell carries its value as text, so a chart reads the same
printed, in the dark theme and to someone who cannot tell colours apart. Each mark may link
to the list it counts (an `<a>` around it) and carries a `<title>` naming what it is.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
NOTHING = '<text x="8" y="24" class="chart-text">Nothing in this period.</text>'
BAR_WIDTH = 420


@dataclass(frozen=True)
class Mark:
    """One bar: its label, value, the text shown for it, and the list it counts (or None)."""

    label: str
    value: float
    text: str
    href: str | None = None
    title: str = ""


def _link(inner: str, href: str | None, title: str) -> str:
    titled = f"<title>{escape(title)}</title>{inner}" if title else inner
    if href:
        return f'<a href="{escape(href)}">{titled}</a>'
    return f"<g>{titled}</g>"


def _svg(height: int, body: list[str], label: str, width: int = WIDTH) -> SafeString:
    # Every text and link put into `body` went through `escape` (labels, values, titles, hrefs).
    return mark_safe(  # noqa: S308
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" '
        f'role="group" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="DejaVu Sans, system-ui, sans-serif" font-size="12">'
        + "".join(body)
        + "</svg>"
    )


def column_chart(marks: Sequence[Mark], label: str, height: int = 220) -> SafeString:
    """Vertical bars, one per mark, value above each, labels below (every few when many)."""
    left, bottom, top = 8, 36, 22
    plot = height - bottom - top
    if not marks:
        return _svg(40, [NOTHING], label)
    peak = max((m.value for m in marks), default=0) or 1
    step = (WIDTH - 2 * left) / len(marks)
    bar = max(step * 0.7, 1)
    every = max(1, round(len(marks) / 16))
    body = [
        f'<line x1="{left}" y1="{top + plot}" x2="{WIDTH - left}" y2="{top + plot}" '
        'stroke="currentColor" stroke-opacity=".5"/>'
    ]
    for i, mark in enumerate(marks):
        x = left + i * step + (step - bar) / 2
        h = plot * mark.value / peak
        y = top + plot - h
        shapes = (
            f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{max(h, 0.5):.1f}" fill="currentColor"/>'
        )
        if len(marks) <= 40 or mark.value:
            shapes += (
                f'<text class="chart-text" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" '
                f'text-anchor="middle" font-size="{11 if len(marks) <= 16 else 9}">'
                f"{escape(mark.text)}</text>"
            )
        if i % every == 0:
            shapes += (
                f'<text class="chart-text" x="{x + bar / 2:.1f}" y="{top + plot + 16}" '
                f'text-anchor="middle" font-size="10">{escape(mark.label)}</text>'
            )
        body.append(_link(shapes, mark.href, mark.title or f"{mark.label}: {mark.text}"))
    return _svg(height, body, label)


def bar_chart(marks: Sequence[Mark], label: str) -> SafeString:
    """Horizontal bars: the label on the left, the value at the end of each bar. Narrower
    than the others: two sit side by side on a desk screen."""
    width, row, name_width, pad = BAR_WIDTH, 26, 150, 50
    if not marks:
        return _svg(40, [NOTHING], label)
    peak = max((m.value for m in marks), default=0) or 1
    span = width - name_width - pad
    body = []
    for i, mark in enumerate(marks):
        y = 6 + i * row
        w = span * mark.value / peak
        shapes = (
            f'<text class="chart-text" x="{name_width - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(mark.label)}</text>"
            f'<rect class="chart-bar" x="{name_width}" y="{y + 2}" width="{max(w, 0.5):.1f}" '
            f'height="{row - 8}" fill="currentColor"/>'
            f'<text class="chart-text" x="{name_width + w + 6:.1f}" y="{y + 15}" '
            f'font-weight="bold">{escape(mark.text)}</text>'
        )
        body.append(_link(shapes, mark.href, mark.title or f"{mark.label}: {mark.text}"))
    return _svg(12 + len(marks) * row, body, label, width)


def heat_map(
    rows: Sequence[tuple[str, Sequence[int]]], label: str, href: str | None = None
) -> SafeString:
    """Weekday rows × 24 hour columns; a cell's shade grows with its count and the count is
    written in it (blank for none)."""
    name_width, cell, head = 44, (WIDTH - 44 - 4) / 24, 18
    peak = max((n for _, counts in rows for n in counts), default=0) or 1
    body = []
    for hour in range(24):
        body.append(
            f'<text class="chart-text" x="{name_width + (hour + 0.5) * cell:.1f}" y="12" '
            f'text-anchor="middle" font-size="10">{hour:02d}</text>'
        )
    for r, (day, counts) in enumerate(rows):
        y = head + r * cell
        body.append(
            f'<text class="chart-text" x="0" y="{y + cell / 2 + 4:.1f}" font-size="11">'
            f"{escape(day)}</text>"
        )
        for hour, n in enumerate(counts):
            x = name_width + hour * cell
            shade = 0.08 + 0.4 * n / peak if n else 0.03
            cell_svg = (
                f'<rect x="{x + 1:.1f}" y="{y + 1:.1f}" width="{cell - 2:.1f}" '
                f'height="{cell - 2:.1f}" fill="currentColor" fill-opacity="{shade:.2f}" '
                'stroke="currentColor" stroke-opacity=".25"/>'
            )
            if n:
                cell_svg += (
                    f'<text class="chart-text" x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" '
                    f'text-anchor="middle" font-size="11" font-weight="bold">{n}</text>'
                )
            title = f"{day} {hour:02d}:00–{hour:02d}:59: {n} incident{'s' if n != 1 else ''}"
            body.append(_link(cell_svg, href if n else None, title))
    return _svg(int(head + 7 * cell + 4), body, label)
