"""Read models of opportunities: frozen views with exact Decimal money."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from costloop.core.findings import Change, ChangeAction, Finding
from costloop.opportunities.workflow import Status
from costloop.state import ExecutionRow, OpportunityEventRow, OpportunityRow, VerificationRow

__all__ = [
    "EventView",
    "ExecutionView",
    "OpportunityView",
    "SyncResult",
    "VerificationView",
    "change_from_json",
    "change_to_json",
]


def change_to_json(change: Change | None) -> dict[str, Any] | None:
    """A Change as a JSON object (for the state DB)."""
    if change is None:
        return None
    return {
        "action": change.action.value,
        "attribute": change.attribute,
        "old_value": change.old_value,
        "new_value": change.new_value,
    }


def change_from_json(data: Mapping[str, Any] | None) -> Change | None:
    """The inverse of ``change_to_json``."""
    if not data:
        return None
    return Change(
        action=ChangeAction(data["action"]),
        attribute=data.get("attribute"),
        old_value=data.get("old_value"),
        new_value=data.get("new_value"),
    )


@dataclass(frozen=True)
class OpportunityView:
    """One opportunity as the CLI, web app, execution and feedback see it.

    Money fields (``monthly_savings``, ``annual_savings``, ``cost_of_inaction``) are
    exact Decimals in ``currency``; ``roi`` is a ratio (1.5 = 150 %) or None when the
    engineering cost is zero.
    """

    id: int
    fingerprint: str
    detector: str
    code: str
    resource_id: str
    provider: str
    account_id: str
    region: str
    resource_type: str
    title: str
    currency: str
    monthly_savings: Decimal
    evidence: Mapping[str, str]
    change: Change | None
    tags: Mapping[str, str]
    iac_address: str | None
    iac_file: str | None
    parameters: Mapping[str, str]
    risk_score: int
    effort_score: int
    value_score: int
    risk_level: str
    effort_hours: Decimal
    annual_savings: Decimal
    cost_of_inaction: Decimal
    roi: Decimal | None
    priority: Decimal
    owner_team: str
    owner_email: str
    owner_source: str
    plan: str
    status: Status
    first_seen: datetime
    last_seen: datetime
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: OpportunityRow) -> OpportunityView:
        """Build the view from a state DB row."""
        return cls(
            id=row.id,
            fingerprint=row.fingerprint,
            detector=row.detector,
            code=row.code,
            resource_id=row.resource_id,
            provider=row.provider,
            account_id=row.account_id,
            region=row.region,
            resource_type=row.resource_type,
            title=row.title,
            currency=row.currency,
            monthly_savings=row.monthly_savings,
            evidence={str(k): str(v) for k, v in row.evidence.items()},
            change=change_from_json(row.change),
            tags={str(k): str(v) for k, v in row.tags.items()},
            iac_address=row.iac_address,
            iac_file=row.iac_file,
            parameters={str(k): str(v) for k, v in row.parameters.items()},
            risk_score=row.risk_score,
            effort_score=row.effort_score,
            value_score=row.value_score,
            risk_level=row.risk_level,
            effort_hours=row.effort_hours,
            annual_savings=row.annual_savings,
            cost_of_inaction=row.cost_of_inaction,
            roi=row.roi,
            priority=row.priority,
            owner_team=row.owner_team,
            owner_email=row.owner_email,
            owner_source=row.owner_source,
            plan=row.plan,
            status=Status(row.status),
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            closed_at=row.closed_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def to_finding(self) -> Finding:
        """The finding this opportunity was last synced from."""
        return Finding(
            detector=self.detector,
            code=self.code,
            resource_id=self.resource_id,
            title=self.title,
            monthly_savings=self.monthly_savings,
            currency=self.currency,
            provider=self.provider,
            account_id=self.account_id,
            region=self.region,
            resource_type=self.resource_type,
            evidence=dict(self.evidence),
            change=self.change,
            tags=dict(self.tags),
            iac_address=self.iac_address,
            iac_file=self.iac_file,
            parameters=dict(self.parameters),
        )


@dataclass(frozen=True)
class EventView:
    """One audit-log entry."""

    id: int
    opportunity_id: int
    at: datetime
    actor: str
    action: str
    from_status: Status | None
    to_status: Status | None
    note: str

    @classmethod
    def from_row(cls, row: OpportunityEventRow) -> EventView:
        """Build the view from a state DB row."""
        return cls(
            id=row.id,
            opportunity_id=row.opportunity_id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            from_status=None if row.from_status is None else Status(row.from_status),
            to_status=None if row.to_status is None else Status(row.to_status),
            note=row.note,
        )


@dataclass(frozen=True)
class ExecutionView:
    """A recorded change for an opportunity; ``executed_at`` is when it took effect."""

    id: int
    opportunity_id: int
    kind: str
    branch: str | None
    commit_sha: str | None
    repo_path: str | None
    body_path: str | None
    url: str | None
    files: tuple[str, ...]
    created_at: datetime
    executed_at: datetime

    @classmethod
    def from_row(cls, row: ExecutionRow) -> ExecutionView:
        """Build the view from a state DB row."""
        return cls(
            id=row.id,
            opportunity_id=row.opportunity_id,
            kind=row.kind,
            branch=row.branch,
            commit_sha=row.commit_sha,
            repo_path=row.repo_path,
            body_path=row.body_path,
            url=row.url,
            files=tuple(row.files),
            created_at=row.created_at,
            executed_at=row.executed_at,
        )


@dataclass(frozen=True)
class VerificationView:
    """A realized-savings check (daily run rates before and after, monthly figures)."""

    id: int
    opportunity_id: int
    verified_at: datetime
    status: str
    currency: str
    baseline_daily: Decimal
    after_daily: Decimal
    projected_monthly: Decimal
    realized_monthly: Decimal
    baseline_start: datetime | None
    baseline_end: datetime | None
    after_start: datetime | None
    after_end: datetime | None
    method: str
    note: str

    @classmethod
    def from_row(cls, row: VerificationRow) -> VerificationView:
        """Build the view from a state DB row."""
        return cls(
            id=row.id,
            opportunity_id=row.opportunity_id,
            verified_at=row.verified_at,
            status=row.status,
            currency=row.currency,
            baseline_daily=row.baseline_daily,
            after_daily=row.after_daily,
            projected_monthly=row.projected_monthly,
            realized_monthly=row.realized_monthly,
            baseline_start=row.baseline_start,
            baseline_end=row.baseline_end,
            after_start=row.after_start,
            after_end=row.after_end,
            method=row.method,
            note=row.note,
        )


@dataclass(frozen=True)
class SyncResult:
    """What one ``sync_findings`` run did, with the ids it touched per outcome."""

    created: int = 0
    updated: int = 0
    closed: int = 0
    unchanged: int = 0
    reopened: int = 0
    ids: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
