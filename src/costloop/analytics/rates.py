"""Commitment and rate KPIs over FOCUS charges: utilization, coverage, ESR, savings.

Every figure is an Ibis expression over the warehouse ``charges`` table, executed by an
:class:`~costloop.warehouse.engine.Engine`; money stays Decimal from the table to the
result. Ratios carry their numerator and denominator and have no value when the
denominator is zero.

Scope rules (see ``docs/kpis.md``):

* Prepayment rows (``ChargeCategory = 'Purchase'`` with ``BilledCost > 0`` and
  ``EffectiveCost = 0``) never enter accrual-basis savings math: their cost already
  reaches usage rows through amortization.
* Rate usage is ``ChargeCategory = 'Usage'`` without the Unused commitment rows and
  without Dynamic (spot) pricing; the Unused rows are added to the actual cost as waste.
* A service (``ServiceName`` of a ``ProviderName``) is commitment-eligible in a billing
  period when at least one of its usage rows consumed a commitment in that period.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis

from costloop.core.money import ZERO, to_decimal
from costloop.core.periods import Month
from costloop.warehouse.engine import Engine

__all__ = [
    "ELIGIBILITY_TEXT",
    "BilledAmortizedLine",
    "CommitmentUse",
    "Coverage",
    "Ratio",
    "Savings",
    "ServiceCoverage",
    "Utilization",
    "billed_vs_amortized",
    "billed_vs_amortized_expr",
    "commitment_coverage",
    "commitment_utilization",
    "coverage_expr",
    "in_period",
    "is_prepayment",
    "is_rate_usage",
    "is_unused_commitment",
    "is_used_commitment",
    "savings",
    "savings_expr",
    "utilization_expr",
]

ELIGIBILITY_TEXT = (
    "FOCUS 1.3 has no eligibility column, so eligible usage is the Usage rows of every "
    "service (ServiceName per ProviderName) with at least one commitment-covered row in "
    "the billing period, excluding Dynamic (spot) pricing"
)
"""How costloop decides which usage a commitment could have covered."""


@dataclass(frozen=True)
class Ratio:
    """A share with its parts; ``value`` is None when the denominator is zero."""

    numerator: Decimal
    denominator: Decimal

    @property
    def value(self) -> Decimal | None:
        """numerator ÷ denominator, or None for a zero denominator."""
        if self.denominator == 0:
            return None
        return self.numerator / self.denominator


# --- predicates -------------------------------------------------------------------------


def _text(col: Any) -> Any:
    return col.fill_null("")


def in_period(t: Any, first: Month, last: Month | None = None, currency: str | None = None) -> Any:
    """Rows of billing periods ``first``..``last`` (inclusive), optionally one currency."""
    end = (last or first).end
    out = t.filter((t.BillingPeriodStart >= first.start) & (t.BillingPeriodStart < end))
    if currency is not None:
        out = out.filter(out.BillingCurrency == currency)
    return out


def is_prepayment(t: Any) -> Any:
    """Purchase rows billed now and amortized into usage (BilledCost > 0, EffectiveCost 0)."""
    return (t.ChargeCategory == "Purchase") & (t.BilledCost > 0) & (t.EffectiveCost == 0)


def is_used_commitment(t: Any) -> Any:
    """Usage rows that consumed a commitment discount."""
    return (t.ChargeCategory == "Usage") & (_text(t.CommitmentDiscountStatus) == "Used")


def is_unused_commitment(t: Any) -> Any:
    """The unused remainder of a commitment discount (waste)."""
    return (t.ChargeCategory == "Usage") & (_text(t.CommitmentDiscountStatus) == "Unused")


def is_rate_usage(t: Any) -> Any:
    """Usage in scope of rate KPIs: no Unused commitment rows, no Dynamic (spot) pricing."""
    return (
        (t.ChargeCategory == "Usage")
        & (_text(t.CommitmentDiscountStatus) != "Unused")
        & (_text(t.PricingCategory) != "Dynamic")
        & ~is_prepayment(t)
    )


def _money(value: Any) -> Decimal:
    return to_decimal(value)


# --- savings and ESR --------------------------------------------------------------------


@dataclass(frozen=True)
class Savings:
    """On-demand equivalent, actual amortized cost and where the difference comes from.

    ``on_demand_equivalent − actual_cost = negotiated_savings + commitment_savings``
    holds exactly.
    """

    on_demand_equivalent: Decimal  # Σ ListCost of rate usage
    contracted_cost: Decimal  # Σ ContractedCost of rate usage
    usage_effective_cost: Decimal  # Σ EffectiveCost of rate usage
    unused_commitment_cost: Decimal  # Σ EffectiveCost of Unused commitment rows
    usage_rows: int = 0  # number of rate usage rows

    @property
    def actual_cost(self) -> Decimal:
        """Σ EffectiveCost of rate usage plus the unused commitment cost."""
        return self.usage_effective_cost + self.unused_commitment_cost

    @property
    def total_savings(self) -> Decimal:
        """On-demand equivalent minus actual amortized cost."""
        return self.on_demand_equivalent - self.actual_cost

    @property
    def negotiated_savings(self) -> Decimal:
        """Σ ListCost − Σ ContractedCost: negotiated (private) rates below list."""
        return self.on_demand_equivalent - self.contracted_cost

    @property
    def commitment_savings(self) -> Decimal:
        """Σ ContractedCost − Σ EffectiveCost − unused commitment cost (net of waste)."""
        return self.contracted_cost - self.actual_cost

    @property
    def esr(self) -> Ratio:
        """Effective Savings Rate over list: total savings ÷ on-demand equivalent."""
        return Ratio(self.total_savings, self.on_demand_equivalent)

    @property
    def commitment_esr(self) -> Ratio:
        """Commitment ESR: commitment savings ÷ Σ ContractedCost of rate usage."""
        return Ratio(self.commitment_savings, self.contracted_cost)


def savings_expr(t: Any) -> Any:
    """One-row aggregate of the sums :class:`Savings` is made of."""
    usage = is_rate_usage(t)
    return t.aggregate(
        list_cost=t.ListCost.sum(where=usage),
        contracted_cost=t.ContractedCost.sum(where=usage),
        effective_cost=t.EffectiveCost.sum(where=usage),
        unused_cost=t.EffectiveCost.sum(where=is_unused_commitment(t)),
        usage_rows=t.count(where=usage),
    )


def savings(
    engine: Engine, first: Month, last: Month | None = None, currency: str | None = None
) -> Savings:
    """Savings decomposition and ESR of billing periods ``first``..``last``."""
    t = in_period(engine.table("charges"), first, last, currency)
    (row,) = engine.rows(savings_expr(t))
    return Savings(
        _money(row["list_cost"]),
        _money(row["contracted_cost"]),
        _money(row["effective_cost"]),
        _money(row["unused_cost"]),
        int(row["usage_rows"] or 0),
    )


# --- utilization ------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitmentUse:
    """Use of one commitment discount over the period."""

    provider: str
    commitment_id: str
    name: str | None
    type: str | None
    category: str | None  # Spend | Usage
    unit: str | None  # CommitmentDiscountUnit
    used_cost: Decimal
    unused_cost: Decimal
    used_quantity: Decimal | None  # None unless every row carries a quantity
    unused_quantity: Decimal | None

    @property
    def waste(self) -> Decimal:
        """Unused commitment cost (EffectiveCost of the Unused rows)."""
        return self.unused_cost

    @property
    def utilization(self) -> Ratio:
        """Spend-based: Σ EffectiveCost Used ÷ Σ EffectiveCost (Used + Unused)."""
        return Ratio(self.used_cost, self.used_cost + self.unused_cost)

    @property
    def quantity_utilization(self) -> Ratio | None:
        """Quantity-based, in ``unit``; None when CommitmentDiscountQuantity is missing."""
        if self.used_quantity is None or self.unused_quantity is None:
            return None
        return Ratio(self.used_quantity, self.used_quantity + self.unused_quantity)


@dataclass(frozen=True)
class Utilization:
    """Utilization of every commitment and of the whole portfolio (spend-based)."""

    commitments: list[CommitmentUse]

    @property
    def used_cost(self) -> Decimal:
        """Σ EffectiveCost of Used rows over all commitments."""
        return sum((c.used_cost for c in self.commitments), ZERO)

    @property
    def unused_cost(self) -> Decimal:
        """Σ EffectiveCost of Unused rows over all commitments (the waste)."""
        return sum((c.unused_cost for c in self.commitments), ZERO)

    @property
    def overall(self) -> Ratio:
        """Portfolio utilization: Σ Used ÷ Σ (Used + Unused) EffectiveCost."""
        return Ratio(self.used_cost, self.used_cost + self.unused_cost)


def utilization_expr(t: Any) -> Any:
    """Per (ProviderName, CommitmentDiscountId): used/unused cost and quantity sums."""
    commitment_rows = is_used_commitment(t) | is_unused_commitment(t)
    rows = t.filter(commitment_rows & t.CommitmentDiscountId.notnull())
    used, unused = is_used_commitment(rows), is_unused_commitment(rows)
    qty = rows.CommitmentDiscountQuantity
    return rows.group_by(["ProviderName", "CommitmentDiscountId"]).aggregate(
        name=rows.CommitmentDiscountName.max(),
        type=rows.CommitmentDiscountType.max(),
        category=rows.CommitmentDiscountCategory.max(),
        unit=rows.CommitmentDiscountUnit.max(),
        used_cost=rows.EffectiveCost.sum(where=used),
        unused_cost=rows.EffectiveCost.sum(where=unused),
        used_qty=qty.sum(where=used),
        unused_qty=qty.sum(where=unused),
        rows=rows.count(),
        qty_rows=qty.count(),
    )


def commitment_utilization(
    engine: Engine, first: Month, last: Month | None = None, currency: str | None = None
) -> Utilization:
    """Utilization per commitment discount (largest waste first) and overall."""
    t = in_period(engine.table("charges"), first, last, currency)
    out = []
    for r in engine.rows(utilization_expr(t)):
        has_qty = r["qty_rows"] == r["rows"]
        out.append(
            CommitmentUse(
                provider=r["ProviderName"],
                commitment_id=r["CommitmentDiscountId"],
                name=r["name"],
                type=r["type"],
                category=r["category"],
                unit=r["unit"],
                used_cost=_money(r["used_cost"]),
                unused_cost=_money(r["unused_cost"]),
                used_quantity=_money(r["used_qty"]) if has_qty else None,
                unused_quantity=_money(r["unused_qty"]) if has_qty else None,
            )
        )
    out.sort(key=lambda c: (-c.unused_cost, c.provider, c.commitment_id))
    return Utilization(out)


# --- coverage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceCoverage:
    """Commitment coverage of one eligible service, at on-demand-equivalent value."""

    provider: str
    service: str
    covered_list_cost: Decimal
    eligible_list_cost: Decimal

    @property
    def coverage(self) -> Ratio:
        """Σ ListCost Used ÷ Σ ListCost of the eligible usage."""
        return Ratio(self.covered_list_cost, self.eligible_list_cost)


@dataclass(frozen=True)
class Coverage:
    """Commitment coverage per eligible service and overall."""

    services: list[ServiceCoverage]

    @property
    def overall(self) -> Ratio:
        """Σ covered ListCost ÷ Σ eligible ListCost over every eligible service."""
        return Ratio(
            sum((s.covered_list_cost for s in self.services), ZERO),
            sum((s.eligible_list_cost for s in self.services), ZERO),
        )


_SERVICE_KEY = ["BillingPeriodStart", "ProviderName", "ServiceName"]


def coverage_expr(t: Any) -> Any:
    """Per (ProviderName, ServiceName): covered and eligible ListCost of rate usage."""
    covered = t.filter(is_used_commitment(t)).select(*_SERVICE_KEY).distinct()
    usage = t.filter(is_rate_usage(t))
    eligible = usage.semi_join(covered, _SERVICE_KEY)
    return eligible.group_by(["ProviderName", "ServiceName"]).aggregate(
        covered=eligible.ListCost.sum(where=is_used_commitment(eligible)),
        eligible=eligible.ListCost.sum(),
    )


def commitment_coverage(
    engine: Engine, first: Month, last: Month | None = None, currency: str | None = None
) -> Coverage:
    """Coverage of eligible usage per service (lowest coverage first) and overall."""
    t = in_period(engine.table("charges"), first, last, currency)
    services = [
        ServiceCoverage(
            r["ProviderName"], r["ServiceName"], _money(r["covered"]), _money(r["eligible"])
        )
        for r in engine.rows(coverage_expr(t))
    ]
    services.sort(key=lambda s: (s.provider, s.service))
    return Coverage(services)


# --- billed vs amortized ----------------------------------------------------------------


@dataclass(frozen=True)
class BilledAmortizedLine:
    """Cash (BilledCost) and accrual (EffectiveCost) totals of one kind of charge."""

    charge_category: str
    kind: str
    rows: int
    billed_cost: Decimal
    effective_cost: Decimal

    @property
    def difference(self) -> Decimal:
        """BilledCost − EffectiveCost: positive when cash runs ahead of amortized cost."""
        return self.billed_cost - self.effective_cost


_KIND_ORDER = (
    "on demand / negotiated",
    "spot (Dynamic)",
    "covered by commitment",
    "unused commitment",
    "commitment purchase (amortized into usage)",
    "commitment purchase",
    "prepayment (amortized into usage)",
    "other purchase",
)
_CATEGORY_ORDER = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")


def billed_vs_amortized_expr(t: Any) -> Any:
    """BilledCost and EffectiveCost per ChargeCategory and kind of row."""
    status = _text(t.CommitmentDiscountStatus)
    commitment = t.CommitmentDiscountId.notnull()
    usage, purchase = t.ChargeCategory == "Usage", t.ChargeCategory == "Purchase"
    kind = ibis.cases(
        (usage & (status == "Used"), "covered by commitment"),
        (usage & (status == "Unused"), "unused commitment"),
        (usage & (_text(t.PricingCategory) == "Dynamic"), "spot (Dynamic)"),
        (usage, "on demand / negotiated"),
        (is_prepayment(t) & commitment, "commitment purchase (amortized into usage)"),
        (purchase & commitment, "commitment purchase"),
        (is_prepayment(t), "prepayment (amortized into usage)"),
        (purchase, "other purchase"),
        else_=t.ChargeCategory,
    )
    return t.group_by([t.ChargeCategory, kind.name("kind")]).aggregate(
        rows=t.count(), billed=t.BilledCost.sum(), effective=t.EffectiveCost.sum()
    )


def billed_vs_amortized(
    engine: Engine, first: Month, last: Month | None = None, currency: str | None = None
) -> list[BilledAmortizedLine]:
    """Billed and amortized cost side by side, per ChargeCategory and kind of row."""
    t = in_period(engine.table("charges"), first, last, currency)
    lines = [
        BilledAmortizedLine(
            r["ChargeCategory"], r["kind"], r["rows"], _money(r["billed"]), _money(r["effective"])
        )
        for r in engine.rows(billed_vs_amortized_expr(t))
    ]

    def order(line: BilledAmortizedLine) -> tuple[int, int, str]:
        cat = line.charge_category
        c = _CATEGORY_ORDER.index(cat) if cat in _CATEGORY_ORDER else len(_CATEGORY_ORDER)
        k = _KIND_ORDER.index(line.kind) if line.kind in _KIND_ORDER else len(_KIND_ORDER)
        return c, k, line.kind

    return sorted(lines, key=order)
