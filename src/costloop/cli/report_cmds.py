"""``costloop report ...``: showback, chargeback and the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from costloop.analytics.showback import showback
from costloop.cli.common import (
    WorkspaceOption,
    console,
    open_workspace,
    print_json,
    table,
)
from costloop.core.errors import InputError
from costloop.core.money import format_money
from costloop.core.periods import parse_month
from costloop.report.html import write_report
from costloop.warehouse.engine import open_engine

__all__ = ["JsonOption", "register", "report_app"]

report_app = typer.Typer(help="Showback, coverage and the HTML report.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@report_app.command("showback")
def report_showback(
    by: Annotated[str, typer.Option(help="Dimension (only 'team' so far).")] = "team",
    month: Annotated[str | None, typer.Option(help="Billing period YYYY-MM.")] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Cost per team and month, billed and effective; rows sum to the total."""
    if by != "team":
        raise InputError(f"--by {by!r} is not supported yet; use --by team")
    ws = open_workspace(workspace)
    with open_engine(ws.lake) as engine:
        rows = showback(engine, None if month is None else parse_month(month))
    if as_json:
        print_json(
            {
                "rows": [
                    {
                        "team": r.team,
                        "period": str(r.period),
                        "billed_cost": r.billed_cost,
                        "effective_cost": r.effective_cost,
                    }
                    for r in rows
                ]
            }
        )
        return
    total_b = sum((r.billed_cost for r in rows), start=0)
    total_e = sum((r.effective_cost for r in rows), start=0)
    console.print(
        table(
            "Showback by team",
            ["period", "team", "$billed", "$effective"],
            [
                [str(r.period), r.team, format_money(r.billed_cost), format_money(r.effective_cost)]
                for r in rows
            ]
            + [["total", "", format_money(total_b), format_money(total_e)]],
        )
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
