"""Shared-cost pools: the split ratios of each pool, billing period and currency.

Weights come from the data (small aggregates executed on the engine) and become
ratios in Python with exact largest-remainder rounding to 9 places, so the ratios
of one pool, period and currency add up to exactly 1. The ratios are handed back to
the engine as a small table that :func:`costloop.allocation.expressions.split_rows`
joins to the pool's charges.

Methods:
- ``proportional``: each value's direct EffectiveCost in the same billing period and
  currency (charges not in any pool; values with no positive cost get nothing);
- ``even``: equal shares among ``targets`` or, without targets, the values that have
  direct cost in the period;
- ``fixed``: the pool's percentages;
- ``metric``: OpenCost/Kubecost namespace costs of the period (one target per
  namespace, carrying the namespace's dimension value), or a business metric's volume
  per value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa

from costloop.core.allocation_rules import UNALLOCATED, AllocationConfig, Dimension, Pool
from costloop.core.money import largest_remainder_split
from costloop.core.periods import Month

__all__ = [
    "RATIO_PLACES",
    "SPLIT_LIMIT",
    "PoolNote",
    "PoolRatios",
    "PoolSummary",
    "Runner",
    "pool_ratios",
    "pool_summary",
]

RATIO_PLACES = 9
METRIC_LOOKBACK_MONTHS = 3
Runner = Callable[[Any], list[dict[str, Any]]]


@dataclass
class PoolNote:
    """What a pool did in one billing period (for the allocate summary)."""

    pool: str
    period: datetime
    currency: str
    method: str
    targets: int
    unsplit_reason: str | None = None
    unmapped: list[str] = field(default_factory=list)
    usage_month: str | None = None  # earlier month whose usage shares were used


@dataclass
class PoolRatios:
    """Ratios of every pool × period × currency, and notes for the user."""

    rows: list[dict[str, Any]]
    notes: list[PoolNote]

    def table(self) -> Any:
        """The ratios as an Ibis memtable (the columns ``split_rows`` expects)."""
        schema = pa.schema(
            [
                ("__pool", pa.string()),
                ("__period", pa.timestamp("us")),
                ("__currency", pa.string()),
                ("__target_id", pa.string()),
                ("__target_name", pa.string()),
                ("__value", pa.string()),
                ("__ratio", pa.decimal128(10, 9)),
                ("__method_id", pa.string()),
                ("__details", pa.string()),
                ("__tags", pa.string()),
            ]
        )
        return ibis.memtable(pa.Table.from_pylist(self.rows, schema=schema))


@dataclass(frozen=True)
class _Target:
    id: str
    name: str
    value: str


@dataclass
class PoolSummary:
    """One pass over the direct allocation: what pools hold and what values cost.

    Attributes:
        slices: (pool, period, currency) that have charges.
        direct: per dimension, (period, currency) → value → direct EffectiveCost of the
            charges no pool takes (unallocated excluded).
        oversized: pooled rows with an amount ≥ ``SPLIT_LIMIT`` (must be 0).
    """

    slices: list[tuple[str, datetime, str]]
    direct: dict[str, dict[tuple[Any, str], dict[str, Decimal]]]
    oversized: int


SPLIT_LIMIT = Decimal(10) ** 9


def pool_summary(run: Runner, direct: Any, config: AllocationConfig) -> PoolSummary:
    """Aggregate the direct allocation once for every pool's needs."""
    dims = list(dict.fromkeys(p.dimension for p in config.pools))
    pooled = direct.x_AllocationPool.notnull()
    big = ibis.literal(False)
    for money in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        big |= (direct[money].abs() >= SPLIT_LIMIT).fill_null(False)
    agg = direct.group_by(
        ["x_AllocationPool", "BillingPeriodStart", "BillingCurrency", *dims]
    ).aggregate(
        __cost=direct.EffectiveCost.sum(),
        __big=(pooled & big).ifelse(1, 0).sum(),
    )
    slices: set[tuple[str, datetime, str]] = set()
    by_dim: dict[str, dict[tuple[Any, str], dict[str, Decimal]]] = {d: {} for d in dims}
    oversized = 0
    for r in run(agg):
        key = (r["BillingPeriodStart"], r["BillingCurrency"])
        oversized += int(r["__big"] or 0)
        if r["x_AllocationPool"] is not None:
            slices.add((r["x_AllocationPool"], r["BillingPeriodStart"], r["BillingCurrency"]))
            continue
        for dim in dims:
            if r[dim] == UNALLOCATED:
                continue
            values = by_dim[dim].setdefault(key, {})
            values[r[dim]] = values.get(r[dim], Decimal(0)) + (r["__cost"] or Decimal(0))
    ordered = sorted(slices, key=lambda s: (s[0], s[1], s[2] or ""))
    return PoolSummary(ordered, by_dim, oversized)


