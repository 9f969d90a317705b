"""Allocation coverage: how much cost has an owner, the trend, and what to fix next.

Coverage of a dimension = Σ EffectiveCost with a value / Σ EffectiveCost, over every
row of ``allocated_charges`` (Tax and Credit rows included: they are part of the bill
the teams must account for). For the latest month the report lists the largest
unallocated items and concrete suggestions: which resources to tag to reach the next
maturity band, tag values that are near-misses of an allowed value (add an alias),
and untaggable charges that belong in a shared-cost pool.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from costloop.allocation.expressions import canonical_value, normalized, raw_tag
from costloop.core.allocation_rules import UNALLOCATED, AllocationConfig
from costloop.core.periods import Month
from costloop.warehouse.engine import Engine

__all__ = [
    "CoverageReport",
    "DimensionCoverage",
    "Suggestion",
    "band",
    "coverage_report",
    "latest_coverage",
]

_TARGETS = (Decimal("0.8"), Decimal("0.9"), Decimal("0.95"), Decimal("0.99"), Decimal(1))


def band(coverage: Decimal | None) -> str:
    """FinOps Foundation maturity band: Crawl ≥ 50 %, Walk ≥ 80 %, Run > 90 %."""
    if coverage is None:
        return "n/a"
    if coverage > Decimal("0.9"):
        return "run"
    if coverage >= Decimal("0.8"):
        return "walk"
    return "crawl" if coverage >= Decimal("0.5") else "below crawl"


@dataclass(frozen=True)
class DimensionCoverage:
    """Coverage of one dimension in one billing period."""

    dimension: str
    period: Month
    total: Decimal
    allocated: Decimal
    by_source: dict[str, Decimal]

    @property
    def coverage(self) -> Decimal | None:
        """Allocated share of EffectiveCost (None when the period has no cost)."""
        return None if self.total == 0 else self.allocated / self.total


@dataclass(frozen=True)
class UnallocatedItem:
    """A resource (or, for charges without one, a service in an account) with no value."""

    dimension: str
    resource_id: str | None
    resource_name: str | None
    service: str | None
    account: str | None
    charge_category: str | None
    cost: Decimal


@dataclass(frozen=True)
class Suggestion:
    """One action that raises coverage, with its effect."""

    dimension: str
    kind: str  # tag | value-alias | pool
    text: str
    cost: Decimal
    reaches: Decimal | None = None
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CoverageReport:
    """Per-dimension coverage by month, and the latest month's gaps and suggestions."""

    dimensions: list[str]
    periods: list[DimensionCoverage]
    latest: Month | None
    unallocated: list[UnallocatedItem]
    suggestions: list[Suggestion]
    required: list[str] = field(default_factory=list)


def _periods(engine: Engine, config: AllocationConfig) -> list[DimensionCoverage]:
    t = engine.table("allocated_charges")
    out: list[DimensionCoverage] = []
    for dim in config.dimensions:
        source = f"{dim.name}_source"
        if dim.name not in t.columns:
            continue
        agg = t.group_by(["BillingPeriodStart", source]).aggregate(cost=t.EffectiveCost.sum())
        per: dict[datetime, dict[str, Decimal]] = {}
        for r in engine.rows(agg):
            parts = per.setdefault(r["BillingPeriodStart"], {})
            parts[r[source] or UNALLOCATED] = r["cost"] or Decimal(0)
        for period, parts in sorted(per.items()):
            total = sum(parts.values(), Decimal(0))
            allocated = total - parts.get(UNALLOCATED, Decimal(0))
            out.append(DimensionCoverage(dim.name, Month.of(period), total, allocated, parts))
    return out


def _items(engine: Engine, dim: str, month: Month, limit: int) -> list[UnallocatedItem]:
    t = engine.table("allocated_charges")
    t = t.filter((t.BillingPeriodStart == month.start) & (t[dim] == UNALLOCATED))
    agg = t.group_by(["ResourceId", "ServiceName", "SubAccountName", "ChargeCategory"]).aggregate(
        cost=t.EffectiveCost.sum(), name=t.ResourceName.max()
    )
    rows = sorted(engine.rows(agg), key=lambda r: (-(r["cost"] or 0), str(r["ResourceId"])))
    return [
        UnallocatedItem(
            dim,
            r["ResourceId"],
            r["name"],
            r["ServiceName"],
            r["SubAccountName"],
            r["ChargeCategory"],
            r["cost"] or Decimal(0),
        )
        for r in rows[:limit]
    ]


