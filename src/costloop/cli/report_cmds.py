"""``costloop report ...``: showback by any dimension, team reports, chargeback, HTML report."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from costloop.analytics.chargeback import Chargeback, chargeback, minor_unit
from costloop.analytics.showback import METRICS, ShowbackReport, showback_by
from costloop.cli.common import (
    WorkspaceOption,
    console,
    jsonable,
    open_workspace,
    print_json,
    table,
)
from costloop.core.errors import InputError
from costloop.core.money import format_money
from costloop.core.periods import Month, parse_month
from costloop.report.chargeback_files import write_chargeback
from costloop.report.html import write_report
from costloop.report.render import atomic_write_text, change_text, label
from costloop.report.showback_formats import (
    drivers_text,
    showback_csv,
    showback_data,
    showback_html,
    showback_markdown,
)
from costloop.report.team import team_report
from costloop.report.team_render import TEAM_FORMATS, render_team, write_team_reports
from costloop.warehouse.engine import open_engine

__all__ = ["JsonOption", "register", "report_app"]

report_app = typer.Typer(
    help="Showback, team reports, chargeback, coverage and the HTML report.",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

SHOWBACK_FORMATS = ("table", "csv", "md", "html", "json")
_SUFFIXES = {
    ".csv": "csv",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
}


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise InputError(f"{option} {value!r} is not one of: {', '.join(allowed)}")
    return value


def _output_format(fmt: str | None, out: Path | None, allowed: tuple[str, ...]) -> str | None:
    """The explicit format, else the one ``--out``'s suffix names, else None."""
    if fmt is not None:
        return _choice(fmt, allowed, "--format")
    if out is not None and out.suffix.lower() in _SUFFIXES:
        inferred = _SUFFIXES[out.suffix.lower()]
        if inferred in allowed:
            return inferred
    return None


def _period_range(
    month: str | None, first: str | None, last: str | None
) -> tuple[Month | None, Month | None]:
    if month is not None and (first is not None or last is not None):
        raise InputError("use either --month or --from/--to, not both")
    if month is not None:
        m = parse_month(month)
        return m, m
    return (
        None if first is None else parse_month(first),
        None if last is None else parse_month(last),
    )


@report_app.command("showback")
def report_showback(
    by: Annotated[
        str,
        typer.Option(
            help="Dimension(s), comma-separated: an allocation dimension (team, ...) or a "
            "FOCUS column (ServiceName, SubAccountId, RegionId, ...)."
        ),
    ] = "team",
    month: Annotated[str | None, typer.Option(help="One billing period YYYY-MM.")] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="First billing period YYYY-MM.")
    ] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last billing period YYYY-MM.")] = None,
    metric: Annotated[
        str, typer.Option(help="billed | effective (amortized) | list.")
    ] = "effective",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="table | csv | md | html | json [default: from --out's suffix, else table].",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file, not stdout.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Cost per dimension value and billing period, with trend and top drivers.

    Without a period option: the latest billing period and its change against the
    previous one. Rows of a period sum exactly to its total; currencies are never added.
    """
    if as_json:
        if fmt not in (None, "json"):
            raise InputError(f"--json and --format {fmt} disagree; give one of them")
        fmt = "json"
    chosen = _output_format(fmt, out, SHOWBACK_FORMATS) or "table"
    if out is not None and chosen == "table":
        raise InputError("--out needs --format csv, md, html or json (or a file suffix)")
    start, end = _period_range(month, first, last)
    ws = open_workspace(workspace)
    with open_engine(ws.lake) as engine:
        report = showback_by(engine, by.split(","), first=start, last=end, metric=metric)
    if chosen == "table":
        console.print(_showback_table(report))
        return
    if chosen == "json":
        text = json.dumps(jsonable(showback_data(report)), indent=2) + "\n"
    elif chosen == "csv":
        text = showback_csv(report)
    elif chosen == "md":
        text = showback_markdown(report)
    else:
        text = showback_html(report)
    if out is None:
        typer.echo(text, nl=False)
        return
    atomic_write_text(out, text)
    console.print(f"Showback written to [bold]{out}[/]")


def _showback_table(report: ShowbackReport) -> Table:
    many = len(report.periods) > 1
    columns = [
        *(["period"] if many else []),
        *report.dimensions,
        *(["currency"] if report.multi_currency else []),
        "$cost",
        "$previous",
        "$change",
        "%change",
        "top services",
        "top accounts",
    ]
    rows: list[list[object]] = []
    for total in report.totals:
        cur = total.currency
        for r in report.rows_of(total):
            rows.append(
                [
                    *([str(r.period)] if many else []),
                    *(label(v) for v in r.values),
                    *([cur] if report.multi_currency else []),
                    format_money(r.cost, cur),
                    None if r.previous is None else format_money(r.previous, cur),
                    None if r.change is None else format_money(r.change, cur),
                    change_text(r.cost, r.previous, r.change_pct),
                    drivers_text(r.services, cur),
                    drivers_text(r.accounts, cur),
                ]
            )
        rows.append(
            [
                *([str(total.period)] if many else []),
                "total",
                *([""] * (len(report.dimensions) - 1)),
                *([cur] if report.multi_currency else []),
                format_money(total.cost, cur),
                None if total.previous is None else format_money(total.previous, cur),
                None if total.change is None else format_money(total.change, cur),
                change_text(total.cost, total.previous, total.change_pct),
                "",
                "",
            ]
        )
    span = str(report.periods[0]) if not many else f"{report.periods[0]} to {report.periods[-1]}"
    return table(
        f"Showback by {', '.join(report.dimensions)}, {METRICS[report.metric]}, {span}",
        columns,
        rows,
    )


@report_app.command("team")
def report_team(
    team: Annotated[str | None, typer.Option(help="Team name (see the org file).")] = None,
    all_teams: Annotated[
        bool, typer.Option("--all", help="Every team: one file each in --out DIR.")
    ] = False,
    month: Annotated[
        str | None, typer.Option(help="Billing period YYYY-MM [default: the latest].")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="html | md [default: from --out's suffix, else md].",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output file (a folder with --all); default stdout.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """A team's monthly showback: cost, trend, top services/accounts/resources, shared cost."""
    period = None if month is None else parse_month(month)
    if all_teams:
        if team is not None:
            raise InputError("give either --team NAME or --all, not both")
        if out is None:
            raise InputError("--all writes one file per team: give --out DIR")
        chosen = _output_format(fmt, None, TEAM_FORMATS) or "md"
        ws = open_workspace(workspace)
        with open_engine(ws.lake) as engine:
            paths = write_team_reports(engine, ws.org, period, chosen, out)
        console.print(f"Wrote {len(paths)} team reports to [bold]{out}[/]")
        return
    if team is None:
        raise InputError("give either --team NAME or --all")
    chosen = _output_format(fmt, out, TEAM_FORMATS) or "md"
    ws = open_workspace(workspace)
    with open_engine(ws.lake) as engine:
        text = render_team(team_report(engine, ws.org, team, period), chosen)
    if out is None:
        typer.echo(text, nl=False)
        return
    atomic_write_text(out, text)
    console.print(f"Team report written to [bold]{out}[/]")


