"""Inline SVG charts (no JavaScript, no CDN): stacked bars, horizontal bars, lines, bands."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from html import escape

from costloop.core.money import format_money

__all__ = [
    "PALETTE",
    "band_chart",
    "hbar_chart",
    "interval_chart",
    "line_chart",
    "stacked_bar_chart",
]

PALETTE = (
    "#2563eb",
    "#f59e0b",
    "#10b981",
    "#ef4444",
    "#8b5cf6",
    "#06b6d4",
    "#84cc16",
    "#f97316",
    "#64748b",
    "#ec4899",
)


def _money(v: Decimal, currency: str = "USD") -> str:
    if abs(v) >= 1_000_000:
        text = f"{v / 1_000_000:.1f}M"
    elif abs(v) >= 1_000:
        text = f"{v / 1_000:.0f}k"
    else:
        text = f"{v:.0f}"
    return f"${text}" if currency == "USD" else f"{text} {currency}"


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis (legends have little room)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def stacked_bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Decimal]],
    *,
    title: str,
    width: int = 860,
    height: int = 320,
    currency: str = "USD",
) -> str:
    """Stacked columns, one per label, one colour per series (negative parts ignored).

    Values are amounts in ``currency`` (axis and tooltips are labelled with it).
    """
    left, bottom, top, right = 64, 40, 30, 150
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [
        sum((max(s[i], Decimal(0)) for s in series.values()), Decimal(0))
        for i in range(len(labels))
    ]
    peak = max(totals, default=Decimal(0)) or Decimal(1)
    n = max(len(labels), 1)
    bar_w = plot_w / n * 0.7
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="{left}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for k in range(5):
        value = peak * k / 4
        y = top + plot_h - float(value / peak) * plot_h
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{_money(value, currency)}</text>"
        )
    for i, label in enumerate(labels):
        x = left + plot_w / n * i + (plot_w / n - bar_w) / 2
        y = top + plot_h
        for j, (name, values) in enumerate(series.items()):
            v = max(values[i], Decimal(0))
            h = float(v / peak) * plot_h
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(name)} {escape(label)}: '
                f"{escape(format_money(values[i], currency))}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'class="axis">{escape(label)}</text>'
        )
    for j, name in enumerate(series):
        y = top + 14 * j
        parts.append(
            f'<rect x="{width - right + 12}" y="{y}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{width - right + 28}" y="{y + 9}" class="legend">'
            f"<title>{escape(name)}</title>{escape(_fit(name, 20))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    items: Sequence[tuple[str, Decimal]], *, title: str, width: int = 860, currency: str = "USD"
) -> str:
    """Horizontal bars in the given order, with values in ``currency``."""
    row_h, left, top = 24, 170, 30
    height = top + row_h * max(len(items), 1) + 10
    peak = max((abs(v) for _, v in items), default=Decimal(0)) or Decimal(1)
    plot_w = width - left - 110
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="0" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + row_h * i
        w = float(abs(value) / peak) * plot_w
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="axis">'
            f"{escape(label)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" class="axis">'
            f"{escape(format_money(value, currency))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(raw: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^k at least ``raw`` (axis gridline spacing)."""
    if raw <= 0:
        return Decimal(1)
    power = Decimal(10) ** (raw.adjusted())
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10