def _kubernetes(
    run: Runner, k8s: Any, pool: Pool, dim: Dimension, period: datetime
) -> tuple[dict[_Target, Decimal], list[str]]:
    assert pool.metric is not None
    month = Month.of(period)
    t = k8s.filter((k8s.window_start >= month.start) & (k8s.window_start < month.next().start))
    if pool.metric.cluster is not None:
        t = t.filter(t.cluster == pool.metric.cluster)
    agg = t.group_by(t.namespace).aggregate(cost=t.total_cost.sum())
    weights: dict[_Target, Decimal] = {}
    unmapped: list[str] = []
    for r in run(agg):
        ns, cost = r["namespace"], r["cost"] or Decimal(0)
        value = pool.metric.namespaces.get(ns) or dim.canonical(ns)
        if value is None or (pool.targets and value not in pool.targets):
            unmapped.append(ns)
            continue
        if cost > 0:
            weights[_Target(ns, f"{pool.metric.cluster or 'cluster'}/{ns}", value)] = cost
    return weights, sorted(unmapped)


def _business(
    run: Runner, metrics: Any, pool: Pool, dim: Dimension, period: datetime
) -> tuple[dict[_Target, Decimal], list[str]]:
    assert pool.metric is not None and pool.metric.metric is not None
    month = Month.of(period)
    t = metrics.filter(
        (metrics.metric == pool.metric.metric)
        & (metrics.date >= month.start.date())
        & (metrics.date < month.next().start.date())
        & metrics.dimension.notnull()
    )
    agg = t.group_by(t.dimension).aggregate(volume=t.value.sum())
    weights: dict[_Target, Decimal] = {}
    unmapped: list[str] = []
    for r in run(agg):
        value = dim.canonical(r["dimension"])
        if value is None or (pool.targets and value not in pool.targets):
            unmapped.append(r["dimension"])
            continue
        volume = r["volume"] or Decimal(0)
        if volume > 0:
            target = _Target(value, value, value)
            weights[target] = weights.get(target, Decimal(0)) + volume
    return weights, sorted(unmapped)


def _weights(
    run: Runner,
    pool: Pool,
    dim: Dimension,
    period: datetime,
    currency: str,
    direct: dict[tuple[Any, str], dict[str, Decimal]],
    tables: dict[str, Any],
) -> tuple[dict[_Target, Decimal], list[str], str | None, str | None]:
    """Weights per target, unmapped names, why the pool cannot split (if so), and the
    earlier month whose usage was used when the period has none."""
    if pool.method == "fixed":
        return {_Target(v, v, v): s for v, s in pool.shares.items()}, [], None, None
    if pool.method == "metric":
        assert pool.metric is not None
        name = "k8s_allocation" if pool.metric.kind == "kubernetes" else "business_metrics"
        read = _kubernetes if pool.metric.kind == "kubernetes" else _business
        # Usage data often lags the bill: without data for the period, the latest of
        # the previous three months is used (the note says so).
        month = Month.of(period)
        for back in range(METRIC_LOOKBACK_MONTHS + 1):
            weights, unmapped = read(run, tables[name], pool, dim, month.start)
            if weights:
                return weights, unmapped, None, (str(month) if back else None)
            month = month.previous()
        missing = f"no {pool.metric.kind} usage data for {period:%Y-%m} or the 3 months before"
        return {}, [], missing, None
    costs: dict[str, Decimal] = {}
    for (p, _), by_value in direct.items():
        if p != period:
            continue
        for value, cost in by_value.items():
            costs[value] = costs.get(value, Decimal(0)) + cost
    if pool.method == "even":
        values = list(pool.targets) or sorted(v for v, c in costs.items() if c > 0)
        weights = {_Target(v, v, v): Decimal(1) for v in values}
        why = None if weights else f"no {pool.dimension} has direct cost in {period:%Y-%m}"
        return weights, [], why, None
    same_currency = direct.get((period, currency), {})
    weights = {
        _Target(v, v, v): c
        for v, c in sorted(same_currency.items())
        if c > 0 and (not pool.targets or v in pool.targets)
    }
    why = None if weights else f"no direct {currency} cost in {period:%Y-%m} to weigh by"
    return weights, [], why, None


