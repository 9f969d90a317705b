"""``costloop allocate`` and ``costloop report coverage``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from costloop.allocation import allocate as run_allocation
from costloop.allocation.coverage import DimensionCoverage, band, coverage_report
from costloop.cli.common import (
    WorkspaceOption,
    console,
    file_progress,
    open_workspace,
    percent,
    print_json,
    ratio_text,
    table,
)
from costloop.cli.report_cmds import JsonOption, report_app
from costloop.core.allocation_rules import AllocationConfig
from costloop.core.money import format_money
from costloop.core.periods import parse_month
from costloop.warehouse.engine import open_engine

__all__ = ["register"]

PROGRESS_MIN_ROWS = 1_000_000


def allocate(
    period: Annotated[
        str | None, typer.Option(help="Billing period YYYY-MM (default: all).")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Only validate the allocation file and show what is in force."
        ),
    ] = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Attribute every charge along the taxonomy's dimensions (tags, account, resource and
    inheritance rules, shared-cost pools), per billing period; Σ allocated = Σ source."""
    ws = open_workspace(workspace)
    config = ws.allocation
    if check:
        _show_config(config, as_json)
        return
    periods = None if period is None else [parse_month(period).start]
    with open_engine(ws.lake, read_only=False) as engine:
        charges = engine.table("charges")
        rows = engine.rows(charges.aggregate(n=charges.count()))[0]["n"]
        with file_progress(not as_json and rows >= PROGRESS_MIN_ROWS) as progress:
            results = run_allocation(engine, config, periods, progress=progress)
    dims = [d.name for d in config.dimensions]
    if as_json:
        print_json(
            {
                "allocation_file": config.source,
                "dimensions": dims,
                "periods": [
                    {
                        "period": f"{r.period:%Y-%m}",
                        "source_rows": r.source_rows,
                        "rows": r.rows,
                        "totals": r.totals,
                        "allocated_effective_cost": r.allocated_effective,
                        "coverage": ratio_text(r.coverage),
                        "coverage_by_dimension": {d: ratio_text(r.coverage_of(d)) for d in dims},
                        "pools": [
                            {
                                "pool": n.pool,
                                "currency": n.currency,
                                "method": n.method,
                                "targets": n.targets,
                                "not_split": n.unsplit_reason,
                                "unmapped": n.unmapped,
                                "usage_month": n.usage_month,
                            }
                            for n in r.pools
                        ],
                    }
                    for r in results
                ],
            }
        )
        return
    console.print(
        table(
            f"Allocation ({config.source}); Σ allocated = Σ source checked per period, "
            "billing account, currency and cost column",
            ["period", "#charges", "#rows", "$effective", *(f"%{d}" for d in dims)],
            [
                [
                    f"{r.period:%Y-%m}",
                    f"{r.source_rows:,}",
                    f"{r.rows:,}",
                    format_money(r.totals["EffectiveCost"]),
                    *(percent(r.coverage_of(d)) for d in dims),
                ]
                for r in results
            ],
        )
    )
    notes = [(r, n) for r in results for n in r.pools]
    if notes:
        console.print(
            table(
                "Shared-cost pools",
                ["period", "pool", "method", "currency", "targets", "note"],
                [
                    [
                        f"{r.period:%Y-%m}",
                        n.pool,
                        n.method,
                        n.currency,
                        str(n.targets),
                        n.unsplit_reason
                        or (f"usage of {n.usage_month}" if n.usage_month else "")
                        + (f"; unmapped: {', '.join(n.unmapped)}" if n.unmapped else ""),
                    ]
                    for r, n in notes
                ],
            )
        )


def _show_config(config: AllocationConfig, as_json: bool) -> None:
    """The taxonomy, rules and pools in force (after validation)."""
    dims = [
        {
            "name": d.name,
            "required": d.required,
            "values": list(d.values),
            "tag_keys": list(d.keys),
            "aliases": len(d.aliases),
        }
        for d in config.dimensions
    ]
    rules = [
        {
            "dimension": r.dimension,
            "kind": r.kind,
            "value": r.value or None,
            "accounts": list(r.accounts),
            "resource_name": r.resource_name,
            "resource_id": r.resource_id,
            "line": r.line or None,
        }
        for r in config.rules
    ]
    pools = [
        {
            "name": p.name,
            "dimension": p.dimension,
            "method": p.method,
            "targets": list(p.targets),
            "shares": dict(p.shares),
            "line": p.line,
        }
        for p in config.pools
    ]
    if as_json:
        print_json({"file": config.source, "dimensions": dims, "rules": rules, "pools": pools})
        return
    console.print(f"{config.source}: valid.", highlight=False)
    console.print(
        table(
            "Dimensions",
            ["dimension", "required", "values", "tag keys"],
            [
                [
                    d.name,
                    "yes" if d.required else "no",
                    ", ".join(d.values) or "any",
                    ", ".join(d.keys),
                ]
                for d in config.dimensions
            ],
        )
    )
    console.print(
        table(
            "Rules (tag first, then in this order per dimension)",
            ["line", "dimension", "kind", "match", "value"],
            [
                [
                    str(r.line or "org file"),
                    r.dimension,
                    r.kind,
                    ", ".join(r.accounts) or r.resource_name or r.resource_id or "parent",
                    r.value or "(parent's)",
                ]
                for r in config.rules
            ],
        )
    )
    if config.pools:
        console.print(
            table(
                "Shared-cost pools (first match wins)",
                ["line", "pool", "dimension", "method", "targets"],
                [
                    [str(p.line), p.name, p.dimension, p.method, ", ".join(p.targets) or "all"]
                    for p in config.pools
                ],
            )
        )


