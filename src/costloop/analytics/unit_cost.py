"""Unit economics: cost per business unit (e.g. per order), its trend and its drivers.

Cost is amortized cost: ``EffectiveCost`` of ``allocated_charges`` (commitment
purchases spread over the periods that use them, credits and discounts applied),
so a one-off upfront payment does not show up as a spike in cost per order. By
default every charge of the period is in scope, shared costs included (they were
split onto owners by allocation); ``scope`` narrows the cost to some values of
allocation dimensions, e.g. ``{"env": ["prod"]}``. Business metrics are never
filtered by scope: choose a metric that measures what the scoped cost serves.

Periods follow ``ChargePeriodStart`` (not the billing period): ``day``, ``week``
(ISO weeks, starting Monday) or ``month`` (calendar months). The volume of a
period is the sum of the metric's daily values in it.

Change between two consecutive periods, C = cost, V = volume, U = C / V:

* multiplicative: (1 + ΔC/C₀) = (1 + ΔV/V₀) · (1 + ΔU/U₀);
* additive, in money: ΔC = ΔV·U₀ (volume effect) + ΔU·V₁ (unit-cost effect).

The volume effect is rounded to 18 decimal places (the warehouse's money scale)
and the unit-cost effect is ΔC minus it, so the two add up to ΔC exactly; they
differ from the unrounded products by less than 10⁻¹⁸.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any

from costloop.core.errors import InputError, NotFoundError
from costloop.core.money import STORAGE_PLACES, ZERO, quantize
from costloop.core.periods import Month
from costloop.warehouse.engine import Engine

__all__ = [
    "COST_BASIS",
    "GRAINS",
    "Change",
    "UnitCostReport",
    "UnitCostRow",
    "decompose",
    "dimension_columns",
    "format_pct",
    "period_end",
    "unit_cost",
]

COST_BASIS = "EffectiveCost (amortized)"
GRAINS = {"day": "D", "week": "W", "month": "M"}
_PRECISION = 60  # digits for intermediate unit costs: exact effects for any realistic sums
_REPORTED = 28  # significant digits of reported ratios and unit costs (Python's default)


def dimension_columns(columns: Sequence[str]) -> list[str]:
    """Allocation dimensions of ``allocated_charges``: ``x`` where ``x_source`` also exists."""
    present = set(columns)
    return [c for c in columns if f"{c}_source" in present]


def period_end(start: date, grain: str) -> date:
    """Exclusive end of the period of ``grain`` that starts on ``start``."""
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    return Month.of(start).next().start.date()


def _period_before(start: date, grain: str) -> date:
    if grain == "day":
        return start - timedelta(days=1)
    if grain == "week":
        return start - timedelta(days=7)
    return Month.of(start).previous().start.date()


def _ratio(numerator: Decimal, denominator: Decimal | None) -> Decimal | None:
    if denominator is None or denominator == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = _REPORTED
        return numerator / denominator


def format_pct(ratio: Decimal | None, places: int = 1) -> str:
    """A signed percentage such as ``+18.0%`` or ``−5.6%`` (typographic minus); ``n/a``."""
    if ratio is None:
        return "n/a"
    pct = quantize(ratio * 100, places)
    if pct == 0:
        return f"{abs(pct)}%"
    return f"{'+' if pct > 0 else '−'}{abs(pct)}%"


@dataclass(frozen=True)
class Change:
    """How cost, volume and unit cost moved from the previous period to this one."""

    previous_cost: Decimal
    cost: Decimal
    previous_volume: Decimal | None
    volume: Decimal | None
    cost_change: Decimal
    cost_pct: Decimal | None
    volume_pct: Decimal | None
    unit_cost_pct: Decimal | None
    volume_effect: Decimal | None
    unit_cost_effect: Decimal | None

    @property
    def verdict(self) -> str | None:
        """``healthy`` when cost grows slower than volume (unit cost falls),
        ``unhealthy`` when it grows faster, ``steady`` when unit cost is unchanged;
        None without volume in both periods."""
        if self.unit_cost_pct is None:
            return None
        if self.unit_cost_pct < 0:
            return "healthy"
        return "unhealthy" if self.unit_cost_pct > 0 else "steady"

    def sentence(self) -> str:
        """E.g. ``spend +18.0%: volume +25.0%, unit cost −5.6% (healthy: ...)``."""
        spend = (
            f"spend {format_pct(self.cost_pct)}"
            if self.cost_pct is not None
            else f"spend {self.previous_cost:.2f} → {self.cost:.2f}"
        )
        if self.unit_cost_pct is None:
            return f"{spend}; no unit cost without volume in both periods"
        why = {
            "healthy": "cost grows slower than volume",
            "unhealthy": "cost grows faster than volume",
            "steady": "cost moves with volume",
        }[self.verdict or "steady"]
        return (
            f"{spend}: volume {format_pct(self.volume_pct)}, "
            f"unit cost {format_pct(self.unit_cost_pct)} ({self.verdict}: {why})"
        )


def decompose(
    previous_cost: Decimal,
    previous_volume: Decimal | None,
    cost: Decimal,
    volume: Decimal | None,
) -> Change:
    """Split the change of cost between two periods into volume and unit-cost effects.

    Percentages are ratios (0.18 for +18 %); each is None when its base is zero or
    unknown. The money effects exist when both volumes are positive and sum to
    ``cost - previous_cost`` exactly.
    """
    delta = cost - previous_cost
    volume_pct = None
    if volume is not None and previous_volume is not None:
        volume_pct = _ratio(volume - previous_volume, previous_volume)
    unit_pct = volume_effect = unit_effect = None
    if previous_volume and volume:
        with localcontext() as ctx:
            ctx.prec = _PRECISION
            u0 = previous_cost / previous_volume
            u1 = cost / volume
            unit_pct = _ratio(u1 - u0, u0)
            volume_effect = quantize((volume - previous_volume) * u0, STORAGE_PLACES)
            unit_effect = delta - volume_effect
    return Change(
        previous_cost=previous_cost,
        cost=cost,
        previous_volume=previous_volume,
        volume=volume,
        cost_change=delta,
        cost_pct=_ratio(delta, previous_cost),
        volume_pct=volume_pct,
        unit_cost_pct=unit_pct,
        volume_effect=volume_effect,
        unit_cost_effect=unit_effect,
    )


@dataclass(frozen=True)
class UnitCostRow:
    """Cost, volume and unit cost of one period, for one dimension value or the total.

    ``group`` is the dimension value (None on the total row). ``volume`` is None when
    the metric has no row for this value and period; ``unit_cost`` is None then and
    when the volume is 0. ``partial`` marks a period that the cost data, the metric
    data or the requested window does not cover from its first to its last day.
    """

    period: date
    period_end: date
    group: str | None
    cost: Decimal
    volume: Decimal | None
    partial: bool
    change: Change | None

    @property
    def unit_cost(self) -> Decimal | None:
        """Cost per unit of the metric."""
        return _ratio(self.cost, self.volume)

    @property
    def is_total(self) -> bool:
        """Whether this is the period's total row."""
        return self.group is None


