"""Realized savings: run rate before vs after an executed change, from billing rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from costloop.core.findings import Change, ChangeAction, Finding
from costloop.core.org import Org
from costloop.operate.loop import verify
from costloop.opportunities.records import record_execution, verifications
from costloop.opportunities.store import get, sync_findings, transition
from costloop.opportunities.workflow import Status
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace


def _setup(tmp_path: Path, after_cost: str) -> tuple[Workspace, int]:
    ws = Workspace.init(tmp_path / "ws")
    start = datetime(2026, 9, 1)
    change = datetime(2026, 10, 1)
    rows = []
    for i in range(61):
        day = start + timedelta(days=i)
        cost = "12.00" if day < change else after_cost
        rows.append(charge(day, cost, resource_id="i-big"))
        rows.append(charge(day, "3.00", resource_id="i-other"))
    write_focus_csv(tmp_path / "bill.csv", rows)
    ingest_focus(ws.lake, [tmp_path / "bill.csv"])
    finding = Finding(
        detector="rightsizing",
        code="CMP002",
        resource_id="i-big",
        title="Oversized m5.2xlarge i-big",
        monthly_savings=Decimal("182.50"),
        account_id="111111111111",
        change=Change(ChangeAction.SET, "instance_type", "m5.2xlarge", "m5.xlarge"),
    )
    now = datetime(2026, 9, 30, tzinfo=UTC)
    sync_findings(ws.state, [finding], Org(), Decimal(100), now)
    opp_id = get(ws.state, 1).id
    transition(ws.state, opp_id, Status.APPROVED, actor="t")
    record_execution(ws.state, opp_id, executed_at=change.replace(tzinfo=UTC), actor="t")
    transition(ws.state, opp_id, Status.DONE, actor="t")
    return ws, opp_id


def test_halved_run_rate_is_verified(tmp_path: Path) -> None:
    ws, opp_id = _setup(tmp_path, "6.00")
    [outcome] = verify(ws, now=datetime(2026, 11, 1))
    assert outcome.baseline_daily == Decimal("12.0000")
    assert outcome.after_daily == Decimal("6.0000")
    # (12 - 6) per day × 730/24 days per month
    assert outcome.realized_monthly == Decimal("182.50")
    assert outcome.status == "verified"
    assert get(ws.state, opp_id).status is Status.VERIFIED
    assert verifications(ws.state, opp_id)[0].realized_monthly == Decimal("182.50")


def test_cost_that_went_up_is_regressed(tmp_path: Path) -> None:
    ws, opp_id = _setup(tmp_path, "13.00")
    [outcome] = verify(ws, now=datetime(2026, 11, 1))
    assert outcome.status == "regressed"
    assert outcome.realized_monthly < 0
    assert get(ws.state, opp_id).status is Status.DONE
