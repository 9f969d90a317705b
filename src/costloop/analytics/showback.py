"""Showback: cost per team and month, billed and effective, summing to the total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from costloop.core.periods import Month
from costloop.warehouse.engine import Engine

__all__ = ["CoverageRow", "ShowbackRow", "coverage", "showback", "spend_by"]


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


@dataclass(frozen=True)
class CoverageRow:
    """Allocation coverage of one period."""

    period: Month
    total_effective: Decimal
    allocated_effective: Decimal
    by_source: dict[str, Decimal]

    @property
    def coverage(self) -> Decimal:
        """Allocated share of EffectiveCost."""
        if self.total_effective == 0:
            return Decimal(1)
        return self.allocated_effective / self.total_effective


def coverage(engine: Engine) -> list[CoverageRow]:
    """Allocation coverage per billing period, with the cost per rule (tag/account)."""
    t = engine.table("allocated_charges")
    agg = t.group_by(["BillingPeriodStart", "team_source"]).aggregate(
        effective=t.EffectiveCost.sum()
    )
    per: dict[datetime, dict[str, Decimal]] = {}
    for r in engine.rows(agg):
        per.setdefault(r["BillingPeriodStart"], {})[r["team_source"]] = r["effective"] or Decimal(0)
    out = []
    for period, parts in sorted(per.items()):
        total = sum(parts.values(), Decimal(0))
        allocated = total - parts.get("unallocated", Decimal(0))
        out.append(CoverageRow(Month.of(period), total, allocated, parts))
    return out


def spend_by(engine: Engine, column: str, grain: str = "M") -> list[dict[str, Any]]:
    """EffectiveCost per ``column`` value and period (``M`` month or ``D`` day)."""
    t = engine.table("allocated_charges")
    ts = t.BillingPeriodStart if grain == "M" else t.ChargePeriodStart.truncate("D")
    agg = t.group_by([t[column].name("key"), ts.name("period")]).aggregate(
        billed=t.BilledCost.sum(), effective=t.EffectiveCost.sum()
    )
    return sorted(engine.rows(agg), key=lambda r: (r["period"], str(r["key"])))