@report_app.command("coverage")
def report_coverage(
    month: Annotated[
        str | None, typer.Option(help="Month for gaps and suggestions YYYY-MM (default latest).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Unallocated items listed per dimension.")] = 10,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Allocation coverage per dimension and month, the largest unallocated items, and
    what to do next (resources to tag, aliases to add, pools to create)."""
    ws = open_workspace(workspace)
    with open_engine(ws.lake) as engine:
        report = coverage_report(
            engine, ws.allocation, None if month is None else parse_month(month), limit
        )
    if as_json:
        print_json(
            {
                "latest": None if report.latest is None else str(report.latest),
                "required": report.required,
                "definition": "allocated EffectiveCost / total EffectiveCost (all rows, "
                "Tax and Credit included)",
                "periods": [
                    {
                        "dimension": p.dimension,
                        "period": str(p.period),
                        "effective_cost": p.total,
                        "allocated_effective_cost": p.allocated,
                        "coverage": ratio_text(p.coverage),
                        "band": band(p.coverage),
                        "by_rule": p.by_source,
                    }
                    for p in report.periods
                ],
                "unallocated": [
                    {
                        "dimension": i.dimension,
                        "resource_id": i.resource_id,
                        "resource_name": i.resource_name,
                        "service": i.service,
                        "account": i.account,
                        "charge_category": i.charge_category,
                        "effective_cost": i.cost,
                    }
                    for i in report.unallocated
                ],
                "suggestions": [
                    {
                        "dimension": s.dimension,
                        "kind": s.kind,
                        "text": s.text,
                        "effective_cost": s.cost,
                        "reaches": ratio_text(s.reaches),
                        "resources": s.items,
                    }
                    for s in report.suggestions
                ],
            }
        )
        return
    months = sorted({p.period for p in report.periods})
    by = {(p.dimension, p.period): p for p in report.periods}
    console.print(
        table(
            "Allocation coverage (allocated EffectiveCost ÷ total; Crawl ≥ 50%, Walk ≥ 80%, "
            "Run > 90%)",
            ["period", "$effective", *(f"%{d}" for d in report.dimensions)],
            [
                [
                    str(m),
                    format_money(by[(report.dimensions[0], m)].total),
                    *(_pct(by.get((d, m))) for d in report.dimensions),
                ]
                for m in months
            ],
        )
    )
    if report.latest is None:
        return
    console.print(
        table(
            f"{report.latest}: cost by rule",
            ["dimension", "required", "band", *(f"${s}" for s in _SOURCES)],
            [
                [
                    d,
                    "yes" if d in report.required else "no",
                    band(by[(d, report.latest)].coverage),
                    *(format_money(by[(d, report.latest)].by_source.get(s, 0)) for s in _SOURCES),
                ]
                for d in report.dimensions
                if (d, report.latest) in by
            ],
        )
    )
    if report.unallocated:
        console.print(
            table(
                f"{report.latest}: largest unallocated items",
                ["dimension", "resource", "service", "account", "category", "$effective"],
                [
                    [
                        i.dimension,
                        i.resource_name or i.resource_id or "(no resource)",
                        i.service or "",
                        i.account or "",
                        i.charge_category or "",
                        format_money(i.cost),
                    ]
                    for i in report.unallocated
                ],
            )
        )
    for s in report.suggestions:
        console.print(
            escape(f"• [{s.dimension}] {s.text} ({format_money(s.cost)}/month)"), highlight=False
        )


_SOURCES = ("tag", "account", "resource", "inherited", "shared", "unallocated")


def _pct(cov: DimensionCoverage | None) -> str:
    return "—" if cov is None else percent(cov.coverage)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(allocate)