def _tag_suggestion(
    engine: Engine, dim: str, month: Month, current: DimensionCoverage
) -> Suggestion | None:
    """The fewest resources to tag to reach the next coverage target."""
    items = [i for i in _items(engine, dim, month, 100_000) if i.resource_id and i.cost > 0]
    if not items or current.total <= 0:
        return None
    now = current.allocated / current.total
    goal = next((g for g in _TARGETS if g > now), None)
    if goal is None:
        return None
    gained = current.allocated
    chosen: list[UnallocatedItem] = []
    for item in items:
        chosen.append(item)
        gained += item.cost
        if gained / current.total >= goal:
            break
    reach = gained / current.total
    verb = f"to reach {_pct(reach)}" if reach >= goal else f"(all of them: {_pct(reach)})"
    return Suggestion(
        dim,
        "tag",
        f"tag these {len(chosen)} resources with {dim} {verb}",
        sum((i.cost for i in chosen), Decimal(0)),
        reach,
        [i.resource_id for i in chosen if i.resource_id],
    )


def _alias_suggestions(engine: Engine, config: AllocationConfig, month: Month) -> list[Suggestion]:
    """Tag values that name no allowed value but are close to one: add an alias."""
    out: list[Suggestion] = []
    charges = engine.table("charges")
    c = charges.filter(charges.BillingPeriodStart == month.start)
    for dim in config.dimensions:
        if not dim.values or not dim.tag_keys():
            continue
        raw = raw_tag(c, dim)
        t = c.mutate(__raw=raw).filter(lambda x: x.__raw.notnull())
        t = t.mutate(__known=canonical_value(t.__raw, normalized(t.__raw), dim))
        t = t.filter(t.__known.isnull())
        agg = t.group_by("__raw").aggregate(
            cost=t.EffectiveCost.sum(), resources=t.ResourceId.nunique()
        )
        for r in engine.rows(agg):
            value = r["__raw"]
            close = difflib.get_close_matches(value.lower(), list(dim.values), n=1, cutoff=0.75)
            if not close:
                continue
            out.append(
                Suggestion(
                    dim.name,
                    "value-alias",
                    f"tag value {value!r} ({r['resources']} resources) is not an allowed "
                    f"{dim.name}; add it as an alias of {close[0]!r} in value_aliases",
                    r["cost"] or Decimal(0),
                )
            )
    return sorted(out, key=lambda s: -s.cost)


def _pool_suggestions(engine: Engine, dim: str, month: Month) -> list[Suggestion]:
    """Unallocated charges without a resource (tax, support, data transfer): pool them."""
    t = engine.table("allocated_charges")
    t = t.filter(
        (t.BillingPeriodStart == month.start)
        & (t[dim] == UNALLOCATED)
        & (t.ResourceId.isnull() | (t.ResourceId == ""))
    )
    agg = t.group_by(["ServiceName", "ChargeCategory", "SubAccountId", "SubAccountName"]).aggregate(
        cost=t.EffectiveCost.sum()
    )
    out = []
    for r in sorted(engine.rows(agg), key=lambda r: -(r["cost"] or 0))[:5]:
        if not r["cost"] or r["cost"] <= 0:
            continue
        out.append(
            Suggestion(
                dim,
                "pool",
                f"{r['ServiceName']} ({r['ChargeCategory']}) in account "
                f"{r['SubAccountName'] or r['SubAccountId']} has no resource to tag: add a "
                f"shared-cost pool (match: {{service: [{r['ServiceName']}], account: "
                f'["{r["SubAccountId"]}"]}}, method: proportional)',
                r["cost"],
            )
        )
    return out


def _pct(value: Decimal) -> str:
    return f"{value * 100:.1f}%"


def coverage_report(
    engine: Engine, config: AllocationConfig, month: Month | None = None, limit: int = 10
) -> CoverageReport:
    """Coverage per dimension and month; gaps and suggestions for ``month`` (the latest)."""
    periods = _periods(engine, config)
    months = sorted({p.period for p in periods})
    latest = month if month is not None else (months[-1] if months else None)
    items: list[UnallocatedItem] = []
    suggestions: list[Suggestion] = []
    dims = [d.name for d in config.dimensions if any(p.dimension == d.name for p in periods)]
    required = [d.name for d in config.dimensions if d.required and d.name in dims]
    if latest is not None:
        # Gaps and tagging/pool suggestions for the required dimensions: the ones the
        # organization commits to cover (team always is).
        for dim in required:
            current = next((p for p in periods if p.dimension == dim and p.period == latest), None)
            if current is None:
                continue
            items += _items(engine, dim, latest, limit)
            tag = _tag_suggestion(engine, dim, latest, current)
            if tag is not None:
                suggestions.append(tag)
            suggestions += _pool_suggestions(engine, dim, latest)
        suggestions += _alias_suggestions(engine, config, latest)
    return CoverageReport(dims, periods, latest, items, suggestions, required)


def latest_coverage(report: CoverageReport, dimension: str) -> DimensionCoverage | None:
    """The latest month's coverage of a dimension."""
    for p in report.periods:
        if p.dimension == dimension and p.period == report.latest:
            return p
    return None