@dataclass(frozen=True)
class UnitCostReport:
    """Unit cost of one metric per period (and per dimension value with ``by``)."""

    metric: str
    grain: str
    by: str | None
    scope: dict[str, tuple[str, ...]]
    currency: str | None
    rows: tuple[UnitCostRow, ...]
    covered: tuple[date, date] | None
    notes: tuple[str, ...]

    @property
    def totals(self) -> list[UnitCostRow]:
        """The total row of each period, oldest first."""
        return [r for r in self.rows if r.is_total]

    @property
    def headline(self) -> tuple[UnitCostRow, Change] | None:
        """The latest total row whose change compares two complete periods with volume."""
        totals = self.totals
        for i in range(len(totals) - 1, 0, -1):
            row, before = totals[i], totals[i - 1]
            if (
                row.change is not None
                and row.change.unit_cost_pct is not None
                and not row.partial
                and not before.partial
            ):
                return row, row.change
        return None


def _scoped_cost(
    engine: Engine,
    by: str | None,
    scope: Mapping[str, Sequence[str]],
    start: date | None,
    end: date | None,
) -> Any:
    t = engine.table("allocated_charges")
    dims = dimension_columns(list(t.columns))
    for name in [by, *scope] if by else list(scope):
        if name not in dims:
            raise InputError(
                f"{name!r} is not an allocation dimension; choose one of {', '.join(dims)}"
            )
    if start is not None:
        t = t.filter(t.ChargePeriodStart >= datetime.combine(start, datetime.min.time()))
    if end is not None:
        limit = datetime.combine(end + timedelta(days=1), datetime.min.time())
        t = t.filter(t.ChargePeriodStart < limit)
    for name, values in scope.items():
        t = t.filter(t[name].lower().isin([v.lower() for v in values]))
    return t


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def unit_cost(
    engine: Engine,
    metric: str,
    *,
    by: str | None = None,
    grain: str = "month",
    start: date | None = None,
    end: date | None = None,
    scope: Mapping[str, Sequence[str]] | None = None,
) -> UnitCostReport:
    """Cost per unit of ``metric`` per period, with change and its decomposition.

    Args:
        engine: the warehouse engine (reads ``allocated_charges`` and ``business_metrics``).
        metric: business metric name, exactly as loaded (e.g. ``orders``).
        by: an allocation dimension (e.g. ``product``); the metric's ``dimension``
            values are matched to its values case-insensitively. Metric rows without
            a dimension count for the total only; dimension values without a metric
            keep their cost (volume None) so every cost appears in some row.
        grain: ``day``, ``week`` or ``month``.
        start: first day included (on ChargePeriodStart and the metric date).
        end: last day included.
        scope: dimension → allowed values (case-insensitive); filters cost only.

    Raises:
        InputError: unknown grain, dimension or scope dimension; costs in several
            currencies; ``start`` after ``end``.
        NotFoundError: no allocated charges, or no such metric (known ones listed).
    """
    if grain not in GRAINS:
        raise InputError(f"unknown grain {grain!r}; choose one of {', '.join(GRAINS)}")
    if start is not None and end is not None and start > end:
        raise InputError(f"the window starts after it ends ({start} > {end})")
    scoped = {k: tuple(v) for k, v in (scope or {}).items()}
    t = _scoped_cost(engine, by, scoped, start, end)
    if engine.rows(engine.table("allocated_charges").count().name("n").as_table())[0]["n"] == 0:
        raise NotFoundError("no allocated charges: ingest bills and run `costloop allocate`")
    unit = GRAINS[grain]
    keys = [t.ChargePeriodStart.truncate(unit).name("period"), t.BillingCurrency]
    if by is not None:
        keys.append(t[by].name("value"))
    cost_rows = engine.rows(
        t.group_by(keys).aggregate(
            cost=t.EffectiveCost.sum(),
            first=t.ChargePeriodStart.min(),
            last=t.ChargePeriodStart.max(),
        )
    )
    currencies = sorted({r["BillingCurrency"] for r in cost_rows if r["BillingCurrency"]})
    if len(currencies) > 1:
        raise InputError(
            f"costs in scope are in several currencies ({', '.join(currencies)}); "
            "unit costs need one currency"
        )
    series = _Series(grain, by)
    for r in cost_rows:
        series.add_cost(r)
    for r in _metric_rows(engine, metric, unit, start, end):
        series.add_volume(r)
    covered = series.covered(start, end)
    return UnitCostReport(
        metric=metric,
        grain=grain,
        by=by,
        scope=scoped,
        currency=currencies[0] if currencies else None,
        rows=tuple(series.rows(covered)),
        covered=covered,
        notes=tuple(series.notes(metric)),
    )


