"""Allocate billing periods into ``allocated_charges``, idempotently, and prove it lossless.

:func:`allocation_expr` is the whole allocation as one Ibis expression over Ibis
tables (any backend: the DuckDB warehouse, or PySpark over exported Parquet).
:func:`allocate` runs it per billing period against the warehouse, replaces that
period's slice atomically, and checks Σ allocated = Σ source for every billing
account, currency and money column before reporting success.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis

from costloop.allocation.expressions import (
    BASE_COLUMNS,
    SPLIT_COLUMNS,
    dimension_columns,
    direct_rows,
    pool_column,
    split_rows,
)
from costloop.allocation.pools import (
    SPLIT_LIMIT,
    PoolNote,
    Runner,
    pool_ratios,
    pool_summary,
)
from costloop.core.allocation_rules import UNALLOCATED, AllocationConfig
from costloop.core.errors import CostloopError, InputError
from costloop.core.focus import MONEY_COLUMNS
from costloop.warehouse.engine import Engine
from costloop.warehouse.schema import ALLOCATED_COLUMNS

__all__ = [
    "AllocationResult",
    "allocate",
    "allocation_expr",
    "output_columns",
]


def in_periods(column: Any, periods: list[datetime]) -> Any:
    """``column`` equals one of ``periods`` (timestamp literals compare on every engine)."""
    cond = ibis.literal(False)
    for period in periods:
        cond |= column == ibis.literal(period, type="timestamp")
    return cond


def output_columns(config: AllocationConfig) -> list[str]:
    """The columns of an allocation result, in order."""
    return [
        *BASE_COLUMNS,
        *SPLIT_COLUMNS,
        "x_AllocationRatio",
        *(name for name, _ in dimension_columns(config)),
    ]


def allocation_parts(
    tables: dict[str, Any],
    config: AllocationConfig,
    run: Runner,
    periods: list[datetime] | None = None,
) -> tuple[list[Any], list[PoolNote]]:
    """The allocation of ``periods`` (all when None) as Ibis expressions whose rows
    together are the result: the charges no pool takes, then one per pool dimension.

    Each part reads the charges once and streams; the parts share no sub-expression an
    engine would have to materialize. Before building them, one aggregate pass over
    the direct allocation gives the pools' slices and weights.

    Args:
        tables: Ibis tables ``charges`` (required), ``inventory``, ``k8s_allocation``
            and ``business_metrics`` (optional; needed by inherit rules and metric pools).
        run: executes small Ibis expressions to Python rows (pool weights).

    Raises:
        InputError: a pooled charge is too large to split exactly.
    """
    charges = tables["charges"]
    if periods is not None:
        charges = charges.filter(in_periods(charges.BillingPeriodStart, periods))
    direct = pool_column(direct_rows(charges, tables.get("inventory"), config), config)
    columns = output_columns(config)
    whole = direct.filter(direct.x_AllocationPool.isnull()).mutate(
        AllocatedMethodId=ibis.null("string"),
        AllocatedMethodDetails=ibis.null("string"),
        AllocatedResourceId=ibis.null("string"),
        AllocatedResourceName=ibis.null("string"),
        AllocatedTags=ibis.null("string"),
        x_AllocationRatio=ibis.literal(1).cast("decimal(10, 9)"),
    )
    parts = [whole.select(*columns)]
    notes: list[PoolNote] = []
    if config.pools:
        summary = pool_summary(run, direct, config)
        if summary.oversized:
            _refuse_oversized(run, direct)
        ratios = pool_ratios(run, summary, config, tables)
        notes = ratios.notes
        table = ratios.table()
        for dim in dict.fromkeys(p.dimension for p in config.pools):
            names = [p.name for p in config.pools if p.dimension == dim]
            rows = direct.filter(direct.x_AllocationPool.isin(names))
            mine = table.filter(table.__pool.isin(names))
            parts.append(split_rows(rows, mine, dim).select(*columns))
    return parts, notes


def allocation_expr(
    tables: dict[str, Any],
    config: AllocationConfig,
    run: Runner,
    periods: list[datetime] | None = None,
) -> tuple[Any, list[PoolNote]]:
    """The allocation as one Ibis expression (the union of :func:`allocation_parts`)."""
    parts, notes = allocation_parts(tables, config, run, periods)
    expr = parts[0]
    for part in parts[1:]:
        expr = expr.union(part, distinct=False)
    return expr, notes


def _refuse_oversized(run: Runner, direct: Any) -> None:
    """Exact splits hold amounts below 1e9 per charge row (see expressions.split_rows)."""
    pooled = direct.filter(direct.x_AllocationPool.notnull())
    big = ibis.literal(False)
    for money in MONEY_COLUMNS:
        big |= (pooled[money].abs() >= SPLIT_LIMIT).fill_null(False)
    rows = run(pooled.filter(big).select("x_SourceFile", "x_SourceRow", *MONEY_COLUMNS).limit(1))
    row = rows[0]
    column = next(m for m in MONEY_COLUMNS if row[m] is not None and abs(row[m]) >= SPLIT_LIMIT)
    raise InputError(
        f"{row[column]} is too large to split exactly in a shared-cost pool "
        f"(at most {SPLIT_LIMIT - 1:,} per charge row); leave this charge out of the "
        "pool (e.g. with a narrower match)",
        file=row["x_SourceFile"],
        row=row["x_SourceRow"],
        column=column,
    )


@dataclass(frozen=True)
class AllocationResult:
    """Allocation of one billing period.

    Attributes:
        totals: Σ of each money column (equal in source and result).
        allocated: per dimension, the EffectiveCost with a value other than unallocated.
        pools: what each shared-cost pool did this period.
    """

    period: datetime
    rows: int
    source_rows: int
    totals: dict[str, Decimal]
    allocated: dict[str, Decimal]
    pools: list[PoolNote] = field(default_factory=list)

    @property
    def allocated_effective(self) -> Decimal:
        """EffectiveCost attributed to a team."""
        return self.allocated["team"]

    def coverage_of(self, dimension: str) -> Decimal | None:
        """Share of EffectiveCost with a value for ``dimension`` (0..1); None when the
        period's EffectiveCost is zero (nothing to cover)."""
        total = self.totals["EffectiveCost"]
        return None if total == 0 else self.allocated[dimension] / total

    @property
    def coverage(self) -> Decimal | None:
        """Share of EffectiveCost attributed to a team (0..1), None without cost."""
        return self.coverage_of("team")


