"""Showback: cost per team, or any dimension, and period, summing to the total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis

from costloop.core.errors import CostloopError, InputError, NotFoundError
from costloop.core.periods import Month
from costloop.warehouse.engine import Engine
from costloop.warehouse.rollup import allocation_dimension_columns
from costloop.warehouse.schema import DAILY_COSTS

__all__ = [
    "FOCUS_DIMENSIONS",
    "METRICS",
    "DimensionRow",
    "Driver",
    "PeriodTotal",
    "ShowbackReport",
    "ShowbackRow",
    "allocation_dimensions",
    "allowed_dimensions",
    "billing_periods",
    "daily_costs",
    "metric_column",
    "select_periods",
    "showback",
    "showback_by",
    "spend_by",
]


@dataclass(frozen=True)
class ShowbackRow:
    """Cost of one team in one month (``unallocated`` is a team here)."""

    team: str
    period: Month
    billed_cost: Decimal
    effective_cost: Decimal


def showback(engine: Engine, month: Month | None = None) -> list[ShowbackRow]:
    """Cost per team × billing period, largest first within each period."""
    t = engine.table("allocated_charges")
    if month is not None:
        t = t.filter(t.BillingPeriodStart == month.start)
    agg = t.group_by(["team", "BillingPeriodStart"]).aggregate(
        billed=t.BilledCost.sum(), effective=t.EffectiveCost.sum()
    )
    rows = [
        ShowbackRow(
            r["team"],
            Month.of(r["BillingPeriodStart"]),
            r["billed"] or Decimal(0),
            r["effective"] or Decimal(0),
        )
        for r in engine.rows(agg)
    ]
    return sorted(rows, key=lambda r: (r.period, -r.effective_cost, r.team))


def spend_by(engine: Engine, column: str, grain: str = "M") -> list[dict[str, Any]]:
    """EffectiveCost per ``column`` value and period (``M`` month or ``D`` day)."""
    t = engine.table("allocated_charges")
    ts = t.BillingPeriodStart if grain == "M" else t.ChargePeriodStart.truncate("D")
    agg = t.group_by([t[column].name("key"), ts.name("period")]).aggregate(
        billed=t.BilledCost.sum(), effective=t.EffectiveCost.sum()
    )
    return sorted(engine.rows(agg), key=lambda r: (r["period"], str(r["key"])))


# --- Showback by any dimension -------------------------------------------------------

FOCUS_DIMENSIONS = (
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "SubAccountName",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ChargeCategory",
    "BillingCurrency",
)
"""FOCUS columns of ``allocated_charges`` that showback may group by."""

METRICS = {"billed": "BilledCost", "effective": "EffectiveCost", "list": "ListCost"}
"""Showback metric names and the money column each one sums."""

TOP_DRIVERS = 3


@dataclass(frozen=True)
class Driver:
    """One contributor to a row's cost (a service or an account) and its cost."""

    name: str | None
    cost: Decimal


class _Change:
    """Change against the previous period, for rows with ``cost`` and ``previous``."""

    cost: Decimal
    previous: Decimal | None

    @property
    def change(self) -> Decimal | None:
        """Cost minus the previous period's cost (None without a previous period)."""
        return None if self.previous is None else self.cost - self.previous

    @property
    def change_pct(self) -> Decimal | None:
        """Change in percent of the previous cost (None when that is zero or unknown)."""
        return _pct(self.cost, self.previous)


@dataclass(frozen=True)
class DimensionRow(_Change):
    """Cost of one combination of dimension values in one period and currency.

    Attributes:
        period: the billing period.
        values: one value per dimension of the report (None where the column is null).
        currency: BillingCurrency of every charge in the row.
        cost: the metric summed over the row's charges.
        previous: the same combination's cost in the preceding period; zero when it had
            none, None when the warehouse holds no data for the preceding period.
        services: the top ServiceName values by cost, largest first.
        accounts: the top sub-accounts (SubAccountName, else SubAccountId) by cost.
    """

    period: Month
    values: tuple[str | None, ...]
    currency: str
    cost: Decimal
    previous: Decimal | None
    services: tuple[Driver, ...] = ()
    accounts: tuple[Driver, ...] = ()


@dataclass(frozen=True)
class PeriodTotal(_Change):
    """Total cost of one period in one currency, the sum of that period's rows."""

    period: Month
    currency: str
    cost: Decimal
    previous: Decimal | None


