"""`costloop anomalies`: list, show, ack, resolve, comment, reopen (in-process CLI)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import Cli

from costloop.allocation import allocate
from costloop.analytics.anomaly_store import get, record
from costloop.core.anomalies import Anomaly, DayPoint, RootCause
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

T0 = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)

ORG = """
teams:
  - name: checkout
    owner: ana@stride.example
  - name: platform
    owner: raj@stride.example
accounts:
  - id: "210987654321"
    team: platform
"""


def _anomaly(
    scope: dict[str, str],
    start: date,
    end: date,
    impact: str,
    *,
    kind: str = "spike",
    team: str | None = None,
) -> Anomaly:
    expected = Decimal("100")
    days = [start, end] if start != end else [start]
    return Anomaly(
        scope=scope,
        start=start,
        end=end,
        kind=kind,
        currency="USD",
        expected_cost=expected,
        actual_cost=expected + Decimal(impact),
        impact=Decimal(impact),
        impact_pct=Decimal(impact),
        max_daily_impact=Decimal(impact),
        score=6.5,
        root_cause=(RootCause("ResourceId", "fn-resize", Decimal(impact), Decimal("0.93")),),
        team=team,
        series=tuple(
            DayPoint(d, Decimal("175.5"), Decimal("50"), Decimal("40"), Decimal("60")) for d in days
        ),
    )


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A workspace with three stored events (no billing data: list with --no-detect)."""
    made = Workspace.init(tmp_path / "ws")
    made.org_file.write_text(ORG, encoding="utf-8")
    made = Workspace.open(made.root)
    record(
        made.state,
        made.org,
        [
            _anomaly(
                {"SubAccountId": "210987654321", "ServiceName": "AWS Lambda"},
                date(2026, 3, 5),
                date(2026, 3, 6),
                "251.25",
            ),
            _anomaly({"team": "checkout"}, date(2026, 2, 10), date(2026, 2, 10), "120", team=None),
            _anomaly({}, date(2026, 1, 3), date(2026, 1, 9), "900", kind="level-shift"),
        ],
        now=T0,
    )
    return made


def test_list_json(cli_main: Cli, ws: Workspace) -> None:
    proc = cli_main("anomalies", "--no-detect", "--json", "-w", ws.root)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    first = data["anomalies"][0]
    assert first["id"] == 1
    assert first["scope"] == {"SubAccountId": "210987654321", "ServiceName": "AWS Lambda"}
    assert (first["start"], first["end"], first["kind"]) == ("2026-03-05", "2026-03-06", "spike")
    assert (first["expected_cost"], first["actual_cost"], first["impact"]) == (
        "100.00",
        "351.25",
        "251.25",
    )
    assert first["impact_pct"] == "251.25"
    assert first["root_cause"][0] == {
        "dimension": "ResourceId",
        "value": "fn-resize",
        "impact": "251.25",
        "share": "0.93",
    }
    assert (first["owner"], first["status"]) == ("platform", "new")
    assert [a["owner"] for a in data["anomalies"]] == ["platform", "checkout", "unowned"]
    assert data["summary"]["open"] == 3


def test_list_table_and_filters(cli_main: Cli, ws: Workspace) -> None:
    proc = cli_main("anomalies", "--no-detect", "-w", ws.root)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "SubAccountId=210987654321" in out and "ServiceName=AWS Lambda" in out
    assert "2026-03-05..03-06 (2d)" in out
    assert "$251.25 (+251.2%)" in out
    assert "ResourceId=fn-resize (93%)" in out
    assert "(all costs)" in out and "level-shift" in out
    assert "3 events (3 new, 0 acknowledged, 0 resolved, 0 false-positive); 3 open." in out
    since = cli_main("anomalies", "--no-detect", "--since", "2026-02-10", "--json", "-w", ws.root)
    assert [a["id"] for a in json.loads(since.stdout)["anomalies"]] == [1, 2]
    team = cli_main("anomalies", "--no-detect", "--team", "checkout", "--json", "-w", ws.root)
    assert [a["id"] for a in json.loads(team.stdout)["anomalies"]] == [2]


