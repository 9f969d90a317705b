"""``costloop export tables`` and ``costloop allocate-preview``: costloop on other engines.

The export writes the tables allocation reads to Parquet; the preview runs the
workspace's allocation over those files on DuckDB or on a Spark cluster, writes
nothing, and prints cost per value of a dimension for one billing period.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from costloop.allocation import allocation_expr
from costloop.cli.common import WorkspaceOption, console, open_workspace, print_json
from costloop.cli.common import table as rich_table
from costloop.cli.export_cmds import export_app
from costloop.core.errors import InputError, NotFoundError
from costloop.core.money import ZERO, format_money
from costloop.core.periods import Month, parse_month
from costloop.warehouse.parquet import ParquetEngine, duckdb_engine, export_tables, spark_engine
from costloop.workspace import Workspace

__all__ = ["register"]

_INPUTS = ("charges", "inventory", "k8s_allocation", "business_metrics")


class EngineName(StrEnum):
    """Engines ``allocate-preview`` runs on."""

    DUCKDB = "duckdb"
    SPARK = "spark"


def tables(
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder to write <table>.parquet files to.", show_default=False),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the tables allocation and showback read, and allocated_charges, as Parquet.

    One file per table (charges, inventory, k8s_allocation, business_metrics,
    allocated_charges) from one snapshot of the warehouse; money stays DECIMAL(38, 18).
    Point `costloop allocate-preview --parquet DIR` or a Spark job at the folder.
    """
    ws = open_workspace(workspace)
    written = export_tables(ws.lake, out)
    if as_json:
        print_json(
            {
                "folder": out,
                "tables": [{"table": t.name, "file": t.path, "rows": t.rows} for t in written],
            }
        )
        return
    console.print(
        rich_table(
            f"Exported to {out}",
            ["table", "#rows", "file"],
            [[t.name, f"{t.rows:,}", t.path.name] for t in written],
        )
    )


def _latest_period(engine: ParquetEngine) -> Month:
    charges = engine.table("charges")
    [row] = engine.rows(charges.aggregate(last=charges.BillingPeriodStart.max()))
    if row["last"] is None:
        raise NotFoundError(f"no charges in {engine.location('charges')}")
    return Month.of(row["last"])


def preview(
    engine: ParquetEngine, ws: Workspace, month: Month | None = None, dimension: str = "team"
) -> dict[str, Any]:
    """Allocate one billing period over Parquet (read-only) and total it per value.

    Args:
        engine: the exported tables on the chosen backend.
        ws: the workspace whose allocation file (taxonomy, rules, pools) is used.
        month: the billing period; the latest one in ``charges`` when None.
        dimension: the dimension to total by.

    Returns:
        JSON-ready totals per value and currency, per currency, and the pools' notes.

    Raises:
        InputError: ``dimension`` is not one of the allocation's dimensions.
        NotFoundError: there is no charges file, or no charge in the period.
    """
    config = ws.allocation
    names = [d.name for d in config.dimensions]
    if dimension not in names:
        raise InputError(f"--by {dimension!r} is not an allocation dimension ({', '.join(names)})")
    inputs = {**engine.tables(_INPUTS), "charges": engine.table("charges")}
    period = month or _latest_period(engine)
    expr, notes = allocation_expr(inputs, config, engine.rows, [period.start])
    agg = expr.group_by([dimension, "BillingCurrency"]).aggregate(
        rows=expr.count(), billed=expr.BilledCost.sum(), effective=expr.EffectiveCost.sum()
    )
    found = sorted(
        engine.rows(agg),
        key=lambda r: (r["BillingCurrency"], -r["effective"], r[dimension]),
    )
    if not found:
        raise NotFoundError(
            f"no charges in billing period {period} in {engine.location('charges')}"
        )
    totals: dict[str, dict[str, Any]] = {}
    for r in found:
        t = totals.setdefault(
            r["BillingCurrency"],
            {
                "currency": r["BillingCurrency"],
                "rows": 0,
                "billed_cost": ZERO,
                "effective_cost": ZERO,
            },
        )
        t["rows"] += r["rows"]
        t["billed_cost"] += r["billed"]
        t["effective_cost"] += r["effective"]
    return {
        "period": str(period),
        "allocation_file": config.source,
        "dimension": dimension,
        "values": [
            {
                "value": r[dimension],
                "currency": r["BillingCurrency"],
                "rows": r["rows"],
                "billed_cost": r["billed"],
                "effective_cost": r["effective"],
            }
            for r in found
        ],
        "totals": list(totals.values()),
        "pools": [
            {
                "pool": n.pool,
                "currency": n.currency,
                "method": n.method,
                "targets": n.targets,
                "not_split": n.unsplit_reason,
                "usage_month": n.usage_month,
            }
            for n in notes
        ],
    }


