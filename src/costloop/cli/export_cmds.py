"""``costloop export focus``: the warehouse's charges as a FOCUS 1.2 file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from costloop.cli.common import WorkspaceOption, console, decimal_text, open_workspace, print_json
from costloop.cli.common import table as rich_table
from costloop.core.periods import parse_month
from costloop.warehouse.export import ExportResult, export_focus, export_format

__all__ = ["register"]

export_app = typer.Typer(help="Write the warehouse out in standard formats.", no_args_is_help=True)


def _render(result: ExportResult) -> None:
    rows = [
        [
            t.currency,
            f"{t.rows:,}",
            decimal_text(t.billed_cost),
            decimal_text(t.effective_cost),
        ]
        for t in result.totals
    ]
    console.print(
        rich_table(
            "Exported charges per billing currency",
            ["currency", "#rows", "$Σ BilledCost", "$Σ EffectiveCost"],
            rows,
        )
    )
    scope = []
    if result.period is not None:
        scope.append(f"billing period {result.period}")
    if result.source is not None:
        scope.append(f"source {result.source}")
    console.print(
        f"Wrote {result.rows:,} rows × {len(result.columns)} columns "
        f"(FOCUS 1.2, {result.format.value}"
        f"{'; ' + ', '.join(scope) if scope else ''}) to {result.path}.",
        highlight=False,
        soft_wrap=True,
    )


@export_app.command("focus")
def focus(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="File to write: .csv, .csv.gz (gzip CSV) or .parquet.",
            show_default=False,
        ),
    ],
    period: Annotated[
        str | None,
        typer.Option(help="Only this billing period YYYY-MM (by BillingPeriodStart)."),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Only charges loaded with this --source name.")
    ] = None,
    extras: Annotated[
        bool,
        typer.Option("--extras/--no-extras", help="Also write the provider's x_ columns."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the charges as FOCUS 1.2 (columns in spec order, exact decimals, UTC times).

    The file is written beside the target, read back and checked against the
    warehouse's totals, then renamed into place: a failed export leaves nothing.
    """
    export_format(out)  # refuse an unknown ending before opening anything
    month = None if period is None else parse_month(period)
    ws = open_workspace(workspace)
    result = export_focus(ws.lake, out, period=month, source=source, extras=extras)
    if as_json:
        print_json(
            {
                "file": result.path,
                "format": result.format.value,
                "focus_version": "1.2",
                "period": None if result.period is None else str(result.period),
                "source": result.source,
                "rows": result.rows,
                "columns": list(result.columns),
                "billed_cost": result.billed_cost,
                "effective_cost": result.effective_cost,
                "totals": [
                    {
                        "currency": t.currency,
                        "rows": t.rows,
                        "billed_cost": t.billed_cost,
                        "effective_cost": t.effective_cost,
                        "list_cost": t.list_cost,
                        "contracted_cost": t.contracted_cost,
                    }
                    for t in result.totals
                ],
            }
        )
    else:
        _render(result)


def register(app: typer.Typer) -> None:
    """Add ``costloop export`` to the app."""
    app.add_typer(export_app, name="export")