def test_ack_resolve_and_history(cli_main: Cli, ws: Workspace) -> None:
    ack = cli_main("anomalies", "ack", "1", "--note", "looking", "--by", "ana", "-w", ws.root)
    assert ack.returncode == 0, ack.stderr
    assert "Anomaly 1 is now acknowledged (by ana)" in ack.stdout
    again = cli_main("anomalies", "ack", "1", "-w", ws.root)
    assert again.returncode == 2
    assert "anomaly 1 is already acknowledged" in again.stderr
    no_note = cli_main("anomalies", "resolve", "1", "-w", ws.root)
    assert no_note.returncode == 2 and "--note" in no_note.stderr
    done = cli_main(
        "anomalies",
        "resolve",
        "1",
        "--note",
        "reverted the deploy",
        "-w",
        ws.root,
        env={"COSTLOOP_USER": "raj"},
    )
    assert done.returncode == 0, done.stderr
    assert "Anomaly 1 is now resolved (by raj)" in done.stdout
    late_ack = cli_main("anomalies", "ack", "1", "-w", ws.root)
    assert late_ack.returncode == 2
    assert "it is resolved (reopen it first: costloop anomalies reopen 1)" in late_ack.stderr
    fp = cli_main(
        "anomalies",
        "resolve",
        "3",
        "--note",
        "planned migration",
        "--false-positive",
        "-w",
        ws.root,
    )
    assert fp.returncode == 0 and "is now false-positive" in fp.stdout
    note = cli_main("anomalies", "comment", "1", "--note", "root cause: retry loop", "-w", ws.root)
    assert note.returncode == 0, note.stderr
    view = get(ws.state, 1)
    assert view.status == "resolved"
    assert [(e.action, e.actor, e.note) for e in view.history[1:]] == [
        ("acknowledged", "ana", "looking"),
        ("resolved", "raj", "reverted the deploy"),
        ("comment", view.history[-1].actor, "root cause: retry loop"),
    ]
    listed = cli_main("anomalies", "--no-detect", "--status", "closed", "--json", "-w", ws.root)
    statuses = [a["status"] for a in json.loads(listed.stdout)["anomalies"]]
    assert statuses == ["resolved", "false-positive"]


def test_show(cli_main: Cli, ws: Workspace) -> None:
    cli_main("anomalies", "ack", "1", "--by", "ana", "-w", ws.root)
    proc = cli_main("anomalies", "show", "1", "-w", ws.root)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Anomaly 1: spike on SubAccountId=210987654321, ServiceName=AWS Lambda" in out
    assert "2026-03-05 .. 2026-03-06 (2 days)" in out
    assert "platform <raj@stride.example> (from account)" in out
    assert "fn-resize" in out and "93.0%" in out
    assert "◀ anomaly" in out and "$175.50" in out and "$125.50" in out
    assert "detected" in out and "new → acknowledged" in out
    js = cli_main("anomalies", "show", "1", "--json", "-w", ws.root)
    data = json.loads(js.stdout)
    assert data["series"][0]["actual"] == "175.50"
    assert [h["action"] for h in data["history"]] == ["detected", "acknowledged"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "99"], "no anomaly with id 99"),
        (["resolve", "99", "--note", "x"], "no anomaly with id 99"),
        (["reopen", "2"], "anomaly 2 is new, not closed: nothing to reopen"),
        (["comment", "2", "--note", " "], "a comment needs a note"),
        (["--no-detect", "--since", "March"], "--since expects a date as YYYY-MM-DD, got 'March'"),
        (["--no-detect", "--status", "done"], "unknown anomaly status 'done'"),
    ],
)
def test_errors_exit_2(cli_main: Cli, ws: Workspace, args: list[str], message: str) -> None:
    proc = cli_main("anomalies", *args, "-w", ws.root)
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split())


