"""DDL of the warehouse tables."""

from __future__ import annotations

import duckdb

from costloop.core.datasets import (
    BUSINESS_METRICS_COLUMNS,
    INVENTORY_COLUMNS,
    K8S_ALLOCATION_COLUMNS,
    UTILIZATION_COLUMNS,
)
from costloop.core.focus import CHARGES_COLUMNS, MONEY_COLUMNS

__all__ = [
    "ALLOCATED_COLUMNS",
    "DAILY_COSTS",
    "DAILY_COSTS_COLUMNS",
    "LOADS_COLUMNS",
    "TABLES",
    "add_missing_columns",
    "create_schema",
]

LOADS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "VARCHAR"),
    ("kind", "VARCHAR"),  # charges | inventory | utilization | business_metrics
    ("source", "VARCHAR"),
    ("billing_account_id", "VARCHAR"),
    ("billing_period_start", "TIMESTAMP"),
    ("files", "VARCHAR"),  # JSON list of {path, sha256, format, focus_version}
    ("rows", "BIGINT"),
    ("replaced_rows", "BIGINT"),
    ("source_billed_cost", "DECIMAL(38, 18)"),
    ("billed_cost", "DECIMAL(38, 18)"),
    ("source_effective_cost", "DECIMAL(38, 18)"),
    ("effective_cost", "DECIMAL(38, 18)"),
    ("loaded_at", "TIMESTAMP"),
    ("loaded_by", "VARCHAR"),
)

LOAD_ISSUES_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "VARCHAR"),
    ("file", "VARCHAR"),
    ("rule", "VARCHAR"),
    ("column_name", "VARCHAR"),
    ("violations", "BIGINT"),
    ("first_rows", "VARCHAR"),
    ("message", "VARCHAR"),
)

LOAD_RECONCILIATION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "VARCHAR"),
    ("source", "VARCHAR"),
    ("billing_account_id", "VARCHAR"),
    ("billing_period_start", "TIMESTAMP"),
    ("format", "VARCHAR"),  # native connector, e.g. aws-cur
    ("native_measure", "VARCHAR"),  # e.g. lineItem/UnblendedCost
    ("native_total", "DECIMAL(38, 18)"),
    ("focus_column", "VARCHAR"),  # e.g. BilledCost
    ("focus_total", "DECIMAL(38, 18)"),
)

ALLOCATED_COLUMNS: tuple[tuple[str, str], ...] = (
    # Lineage: the charges row (load, file, 1-based row) this row comes from.
    # A split origin charge appears once per target, each with the same lineage.
    ("x_SourceId", "VARCHAR"),
    ("x_SourceFile", "VARCHAR"),
    ("x_SourceRow", "BIGINT"),
    ("BillingPeriodStart", "TIMESTAMP"),
    ("ChargePeriodStart", "TIMESTAMP"),
    ("BillingAccountId", "VARCHAR"),
    ("BillingCurrency", "VARCHAR"),
    ("ProviderName", "VARCHAR"),
    ("SubAccountId", "VARCHAR"),
    ("SubAccountName", "VARCHAR"),
    ("ServiceName", "VARCHAR"),
    ("ServiceCategory", "VARCHAR"),
    ("RegionId", "VARCHAR"),
    ("ResourceId", "VARCHAR"),
    ("ResourceName", "VARCHAR"),
    ("ResourceType", "VARCHAR"),
    ("ChargeCategory", "VARCHAR"),
    ("BilledCost", "DECIMAL(38, 18)"),
    ("EffectiveCost", "DECIMAL(38, 18)"),
    ("ListCost", "DECIMAL(38, 18)"),
    ("ContractedCost", "DECIMAL(38, 18)"),
    # FOCUS 1.3 split cost allocation, on rows produced by a shared-cost pool (null
    # on directly allocated rows): method id (e.g. costloop:proportional), details
    # {"Elements": [{"AllocatedRatio": ...}]}, the target that received the share.
    ("AllocatedMethodId", "VARCHAR"),
    ("AllocatedMethodDetails", "VARCHAR"),
    ("AllocatedResourceId", "VARCHAR"),
    ("AllocatedResourceName", "VARCHAR"),
    ("AllocatedTags", "VARCHAR"),
    ("x_AllocationPool", "VARCHAR"),  # pool name on split rows
    ("x_AllocationRatio", "DECIMAL(10, 9)"),  # share of the origin charge (1 if direct)
    # The `team` dimension is always present; every other taxonomy dimension adds
    # two columns the same way (`<dim>`, `<dim>_source`), see allocation.dimension_columns.
    ("team", "VARCHAR"),
    # tag | account | resource | inherited | shared | unallocated
    ("team_source", "VARCHAR"),
)