def _metric_rows(
    engine: Engine, metric: str, unit: str, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """Volume per period and lower-cased dimension (None: rows without dimension)."""
    m = engine.table("business_metrics")
    if engine.rows(m.filter(m.metric == metric).count().name("n").as_table())[0]["n"] == 0:
        names = sorted(r["metric"] for r in engine.rows(m.select("metric").distinct()))
        raise NotFoundError(
            f"no business metric {metric!r}; loaded: {', '.join(names) or 'none'} "
            "(load one with `costloop ingest-metrics FILE`)"
        )
    m = m.filter(m.metric == metric)
    if start is not None:
        m = m.filter(m.date >= start)
    if end is not None:
        m = m.filter(m.date <= end)
    return engine.rows(
        m.group_by(
            [m.date.truncate(unit).name("period"), m.dimension.lower().name("key")]
        ).aggregate(volume=m.value.sum(), first=m.date.min(), last=m.date.max())
    )


Key = tuple[date, str | None]  # (period start, lower-cased dimension value or None: total)


class _Series:
    """Cost and volume per (period, dimension value), gathered from the query rows."""

    def __init__(self, grain: str, by: str | None) -> None:
        self.grain = grain
        self.by = by
        self.cost: dict[Key, Decimal] = {}
        self.volume: dict[Key, Decimal] = {}
        self.shown: dict[str, str] = {}  # lower-cased dimension value → value as stored
        self.cost_days: list[tuple[date, date]] = []
        self.metric_days: list[tuple[date, date]] = []
        self.undimensioned = False

    def add_cost(self, r: dict[str, Any]) -> None:
        """Add one (period, currency[, value]) cost row."""
        period = _as_date(r["period"])
        amount = r["cost"] or ZERO
        self.cost[(period, None)] = self.cost.get((period, None), ZERO) + amount
        if self.by is not None:
            value = "(none)" if r["value"] is None else str(r["value"])
            key = (period, value.lower())
            self.shown.setdefault(value.lower(), value)
            self.cost[key] = self.cost.get(key, ZERO) + amount
        self.cost_days.append((_as_date(r["first"]), _as_date(r["last"])))

    def add_volume(self, r: dict[str, Any]) -> None:
        """Add one (period, dimension) volume row."""
        period = _as_date(r["period"])
        amount = r["volume"] or ZERO
        self.volume[(period, None)] = self.volume.get((period, None), ZERO) + amount
        if r["key"] is None:
            self.undimensioned = True
        elif self.by is not None:
            key = (period, r["key"])
            self.volume[key] = self.volume.get(key, ZERO) + amount
        self.metric_days.append((_as_date(r["first"]), _as_date(r["last"])))

    @property
    def periods(self) -> list[date]:
        """Periods with cost in scope, oldest first."""
        return sorted({p for p, _ in self.cost})

    def covered(self, start: date | None, end: date | None) -> tuple[date, date] | None:
        """First and last day that both the cost and the metric data (and the window) cover."""
        if not self.cost_days or not self.metric_days:
            return None
        first = max(min(d[0] for d in self.cost_days), min(d[0] for d in self.metric_days))
        last = min(max(d[1] for d in self.cost_days), max(d[1] for d in self.metric_days))
        first = first if start is None else max(first, start)
        last = last if end is None else min(last, end)
        return (first, last) if first <= last else None

    def notes(self, metric: str) -> list[str]:
        """What the rows do not show on their own: unmatched values, volume left out."""
        out: list[str] = []
        periods = set(self.periods)
        outside = sorted(p for p, k in self.volume if k is None and p not in periods)
        if outside:
            out.append(
                f"{metric} has volume in {len(outside)} period(s) without cost in scope "
                f"({outside[0]} … {outside[-1]}); not shown"
            )
        if self.by is None:
            return out
        no_metric = [
            shown
            for key, shown in sorted(self.shown.items())
            if not any((p, key) in self.volume for p in periods)
        ]
        if no_metric:
            out.append(
                f"{self.by} value(s) without {metric}: {', '.join(no_metric)}; "
                "their cost is shown and counts in the total"
            )
        no_cost = sorted(
            {k for p, k in self.volume if k is not None and k not in self.shown and p in periods}
        )
        if no_cost:
            out.append(
                f"{metric} dimension value(s) matching no {self.by} value with cost: "
                f"{', '.join(no_cost)}; their volume counts in the total only"
            )
        if self.undimensioned:
            out.append(f"{metric} rows without a dimension count for the total only")
        return out

    def rows(self, covered: tuple[date, date] | None) -> list[UnitCostRow]:
        """Per period: dimension values by cost (largest first), then the total."""
        out: list[UnitCostRow] = []
        periods = self.periods
        with_cost = set(periods)
        for period in periods:
            stop = period_end(period, self.grain)
            partial = (
                covered is None or period < covered[0] or stop > covered[1] + timedelta(days=1)
            )
            before = _period_before(period, self.grain)
            values = [
                k for k in self.shown if (period, k) in self.cost or (period, k) in self.volume
            ]
            values.sort(key=lambda k: (-self.cost.get((period, k), ZERO), k))
            for value in [*values, None]:
                cost = self.cost.get((period, value), ZERO)
                volume = self.volume.get((period, value))
                change = None
                if before in with_cost:
                    change = decompose(
                        self.cost.get((before, value), ZERO),
                        self.volume.get((before, value)),
                        cost,
                        volume,
                    )
                out.append(
                    UnitCostRow(
                        period=period,
                        period_end=stop,
                        group=None if value is None else self.shown[value],
                        cost=cost,
                        volume=volume,
                        partial=partial,
                        change=change,
                    )
                )
        return out
