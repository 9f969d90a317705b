"""Showback by dimension as CSV, Markdown, a self-contained HTML page, or JSON-ready data."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from costloop.analytics.showback import METRICS, DimensionRow, Driver, ShowbackReport
from costloop.core.money import ZERO, format_money, quantize
from costloop.report.charts import hbar_chart, stacked_bar_chart
from costloop.report.render import (
    change_text,
    label,
    markdown_table,
    plain_decimal,
    template_environment,
)

__all__ = [
    "drivers_text",
    "row_label",
    "showback_csv",
    "showback_data",
    "showback_html",
    "showback_markdown",
]

_CHART_SERIES = 8
_CHART_BARS = 15


def row_label(row: DimensionRow) -> str:
    """The dimension values of a row joined with `` / ``."""
    return " / ".join(label(v) for v in row.values)


def drivers_text(drivers: Sequence[Driver], currency: str) -> str:
    """``name $cost, name $cost`` for a row's top services or accounts."""
    return ", ".join(f"{label(d.name)} {format_money(d.cost, currency)}" for d in drivers)


def _pct(value: Decimal | None) -> Decimal | None:
    return None if value is None else quantize(value, 2)


def showback_data(report: ShowbackReport) -> dict[str, Any]:
    """JSON-ready structure (money stays Decimal; the CLI prints it as decimal strings)."""
    groups = []
    for total in report.totals:
        rows = [r for r in report.rows if r.period == total.period and r.currency == total.currency]
        groups.append(
            {
                "period": str(total.period),
                "currency": total.currency,
                "total": total.cost,
                "previous_total": total.previous,
                "change": total.change,
                "change_pct": _pct(total.change_pct),
                "rows": [
                    {
                        "values": dict(zip(report.dimensions, r.values, strict=True)),
                        "cost": r.cost,
                        "previous_cost": r.previous,
                        "change": r.change,
                        "change_pct": _pct(r.change_pct),
                        "top_services": [{"name": d.name, "cost": d.cost} for d in r.services],
                        "top_accounts": [{"name": d.name, "cost": d.cost} for d in r.accounts],
                    }
                    for r in rows
                ],
            }
        )
    return {
        "metric": report.metric,
        "measure": METRICS[report.metric],
        "dimensions": list(report.dimensions),
        "periods": [str(p) for p in report.periods],
        "currencies": list(report.currencies),
        "groups": groups,
    }


def _money_text(value: Decimal | None) -> str:
    return "" if value is None else plain_decimal(value)


def _driver_cells(drivers: Sequence[Driver], n: int = 3) -> list[str]:
    cells: list[str] = []
    for i in range(n):
        if i < len(drivers):
            cells += [drivers[i].name or "", plain_decimal(drivers[i].cost)]
        else:
            cells += ["", ""]
    return cells


