"""Budget alerts end to end: charges → allocation → budgets.yaml → ``costloop alerts send``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import Cli
from tests.notify.conftest import ORG, WebhookServer, write_alerts

from costloop.allocation import allocate
from costloop.notify.sources import budget_alerts
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

BUDGETS = """\
budgets:
  - name: checkout-monthly
    scope: {team: checkout}
    amount: "1500.00"
    thresholds: [50, 80, 100]
"""


def test_a_breached_budget_alerts_its_owner_once(
    webhook: WebhookServer, cli_main: Cli, tmp_path: Path
) -> None:
    ws = Workspace.init(tmp_path / "lake-ws")  # the warehouse needs its own path: no copy
    ws.org_file.write_text(ORG, encoding="utf-8")
    ws = Workspace.open(ws.root)
    first = datetime(2026, 11, 1)
    # A complete month: its forecast is the actual total (no model to fit, a fast test).
    rows = [
        charge(first + timedelta(days=d), "100.00", tags={"team": "checkout"}) for d in range(30)
    ]
    write_focus_csv(tmp_path / "bill.csv", rows)
    ingest_focus(ws.lake, [tmp_path / "bill.csv"])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    (ws.root / "budgets.yaml").write_text(BUDGETS, encoding="utf-8")

    (alert,) = budget_alerts(ws)  # actual 3,000.00 ≥ 100 %: no separate 50 % / 80 % alerts
    assert alert.key == "budget:checkout-monthly:2026-11:actual:100"
    assert alert.amount == 3000 and alert.amount_text == "$3,000.00"
    assert (alert.team, alert.owner, alert.severity) == ("checkout", "ana@shop.example", "critical")
    assert alert.fields["Reached on"] == "2026-11-15"  # 15 × $100 = the $1,500 budget

    write_alerts(
        ws,
        f"channels:\n  s:\n    type: slack\n    url: {webhook.url}/s\nroutes:\n  default: s\n",
    )
    sent = json.loads(cli_main("alerts", "send", "--json", "-w", ws.root).stdout)
    assert [(d["subject"], d["status"]) for d in sent["deliveries"]] == [("budget", "sent")]
    assert "Budget checkout-monthly reached 100%: $3,000.00" in webhook.requests[0].body.decode()
    again = json.loads(cli_main("alerts", "send", "--json", "-w", ws.root).stdout)
    assert [d["status"] for d in again["deliveries"]] == ["skipped"]
    assert len(webhook.requests) == 1
