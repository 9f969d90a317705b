"""Cost anomalies as detection produces them (before they are stored and routed).

Detection (``costloop.analytics.anomalies``) returns ``Anomaly`` values; the store
(``costloop.analytics.anomaly_store``) persists them as events with an owner and a
status; alerts (``costloop.notify``) route them. Money is Decimal throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = [
    "ANOMALY_KINDS",
    "ANOMALY_STATUSES",
    "Anomaly",
    "DayPoint",
    "RootCause",
    "scope_key",
]

ANOMALY_KINDS = ("spike", "level-shift")
# new → acknowledged → resolved | false-positive (a closed event can be reopened).
ANOMALY_STATUSES = ("new", "acknowledged", "resolved", "false-positive")


def scope_key(scope: dict[str, str]) -> str:
    """A stable text key of a scope, e.g. ``ServiceName=AWS Lambda|SubAccountId=2109``.

    The overall scope (no dimension) is ``*``.
    """
    if not scope:
        return "*"
    return "|".join(f"{k}={scope[k]}" for k in sorted(scope))


@dataclass(frozen=True)
class RootCause:
    """One contributor to an anomaly's impact over its window.

    Attributes:
        dimension: e.g. ``ServiceName``, ``SubAccountId``, ``RegionId``, ``SkuId``,
            ``ResourceId``.
        value: the dimension's value.
        impact: actual − expected of this contributor over the window (currency).
        share: impact / the anomaly's total impact (0..1, may exceed 1 when others fell).
    """

    dimension: str
    value: str
    impact: Decimal
    share: Decimal


@dataclass(frozen=True)
class DayPoint:
    """One day of a scope's series around an anomaly (for charts and evidence)."""

    day: date
    actual: Decimal
    expected: Decimal
    lower: Decimal
    upper: Decimal


@dataclass(frozen=True)
class Anomaly:
    """One incident: consecutive anomalous days of one scope's daily EffectiveCost.

    Attributes:
        scope: the most specific scope explaining the incident, e.g.
            ``{"ProviderName": "AWS", "SubAccountId": "2109…", "ServiceName": "AWS Lambda"}``;
            empty for the overall series.
        start: first anomalous day.
        end: last anomalous day (inclusive).
        kind: ``spike`` (returns to the baseline) or ``level-shift`` (stays up).
        currency: billing currency of the series.
        expected_cost: Σ expected over the window.
        actual_cost: Σ actual over the window (exact sum of the charges).
        impact: actual − expected.
        impact_pct: impact / expected × 100, None when expected is 0 (a new cost).
        max_daily_impact: largest single-day actual − expected.
        score: largest robust z-score in the window.
        root_cause: contributors ranked by impact (largest first).
        team: the team owning most of the impact (allocation), None if unknown.
        series: the scope's days around the window (context before, the window, after).
    """

    scope: dict[str, str]
    start: date
    end: date
    kind: str
    currency: str
    expected_cost: Decimal
    actual_cost: Decimal
    impact: Decimal
    impact_pct: Decimal | None
    max_daily_impact: Decimal
    score: float
    root_cause: tuple[RootCause, ...] = ()
    team: str | None = None
    series: tuple[DayPoint, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """The scope key (see ``scope_key``)."""
        return scope_key(self.scope)

    @property
    def days(self) -> int:
        """Length of the window in days."""
        return (self.end - self.start).days + 1