@report_app.command("chargeback")
def report_chargeback(
    month: Annotated[str, typer.Option(help="Billing period YYYY-MM.", show_default=False)],
    out: Annotated[
        Path, typer.Option(help="Folder for the statements and summary.", show_default=False)
    ],
    metric: Annotated[
        str, typer.Option(help="billed (the invoice) | effective (amortized).")
    ] = "billed",
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Per-team statements that add up to the invoice, as CSV and Parquet.

    Writes DIR/statement-<team>.csv|parquet and DIR/summary.csv|parquet; the summary
    of each billing account and currency equals the charges table exactly.
    """
    ws = open_workspace(workspace)
    with open_engine(ws.lake) as engine:
        cb = chargeback(engine, parse_month(month), metric)
    paths = write_chargeback(cb, out)
    if as_json:
        print_json(
            {
                "period": str(cb.month),
                "measure": cb.column,
                "files": [str(p) for p in paths],
                "summary": [
                    {
                        "team": s.team,
                        "billing_account_id": s.billing_account_id,
                        "currency": s.currency,
                        "amount": s.amount,
                        "amount_rounded": s.amount_rounded,
                        "lines": s.lines,
                    }
                    for s in cb.summary
                ],
                "invoices": [
                    {
                        "billing_account_id": i.billing_account_id,
                        "currency": i.currency,
                        "amount": i.amount,
                        "amount_rounded": i.amount_rounded,
                    }
                    for i in cb.invoices
                ],
            }
        )
        return
    console.print(_chargeback_table(cb))
    console.print(f"Wrote {len(paths)} files to [bold]{out}[/]")


def _chargeback_table(cb: Chargeback) -> Table:
    def money(value: Decimal, currency: str) -> str:
        return format_money(value, currency, minor_unit(currency))

    rows: list[list[object]] = [
        [
            s.team,
            label(s.billing_account_id),
            s.currency,
            money(s.amount_rounded, s.currency),
            s.lines,
        ]
        for s in cb.summary
    ]
    rows += [
        [
            "invoice total",
            label(i.billing_account_id),
            i.currency,
            money(i.amount_rounded, i.currency),
            i.lines,
        ]
        for i in cb.invoices
    ]
    return table(
        f"Chargeback {cb.month} ({cb.column}); teams add up to each invoice exactly",
        ["team", "billing account", "currency", "$amount", "#lines"],
        rows,
    )


@report_app.command("html")
def report_html(
    out: Annotated[
        Path | None, typer.Option(help="Output file (default: <report.dir>/costloop-report.html).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the HTML report: spend over time, per-team breakdown, opportunities."""
    ws = open_workspace(workspace)
    path = write_report(ws, out)
    console.print(f"Report written to [bold]{path}[/]")


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.add_typer(report_app, name="report")
