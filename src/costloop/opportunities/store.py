"""Opportunity store: sync findings into the state DB, query, and move through review.

``sync_findings`` upserts by fingerprint: a re-run updates ``last_seen`` and any
changed content (savings, evidence, owner, plan ...), never duplicates; a closed
opportunity whose finding is reported again is reopened; in a full run, an ``open`` or
``snoozed`` opportunity whose finding is no longer reported is closed (see
``costloop.opportunities.workflow``). Every creation, content update, closing and
status change writes an audit event.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from costloop.core.findings import Finding
from costloop.core.money import quantize
from costloop.core.org import Org
from costloop.opportunities.assess import assess
from costloop.opportunities.model import EventView, OpportunityView, SyncResult, change_to_json
from costloop.opportunities.owners import DEFAULT_TEAM_TAG_KEYS, resolve_owner
from costloop.opportunities.plans import plan_text
from costloop.opportunities.workflow import (
    SELF_CLOSING,
    Status,
    add_event,
    load_row,
    parse_status,
    set_status,
)
from costloop.state import OpportunityEventRow, OpportunityRow, StateDB

__all__ = ["events", "get", "list_opportunities", "sync_findings", "transition"]

SYSTEM_ACTOR = "costloop"
_CHUNK = 500


def _content(
    finding: Finding, org: Org, hourly_rate: Decimal, review_months: int, tag_keys: Sequence[str]
) -> dict[str, Any]:
    """Every column derived from a finding (compared on re-sync to detect changes)."""
    a = assess(finding, hourly_rate, review_months=review_months)
    owner = resolve_owner(finding.tags, finding.account_id, org, tag_keys)
    return {
        "detector": finding.detector,
        "code": finding.code,
        "resource_id": finding.resource_id,
        "provider": finding.provider,
        "account_id": finding.account_id,
        "region": finding.region,
        "resource_type": finding.resource_type,
        "title": finding.title,
        "currency": finding.currency,
        "monthly_savings": quantize(finding.monthly_savings, 4),
        "evidence": dict(finding.evidence),
        "change": change_to_json(finding.change),
        "tags": dict(finding.tags),
        "iac_address": finding.iac_address,
        "iac_file": finding.iac_file,
        "parameters": dict(finding.parameters),
        "risk_score": a.risk_score,
        "effort_score": a.effort_score,
        "value_score": a.value_score,
        "risk_level": a.risk_level,
        "effort_hours": quantize(a.effort_hours, 4),
        "annual_savings": quantize(a.annual_savings, 4),
        "cost_of_inaction": quantize(a.cost_of_inaction, 4),
        "roi": None if a.roi is None else quantize(a.roi, 4),
        "priority": quantize(a.priority, 4),
        "owner_team": owner.team,
        "owner_email": owner.email,
        "owner_source": owner.source,
        "plan": plan_text(finding),
    }


def _describe(name: str, old: Any, new: Any) -> str:
    """``monthly_savings 140.1600 → 150.0000``; long texts and JSON just "changed"."""
    if all(
        isinstance(v, Decimal | int) or (isinstance(v, str) and len(v) <= 60) for v in (old, new)
    ):
        return f"{name} {old} → {new}"
    return f"{name} changed"


def sync_findings(
    db: StateDB,
    findings: Iterable[Finding],
    org: Org,
    hourly_rate: Decimal,
    now: datetime,
    *,
    full_run: bool = True,
    detectors: Collection[str] | None = None,
    review_months: int = 3,
    tag_keys: Sequence[str] = DEFAULT_TEAM_TAG_KEYS,
    actor: str = SYSTEM_ACTOR,
) -> SyncResult:
    """Upsert findings as opportunities (by fingerprint) and close vanished ones.

    Args:
        db: the state DB (migrated).
        findings: one detector run's findings; a repeated fingerprint keeps the last.
        org: teams and accounts, for owner routing.
        hourly_rate: engineering cost per hour, for ROI.
        now: the run's time (UTC), stored as first/last seen.
        full_run: the findings are everything the run's detectors report, so open
            opportunities missing from them are closed. False for a partial run or a
            manually entered opportunity: nothing is closed.
        detectors: when given, only opportunities of these detectors may be closed
            (the detectors that ran).
        review_months: months until the next review, for the cost of inaction.
        tag_keys: tag keys naming the owner team, highest priority first.
        actor: recorded in the audit log.
    """
    by_fp = {f.fingerprint: f for f in findings}
    outcomes = ("created", "updated", "unchanged", "reopened", "closed")
    ids: dict[str, list[int]] = {k: [] for k in outcomes}
    with db.session() as s:
        existing: dict[str, OpportunityRow] = {}
        fps = sorted(by_fp)
        for i in range(0, len(fps), _CHUNK):
            chunk = fps[i : i + _CHUNK]
            rows = s.scalars(select(OpportunityRow).where(OpportunityRow.fingerprint.in_(chunk)))
            existing.update({r.fingerprint: r for r in rows})
        for fp in fps:
            content = _content(by_fp[fp], org, hourly_rate, review_months, tag_keys)
            row = existing.get(fp)
            if row is None:
                row = _create(s, fp, content, now, actor)
                ids["created"].append(row.id)
                continue
            row.last_seen = now
            changed = [k for k, v in content.items() if getattr(row, k) != v]
            notes = [_describe(k, getattr(row, k), content[k]) for k in changed]
            for key in changed:
                setattr(row, key, content[key])
            if row.status == Status.CLOSED.value:
                set_status(s, row, Status.OPEN, now, actor, "the finding was reported again")
                ids["reopened"].append(row.id)
            elif changed:
                ids["updated"].append(row.id)
            else:
                ids["unchanged"].append(row.id)
            if changed:
                row.updated_at = now
                add_event(s, row, at=now, actor=actor, action="updated", note="; ".join(notes))
        if full_run:
            query = select(OpportunityRow).where(
                OpportunityRow.status.in_([st.value for st in SELF_CLOSING])
            )
            if detectors is not None:
                query = query.where(OpportunityRow.detector.in_(sorted(detectors)))
            for row in s.scalars(query.order_by(OpportunityRow.id)):
                if row.fingerprint not in by_fp:
                    note = f"not reported by the run of {now.isoformat()}"
                    set_status(s, row, Status.CLOSED, now, actor, note)
                    ids["closed"].append(row.id)
    return SyncResult(
        created=len(ids["created"]),
        updated=len(ids["updated"]),
        closed=len(ids["closed"]),
        unchanged=len(ids["unchanged"]),
        reopened=len(ids["reopened"]),
        ids={k: tuple(v) for k, v in ids.items()},
    )


def _create(
    s: Session, fingerprint: str, content: dict[str, Any], now: datetime, actor: str
) -> OpportunityRow:
    row = OpportunityRow(
        fingerprint=fingerprint,
        status=Status.OPEN.value,
        first_seen=now,
        last_seen=now,
        closed_at=None,
        created_at=now,
        updated_at=now,
        **content,
    )
    s.add(row)
    s.flush()
    add_event(
        s,
        row,
        at=now,
        actor=actor,
        action="created",
        to_status=Status.OPEN,
        note=f"{content['code']} {content['title']}",
    )
    return row


def get(db: StateDB, opportunity_id: int) -> OpportunityView:
    """One opportunity by id; NotFoundError when it does not exist."""
    with db.session() as s:
        return OpportunityView.from_row(load_row(s, opportunity_id))


def list_opportunities(
    db: StateDB,
    status: Status | str | Sequence[Status | str] | None = None,
    owner: str | None = None,
    *,
    detector: str | None = None,
    limit: int | None = None,
) -> list[OpportunityView]:
    """Opportunities, highest priority first (ties: larger monthly savings, then id).

    Args:
        db: the state DB.
        status: one status or several; None for all.
        owner: owner team name; None for all.
        detector: detector name; None for all.
        limit: at most this many.
    """
    query = select(OpportunityRow)
    if status is not None:
        wanted = [status] if isinstance(status, Status | str) else list(status)
        query = query.where(OpportunityRow.status.in_([parse_status(w).value for w in wanted]))
    if owner is not None:
        query = query.where(OpportunityRow.owner_team == owner)
    if detector is not None:
        query = query.where(OpportunityRow.detector == detector)
    query = query.order_by(
        OpportunityRow.priority.desc(), OpportunityRow.monthly_savings.desc(), OpportunityRow.id
    )
    if limit is not None:
        query = query.limit(limit)
    with db.session() as s:
        return [OpportunityView.from_row(r) for r in s.scalars(query)]


def transition(
    db: StateDB,
    opportunity_id: int,
    to_status: Status | str,
    actor: str,
    note: str = "",
    *,
    now: datetime | None = None,
) -> OpportunityView:
    """Move an opportunity to ``to_status`` and audit it.

    Raises:
        NotFoundError: no such opportunity.
        InputError: unknown status or a transition the workflow does not allow.
    """
    target = parse_status(to_status)
    when = now or datetime.now(UTC)
    with db.session() as s:
        row = load_row(s, opportunity_id)
        set_status(s, row, target, when, actor, note)
        s.flush()
        return OpportunityView.from_row(row)


def events(db: StateDB, opportunity_id: int) -> list[EventView]:
    """The audit log of one opportunity, oldest first."""
    with db.session() as s:
        load_row(s, opportunity_id)
        rows = s.scalars(
            select(OpportunityEventRow)
            .where(OpportunityEventRow.opportunity_id == opportunity_id)
            .order_by(OpportunityEventRow.id)
        )
        return [EventView.from_row(r) for r in rows]
