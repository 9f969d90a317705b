"""``costloop kpis``: JSON and table output on a small hand-made bill, and bad input."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from costloop.allocation import allocate
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

Cli = Callable[..., subprocess.CompletedProcess[str]]

RI = {"CommitmentDiscountId": "ri-7", "CommitmentDiscountName": "EC2 RI", "PricingCategory":
      "Committed", "CommitmentDiscountType": "Reserved Instance"}  # fmt: skip
TEAM = {"team": "web"}


@pytest.fixture(scope="module")
def bill_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """May 2026: an RI ($30 for $50 of list), its unused $10, on-demand EC2, the RI fee.

    April 2026: one on-demand EC2 row (list 50, paid 40). Everything tagged team=web
    except the RI fee.
    """
    root = tmp_path_factory.mktemp("kpis")
    may, april = datetime(2026, 5, 4), datetime(2026, 4, 4)
    rows = [
        charge(may, "0", effective="30", ListCost="50", ContractedCost="50", tags=TEAM,
               CommitmentDiscountStatus="Used", **RI),
        charge(may, "0", effective="10", ListCost="0", ContractedCost="0", tags=TEAM,
               CommitmentDiscountStatus="Unused", **RI),
        charge(may, "45", ListCost="50", tags=TEAM),
        charge(may, "40", effective="0", charge_category="Purchase",
               CommitmentDiscountId="ri-7"),
        charge(april, "40", ListCost="50", tags=TEAM),
    ]  # fmt: skip
    ws = Workspace.init(root / "ws")
    ingest_focus(ws.lake, [write_focus_csv(root / "bill.csv", rows)])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    return ws.root


def test_json_for_the_latest_month(cli_main: Cli, bill_ws: Path) -> None:
    proc = cli_main("kpis", "--json", "-w", bill_ws)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["month"] == "2026-05"
    kpis = {k["id"]: k for k in data["kpis"]}
    esr = kpis["esr"]
    # list 100; paid 30 + 45 on usage plus 10 unused → 15 saved.
    assert (esr["value"], esr["numerator"], esr["denominator"]) == ("0.15", "15.00", "100.00")
    assert esr["previous"] == "0.20" and esr["change"] == "-0.05"
    assert esr["band"] == "crawl" and esr["band_source"] == "costloop default"
    assert kpis["commitment_esr"]["value"] == "0.105263"  # (95 − 85) / 95
    assert kpis["commitment_utilization"]["value"] == "0.75"
    assert kpis["commitment_coverage"]["value"] == "0.50"
    assert kpis["commitment_waste"]["value"] == "0.117647"  # 10 / 85
    assert kpis["on_demand_equivalent"]["value"] == "100.00"
    assert kpis["on_demand_equivalent"]["unit"] == "USD"
    assert kpis["allocation_coverage"]["value"] == "1.00"
    assert kpis["allocation_coverage"]["band"] == "run"
    util = kpis["commitment_utilization"]
    assert util["previous"] is None and util["change"] is None  # April had no commitment
    assert set(esr) == {
        "id", "name", "definition", "unit", "value", "previous", "change", "band",
        "band_source", "numerator", "denominator", "available", "reason",
    }  # fmt: skip
    (ri,) = data["commitments"]
    assert (ri["commitment_id"], ri["used_cost"], ri["unused_cost"], ri["utilization"]) == (
        "ri-7",
        "30.00",
        "10.00",
        "0.75",
    )
    lines = {(x["charge_category"], x["kind"]): x for x in data["billed_vs_amortized"]}
    fee = lines[("Purchase", "commitment purchase (amortized into usage)")]
    assert (fee["billed_cost"], fee["effective_cost"], fee["difference"]) == (
        "40.00",
        "0.00",
        "40.00",
    )


def test_table_shows_value_trend_band_and_gaps(cli_main: Cli, bill_ws: Path) -> None:
    proc = cli_main("kpis", "--month", "2026-04", "-w", bill_ws, env={"COLUMNS": "240"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "KPIs for 2026-04 (previous: 2026-03; amounts in USD)" in out
    esr_line = next(line for line in out.splitlines() if "Effective Savings Rate" in line)
    assert "20.0%" in esr_line and "walk (costloop default)" in esr_line
    utilization = next(line for line in out.splitlines() if "Commitment utilization" in line)
    assert "n/a" in utilization
    assert "Not available: no commitment discount rows" in out
    assert "Billed (cash) vs amortized (EffectiveCost) cost, 2026-04" in out


def test_bad_month_and_empty_workspace(cli_main: Cli, bill_ws: Path, workspace: Path) -> None:
    bad = cli_main("kpis", "--month", "2026-13", "-w", bill_ws)
    assert bad.returncode == 2 and "'2026-13'" in bad.stderr
    later = cli_main("kpis", "--month", "2026-09", "-w", bill_ws)
    assert later.returncode == 2
    assert "no charges in billing period 2026-09; the latest is 2026-05" in later.stderr
    empty = cli_main("kpis", "-w", workspace)
    assert empty.returncode == 2
    assert "has no charges" in empty.stderr and "costloop ingest" in empty.stderr


def test_console_script(cli: Cli, bill_ws: Path) -> None:
    proc = cli("kpis", "--json", "--month", "2026-05", "-w", bill_ws)
    assert proc.returncode == 0, proc.stderr
    kpis = {k["id"]: k for k in json.loads(proc.stdout)["kpis"]}
    assert kpis["commitment_savings"]["value"] == "10.00"  # 95 contracted − 85 paid
    assert kpis["negotiated_savings"]["value"] == "5.00"  # 100 list − 95 contracted
