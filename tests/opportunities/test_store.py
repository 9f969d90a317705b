"""Syncing findings into opportunities, the review workflow, and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from costloop.core.errors import InputError, NotFoundError
from costloop.core.findings import Finding
from costloop.core.org import Org
from costloop.opportunities import (
    Status,
    events,
    get,
    list_opportunities,
    sync_findings,
    transition,
)
from costloop.state import OpportunityEventRow, OpportunityRow, StateDB

MakeFinding = Callable[..., Finding]
RATE = Decimal("120")
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def _count(db: StateDB, model: type[OpportunityRow] | type[OpportunityEventRow]) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_sync_twice_updates_last_seen_without_duplicates(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    findings = [make_finding(), make_finding(resource_id="i-2", iac_address="aws_instance.b")]
    first = sync_findings(db, findings, org, RATE, T0)
    second = sync_findings(db, findings, org, RATE, T0 + timedelta(days=1))
    assert (first.created, first.updated, first.unchanged, first.closed) == (2, 0, 0, 0)
    assert (second.created, second.updated, second.unchanged, second.closed) == (0, 0, 2, 0)
    assert _count(db, OpportunityRow) == 2
    opp = get(db, first.ids["created"][0])
    assert opp.first_seen == T0 and opp.last_seen == T0 + timedelta(days=1)
    assert [e.action for e in events(db, opp.id)] == ["created"]


def test_sync_stores_assessment_owner_and_plan(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    result = sync_findings(db, [make_finding()], org, RATE, T0)
    opp = get(db, result.ids["created"][0])
    assert opp.status is Status.OPEN
    assert opp.fingerprint == make_finding().fingerprint
    assert opp.monthly_savings == Decimal("140.16") and str(opp.monthly_savings) == "140.1600"
    assert (opp.risk_score, opp.effort_score, opp.value_score) == (3, 3, 3)
    assert opp.roi == Decimal("3.672") and opp.priority == Decimal("21.6")
    assert (opp.owner_team, opp.owner_email, opp.owner_source) == (
        "checkout",
        "ana@stride.example",
        "tag",
    )
    assert opp.plan.startswith("change instance_type from m5.2xlarge to m5.xlarge")
    assert opp.to_finding() == make_finding()


def test_changed_finding_updates_in_place_with_an_event(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    sync_findings(db, [make_finding()], org, RATE, T0)
    later = make_finding(monthly_savings=Decimal("150.5"), evidence={"cpu_p99": "18"})
    result = sync_findings(db, [later], org, RATE, T0 + timedelta(days=1))
    assert (result.created, result.updated) == (0, 1)
    opp = list_opportunities(db)[0]
    assert opp.monthly_savings == Decimal("150.5") and opp.evidence == {"cpu_p99": "18"}
    last = events(db, opp.id)[-1]
    assert last.action == "updated"
    assert "monthly_savings 140.1600 → 150.5000" in last.note and "evidence changed" in last.note


def test_vanished_finding_closes_and_comes_back_reopened(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    sync_findings(db, [make_finding()], org, RATE, T0)
    gone = sync_findings(db, [], org, RATE, T0 + timedelta(days=1))
    assert gone.closed == 1
    opp = list_opportunities(db)[0]
    assert opp.status is Status.CLOSED and opp.closed_at == T0 + timedelta(days=1)
    back = sync_findings(db, [make_finding()], org, RATE, T0 + timedelta(days=2))
    assert (back.reopened, back.created) == (1, 0)
    opp = get(db, opp.id)
    assert opp.status is Status.OPEN and opp.closed_at is None
    actions = [(e.action, e.from_status, e.to_status) for e in events(db, opp.id)]
    assert actions == [
        ("created", None, Status.OPEN),
        ("closed", Status.OPEN, Status.CLOSED),
        ("reopened", Status.CLOSED, Status.OPEN),
    ]


def test_partial_runs_and_acted_on_opportunities_do_not_close(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    a = make_finding()
    b = make_finding(resource_id="i-2", detector="idle-instance", code="CMP001")
    c = make_finding(resource_id="i-3")
    ids = sync_findings(db, [a, b, c], org, RATE, T0).ids["created"]
    transition(db, ids[2], Status.APPROVED, "ana")
    assert sync_findings(db, [], org, RATE, T0, full_run=False).closed == 0
    only_idle = sync_findings(db, [], org, RATE, T0, detectors={"idle-instance"})
    assert only_idle.ids["closed"] == (ids[1],)
    everything = sync_findings(db, [], org, RATE, T0)
    assert everything.ids["closed"] == (ids[0],)
    assert get(db, ids[2]).status is Status.APPROVED


def test_workflow_to_verified_with_audit_events(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    oid = sync_findings(db, [make_finding()], org, RATE, T0).ids["created"][0]
    path = [Status.SNOOZED, Status.OPEN, Status.APPROVED, Status.IN_PROGRESS, Status.DONE]
    for i, status in enumerate(path):
        name = status.value.replace("_", "-")  # "in-progress" is accepted too
        opp = transition(db, oid, name, "ana@stride.example", f"step {i}", now=T0)
        assert opp.status is status
    transition(db, oid, "verified", "feedback", now=T0)
    with pytest.raises(InputError, match="verified is final"):
        transition(db, oid, "done", "ana")
    log = events(db, oid)
    assert [e.to_status for e in log[1:]] == [*path, Status.VERIFIED]
    assert log[3].actor == "ana@stride.example" and log[3].note == "step 2"
    assert log[3].from_status is Status.OPEN and log[3].action == "transition"


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], Status.DONE),
        ([], Status.VERIFIED),
        ([Status.REJECTED], Status.APPROVED),
        ([Status.APPROVED, Status.IN_PROGRESS, Status.DONE, Status.VERIFIED], Status.OPEN),
        ([], Status.OPEN),
    ],
)
def test_invalid_transitions_are_refused_and_not_logged(
    db: StateDB, org: Org, make_finding: MakeFinding, path: list[Status], bad: Status
) -> None:
    oid = sync_findings(db, [make_finding()], org, RATE, T0).ids["created"][0]
    for status in path:
        transition(db, oid, status, "ana")
    before = _count(db, OpportunityEventRow)
    with pytest.raises(InputError, match=f"cannot move opportunity {oid} from .* to {bad.value}"):
        transition(db, oid, bad, "ana")
    assert _count(db, OpportunityEventRow) == before


def test_unknown_status_and_missing_opportunity(db: StateDB) -> None:
    with pytest.raises(InputError, match="unknown status 'merged'; valid statuses: open"):
        transition(db, 1, "merged", "ana")
    with pytest.raises(NotFoundError, match="no opportunity with id 42"):
        get(db, 42)
    with pytest.raises(NotFoundError):
        transition(db, 42, "approved", "ana")


def test_list_filters_and_priority_order(db: StateDB, org: Org, make_finding: MakeFinding) -> None:
    big = make_finding(resource_id="i-big", monthly_savings=Decimal("3000"))
    small = make_finding(resource_id="i-small", monthly_savings=Decimal("12"))
    mid = make_finding(resource_id="i-mid", tags={"team": "data", "env": "prod"})
    ids = sync_findings(db, [small, big, mid], org, RATE, T0).ids["created"]
    assert [o.resource_id for o in list_opportunities(db)] == ["i-big", "i-mid", "i-small"]
    assert [o.resource_id for o in list_opportunities(db, owner="data")] == ["i-mid"]
    transition(db, ids[0], "approved", "ana")
    assert [o.id for o in list_opportunities(db, status="approved")] == [ids[0]]
    both = list_opportunities(db, status=[Status.OPEN, "approved"], limit=2)
    assert len(both) == 2
    assert list_opportunities(db, detector="nope") == []