@dataclass(frozen=True)
class ShowbackReport:
    """Showback by one or more dimensions over one or more billing periods."""

    dimensions: tuple[str, ...]
    metric: str
    periods: tuple[Month, ...]
    rows: tuple[DimensionRow, ...]
    totals: tuple[PeriodTotal, ...]

    @property
    def currencies(self) -> tuple[str, ...]:
        """Billing currencies present, sorted."""
        return tuple(sorted({t.currency for t in self.totals}))

    @property
    def multi_currency(self) -> bool:
        """Whether rows come in more than one currency (never added together)."""
        return len(self.currencies) > 1

    def rows_of(self, total: PeriodTotal) -> list[DimensionRow]:
        """The rows that sum to ``total`` (same period and currency), in report order."""
        return [r for r in self.rows if r.period == total.period and r.currency == total.currency]


def _pct(cost: Decimal, previous: Decimal | None) -> Decimal | None:
    if previous is None or previous == 0:
        return None
    return (cost - previous) / abs(previous) * 100


def allocation_dimensions(engine: Engine) -> list[str]:
    """Allocation dimensions of ``allocated_charges``: columns ``x`` with an ``x_source``."""
    return allocation_dimension_columns(list(engine.table("allocated_charges").columns))[::2]


def allowed_dimensions(engine: Engine) -> list[str]:
    """Every dimension showback accepts: allocation dimensions, then FOCUS columns."""
    return allocation_dimensions(engine) + [
        c for c in FOCUS_DIMENSIONS if c in set(engine.table("allocated_charges").columns)
    ]


def daily_costs(engine: Engine) -> Any:
    """The ``daily_costs`` rollup of ``allocated_charges`` (exact sums per day and
    dimension values), or ``allocated_charges`` itself with a ``ChargePeriodDay``
    column in a warehouse no write has upgraded yet. Either answers every question that
    does not need a resource, with the same numbers."""
    if engine.has_table(DAILY_COSTS):
        return engine.table(DAILY_COSTS)
    t = engine.table("allocated_charges")
    return t.mutate(ChargePeriodDay=t.ChargePeriodStart.truncate("D"))


def billing_periods(engine: Engine) -> list[Month]:
    """Billing periods present in ``allocated_charges``, oldest first."""
    t = daily_costs(engine)
    rows = engine.rows(t.select("BillingPeriodStart").distinct())
    return sorted(Month.of(r["BillingPeriodStart"]) for r in rows)


def metric_column(metric: str) -> str:
    """The money column of a metric name.

    Raises:
        InputError: unknown metric.
    """
    try:
        return METRICS[metric]
    except KeyError:
        raise InputError(
            f"--metric: unknown metric {metric!r}; use one of: {', '.join(METRICS)}"
        ) from None


def select_periods(available: list[Month], first: Month | None, last: Month | None) -> list[Month]:
    """The available periods in ``[first, last]``; both None selects the latest one.

    Raises:
        InputError: ``first`` is after ``last``.
        NotFoundError: no allocated charges fall in the range.
    """
    if first is not None and last is not None and first > last:
        raise InputError(f"--from {first} is after --to {last}")
    if not available:
        raise NotFoundError("no allocated charges yet: ingest billing data and run `allocate`")
    if first is None and last is None:
        return [available[-1]]
    chosen = [p for p in available if (first is None or p >= first) and (last is None or p <= last)]
    if not chosen:
        span = str(first) if first == last else f"{first or '…'} to {last or '…'}"
        raise NotFoundError(
            f"no allocated charges for {span}; periods present: {available[0]} to {available[-1]}"
        )
    return chosen


