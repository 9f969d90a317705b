"""``costloop ingest`` and ``costloop sql``."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from costloop.allocation import allocate
from costloop.cli.common import (
    WorkspaceOption,
    console,
    decimal_text,
    file_progress,
    jsonable,
    open_workspace,
    percent,
    print_json,
    ratio_text,
    table,
)
from costloop.connectors.files import InputFile, discover, read_header
from costloop.connectors.opencost import is_opencost
from costloop.core.errors import InputError
from costloop.core.money import format_money
from costloop.warehouse.datasets_load import detect_dataset, load_dataset
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import IngestResult, ingest_focus
from costloop.warehouse.k8s_load import load_k8s_allocation
from costloop.warehouse.query import run_sql
from costloop.workspace import Workspace

__all__ = ["register"]


def _render_ingest(result: IngestResult) -> None:
    rows = [
        [
            s.source,
            s.billing_account_id,
            f"{s.billing_period_start:%Y-%m}",
            f"{s.rows:,}",
            decimal_text(s.source_billed_cost),
            decimal_text(s.billed_cost),
            decimal_text(s.source_effective_cost),
            decimal_text(s.effective_cost),
            "[green]yes[/]" if s.reconciled else "[red]NO[/]",
        ]
        for s in result.slices
    ]
    console.print(
        table(
            f"Reconciliation (load {result.load_id})",
            [
                "source",
                "billing account",
                "period",
                "#rows",
                "$billed (file)",
                "$billed (stored)",
                "$effective (file)",
                "$effective (stored)",
                "equal",
            ],
            rows,
        )
    )
    if result.measures:
        console.print(
            table(
                "Native totals vs FOCUS totals",
                [
                    "format",
                    "billing account",
                    "period",
                    "native measure",
                    "native total",
                    "FOCUS column",
                    "FOCUS total",
                    "equal",
                ],
                [
                    [
                        m.format,
                        m.billing_account_id,
                        f"{m.billing_period_start:%Y-%m}",
                        m.native,
                        decimal_text(m.native_total),
                        m.focus,
                        decimal_text(m.focus_total),
                        "[green]yes[/]" if m.reconciled else "[red]NO[/]",
                    ]
                    for m in result.measures
                ],
            )
        )
    for f in result.files:
        extra = f" renamed {f.plan.renamed}" if f.plan.renamed else ""
        kind = f"FOCUS {f.plan.version}" if f.format == "focus" else f"{f.format} → FOCUS 1.2"
        console.print(f"  {f.item.path}: {kind}, {f.rows:,} rows{extra}", highlight=False)
        for note in f.notes:
            console.print(f"    note: {note}", highlight=False)
    if result.issues:
        console.print(
            table(
                "FOCUS validation (recorded; use --strict to refuse)",
                ["file", "rule", "column", "#rows", "first rows"],
                [
                    [
                        Path(i.file).name,
                        i.rule,
                        i.column,
                        i.violations,
                        ", ".join(map(str, i.first_rows)),
                    ]
                    for i in result.issues
                ],
            )
        )
    else:
        console.print("FOCUS validation: [green]no violations[/]")
    total = sum((s.billed_cost for s in result.slices), start=0)
    console.print(f"Loaded {result.rows:,} rows, billed {format_money(total)}.")


_K8S_FORMATS = {"api": "allocation API JSON", "csv": "OpenCost CSV export"}


def _ingest_k8s(
    ws: Workspace, items: list[InputFile], cluster: str | None, *, quiet: bool
) -> list[dict[str, object]]:
    """Load OpenCost / Kubecost exports into ``k8s_allocation``; one summary per file."""
    out: list[dict[str, object]] = []
    for item in items:
        done = load_k8s_allocation(ws.lake, item.path, cluster=cluster)
        out.append(
            {
                "file": done.file,
                "format": done.format,
                "rows": done.rows,
                "replaced_rows": done.replaced_rows,
                "windows": done.windows,
                "days": done.days,
                "namespaces": done.namespaces,
                "clusters": list(done.clusters),
                "first_window": done.first_window,
                "last_window": done.last_window,
                "total_cost": done.total_cost,
            }
        )
        if not quiet:
            named = [c if c else "no cluster name (see --cluster)" for c in done.clusters]
            console.print(
                f"Loaded {done.rows:,} Kubernetes allocation rows from {done.file}",
                highlight=False,
            )
            console.print(
                f"  {_K8S_FORMATS[done.format]}, cluster {', '.join(named)}: "
                f"{done.namespaces} namespaces over {done.days} day{'s' * (done.days != 1)} "
                f"({done.first_window:%Y-%m-%d} to {done.last_window:%Y-%m-%d}), "
                f"total {format_money(done.total_cost)}; "
                f"replaced {done.replaced_rows:,} earlier rows.",
                highlight=False,
            )
    return out


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or folders (.csv, .csv.gz, .parquet, .json/.jsonl)."),
    ],
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Bill format instead of detection: focus, or a native format "
            "(see `costloop sources`).",
        ),
    ] = None,
    source: Annotated[str, typer.Option(help="Source name; part of the load key.")] = "default",
    strict: Annotated[
        bool | None,
        typer.Option("--strict/--no-strict", help="Refuse files with FOCUS violations."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Kubernetes cluster name for OpenCost/Kubecost exports that do not name "
            "one (the OpenCost CSV export has no cluster column); rows that name a "
            "cluster keep theirs.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Load bills (FOCUS 1.0–1.3 or native AWS/Azure/GCP/OCI exports), inventory,
    utilization or business-metric files, or OpenCost/Kubecost namespace costs.

    Bill loads are keyed by (source, billing account, billing period): loading a
    restated period again replaces exactly that slice. The kind and format of each
    file are detected from its columns; native exports are converted to FOCUS 1.2 and
    their native totals must equal the FOCUS totals. OpenCost/Kubecost allocation
    exports (API JSON or CSV) replace the cluster's rows over the days they cover.
    """
    ws = open_workspace(workspace)
    items = discover(paths)
    billing: list[tuple[InputFile, str | None]] = []
    others: list[tuple[InputFile, str | None]] = []
    k8s = [i for i in items if not file_format and is_opencost(i.path)]
    if cluster is not None and not k8s:
        raise InputError("--cluster applies to OpenCost/Kubecost exports; none was given")
    for item in items:
        if item in k8s:
            continue
        kind = None if file_format else detect_dataset(read_header(item))
        (others if kind else billing).append((item, kind))
    out: dict[str, object] = {"loads": [], "datasets": []}
    if billing:
        big = sum(i.size for i, _ in billing) >= ws.config.int_("ingest.progress_min_mb") << 20
        with file_progress(big and not as_json) as progress:
            result = ingest_focus(
                ws.lake,
                [i.path for i, _ in billing],
                source=source,
                strict=ws.config.bool_("ingest.strict") if strict is None else strict,
                progress=progress,
                file_format=file_format,
            )
        out["files"] = [
            {
                "path": str(f.item.path),
                "format": f.format,
                "focus_version": f.plan.version,
                "rows": f.rows,
                "notes": list(f.notes),
            }
            for f in result.files
        ]
        out["reconciliation"] = [
            {
                "format": m.format,
                "billing_account_id": m.billing_account_id,
                "billing_period_start": m.billing_period_start,
                "native_measure": m.native,
                "native_total": m.native_total,
                "focus_column": m.focus,
                "focus_total": m.focus_total,
                "reconciled": m.reconciled,
            }
            for m in result.measures
        ]
        out["loads"] = [
            {
                "source": s.source,
                "billing_account_id": s.billing_account_id,
                "billing_period_start": s.billing_period_start,
                "rows": s.rows,
                "source_billed_cost": s.source_billed_cost,
                "billed_cost": s.billed_cost,
                "source_effective_cost": s.source_effective_cost,
                "effective_cost": s.effective_cost,
                "replaced_rows": s.replaced_rows,
            }
            for s in result.slices
        ]
        out["issues"] = [
            {
                "file": i.file,
                "rule": i.rule,
                "column": i.column,
                "rows": i.violations,
                "first_rows": list(i.first_rows),
                "message": i.message,
            }
            for i in result.issues
        ]
        if not as_json:
            _render_ingest(result)
    loads = []
    for item, kind in others:
        assert kind is not None
        done = load_dataset(ws.lake, item, kind)
        loads.append(
            {
                "kind": done.kind,
                "file": done.file,
                "rows": done.rows,
                "replaced_rows": done.replaced_rows,
            }
        )
        if not as_json:
            console.print(
                f"Loaded {done.rows:,} {done.kind} rows from {done.file} "
                f"(replaced {done.replaced_rows:,}).",
                highlight=False,
            )
    out["datasets"] = loads
    if k8s:
        out["kubernetes"] = _ingest_k8s(ws, k8s, cluster, quiet=as_json)
    if billing and ws.config.bool_("allocation.after_ingest"):
        out["allocation"] = _allocate_loaded(ws, result, quiet=as_json)
    if as_json:
        print_json(out)


