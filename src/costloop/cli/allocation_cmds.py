"""``costloop allocate`` and ``costloop report coverage``."""

from __future__ import annotations

from typing import Annotated

import typer

from costloop.allocation import allocate as run_allocation
from costloop.analytics.showback import coverage
from costloop.cli.common import (
    WorkspaceOption,
    console,
    decimal_text,
    open_workspace,
    print_json,
    table,
)
from costloop.cli.report_cmds import JsonOption, report_app
from costloop.core.money import format_money
from costloop.core.periods import parse_month
from costloop.warehouse.engine import open_engine

__all__ = ["register"]


def allocate(
    period: Annotated[
        str | None, typer.Option(help="Billing period YYYY-MM (default: all).")
    ] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Attribute every charge to a team (tags, then account mapping), per billing period."""
    ws = open_workspace(workspace)
    periods = None if period is None else [parse_month(period).start]
    with open_engine(ws.lake, read_only=False) as engine:
        results = run_allocation(engine, ws.allocation, periods)
    if as_json:
        print_json(
            {
                "periods": [
                    {
                        "period": f"{r.period:%Y-%m}",
                        "rows": r.rows,
                        "effective_cost": r.totals["EffectiveCost"],
                        "allocated_effective_cost": r.allocated_effective,
                        "coverage": str(round(r.coverage, 4)),
                    }
                    for r in results
                ]
            }
        )
        return
    console.print(
        table(
            "Allocation by team (Σ allocated = Σ source checked for every cost column)",
            ["period", "#rows", "$effective", "$allocated", "%coverage"],
            [
                [
                    f"{r.period:%Y-%m}",
                    f"{r.rows:,}",
                    format_money(r.totals["EffectiveCost"]),
                    format_money(r.allocated_effective),
                    f"{r.coverage * 100:.1f}%",
                ]
                for r in results
            ],
        )
    )


@report_app.command("coverage")
def report_coverage(as_json: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """Allocation coverage per month (allocated EffectiveCost ÷ total)."""
    ws = open_workspace(workspace)
    with open_engine(ws.lake) as engine:
        rows = coverage(engine)
    if as_json:
        print_json(
            {
                "periods": [
                    {
                        "period": str(r.period),
                        "effective_cost": r.total_effective,
                        "allocated_effective_cost": r.allocated_effective,
                        "coverage": decimal_text(round(r.coverage, 4)),
                        "by_rule": r.by_source,
                    }
                    for r in rows
                ]
            }
        )
        return
    console.print(
        table(
            "Allocation coverage",
            ["period", "$effective", "$by tag", "$by account", "$unallocated", "%coverage"],
            [
                [
                    str(r.period),
                    format_money(r.total_effective),
                    format_money(r.by_source.get("tag", 0)),
                    format_money(r.by_source.get("account", 0)),
                    format_money(r.by_source.get("unallocated", 0)),
                    f"{r.coverage * 100:.1f}%",
                ]
                for r in rows
            ],
        )
    )


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(allocate)