def showback_by(
    engine: Engine,
    dimensions: Sequence[str],
    *,
    first: Month | None = None,
    last: Month | None = None,
    metric: str = "effective",
) -> ShowbackReport:
    """Cost per combination of dimension values × billing period, with trend and drivers.

    Rows are also split by BillingCurrency, so amounts in different currencies are
    never added; the rows of a period and currency sum exactly to its total, which
    is checked against an independent sum of ``allocated_charges``.

    Args:
        engine: the warehouse engine.
        dimensions: allocation dimensions (e.g. ``team``) or FOCUS columns
            (see ``allowed_dimensions``).
        first: first billing period (default: the earliest present).
        last: last billing period (default: the latest present); with ``first`` also
            None only the latest period is reported.
        metric: ``billed``, ``effective`` or ``list``.

    Raises:
        InputError: an unknown dimension or metric.
        NotFoundError: no allocated charges in the range.
        CostloopError: the rows do not add up to the period total (never expected).
    """
    column = metric_column(metric)
    allowed = allowed_dimensions(engine)
    dims = tuple(dict.fromkeys(d.strip() for d in dimensions if d.strip()))
    unknown = [d for d in dims if d not in allowed]
    if unknown or not dims:
        what = f"unknown dimension {unknown[0]!r}" if unknown else "no dimension given"
        raise InputError(f"--by: {what}; allowed: {', '.join(allowed)}")
    available = billing_periods(engine)
    periods = select_periods(available, first, last)
    present = set(available)
    t = engine.table("allocated_charges")
    lo, hi = periods[0].previous().start, periods[-1].end
    window = t.filter((t.BillingPeriodStart >= lo) & (t.BillingPeriodStart < hi))
    keys = list(dict.fromkeys([*dims, "BillingCurrency", "BillingPeriodStart"]))
    costs: dict[tuple[Any, ...], Decimal] = {}
    for r in engine.rows(window.group_by(keys).aggregate(cost=window[column].sum())):
        costs[tuple(r[k] for k in keys)] = r["cost"] or Decimal(0)
    current = window.filter(window.BillingPeriodStart >= periods[0].start)
    services = _top_drivers(engine, current, keys, current.ServiceName, column)
    accounts = _top_drivers(
        engine, current, keys, current.SubAccountName.coalesce(current.SubAccountId), column
    )
    # BillingPeriodStart is the last key: a combination is a key without it.
    combos = {k[:-1] for k in costs}
    rows: list[DimensionRow] = []
    for period in periods:
        prev_known = period.previous() in present
        for combo in combos:
            key = (*combo, period.start)
            cost = costs.get(key)
            previous = (
                costs.get((*combo, period.previous().start), Decimal(0)) if prev_known else None
            )
            if cost is None and not previous:
                continue
            named = dict(zip(keys, key, strict=True))
            rows.append(
                DimensionRow(
                    period=period,
                    values=tuple(named[d] for d in dims),
                    currency=named["BillingCurrency"],
                    cost=cost or Decimal(0),
                    previous=previous,
                    services=services.get(key, ()),
                    accounts=accounts.get(key, ()),
                )
            )
    rows.sort(key=lambda r: (r.period, r.currency, -r.cost, tuple(str(v) for v in r.values)))
    totals = _period_totals(engine, window, column, periods, present)
    for total in totals:
        parts = [r for r in rows if r.period == total.period and r.currency == total.currency]
        if sum((r.cost for r in parts), Decimal(0)) != total.cost:
            raise CostloopError(
                f"showback rows of {total.period} {total.currency} do not add up to the "
                f"period total {total.cost}"
            )
    return ShowbackReport(dims, metric, tuple(periods), tuple(rows), tuple(totals))


def _top_drivers(
    engine: Engine, table: Any, keys: list[str], driver: Any, column: str
) -> dict[tuple[Any, ...], tuple[Driver, ...]]:
    """The top ``TOP_DRIVERS`` values of ``driver`` by cost within each key group."""
    grouped = table.group_by([*[table[k] for k in keys], driver.name("driver")]).aggregate(
        cost=table[column].sum()
    )
    window = ibis.window(
        group_by=[grouped[k] for k in keys],
        order_by=[ibis.desc(grouped.cost), grouped.driver],
    )
    ranked = grouped.mutate(rank=ibis.row_number().over(window))
    top = ranked.filter(ranked["rank"] < TOP_DRIVERS)
    out: dict[tuple[Any, ...], list[tuple[int, Driver]]] = {}
    for r in engine.rows(top):
        key = tuple(r[k] for k in keys)
        out.setdefault(key, []).append((r["rank"], Driver(r["driver"], r["cost"] or Decimal(0))))
    return {k: tuple(d for _, d in sorted(v, key=lambda x: x[0])) for k, v in out.items()}


def _period_totals(
    engine: Engine, window: Any, column: str, periods: list[Month], present: set[Month]
) -> list[PeriodTotal]:
    """Per period and currency: the metric summed straight from the table, and the
    preceding period's sum."""
    agg = window.group_by(["BillingPeriodStart", "BillingCurrency"]).aggregate(
        cost=window[column].sum()
    )
    sums = {
        (Month.of(r["BillingPeriodStart"]), r["BillingCurrency"]): r["cost"] or Decimal(0)
        for r in engine.rows(agg)
    }
    out = []
    for period in periods:
        currencies = sorted(c for p, c in sums if p == period)
        for currency in currencies:
            prev = period.previous()
            out.append(
                PeriodTotal(
                    period,
                    currency,
                    sums[(period, currency)],
                    sums.get((prev, currency), Decimal(0)) if prev in present else None,
                )
            )
    return out