def _method_id(pool: Pool) -> str:
    if pool.method == "metric" and pool.metric is not None:
        return f"costloop:metric:{pool.metric.kind}"
    return f"costloop:{pool.method}"


def pool_ratios(
    run: Runner,
    summary: PoolSummary,
    config: AllocationConfig,
    tables: dict[str, Any],
) -> PoolRatios:
    """Ratios for every (pool, period, currency) that has charges.

    Args:
        run: executes an Ibis expression to Python rows (usage data of metric pools).
        summary: the direct allocation aggregated by :func:`pool_summary`.
        tables: ``k8s_allocation`` and ``business_metrics`` Ibis tables.
    """
    pools = {p.name: p for p in config.pools}
    rows: list[dict[str, Any]] = []
    notes: list[PoolNote] = []
    for name, period, currency in summary.slices:
        pool = pools[name]
        dim = config.dimension(pool.dimension)
        weights, unmapped, reason, fallback = _weights(
            run, pool, dim, period, currency, summary.direct.get(pool.dimension, {}), tables
        )
        note = PoolNote(
            pool.name, period, currency, pool.method, len(weights), reason, unmapped, fallback
        )
        notes.append(note)
        if reason is not None:
            # Nothing to weigh by: the pool's charges stay whole, with the value their
            # own rules gave them (often unallocated); the note tells the user.
            rows.append(_row(pool, period, currency, None, Decimal(1)))
            continue
        targets = sorted(weights, key=lambda t: t.id)
        ratios = largest_remainder_split(
            Decimal(1), [weights[t] for t in targets], places=RATIO_PLACES
        )
        for target, ratio in zip(targets, ratios, strict=True):
            rows.append(_row(pool, period, currency, target, ratio))
    return PoolRatios(rows, notes)


def _row(
    pool: Pool, period: datetime, currency: str, target: _Target | None, ratio: Decimal
) -> dict[str, Any]:
    if target is None:  # a pool that cannot split this period: one pass-through target
        return {
            "__pool": pool.name,
            "__period": period,
            "__currency": currency,
            "__target_id": None,
            "__target_name": None,
            "__value": None,
            "__ratio": ratio,
            "__method_id": None,
            "__details": None,
            "__tags": None,
        }
    details = {
        "Elements": [
            {
                "AllocatedRatio": float(ratio),
                "x_AllocatedRatio": str(ratio),
                "x_Pool": pool.name,
                "x_Method": pool.method,
                "x_Dimension": pool.dimension,
                "x_Value": target.value,
            }
        ]
    }
    return {
        "__pool": pool.name,
        "__period": period,
        "__currency": currency,
        "__target_id": target.id,
        "__target_name": target.name,
        "__value": target.value,
        "__ratio": ratio,
        "__method_id": _method_id(pool),
        "__details": json.dumps(details, separators=(",", ":")),
        "__tags": json.dumps({pool.dimension: target.value}, separators=(",", ":")),
    }
