"""Pure rightsizing maths: project observed peaks onto smaller sizes, rate the risk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from costloop.pricing.catalog import HOURS_PER_MONTH, InstanceSpec

__all__ = ["LOW_RISK_BELOW", "MEDIUM_RISK_BELOW", "Fit", "choose_smaller", "performance_risk"]

LOW_RISK_BELOW = 0.75
"""Projected peak under this share of the headroom limit is a ``low`` risk."""

MEDIUM_RISK_BELOW = 0.90
"""Projected peak under this share of the headroom limit is a ``medium`` risk."""


@dataclass(frozen=True)
class Fit:
    """A smaller size that holds the observed peaks with headroom.

    Attributes:
        current, candidate: the instance type now and the one proposed.
        cpu_peak, memory_peak: observed peak utilisation, percent (memory may be unknown).
        projected_cpu, projected_memory: the same peaks scaled to the candidate, percent.
        risk: ``low``, ``medium`` or ``high``.
        monthly_savings: list price difference per month (unrounded, catalog currency).
    """

    current: InstanceSpec
    candidate: InstanceSpec
    cpu_peak: float
    memory_peak: float | None
    projected_cpu: float
    projected_memory: float | None
    risk: str
    monthly_savings: Decimal


def performance_risk(projected_peak: float, limit: float, *, memory_known: bool = True) -> str:
    """Rate how close a projected peak (percent) comes to ``limit`` (percent)."""
    share = projected_peak / limit if limit > 0 else 1.0
    if share < LOW_RISK_BELOW and memory_known:
        return "low"
    if share < MEDIUM_RISK_BELOW:
        return "medium"
    return "high"


def choose_smaller(
    current: InstanceSpec,
    smaller: Sequence[InstanceSpec],
    *,
    cpu_peak: float,
    memory_peak: float | None,
    headroom: float,
) -> Fit | None:
    """The smallest cheaper size whose projected peaks stay below ``headroom``.

    A projected peak is the observed peak times current capacity over candidate
    capacity (vCPUs for CPU, GiB for memory). With ``memory_peak`` None memory is not
    checked. ``smaller`` must be ordered from the smallest size up.

    Args:
        current: the instance type now.
        smaller: candidate sizes of the same family and architecture.
        cpu_peak: observed peak CPU, percent of the current size.
        memory_peak: observed peak memory, percent of the current size, if measured.
        headroom: the limit as a fraction, e.g. 0.7 for 70 %.
    """
    if current.hourly_price is None:
        return None
    limit = headroom * 100
    for candidate in smaller:
        if candidate.hourly_price is None or candidate.hourly_price >= current.hourly_price:
            continue
        projected_cpu = cpu_peak * current.vcpu / candidate.vcpu
        projected_memory = (
            None
            if memory_peak is None
            else memory_peak * float(current.memory_gib / candidate.memory_gib)
        )
        if projected_cpu >= limit or (projected_memory is not None and projected_memory >= limit):
            continue
        worst = max(projected_cpu, projected_memory or 0.0)
        return Fit(
            current=current,
            candidate=candidate,
            cpu_peak=cpu_peak,
            memory_peak=memory_peak,
            projected_cpu=projected_cpu,
            projected_memory=projected_memory,
            risk=performance_risk(worst, limit, memory_known=memory_peak is not None),
            monthly_savings=(current.hourly_price - candidate.hourly_price) * HOURS_PER_MONTH,
        )
    return None
