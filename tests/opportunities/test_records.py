"""Executions and realized-savings verifications recorded against opportunities."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from costloop.core.errors import InputError
from costloop.core.findings import Finding
from costloop.core.org import Org
from costloop.opportunities import (
    Status,
    events,
    executed_opportunities,
    executions,
    get,
    record_execution,
    record_verification,
    sync_findings,
    transition,
    verifications,
)
from costloop.state import StateDB

MakeFinding = Callable[..., Finding]
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def _approved(db: StateDB, org: Org, finding: Finding) -> int:
    oid = sync_findings(db, [finding], org, Decimal(120), T0, full_run=False).ids["created"][0]
    transition(db, oid, Status.APPROVED, "ana", now=T0)
    return oid


def test_execution_needs_an_approved_opportunity(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    oid = sync_findings(db, [make_finding()], org, Decimal(120), T0).ids["created"][0]
    with pytest.raises(InputError, match="from open to in_progress"):
        record_execution(db, oid, executed_at=T0)
    assert executions(db, oid) == []


def test_record_execution_moves_to_in_progress_and_lists_it(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    oid = _approved(db, org, make_finding())
    other = _approved(db, org, make_finding(resource_id="i-other"))
    when = T0 + timedelta(days=3)
    ex = record_execution(
        db,
        oid,
        executed_at=when,
        branch="costloop/cmp002-1-checkout-api",
        commit_sha="a" * 40,
        repo_path="/infra",
        body_path="/ws/.costloop/pr/x.md",
        files=["terraform/prod/compute.tf"],
        actor="bot",
        now=when,
    )
    assert (ex.kind, ex.executed_at, ex.files) == (
        "pull-request",
        when,
        ("terraform/prod/compute.tf",),
    )
    assert get(db, oid).status is Status.IN_PROGRESS
    assert [e.action for e in events(db, oid)][-2:] == ["transition", "executed"]
    record_execution(db, other, kind="stop-instance", executed_at=T0, status=Status.DONE)
    done = executed_opportunities(db)
    assert [(o.id, e.kind) for o, e in done] == [(other, "stop-instance"), (oid, "pull-request")]
    assert [o.id for o, _ in executed_opportunities(db, status=[Status.DONE])] == [other]


def test_verification_promotes_done_to_verified(
    db: StateDB, org: Org, make_finding: MakeFinding
) -> None:
    oid = _approved(db, org, make_finding())
    record_execution(db, oid, executed_at=T0, status=Status.DONE)
    pending = record_verification(
        db,
        oid,
        verified_at=T0 + timedelta(days=5),
        status="pending",
        baseline_daily=Decimal("9.216"),
        after_daily=Decimal("9.216"),
        projected_monthly=Decimal("140.16"),
        realized_monthly=Decimal("0"),
    )
    assert pending.currency == "USD" and get(db, oid).status is Status.DONE
    window = (T0 - timedelta(days=14), T0)
    after = (T0 + timedelta(days=3), T0 + timedelta(days=33))
    check = record_verification(
        db,
        oid,
        verified_at=T0 + timedelta(days=34),
        status="verified",
        baseline_daily=Decimal("9.2160"),
        after_daily=Decimal("4.6080"),
        projected_monthly=Decimal("140.16"),
        realized_monthly=Decimal("138.2400"),
        baseline_window=window,
        after_window=after,
        method="median-daily-14d",
    )
    assert check.realized_monthly == Decimal("138.24")
    assert (check.baseline_start, check.after_end) == (window[0], after[1])
    assert get(db, oid).status is Status.VERIFIED
    assert [v.status for v in verifications(db, oid)] == ["pending", "verified"]
    notes = [e.note for e in events(db, oid) if e.action == "verification"]
    assert notes[-1] == "verified: realized $138.24/month vs projected $140.16/month"