# --- end to end: billing data → detection → events ------------------------------------

E2E_ORG = """
teams:
  - name: checkout
    owner: ana@stride.example
  - name: platform
    owner: raj@stride.example
accounts:
  - id: "111111111111"
    team: platform
"""


FIRST = datetime(2026, 1, 1)
JUMP_DAYS = (date(2026, 3, 15), date(2026, 3, 16))


def _wobble(day: date) -> Decimal:
    """Deterministic noise, $0.00 to $1.00."""
    return Decimal(((day - FIRST.date()).days * 37) % 11) / 10


def lambda_cost(day: date) -> Decimal:
    """Checkout's Lambda: about $20/day, plus $300 on the jump days."""
    return Decimal(20) + _wobble(day) + (Decimal(300) if day in JUMP_DAYS else 0)


@pytest.fixture
def jump_ws(tmp_path: Path) -> Workspace:
    """84 days of a steady estate; checkout's Lambda jumps by $300/day on Mar 15-16."""
    made = Workspace.init(tmp_path / "jump")
    made.org_file.write_text(E2E_ORG, encoding="utf-8")
    made = Workspace.open(made.root)
    rows = []
    for i in range(84):
        day = FIRST + timedelta(days=i)
        rows.append(
            charge(
                day,
                lambda_cost(day.date()),
                service="AWS Lambda",
                resource_id="fn-checkout-resize",
                tags={"team": "checkout"},
            )
        )
        rows.append(charge(day, Decimal(50) + _wobble(day.date()) * 2))
    write_focus_csv(tmp_path / "bill.csv", rows)
    ingest_focus(made.lake, [tmp_path / "bill.csv"])
    with open_engine(made.lake, read_only=False) as engine:
        allocate(engine, made.allocation)
    return made


def test_detect_record_and_rerun(cli_main: Cli, jump_ws: Workspace) -> None:
    proc = cli_main("anomalies", "--json", "-w", jump_ws.root)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)["anomalies"]
    assert len(found) == 1, found
    event = found[0]
    assert (event["start"], event["end"]) == ("2026-03-15", "2026-03-16")
    assert event["scope"].get("ServiceName") == "AWS Lambda" or event["scope"].get("team")
    assert Decimal(event["impact"]) > Decimal(550)
    if event["scope"].get("ServiceName") == "AWS Lambda":
        assert Decimal(event["actual_cost"]) == sum(lambda_cost(d) for d in JUMP_DAYS)
    assert (event["owner"], event["owner_email"], event["status"]) == (
        "checkout",
        "ana@stride.example",
        "new",
    )
    table_run = cli_main("anomalies", "-w", jump_ws.root)
    assert table_run.returncode == 0, table_run.stderr
    assert "1 events (1 new" in table_run.stdout
    assert "0 new, 0 updated, 1 unchanged" in " ".join(table_run.stderr.split())
    ack = cli_main("anomalies", "ack", str(event["id"]), "--by", "ana", "-w", jump_ws.root)
    assert ack.returncode == 0, ack.stderr
    fixed = cli_main(
        "anomalies", "resolve", str(event["id"]), "--note", "resize loop fixed", "-w", jump_ws.root
    )
    assert fixed.returncode == 0, fixed.stderr
    rerun = json.loads(cli_main("anomalies", "--json", "-w", jump_ws.root).stdout)["anomalies"]
    assert [(a["id"], a["status"]) for a in rerun] == [(event["id"], "resolved")]
    assert [c["note"] for c in rerun[0]["comments"]] == ["resize loop fixed"]


def test_empty_workspace(cli_main: Cli, workspace: Path) -> None:
    proc = cli_main("anomalies", "-w", workspace)
    assert proc.returncode == 0, proc.stderr
    assert "No anomaly events recorded." in proc.stdout
    assert "No allocated charges to score" in proc.stderr
    js = cli_main("anomalies", "--json", "-w", workspace)
    assert json.loads(js.stdout)["anomalies"] == []