def showback_csv(report: ShowbackReport) -> str:
    """CSV: one ``row`` line per combination and period, one ``total`` line per period.

    Money is plain decimal text (full precision, no separators or symbol); ``line``
    tells detail rows from the period totals, so a sum over ``row`` lines of a period
    and currency equals its ``total`` line.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    drivers = [
        f"{kind}_{i}{suffix}"
        for kind in ("service", "account")
        for i in (1, 2, 3)
        for suffix in ("", "_cost")
    ]
    w.writerow(
        [
            "line",
            "period",
            *report.dimensions,
            "currency",
            "measure",
            "cost",
            "previous_cost",
            "change",
            "change_pct",
            *drivers,
        ]
    )
    measure = METRICS[report.metric]
    for total in report.totals:
        for r in report.rows:
            if r.period != total.period or r.currency != total.currency:
                continue
            pct = _pct(r.change_pct)
            w.writerow(
                [
                    "row",
                    str(r.period),
                    *("" if v is None else v for v in r.values),
                    r.currency,
                    measure,
                    plain_decimal(r.cost),
                    _money_text(r.previous),
                    _money_text(r.change),
                    "" if pct is None else str(pct),
                    *_driver_cells(r.services),
                    *_driver_cells(r.accounts),
                ]
            )
        pct = _pct(total.change_pct)
        w.writerow(
            [
                "total",
                str(total.period),
                *([""] * len(report.dimensions)),
                total.currency,
                measure,
                plain_decimal(total.cost),
                _money_text(total.previous),
                _money_text(total.change),
                "" if pct is None else str(pct),
                *([""] * len(drivers)),
            ]
        )
    return buf.getvalue()


def _title(report: ShowbackReport) -> str:
    span = (
        str(report.periods[0])
        if len(report.periods) == 1
        else f"{report.periods[0]} to {report.periods[-1]}"
    )
    return f"Showback by {', '.join(report.dimensions)} ({METRICS[report.metric]}), {span}"


def showback_markdown(report: ShowbackReport) -> str:
    """A Markdown table (with a bold total line per period) that pastes well into chat."""
    many = len(report.periods) > 1
    headers = [
        *(["Period"] if many else []),
        *report.dimensions,
        *(["Currency"] if report.multi_currency else []),
        "Cost",
        "Previous",
        "Change",
        "Top services",
        "Top accounts",
    ]
    right = [h in ("Cost", "Previous", "Change") for h in headers]
    rows: list[list[str]] = []
    for total in report.totals:
        cur = total.currency
        for r in report.rows_of(total):
            rows.append(
                [
                    *([str(r.period)] if many else []),
                    *(label(v) for v in r.values),
                    *([cur] if report.multi_currency else []),
                    format_money(r.cost, cur),
                    "" if r.previous is None else format_money(r.previous, cur),
                    change_text(r.cost, r.previous, r.change_pct),
                    drivers_text(r.services, cur),
                    drivers_text(r.accounts, cur),
                ]
            )
        rows.append(
            [
                *([str(total.period)] if many else []),
                "**Total**",
                *([""] * (len(report.dimensions) - 1)),
                *([cur] if report.multi_currency else []),
                f"**{format_money(total.cost, cur)}**",
                "" if total.previous is None else format_money(total.previous, cur),
                change_text(total.cost, total.previous, total.change_pct),
                "",
                "",
            ]
        )
    return f"**{_title(report)}**\n\n{markdown_table(headers, rows, right)}\n"


def _charts(report: ShowbackReport) -> list[str]:
    """Per currency: cost per period by the largest rows (stacked), and the latest period."""
    charts = []
    labels = [str(p) for p in report.periods]
    for cur in report.currencies:
        rows = [r for r in report.rows if r.currency == cur]
        if len(report.periods) > 1:
            by_key: dict[str, list[Decimal]] = {}
            for r in rows:
                series = by_key.setdefault(row_label(r), [ZERO] * len(labels))
                series[report.periods.index(r.period)] += r.cost
            ranked = sorted(by_key.items(), key=lambda kv: (-sum(kv[1], ZERO), kv[0]))
            shown = dict(ranked[:_CHART_SERIES])
            rest = ranked[_CHART_SERIES:]
            if rest:
                shown["other"] = [sum((s[i] for _, s in rest), ZERO) for i in range(len(labels))]
            charts.append(
                stacked_bar_chart(
                    labels,
                    shown,
                    title=f"{METRICS[report.metric]} per period ({cur})",
                    currency=cur,
                )
            )
        latest = [r for r in rows if r.period == report.periods[-1]]
        items = [(row_label(r), r.cost) for r in latest[:_CHART_BARS]]
        if items:
            charts.append(
                hbar_chart(
                    items,
                    title=f"{METRICS[report.metric]} by {', '.join(report.dimensions)}, "
                    f"{report.periods[-1]} ({cur})",
                    currency=cur,
                )
            )
    return charts


def showback_html(report: ShowbackReport, *, generated_at: datetime | None = None) -> str:
    """A self-contained HTML page: inline SVG bar charts and the full table, no scripts."""
    env = template_environment()
    env.filters["change"] = lambda r: change_text(r.cost, r.previous, r.change_pct)
    env.filters["drivers"] = lambda ds, cur: drivers_text(ds, cur)
    return env.get_template("showback.html.j2").render(
        title=_title(report),
        report=report,
        groups=[
            (
                total,
                [
                    r
                    for r in report.rows
                    if r.period == total.period and r.currency == total.currency
                ],
            )
            for total in report.totals
        ],
        charts=_charts(report),
        generated_at=(generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )
