"""Realized savings: the resource's daily run rate before vs after the change.

Method (``run-rate``): the baseline is the resource's mean daily EffectiveCost over
the ``baseline_days`` before the change became effective; the after-window starts
``settle_days`` after it and runs to the last day with billing data. Realized monthly
savings = (baseline − after) × 730/24 days. Status against the projection:
``verified`` ≥ 90 %, ``partial`` ≥ 25 %, ``not-realized`` below, ``regressed`` when the
run rate went up, ``pending`` while the after-window has fewer than ``min_after_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from costloop.core.money import quantize
from costloop.opportunities.model import ExecutionView, OpportunityView
from costloop.opportunities.records import executed_opportunities, record_verification
from costloop.opportunities.workflow import Status
from costloop.state import StateDB
from costloop.warehouse.engine import Engine

__all__ = ["DAYS_PER_MONTH", "VerifyOutcome", "verify_executed"]

DAYS_PER_MONTH = Decimal(730) / Decimal(24)


@dataclass(frozen=True)
class VerifyOutcome:
    """Projected vs realized savings of one executed opportunity."""

    opportunity: OpportunityView
    execution: ExecutionView
    status: str
    baseline_daily: Decimal
    after_daily: Decimal
    after_days: int
    projected_monthly: Decimal
    realized_monthly: Decimal


def _daily(engine: Engine, resource_id: str, start: datetime, end: datetime) -> tuple[Decimal, int]:
    t: Any = engine.table("charges")
    t = t.filter(
        (t.ResourceId == resource_id) & (t.ChargePeriodStart >= start) & (t.ChargePeriodStart < end)
    )
    row = engine.rows(t.aggregate(cost=t.EffectiveCost.sum()))[0]
    days = max((end - start).days, 1)
    return (row["cost"] or Decimal(0)) / days, days


def _naive(moment: datetime) -> datetime:
    """Naive UTC, as the warehouse stores timestamps."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    """Aware UTC, as the state DB stores timestamps."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _last_day(engine: Engine) -> datetime | None:
    t: Any = engine.table("charges")
    row = engine.rows(t.aggregate(last=t.ChargePeriodEnd.max()))[0]
    last: datetime | None = row["last"]
    return last


def _status(baseline: Decimal, after: Decimal, realized: Decimal, projected: Decimal) -> str:
    if after > baseline:
        return "regressed"
    if projected <= 0:
        return "verified" if realized > 0 else "not-realized"
    share = realized / projected
    if share >= Decimal("0.9"):
        return "verified"
    if share >= Decimal("0.25"):
        return "partial"
    return "not-realized"


def verify_executed(
    engine: Engine,
    db: StateDB,
    *,
    now: datetime,
    baseline_days: int = 30,
    settle_days: int = 3,
    min_after_days: int = 7,
) -> list[VerifyOutcome]:
    """Measure every executed (``done``) opportunity and record the verification."""
    last = _last_day(engine)
    outcomes = []
    for opp, ex in executed_opportunities(db, status=[Status.DONE, Status.VERIFIED]):
        effective = _naive(ex.executed_at).replace(hour=0, minute=0, second=0, microsecond=0)
        b_start = effective - timedelta(days=baseline_days)
        baseline, _ = _daily(engine, opp.resource_id, b_start, effective)
        a_start = effective + timedelta(days=settle_days)
        a_end = last if last is not None else a_start
        after_days = max((a_end - a_start).days, 0)
        projected = opp.monthly_savings
        if after_days < min_after_days:
            outcomes.append(
                VerifyOutcome(
                    opp,
                    ex,
                    "pending",
                    quantize(baseline, 4),
                    Decimal(0),
                    after_days,
                    projected,
                    Decimal(0),
                )
            )
            continue
        after, _ = _daily(engine, opp.resource_id, a_start, a_end)
        realized = quantize((baseline - after) * DAYS_PER_MONTH)
        status = _status(baseline, after, realized, projected)
        record_verification(
            db,
            opp.id,
            verified_at=_aware(now),
            status=status,
            baseline_daily=quantize(baseline, 4),
            after_daily=quantize(after, 4),
            projected_monthly=projected,
            realized_monthly=realized,
            currency=opp.currency,
            baseline_window=(_aware(b_start), _aware(effective)),
            after_window=(_aware(a_start), _aware(a_end)),
            method="run-rate",
            note=f"{after_days} days after the change, {settle_days} settling days excluded",
        )
        outcomes.append(
            VerifyOutcome(
                opp,
                ex,
                status,
                quantize(baseline, 4),
                quantize(after, 4),
                after_days,
                projected,
                realized,
            )
        )
    return outcomes
