"""Executions and verifications of opportunities: what was changed, and what it saved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from costloop.core.money import format_money
from costloop.opportunities.model import ExecutionView, OpportunityView, VerificationView
from costloop.opportunities.store import SYSTEM_ACTOR
from costloop.opportunities.workflow import Status, add_event, load_row, set_status
from costloop.state import ExecutionRow, OpportunityRow, StateDB, VerificationRow

__all__ = [
    "PROMOTING_VERIFICATION_STATUSES",
    "executed_opportunities",
    "executions",
    "record_execution",
    "record_verification",
    "verifications",
]

# A verification with one of these statuses moves a ``done`` opportunity to ``verified``.
PROMOTING_VERIFICATION_STATUSES = frozenset({"verified", "partial"})


def record_execution(
    db: StateDB,
    opportunity_id: int,
    *,
    executed_at: datetime,
    kind: str = "pull-request",
    branch: str | None = None,
    commit_sha: str | None = None,
    repo_path: str | None = None,
    body_path: str | None = None,
    url: str | None = None,
    files: Sequence[str] = (),
    actor: str = SYSTEM_ACTOR,
    status: Status | None = Status.IN_PROGRESS,
    now: datetime | None = None,
) -> ExecutionView:
    """Record a change made for an opportunity, and move it to ``status``.

    Args:
        db: the state DB.
        opportunity_id: the opportunity.
        executed_at: when the change is considered effective (the start of the
            after-window for realized savings).
        kind: ``pull-request`` or an automation action name.
        branch, commit_sha, repo_path, body_path, url, files: where the change is.
        actor: recorded in the audit log.
        status: the opportunity's new status (``in_progress`` for a pull request,
            ``done`` for an applied action, which goes through ``in_progress``); None
            keeps it. It must be an allowed transition, so only approved
            opportunities can be executed.
        now: the recording time (default: current UTC time).

    Raises:
        NotFoundError: no such opportunity.
        InputError: the status transition is not allowed.
    """
    when = now or datetime.now(UTC)
    with db.session() as s:
        row = load_row(s, opportunity_id)
        note = f"{kind} {branch or ''}".strip()
        if status is Status.DONE and row.status == Status.APPROVED.value:
            # An applied automation action passes through in_progress, both audited.
            set_status(s, row, Status.IN_PROGRESS, when, actor, note)
        if status is not None and status.value != row.status:
            set_status(s, row, status, when, actor, note)
        execution = ExecutionRow(
            opportunity_id=opportunity_id,
            kind=kind,
            branch=branch,
            commit_sha=commit_sha,
            repo_path=repo_path,
            body_path=body_path,
            url=url,
            files=list(files),
            created_at=when,
            executed_at=executed_at,
        )
        s.add(execution)
        where = ", ".join(x for x in (branch, commit_sha and commit_sha[:12], url) if x)
        add_event(s, row, at=when, actor=actor, action="executed", note=f"{kind}: {where}")
        s.flush()
        return ExecutionView.from_row(execution)


def record_verification(
    db: StateDB,
    opportunity_id: int,
    *,
    verified_at: datetime,
    status: str,
    baseline_daily: Decimal,
    after_daily: Decimal,
    projected_monthly: Decimal,
    realized_monthly: Decimal,
    currency: str | None = None,
    baseline_window: tuple[datetime, datetime] | None = None,
    after_window: tuple[datetime, datetime] | None = None,
    method: str = "",
    note: str = "",
    actor: str = SYSTEM_ACTOR,
) -> VerificationView:
    """Record a realized-savings check; a ``done`` opportunity becomes ``verified``
    when the check's status is ``verified`` or ``partial``.

    Args:
        db: the state DB.
        opportunity_id: the opportunity.
        verified_at: when the check ran.
        status: ``pending``, ``verified``, ``partial``, ``not_realized`` or ``regressed``.
        baseline_daily, after_daily: daily run rates before and after the change.
        projected_monthly, realized_monthly: estimated vs realized monthly savings.
        currency: defaults to the opportunity's currency.
        baseline_window, after_window: half-open ``[start, end)`` UTC windows.
        method: how the baseline was built (e.g. ``median-daily-14d``).
        note: free text for the audit log.
        actor: recorded in the audit log.
    """
    with db.session() as s:
        row = load_row(s, opportunity_id)
        cur = currency or row.currency
        check = VerificationRow(
            opportunity_id=opportunity_id,
            verified_at=verified_at,
            status=status,
            currency=cur,
            baseline_daily=baseline_daily,
            after_daily=after_daily,
            projected_monthly=projected_monthly,
            realized_monthly=realized_monthly,
            baseline_start=baseline_window[0] if baseline_window else None,
            baseline_end=baseline_window[1] if baseline_window else None,
            after_start=after_window[0] if after_window else None,
            after_end=after_window[1] if after_window else None,
            method=method,
            note=note,
        )
        s.add(check)
        summary = (
            f"{status}: realized {format_money(realized_monthly, cur)}/month"
            f" vs projected {format_money(projected_monthly, cur)}/month"
        )
        add_event(s, row, at=verified_at, actor=actor, action="verification", note=summary)
        if row.status == Status.DONE.value and status in PROMOTING_VERIFICATION_STATUSES:
            set_status(s, row, Status.VERIFIED, verified_at, actor, summary)
        s.flush()
        return VerificationView.from_row(check)


def executions(db: StateDB, opportunity_id: int) -> list[ExecutionView]:
    """The executions of one opportunity, oldest first."""
    with db.session() as s:
        load_row(s, opportunity_id)
        rows = s.scalars(
            select(ExecutionRow)
            .where(ExecutionRow.opportunity_id == opportunity_id)
            .order_by(ExecutionRow.executed_at, ExecutionRow.id)
        )
        return [ExecutionView.from_row(r) for r in rows]


def verifications(db: StateDB, opportunity_id: int) -> list[VerificationView]:
    """The realized-savings checks of one opportunity, oldest first."""
    with db.session() as s:
        load_row(s, opportunity_id)
        rows = s.scalars(
            select(VerificationRow)
            .where(VerificationRow.opportunity_id == opportunity_id)
            .order_by(VerificationRow.verified_at, VerificationRow.id)
        )
        return [VerificationView.from_row(r) for r in rows]


def executed_opportunities(
    db: StateDB, status: Sequence[Status] | None = None
) -> list[tuple[OpportunityView, ExecutionView]]:
    """Every executed opportunity with its latest execution, oldest execution first.

    Args:
        db: the state DB.
        status: only opportunities in these statuses (default: all executed ones).
    """
    with db.session() as s:
        query = select(OpportunityRow, ExecutionRow).join(
            ExecutionRow, ExecutionRow.opportunity_id == OpportunityRow.id
        )
        if status is not None:
            query = query.where(OpportunityRow.status.in_([st.value for st in status]))
        latest: dict[int, tuple[OpportunityRow, ExecutionRow]] = {}
        for opp, ex in s.execute(query.order_by(ExecutionRow.executed_at, ExecutionRow.id)):
            latest[opp.id] = (opp, ex)
        pairs = sorted(latest.values(), key=lambda p: (p[1].executed_at, p[1].id))
        return [(OpportunityView.from_row(o), ExecutionView.from_row(e)) for o, e in pairs]