def interval_chart(
    history: Sequence[tuple[date, Decimal]],
    forecast: Sequence[tuple[date, Decimal, Decimal, Decimal, Decimal, Decimal]],
    *,
    title: str,
    width: int = 860,
    height: int = 320,
    currency: str = "USD",
) -> str:
    """A daily history line, then the forecast mean with its 80 % and 95 % bands.

    ``forecast`` rows are (day, mean, lo80, hi80, lo95, hi95); days are consecutive and
    the forecast starts the day after the history.
    """
    left, bottom, top, right = 64, 40, 30, 150
    plot_w, plot_h = width - left - right, height - top - bottom
    days = [d for d, _ in history] + [row[0] for row in forecast]
    values = [v for _, v in history] + [x for row in forecast for x in row[1:]]
    floor = min(min(values, default=Decimal(0)), Decimal(0))
    step = _nice_step((max(values, default=Decimal(0)) - floor) / 4)
    floor = (floor / step).to_integral_value(rounding=ROUND_FLOOR) * step
    steps = ((max(values, default=Decimal(0)) - floor) / step).to_integral_value(ROUND_CEILING)
    span = step * max(steps, Decimal(1))
    n = max(len(days) - 1, 1)
    first = days[0] if days else date.min

    def x(day: date) -> float:
        return left + (day - first).days / n * plot_w

    def y(value: Decimal) -> float:
        return top + plot_h - float((value - floor) / span) * plot_h

    def band(lows: Sequence[Decimal], highs: Sequence[Decimal]) -> str:
        fdays = [r[0] for r in forecast]
        upper = [f"{x(d):.1f},{y(v):.1f}" for d, v in zip(fdays, highs, strict=True)]
        lower = [f"{x(d):.1f},{y(v):.1f}" for d, v in zip(fdays, lows, strict=True)]
        return " ".join(upper + lower[::-1])

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart interval-chart">',
        f'<text x="{left}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for k in range(int(span / step) + 1):
        value = floor + step * k
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'class="axis">{_money(value, currency)}</text>'
        )
    for day in days:
        if day.day == 1:
            parts.append(
                f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{top}" y2="{top + plot_h}" '
                f'class="grid"/><text x="{x(day):.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle" class="axis">{day:%Y-%m}</text>'
            )
    if forecast:
        outer = band([r[4] for r in forecast], [r[5] for r in forecast])
        inner = band([r[2] for r in forecast], [r[3] for r in forecast])
        parts.append(f'<polygon points="{outer}" fill="#bfdbfe" class="band95"/>')
        parts.append(f'<polygon points="{inner}" fill="#93c5fd" class="band80"/>')
        mean = " ".join(f"{x(r[0]):.1f},{y(r[1]):.1f}" for r in forecast)
        parts.append(
            f'<polyline points="{mean}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5" '
            'stroke-dasharray="4 3" class="forecast-line"/>'
        )
    if history:
        line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in history)
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="#0f172a" stroke-width="1.2" '
            'class="history-line"/>'
        )
        last = history[-1][0]
        parts.append(
            f'<line x1="{x(last):.1f}" x2="{x(last):.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="#64748b" stroke-dasharray="2 2"><title>history ends {last}</title></line>'
        )
    legend = (
        ("#0f172a", "actual"),
        (PALETTE[0], "forecast"),
        ("#93c5fd", "80% interval"),
        ("#bfdbfe", "95% interval"),
    )
    for j, (colour, name) in enumerate(legend):
        ly = top + 14 * j
        parts.append(
            f'<rect x="{width - right + 12}" y="{ly}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{width - right + 28}" y="{ly + 9}" class="legend">{name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _axis(values: Sequence[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """(floor, step, span) of a value axis with four or so gridlines starting at or below 0."""
    floor = min(min(values, default=Decimal(0)), Decimal(0))
    top = max(values, default=Decimal(0))
    step = _nice_step((top - floor) / 4)
    floor = (floor / step).to_integral_value(rounding=ROUND_FLOOR) * step
    steps = ((top - floor) / step).to_integral_value(ROUND_CEILING)
    return floor, step, step * max(steps, Decimal(1))


def _label_every(count: int, room: int) -> int:
    """Show every n-th x label so that at most ``room`` labels are drawn."""
    return max(1, -(-count // max(room, 1)))


def _frame(
    css: str,
    title: str,
    size: tuple[int, int, int, int, int, int],
    ticks: tuple[Decimal, Decimal, Decimal],
    y: Callable[[Decimal], float],
    shown: Callable[[Decimal], str],
    x_labels: Sequence[tuple[float, str]],
) -> list[str]:
    """The opening of a line-style chart: title, horizontal grid with values, x labels.

    ``size`` is (width, height, left, top, plot width, plot height); ``ticks`` is
    (floor, step, span) from ``_axis``; ``x_labels`` are (x, text) of every point.
    """
    width, height, left, top, plot_w, plot_h = size
    floor, step, span = ticks
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart {css}">',
        f'<text x="{left}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for k in range(int(span / step) + 1):
        value = floor + step * k
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'class="axis">{shown(value)}</text>'
        )
    every = _label_every(len(x_labels), plot_w // 70)
    for i, (at, label) in enumerate(x_labels):
        if i % every == 0:
            parts.append(
                f'<text x="{at:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'class="axis">{escape(label)}</text>'
            )
    return parts


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Decimal | None]],
    *,
    title: str,
    unit: str = "USD",
    width: int = 860,
    height: int = 320,
) -> str:
    """One line per series over ``labels`` (missing values break the line).

    ``unit`` is a currency code, or ``%`` for ratios given as percentages (0..100).
    """
    left, bottom, top, right = 64, 40, 30, 150
    plot_w, plot_h = width - left - right, height - top - bottom
    present = [v for values in series.values() for v in values if v is not None]
    floor, step, span = _axis(present)
    n = max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return left + (i / n * plot_w if len(labels) > 1 else plot_w / 2)

    def y(value: Decimal) -> float:
        return top + plot_h - float((value - floor) / span) * plot_h

    def shown(value: Decimal) -> str:
        return f"{value:.0f}%" if unit == "%" else _money(value, unit)

    def exact(value: Decimal) -> str:
        return f"{value:.1f}%" if unit == "%" else format_money(value, unit)

    parts = _frame(
        "line-chart",
        title,
        (width, height, left, top, plot_w, plot_h),
        (floor, step, span),
        y,
        shown,
        [(x(i), label) for i, label in enumerate(labels)],
    )
    for j, (name, values) in enumerate(series.items()):
        colour = PALETTE[j % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, point in enumerate(values):
            if point is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(i):.1f},{y(point):.1f}")
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(point):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(name)} {escape(labels[i])}: {exact(point)}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                    'stroke-width="1.5"/>'
                )
        ly = top + 14 * j
        parts.append(
            f'<rect x="{width - right + 12}" y="{ly}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{width - right + 28}" y="{ly + 9}" class="legend">'
            f"<title>{escape(name)}</title>{escape(_fit(name, 20))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def band_chart(
    points: Sequence[tuple[date, Decimal, Decimal, Decimal, Decimal]],
    *,
    title: str,
    currency: str = "USD",
    width: int = 860,
    height: int = 320,
) -> str:
    """Actual against expected per day, with the expected range as a band.

    ``points`` rows are (day, actual, expected, lower, upper), oldest first.
    """
    left, bottom, top, right = 64, 40, 30, 150
    plot_w, plot_h = width - left - right, height - top - bottom
    floor, step, span = _axis([v for p in points for v in p[1:]])
    n = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + (i / n * plot_w if len(points) > 1 else plot_w / 2)

    def y(value: Decimal) -> float:
        return top + plot_h - float((value - floor) / span) * plot_h

    parts = _frame(
        "band-chart",
        title,
        (width, height, left, top, plot_w, plot_h),
        (floor, step, span),
        y,
        lambda value: _money(value, currency),
        [(x(i), f"{p[0]:%m-%d}") for i, p in enumerate(points)],
    )
    if points:
        upper = [f"{x(i):.1f},{y(p[4]):.1f}" for i, p in enumerate(points)]
        lower = [f"{x(i):.1f},{y(p[3]):.1f}" for i, p in enumerate(points)]
        parts.append(
            f'<polygon points="{" ".join(upper + lower[::-1])}" fill="#bfdbfe" class="band"/>'
        )
        expected = " ".join(f"{x(i):.1f},{y(p[2]):.1f}" for i, p in enumerate(points))
        parts.append(
            f'<polyline points="{expected}" fill="none" stroke="{PALETTE[0]}" '
            'stroke-width="1.5" stroke-dasharray="4 3" class="expected-line"/>'
        )
        actual = " ".join(f"{x(i):.1f},{y(p[1]):.1f}" for i, p in enumerate(points))
        parts.append(
            f'<polyline points="{actual}" fill="none" stroke="{PALETTE[3]}" '
            'stroke-width="1.8" class="actual-line"/>'
        )
        for i, p in enumerate(points):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(p[1]):.1f}" r="2.5" fill="{PALETTE[3]}">'
                f"<title>{p[0]}: actual {escape(format_money(p[1], currency))}, expected "
                f"{escape(format_money(p[2], currency))}</title></circle>"
            )
    legend = ((PALETTE[3], "actual"), (PALETTE[0], "expected"), ("#bfdbfe", "expected range"))
    for j, (colour, name) in enumerate(legend):
        ly = top + 14 * j
        parts.append(
            f'<rect x="{width - right + 12}" y="{ly}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{width - right + 28}" y="{ly + 9}" class="legend">{name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
