"""``costloop budgets``: each budget's spend, forecast, thresholds and run-out date."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from costloop.analytics.budgets import RUN_RATE_DAYS, budget_record, evaluate
from costloop.cli.common import (
    WorkspaceOption,
    console,
    err_console,
    open_workspace,
    parse_day,
    print_json,
    table,
)
from costloop.core.budgets import BudgetStatus, budget_owners
from costloop.core.money import format_money, quantize
from costloop.core.org import Org
from costloop.warehouse.engine import open_engine

__all__ = ["register"]

_STYLE = {"ok": "green", "at-risk": "yellow", "breached": "bold red"}
_DOCS = "docs/budgets.md"


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{quantize(value, 1)}%"


def _hits_text(s: BudgetStatus) -> str:
    parts = []
    for basis in ("actual", "forecast"):
        hits = [h for h in s.hits if h.basis == basis]
        if hits:
            pcts = ", ".join(f"{h.threshold}%" for h in hits)
            parts.append(f"{pcts} ({basis})")
    return "; ".join(parts) or "none"


def _forecast_text(s: BudgetStatus) -> str:
    fc, cur = s.forecast, s.budget.currency
    if fc is None:
        return "n/a"
    text = f"{format_money(fc.mean, cur)} ({_pct(s.forecast_pct)})"
    if fc.lo80 == fc.hi80:
        return text
    return f"{text}\n{format_money(fc.lo80, cur)} – {format_money(fc.hi80, cur)}"


def _render(statuses: list[BudgetStatus], org: Org, source: Path) -> None:
    rows = []
    for s in statuses:
        cur = s.budget.currency
        style = _STYLE[s.status]
        rows.append(
            [
                s.budget.name,
                escape(s.budget.scope_text()),
                s.period.label,
                format_money(s.amount, cur),
                f"{format_money(s.actual, cur)} ({_pct(s.used_pct)})",
                _forecast_text(s),
                f"[{style}]{s.status}[/]",
                _hits_text(s),
                "" if s.runs_out_on is None else s.runs_out_on.isoformat(),
                escape(", ".join(budget_owners(s.budget, org))),
            ]
        )
    as_of = statuses[0].as_of
    console.print(
        table(
            f"Budgets as of {as_of} ({source.name})",
            [
                "budget",
                "scope",
                "period",
                "$amount",
                "$actual",
                "$forecast (80% range)",
                "status",
                "thresholds reached",
                "runs out on",
                "owners",
            ],
            rows,
        )
    )
    history = [
        [
            s.budget.name,
            ", ".join(
                f"{p.period.label}: "
                + (f"[red]{_pct(p.used_pct)}[/]" if p.breached else _pct(p.used_pct))
                for p in s.previous
            ),
        ]
        for s in statuses
        if s.previous
    ]
    if history:
        console.print(
            table(
                "Previous periods (spend in % of the amount; over 100% in red)",
                ["budget", "periods"],
                history,
            )
        )
    for s in statuses:
        complete = s.forecast is not None and s.forecast.model == "actual"
        if s.forecast_note and not complete:
            console.print(f"{s.budget.name}: {escape(s.forecast_note)}", highlight=False)
    console.print(
        f"Actual: Σ EffectiveCost of allocated charges from the period start to {as_of}. "
        f"Runs out on: at the mean daily spend of the last {RUN_RATE_DAYS} days.",
        highlight=False,
        style="dim",
    )


def budgets(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Last day counted, YYYY-MM-DD (default: the last day with data)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Budgets: spend to date, forecast, thresholds reached, status and run-out date."""
    day = parse_day(as_of, "--as-of")
    ws = open_workspace(workspace)
    path = ws.budgets_file
    if not path.exists():
        message = f"No budgets file ({path}). Write one as described in {_DOCS}."
        if as_json:
            err_console.print(message, highlight=False)
            print_json({"as_of": None, "budgets": []})
        else:
            console.print(message, highlight=False)
        return
    defined = ws.budgets
    if not defined:
        statuses: list[BudgetStatus] = []
    else:
        with open_engine(ws.lake) as engine:
            statuses = evaluate(
                engine,
                defined,
                as_of=day,
                min_history_days=ws.config.int_("forecast.min_history_days"),
            )
    org = ws.org
    if as_json:
        print_json(
            {
                "as_of": statuses[0].as_of if statuses else day,
                "budgets": [budget_record(s, org) for s in statuses],
            }
        )
        return
    if not statuses:
        console.print(f"{path} defines no budgets; see {_DOCS}.", highlight=False)
        return
    _render(statuses, org, path)


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("budgets")(budgets)
