"""Assessment: Risk / Effort / Value scores, ROI net of engineering time, and priority.

Formulas (every score is an integer from 1, best, to 5, worst for risk and effort;
for value 5 is best). ``clamp`` limits to [1, 5].

Risk = clamp(1 + E + A + C)
    E, environment, from the tag ``env`` / ``environment`` / ``stage`` (any case):
      production (prod, production, prd, live) 2; unknown or missing 1; non-production 0.
    A, action and reversibility: set an attribute 0 (a revert undoes it); delete a
      resource that holds no data 1; delete a data-bearing resource (volume, snapshot,
      disk, bucket, database) 2, because the data cannot be brought back; no change 0.
    C, confidence: 1 when the evidence reports ``performance_risk`` >= 2 (the Compute
      Optimizer 0-4 scale) or ``confidence`` = low, else 0.
    Risk level: 1-2 low, 3 medium, 4-5 high.

Effort hours H = base + 2 if no IaC address is known + 1 if production
    base: set an attribute 2 h, delete 1 h, no concrete change 4 h. A known Terraform
    address means costloop writes the pull request; without one someone finds the
    resource, changes it by hand and codifies it.
    Effort score: H <= 1 → 1, <= 2 → 2, <= 4 → 3, <= 8 → 4, else 5.

Value score from monthly savings M (in the finding's currency):
    M < 10 → 1, < 100 → 2, < 500 → 3, < 2,000 → 4, else 5.

Annual savings            = 12 × M
Engineering cost          = H × hourly_rate
ROI (net, ratio)          = (annual savings − engineering cost) / engineering cost;
                            None when the engineering cost is 0
Cost of inaction          = M × review_months (savings lost by waiting until the
                            next review, 3 months by default)
Priority (0-100)          = 100 × Value × (6 − Risk) × (6 − Effort) / 125
    High value, low risk and low effort rank first (5·5·5 = 125 → 100). Ties rank by
    monthly savings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from costloop.core.findings import ChangeAction, Finding
from costloop.core.money import quantize

__all__ = ["Assessment", "assess", "environment_of"]

ENV_TAG_KEYS = ("env", "environment", "stage")
PROD_VALUES = frozenset({"prod", "production", "prd", "live"})
NONPROD_VALUES = frozenset(
    {"dev", "development", "test", "testing", "qa", "staging", "stage", "stg", "sandbox", "uat"}
)
DATA_WORDS = frozenset(
    {"volume", "snapshot", "disk", "bucket", "database", "db", "rds", "filesystem", "efs"}
)
VALUE_THRESHOLDS = (Decimal(10), Decimal(100), Decimal(500), Decimal(2000))
EFFORT_THRESHOLDS = (Decimal(1), Decimal(2), Decimal(4), Decimal(8))


@dataclass(frozen=True)
class Assessment:
    """Risk / Effort / Value of one finding, with the money figures derived from them."""

    risk_score: int
    effort_score: int
    value_score: int
    risk_level: str
    effort_hours: Decimal
    annual_savings: Decimal
    cost_of_inaction: Decimal
    roi: Decimal | None
    priority: Decimal
    environment: str


def environment_of(tags: Mapping[str, str]) -> str:
    """``prod``, ``nonprod`` or ``unknown`` from the environment tag (any key case)."""
    lowered = {k.strip().lower(): v for k, v in tags.items()}
    for key in ENV_TAG_KEYS:
        if key in lowered:
            value = lowered[key].strip().lower()
            if value in PROD_VALUES:
                return "prod"
            if value in NONPROD_VALUES:
                return "nonprod"
    return "unknown"


def _clamp(value: int) -> int:
    return max(1, min(5, value))


def _bucket(value: Decimal, thresholds: tuple[Decimal, ...], inclusive: bool) -> int:
    for i, limit in enumerate(thresholds, start=1):
        if value < limit or (inclusive and value == limit):
            return i
    return len(thresholds) + 1


def _holds_data(resource_type: str) -> bool:
    return bool(DATA_WORDS & set(re.split(r"[^a-z0-9]+", resource_type.lower())))


def _low_confidence(evidence: Mapping[str, str]) -> bool:
    if evidence.get("confidence", "").strip().lower() == "low":
        return True
    raw = evidence.get("performance_risk")
    if raw is None:
        return False
    try:
        return Decimal(raw) >= 2
    except InvalidOperation:
        return raw.strip().lower() in {"high", "very high", "medium"}


def assess(finding: Finding, hourly_rate: Decimal, *, review_months: int = 3) -> Assessment:
    """Score a finding (formulas in the module docstring).

    Args:
        finding: the detector's finding.
        hourly_rate: engineering cost per hour, in the finding's currency.
        review_months: months until the next review, for the cost of inaction.
    """
    env = environment_of(finding.tags)
    action = finding.change.action if finding.change is not None else None
    env_points = {"prod": 2, "unknown": 1, "nonprod": 0}[env]
    if action is ChangeAction.DELETE:
        action_points = 2 if _holds_data(finding.resource_type) else 1
    else:
        action_points = 0
    risk = _clamp(1 + env_points + action_points + int(_low_confidence(finding.evidence)))
    risk_level = "low" if risk <= 2 else "medium" if risk == 3 else "high"

    base = {ChangeAction.SET: 2, ChangeAction.DELETE: 1, None: 4}[action]
    hours = Decimal(base + (0 if finding.iac_address else 2) + (1 if env == "prod" else 0))
    effort = _bucket(hours, EFFORT_THRESHOLDS, inclusive=True)
    value = _bucket(finding.monthly_savings, VALUE_THRESHOLDS, inclusive=False)

    annual = finding.monthly_savings * 12
    engineering = hours * hourly_rate
    roi = None if engineering == 0 else quantize((annual - engineering) / engineering, 4)
    priority = quantize(Decimal(100 * value * (6 - risk) * (6 - effort)) / 125, 2)
    return Assessment(
        risk_score=risk,
        effort_score=effort,
        value_score=value,
        risk_level=risk_level,
        effort_hours=hours,
        annual_savings=annual,
        cost_of_inaction=finding.monthly_savings * review_months,
        roi=roi,
        priority=priority,
        environment=env,
    )