def allocation_views(allocated: Any, config: AllocationConfig) -> dict[str, Any]:
    """Views over ``allocated_charges`` for SQL users and BI tools.

    - ``showback_monthly``: Σ of each cost column per month, currency, billing account
      and every dimension value;
    - ``allocation_coverage``: EffectiveCost per month, dimension and the stage that
      allocated it (tag, account, resource, inherited, shared, unallocated);
    - ``shared_cost_splits``: the rows shared-cost pools produced, with their origin.
    """
    t = allocated
    dims = [d.name for d in config.dimensions]
    showback = t.group_by(
        ["BillingPeriodStart", "BillingCurrency", "BillingAccountId", *dims]
    ).aggregate(**{c: t[c].sum() for c in MONEY_COLUMNS})
    parts = [
        t.group_by([t.BillingPeriodStart, t[f"{d}_source"].name("source")])
        .aggregate(EffectiveCost=t.EffectiveCost.sum())
        .mutate(dimension=ibis.literal(d))
        for d in dims
    ]
    coverage = parts[0]
    for part in parts[1:]:
        coverage = coverage.union(part, distinct=False)
    splits = t.filter(t.x_AllocationPool.notnull())
    return {
        "showback_monthly": showback,
        "allocation_coverage": coverage.select(
            "BillingPeriodStart", "dimension", "source", "EffectiveCost"
        ),
        "shared_cost_splits": splits,
    }


def warehouse_tables(engine: Engine) -> dict[str, Any]:
    """The warehouse tables allocation reads."""
    return {
        name: engine.table(name)
        for name in ("charges", "inventory", "k8s_allocation", "business_metrics")
    }