def _render(result: dict[str, Any], engine: str) -> None:
    dim = result["dimension"]
    rows = [
        [
            v["value"],
            v["currency"],
            f"{v['rows']:,}",
            format_money(v["billed_cost"], v["currency"]),
            format_money(v["effective_cost"], v["currency"]),
        ]
        for v in result["values"]
    ]
    rows += [
        [
            "total",
            t["currency"],
            f"{t['rows']:,}",
            format_money(t["billed_cost"], t["currency"]),
            format_money(t["effective_cost"], t["currency"]),
        ]
        for t in result["totals"]
    ]
    console.print(
        rich_table(
            f"Allocation preview of {result['period']} by {dim} on {engine} "
            f"({result['allocation_file']}; read-only, nothing written)",
            [dim, "currency", "#rows", "$billed", "$effective"],
            rows,
        )
    )
    for note in result["pools"]:
        if note["not_split"]:
            console.print(
                f"pool {note['pool']} ({note['currency']}): {note['not_split']}", highlight=False
            )


def allocate_preview(
    parquet: Annotated[
        str,
        typer.Option(
            "--parquet",
            help="Folder (or URI the engine reads) written by `costloop export tables`.",
            show_default=False,
        ),
    ],
    engine: Annotated[
        EngineName, typer.Option("--engine", help="Where to run the allocation.")
    ] = EngineName.DUCKDB,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master URL (spark://host:7077, yarn, local[4]); default local[2].",
            show_default=False,
        ),
    ] = None,
    spark_conf: Annotated[
        list[str] | None,
        typer.Option(
            "--spark-conf",
            help="A Spark setting KEY=VALUE (repeatable), e.g. spark.executor.memory=4g.",
            show_default=False,
        ),
    ] = None,
    month: Annotated[
        str | None,
        typer.Option("--month", help="Billing period YYYY-MM (default: the latest one)."),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Allocation dimension to total by.")] = "team",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Run the workspace's allocation over exported Parquet on DuckDB or Spark; write nothing.

    Prints billed and effective cost per team (or --by dimension) and currency for one
    billing period: the numbers `costloop allocate` stores, computed where the data is.
    """
    if (spark_master is not None or spark_conf) and engine is not EngineName.SPARK:
        raise InputError("--spark-master and --spark-conf are for --engine spark")
    conf = dict(_setting(text) for text in spark_conf or [])
    period = None if month is None else parse_month(month)
    ws = open_workspace(workspace)
    if "://" not in parquet and not Path(parquet).is_dir():
        raise NotFoundError(f"no folder {parquet} (write one with `costloop export tables`)")
    opened = (
        spark_engine(parquet, spark_master or "local[2]", **conf)
        if engine is EngineName.SPARK
        else duckdb_engine(parquet)
    )
    with opened as reader:
        result = preview(reader, ws, period, by)
    if as_json:
        print_json({"engine": engine.value, **result})
    else:
        _render(result, engine.value)


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--spark-conf {text!r}: expected KEY=VALUE")
    return key.strip(), value


def register(app: typer.Typer) -> None:
    """Add ``costloop export tables`` and ``costloop allocate-preview`` to the app."""
    export_app.command("tables")(tables)
    app.command("allocate-preview")(allocate_preview)
