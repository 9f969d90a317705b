"""Helpers of the allocation tests: workspaces with an org file, an allocation file and data."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from costloop.allocation import AllocationResult, allocate
from costloop.connectors.files import FileFormat, InputFile
from costloop.core.datasets import BUSINESS_METRICS_COLUMNS, INVENTORY_COLUMNS
from costloop.core.focus import MONEY_COLUMNS
from costloop.testing import write_focus_csv
from costloop.warehouse.datasets_load import load_dataset
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

ORG = """
company: Test Co
teams:
  - name: checkout
    owner: ana@example.com
    tag_values: [check-out]
  - name: platform
    owner: pat@example.com
  - name: search
    owner: sam@example.com
accounts:
  - id: "222222222222"
    name: shared
    team: platform
  - id: "444444444444"
    name: search-prod
    team: search
"""

OPENCOST = Path(__file__).parents[1] / "fixtures" / "opencost"


def new_workspace(root: Path, allocation: str | None = None, org: str = ORG) -> Workspace:
    """An initialized workspace with ``org`` and, when given, ``allocation`` as its files."""
    ws = Workspace.init(root)
    ws.org_file.write_text(org, encoding="utf-8")
    set_allocation(ws, allocation)
    return Workspace.open(ws.root)


def set_allocation(ws: Workspace, text: str | None) -> Workspace:
    """Write (or remove) the workspace's allocation file; returns a fresh Workspace."""
    if text is None:
        ws.allocation_file.unlink(missing_ok=True)
    else:
        ws.allocation_file.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return Workspace.open(ws.root)


def load_bill(ws: Workspace, rows: Iterable[Mapping[str, str]], name: str = "bill.csv") -> Path:
    """Write ``rows`` as a FOCUS CSV under the workspace and ingest it."""
    path = write_focus_csv(ws.root / "in" / name, rows)
    ingest_focus(ws.lake, [path])
    return path


def _write_dataset(
    path: Path, columns: tuple[tuple[str, str], ...], rows: list[dict[str, str]]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [c for c, _ in columns if any(c in r for r in rows)]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=names, restval="", extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)


def load_inventory(ws: Workspace, rows: list[dict[str, str]]) -> None:
    """Load inventory rows (columns of INVENTORY_COLUMNS; provider etc. defaulted)."""
    base = {"provider": "AWS", "account_id": "111111111111", "resource_type": "volume"}
    path = ws.root / "in" / "inventory.csv"
    _write_dataset(path, INVENTORY_COLUMNS, [{**base, **r} for r in rows])
    load_dataset(ws.lake, InputFile(path, FileFormat.CSV), "inventory")


def load_business_metrics(ws: Workspace, rows: list[dict[str, str]]) -> None:
    """Load business-metric rows (date, metric, value, dimension)."""
    path = ws.root / "in" / "metrics.csv"
    _write_dataset(path, BUSINESS_METRICS_COLUMNS, rows)
    load_dataset(ws.lake, InputFile(path, FileFormat.CSV), "business_metrics")


def run_allocation(ws: Workspace, periods: list[datetime] | None = None) -> list[AllocationResult]:
    """Allocate with the workspace's allocation file."""
    with open_engine(ws.lake, read_only=False) as engine:
        return allocate(engine, ws.allocation, periods)


def allocated_rows(ws: Workspace) -> list[dict[str, Any]]:
    """Every ``allocated_charges`` row, in origin then target order."""
    with open_engine(ws.lake) as engine:
        rows = engine.rows(engine.table("allocated_charges"))
    return sorted(
        rows,
        key=lambda r: (
            r["BillingPeriodStart"],
            r["x_SourceFile"],
            r["x_SourceRow"],
            r["AllocatedResourceId"] or "",
        ),
    )


def table_columns(ws: Workspace, table: str) -> list[str]:
    """The columns of a warehouse table."""
    with open_engine(ws.lake) as engine:
        return list(engine.table(table).columns)


def sums_by_slice(ws: Workspace, table: str) -> dict[tuple[Any, ...], dict[str, Decimal]]:
    """Σ of each money column per (period, billing account, currency) of ``table``."""
    with open_engine(ws.lake) as engine:
        t = engine.table(table)
        key = ["BillingPeriodStart", "BillingAccountId", "BillingCurrency"]
        agg = t.group_by(key).aggregate(**{c: t[c].sum() for c in MONEY_COLUMNS})
        return {
            tuple(r[k] for k in key): {c: r[c] for c in MONEY_COLUMNS} for r in engine.rows(agg)
        }


def by_resource(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Allocated rows grouped by ResourceId (test charges carry distinct ids)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["ResourceId"], []).append(r)
    return out