def _allocate_loaded(ws: Workspace, result: IngestResult, *, quiet: bool) -> list[object]:
    """Re-allocate the billing periods this ingest loaded (setting allocation.after_ingest)."""
    periods = sorted({s.billing_period_start for s in result.slices})
    if not periods:
        return []
    with open_engine(ws.lake, read_only=False) as engine:
        done = allocate(engine, ws.allocation, periods)
    if not quiet:
        months = ", ".join(f"{r.period:%Y-%m}" for r in done)
        cover = ", ".join(f"{r.period:%Y-%m} {percent(r.coverage)}" for r in done)
        console.print(
            f"Allocated {months} ({sum(r.rows for r in done):,} rows; team coverage {cover}).",
            highlight=False,
        )
    return [
        {
            "period": f"{r.period:%Y-%m}",
            "rows": r.rows,
            "coverage": ratio_text(r.coverage),
        }
        for r in done
    ]


def _csv_value(value: object) -> object:
    """A CSV field: lists, maps and structs as JSON text, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(jsonable(value))
    return jsonable(value)


def sql(
    query: Annotated[str, typer.Argument(help="One read-only SQL statement (DuckDB dialect).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Read-only SQL over the warehouse tables (charges, loads, allocated_charges, ...)."""
    if as_json and as_csv:
        raise InputError("choose one of --json and --csv")
    ws = open_workspace(workspace)
    result = run_sql(ws.lake, query)
    if as_json:
        print_json(
            {
                "columns": result.columns,
                "rows": [dict(zip(result.columns, r, strict=True)) for r in result.rows],
            }
        )
    elif as_csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([[_csv_value(v) for v in r] for r in result.rows])
        sys.stdout.write(buf.getvalue())
    else:
        console.print(table(None, result.columns, [[jsonable(v) for v in r] for r in result.rows]))
        console.print(f"{len(result.rows):,} row(s)")


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(ingest)
    app.command()(sql)
