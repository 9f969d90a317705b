"""``costloop ingest-metrics`` and ``costloop report unit-cost``."""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from costloop.analytics.unit_cost import (
    COST_BASIS,
    UnitCostReport,
    UnitCostRow,
    format_pct,
    unit_cost,
)
from costloop.cli.common import (
    WorkspaceOption,
    console,
    decimal_text,
    jsonable,
    open_workspace,
    parse_day,
    print_json,
    table,
)
from costloop.cli.report_cmds import JsonOption, report_app
from costloop.connectors.business_metrics import MetricsFileCheck, check_metrics_file
from costloop.connectors.files import discover
from costloop.core.errors import InputError
from costloop.core.money import format_money, quantize
from costloop.warehouse.datasets_load import load_dataset
from costloop.warehouse.engine import open_engine

__all__ = ["register"]


def ingest_metrics(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Business-metric files or folders (.csv, .csv.gz, .parquet)."),
    ],
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Load business metrics (date, metric, value[, dimension]) for unit economics.

    Every row of every file is checked before anything is loaded: a date as
    YYYY-MM-DD, a metric name, a number ≥ 0, and one row per (date, metric,
    dimension). Each file then replaces the series it covers over its date range.
    """
    ws = open_workspace(workspace)
    checks = [check_metrics_file(item) for item in discover(paths)]
    loads = []
    for check in checks:
        done = load_dataset(ws.lake, check.item, "business_metrics")
        loads.append((check, done.rows, done.replaced_rows))
    if as_json:
        print_json(
            {
                "files": [
                    {
                        "file": str(check.item.path),
                        "rows": rows,
                        "replaced_rows": replaced,
                        "metrics": [
                            {
                                "metric": m.metric,
                                "rows": m.rows,
                                "first_date": m.first_date,
                                "last_date": m.last_date,
                                "dimensions": list(m.dimensions),
                                "total": m.total,
                            }
                            for m in check.metrics
                        ],
                    }
                    for check, rows, replaced in loads
                ]
            }
        )
        return
    for check, rows, replaced in loads:
        console.print(
            f"Loaded {rows:,} business-metric rows from {check.item.path} (replaced {replaced:,}).",
            highlight=False,
        )
    console.print(_metrics_table(checks))


def _metrics_table(checks: list[MetricsFileCheck]) -> Any:
    return table(
        "Business metrics loaded",
        ["file", "metric", "#rows", "from", "to", "dimensions", "#total"],
        [
            [
                check.item.path.name,
                m.metric,
                f"{m.rows:,}",
                m.first_date.isoformat(),
                m.last_date.isoformat(),
                ", ".join(m.dimensions) or "(none)",
                _volume_text(m.total),
            ]
            for check in checks
            for m in check.metrics
        ],
    )


def _volume_text(value: Decimal) -> str:
    """A volume with thousands separators and no trailing zeros: ``1,500.5``."""
    return f"{value.normalize():,f}"


class Grain(StrEnum):
    """Period length of a unit-cost report."""

    day = "day"
    week = "week"
    month = "month"


class OutputFormat(StrEnum):
    """How ``report unit-cost`` prints."""

    table = "table"
    csv = "csv"
    json = "json"


def _parse_scope(items: list[str]) -> dict[str, list[str]]:
    scope: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"--scope expects DIMENSION=VALUE (e.g. env=prod), got {item!r}")
        scope.setdefault(name.strip(), []).append(value.strip())
    return scope


def _pct_text(ratio: Decimal | None) -> str | None:
    """Percent as a decimal string with 4 places, for CSV and JSON."""
    return None if ratio is None else decimal_text(quantize(ratio * 100, 4))


def _record(report: UnitCostReport, row: UnitCostRow) -> dict[str, Any]:
    ch = row.change
    unit = row.unit_cost
    record: dict[str, Any] = {
        "period": row.period,
        "period_end": row.period_end,
        "partial": row.partial,
    }
    if report.by is not None:
        record[report.by] = "(total)" if row.is_total else row.group
    record.update(
        {
            "cost": row.cost,
            "volume": row.volume,
            "unit_cost": None if unit is None else quantize(unit, 10),
            "cost_change": None if ch is None else ch.cost_change,
            "cost_change_pct": None if ch is None else _pct_text(ch.cost_pct),
            "volume_change_pct": None if ch is None else _pct_text(ch.volume_pct),
            "unit_cost_change_pct": None if ch is None else _pct_text(ch.unit_cost_pct),
            "volume_effect": None if ch is None else ch.volume_effect,
            "unit_cost_effect": None if ch is None else ch.unit_cost_effect,
            "verdict": None if ch is None else ch.verdict,
        }
    )
    return record


def _print_csv(report: UnitCostReport) -> None:
    records = [_record(report, r) for r in report.rows]
    buf = io.StringIO()
    names = list(_record(report, report.rows[0])) if records else ["period"]
    writer = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow(
            {
                k: "" if v is None else ("true" if v is True else "false" if v is False else v)
                for k, v in jsonable(rec).items()
            }
        )
    sys.stdout.write(buf.getvalue())


def _print_json(report: UnitCostReport) -> None:
    headline = report.headline
    print_json(
        {
            "metric": report.metric,
            "grain": report.grain,
            "by": report.by,
            "cost_basis": COST_BASIS,
            "scope": {k: list(v) for k, v in report.scope.items()},
            "currency": report.currency,
            "covered": None
            if report.covered is None
            else {"from": report.covered[0], "to": report.covered[1]},
            "rows": [_record(report, r) for r in report.rows],
            "summary": None
            if headline is None
            else {
                "period": headline[0].period,
                "sentence": headline[1].sentence(),
                "verdict": headline[1].verdict,
            },
            "notes": list(report.notes),
        }
    )


def _period_label(start: date, grain: str) -> str:
    """``2026-10`` for a month, the first day otherwise."""
    return f"{start:%Y-%m}" if grain == "month" else start.isoformat()


def _print_table(report: UnitCostReport) -> None:
    currency = report.currency or "USD"
    grain_label = {"day": "day", "week": "week (Mon)", "month": "month"}[report.grain]
    columns = [grain_label]
    if report.by is not None:
        columns.append(report.by)
    columns += [
        "$cost",
        f"#{report.metric}",
        "$unit cost",
        "%Δ cost",
        "%Δ volume",
        "%Δ unit",
        "$volume effect",
        "$unit effect",
        "verdict",
    ]
    rows = []
    for r in report.rows:
        ch = r.change
        unit = r.unit_cost
        label = _period_label(r.period, report.grain) + ("*" if r.partial else "")
        line: list[object] = [label]
        if report.by is not None:
            line.append("total" if r.is_total else r.group)
        line += [
            format_money(r.cost, currency),
            "—" if r.volume is None else _volume_text(r.volume),
            "—" if unit is None else format_money(unit, currency, places=4),
            "" if ch is None else format_pct(ch.cost_pct),
            "" if ch is None else format_pct(ch.volume_pct),
            "" if ch is None else format_pct(ch.unit_cost_pct),
            ""
            if ch is None or ch.volume_effect is None
            else format_money(ch.volume_effect, currency),
            ""
            if ch is None or ch.unit_cost_effect is None
            else format_money(ch.unit_cost_effect, currency),
            "" if ch is None or ch.verdict is None else ch.verdict,
        ]
        rows.append(line)
    scope = ", ".join(f"{k}={'|'.join(v)}" for k, v in report.scope.items()) or "all cost"
    console.print(
        table(
            f"Unit cost: {COST_BASIS} per {report.metric} (scope: {scope})",
            columns,
            rows,
        )
    )
    if any(r.partial for r in report.rows):
        covered = (
            f"no day has both cost and {report.metric} data"
            if report.covered is None
            else f"cost and {report.metric} data both cover only "
            f"{report.covered[0]} … {report.covered[1]}"
        )
        console.print(f"* partial period ({covered})", highlight=False)
    headline = report.headline
    if headline is not None:
        console.print(
            f"{_period_label(headline[0].period, report.grain)} vs the {report.grain} before: "
            f"{headline[1].sentence()}",
            highlight=False,
        )
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)


@report_app.command("unit-cost")
def report_unit_cost(
    metric: Annotated[str, typer.Option(help="Business metric, e.g. orders.")],
    by: Annotated[
        str | None,
        typer.Option(help="Allocation dimension to split by, e.g. product or team."),
    ] = None,
    grain: Annotated[Grain, typer.Option(help="Period: day, ISO week or month.")] = Grain.month,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day YYYY-MM-DD (included).")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD (included).")] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="Limit the cost to DIMENSION=VALUE (repeatable; values of one dimension "
            "are alternatives). Default: all cost."
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    workspace: WorkspaceOption = None,
) -> None:
    """Cost per unit of a business metric (amortized EffectiveCost / volume) per period.

    Shows the change against the previous period split into a volume effect
    (ΔV·U₀) and a unit-cost effect (ΔU·V₁) that add up to the change in cost;
    healthy means cost grows slower than volume. Periods not fully covered by both
    cost and metric data are marked partial.
    """
    start = parse_day(from_, "--from")
    end = parse_day(to, "--to")
    ws = open_workspace(workspace)
    with open_engine(ws.lake) as engine:
        report = unit_cost(
            engine,
            metric,
            by=by,
            grain=grain.value,
            start=start,
            end=end,
            scope=_parse_scope(scope or []),
        )
    if output is OutputFormat.json:
        _print_json(report)
    elif output is OutputFormat.csv:
        _print_csv(report)
    else:
        _print_table(report)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command("ingest-metrics")(ingest_metrics)