DAILY_COSTS = "daily_costs"
"""The daily rollup of ``allocated_charges`` (see :mod:`costloop.warehouse.rollup`)."""

DAILY_COSTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ChargePeriodDay", "TIMESTAMP"),  # ChargePeriodStart truncated to its day (UTC)
    ("BillingPeriodStart", "TIMESTAMP"),
    ("BillingCurrency", "VARCHAR"),
    ("ProviderName", "VARCHAR"),
    ("BillingAccountId", "VARCHAR"),
    ("SubAccountId", "VARCHAR"),
    ("SubAccountName", "VARCHAR"),
    ("ServiceName", "VARCHAR"),
    ("RegionId", "VARCHAR"),
    ("ChargeCategory", "VARCHAR"),
    ("x_AllocationPool", "VARCHAR"),  # shared-cost pool of split rows
    ("AllocatedMethodId", "VARCHAR"),
    *((c, "DECIMAL(38, 18)") for c in MONEY_COLUMNS),
    ("x_Rows", "BIGINT"),  # allocated_charges rows summed into this one
    # Every allocation dimension adds `<dim>` and `<dim>_source`, as in allocated_charges.
    ("team", "VARCHAR"),
    ("team_source", "VARCHAR"),
)

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "charges": CHARGES_COLUMNS,
    "loads": LOADS_COLUMNS,
    "load_issues": LOAD_ISSUES_COLUMNS,
    "load_reconciliation": LOAD_RECONCILIATION_COLUMNS,
    "inventory": INVENTORY_COLUMNS,
    "utilization": UTILIZATION_COLUMNS,
    "business_metrics": BUSINESS_METRICS_COLUMNS,
    "allocated_charges": ALLOCATED_COLUMNS,
    DAILY_COSTS: DAILY_COSTS_COLUMNS,
    "k8s_allocation": K8S_ALLOCATION_COLUMNS,
}


def _ddl(name: str, columns: tuple[tuple[str, str], ...]) -> str:
    body = ",\n    ".join(f'"{c}" {t}' for c, t in columns)
    return f"CREATE TABLE IF NOT EXISTS {name} (\n    {body}\n)"


def add_missing_columns(
    con: duckdb.DuckDBPyConnection, name: str, columns: tuple[tuple[str, str], ...]
) -> list[str]:
    """Add the columns a table lacks (a workspace made by an older version); returns them."""
    present = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_name = ?",
            [name],
        ).fetchall()
    }
    missing = [(c, t) for c, t in columns if c not in present]
    for column, kind in missing:
        con.execute(f'ALTER TABLE {name} ADD COLUMN "{column}" {kind}')
    return [c for c, _ in missing]


def create_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create every warehouse table that does not exist yet, in one transaction.

    Tables of an existing warehouse gain the columns newer versions added (nulls in
    old rows), so a workspace keeps working across upgrades.

    Returns:
        The tables created (none when the warehouse was current).
    """
    con.execute("BEGIN")
    existing = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database()"
        ).fetchall()
    }
    for name, columns in TABLES.items():
        con.execute(_ddl(name, columns))
        add_missing_columns(con, name, columns)
    con.execute("COMMIT")
    return [name for name in TABLES if name not in existing]