def allocate(
    engine: Engine,
    config: AllocationConfig,
    periods: list[datetime] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> list[AllocationResult]:
    """(Re)allocate the given billing periods (all when None), idempotently.

    ``progress`` receives ("allocated_charges", fraction) while the rows are written.

    Raises:
        CostloopError: the allocated totals differ from the source (never expected);
            the period's previous allocation is then left in place.
    """
    engine.ensure_columns("allocated_charges", ALLOCATED_COLUMNS + dimension_columns(config))
    for name, view in allocation_views(engine.table("allocated_charges"), config).items():
        engine.create_view(name, view)
    tables = warehouse_tables(engine)
    charges = tables["charges"]
    if periods is None:
        periods = sorted(
            r["BillingPeriodStart"]
            for r in engine.rows(charges.select("BillingPeriodStart").distinct())
        )
    if not periods:
        return []
    # One expression and one transaction for all the periods: planning an allocation
    # costs about as much as running it on a month of a mid-size bill.
    parts, notes = allocation_parts(tables, config, engine.rows, periods)
    engine.replace_slices(
        "allocated_charges",
        parts,
        "BillingPeriodStart",
        periods,
        check=functools.partial(_check, engine, periods),
        progress=progress,
    )
    return _results(engine, config, periods, notes)


_KEY = ("BillingPeriodStart", "BillingAccountId", "BillingCurrency")


def _sums(engine: Engine, table: str, periods: list[datetime]) -> dict[tuple[Any, ...], Any]:
    t = engine.table(table)
    t = t.filter(in_periods(t.BillingPeriodStart, periods))
    agg = t.group_by(list(_KEY)).aggregate(**{c: t[c].sum() for c in MONEY_COLUMNS})
    return {tuple(r[k] for k in _KEY): r for r in engine.rows(agg)}


def _check(engine: Engine, periods: list[datetime]) -> None:
    """Σ allocated = Σ source per period, billing account, currency and money column."""
    src = _sums(engine, "charges", periods)
    dst = _sums(engine, "allocated_charges", periods)
    for key in sorted(set(src) | set(dst), key=str):
        for col in MONEY_COLUMNS:
            a = (src.get(key) or {}).get(col) or Decimal(0)
            b = (dst.get(key) or {}).get(col) or Decimal(0)
            if a != b:
                raise CostloopError(
                    f"allocation of {key[0]:%Y-%m} would change {col} of billing account "
                    f"{key[1]} ({key[2]}): source {a} vs allocated {b}; nothing was written"
                )


def _results(
    engine: Engine, config: AllocationConfig, periods: list[datetime], notes: list[PoolNote]
) -> list[AllocationResult]:
    t = engine.table("allocated_charges")
    t = t.filter(in_periods(t.BillingPeriodStart, periods))
    metrics = {c: t[c].sum() for c in MONEY_COLUMNS}
    for dim in config.dimensions:
        metrics[f"__{dim.name}"] = t.EffectiveCost.sum(where=t[dim.name] != UNALLOCATED)
    agg = {
        r["BillingPeriodStart"]: r
        for r in engine.rows(t.group_by("BillingPeriodStart").aggregate(n=t.count(), **metrics))
    }
    charges = engine.table("charges")
    mine = charges.filter(in_periods(charges.BillingPeriodStart, periods))
    source_rows = {
        r["BillingPeriodStart"]: r["n"]
        for r in engine.rows(mine.group_by("BillingPeriodStart").aggregate(n=mine.count()))
    }
    out = []
    for period in periods:
        row = agg.get(period, {})
        out.append(
            AllocationResult(
                period,
                int(row.get("n") or 0),
                int(source_rows.get(period) or 0),
                {c: row.get(c) or Decimal(0) for c in MONEY_COLUMNS},
                {d.name: row.get(f"__{d.name}") or Decimal(0) for d in config.dimensions},
                [n for n in notes if n.period == period],
            )
        )
    return out
