"""``costloop report showback | team | chargeback`` end to end, every output format.

The bill (billing account 999999999999, USD; billed = effective unless noted):

- February 2026: checkout (tag) EC2 10.00 billed / 8.00 effective; platform
  (account 2222) S3 4.00 → 14.00 billed
- March 2026: checkout (tag) EC2 12.00 billed / 9.00 effective and S3 2.505;
  platform (account 2222) EC2 6.00; unallocated (account 4444) 0.125
  → 20.63 billed, 17.63 effective

People-facing formats round half to even (checkout's 14.505 shows as $14.50); the
chargeback's rounded column instead hands the invoice's last cent to the largest
remainder (checkout 14.51, unallocated 0.12, total 20.63).
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from costloop.allocation import allocate
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

Run = Callable[..., subprocess.CompletedProcess[str]]
FEB, MAR = datetime(2026, 2, 3), datetime(2026, 3, 3)

ORG = """
teams:
  - name: checkout
    owner: ana@example.com
    channel: "#checkout-costs"
  - name: platform
accounts:
  - id: "222222222222"
    team: platform
"""


def _bill() -> list[dict[str, str]]:
    tag = {"team": "checkout"}
    return [
        charge(FEB, "10.00", effective="8.00", tags=tag),
        charge(FEB, "4.00", service="Amazon Simple Storage Service", account="222222222222"),
        charge(MAR, "12.00", effective="9.00", tags=tag),
        charge(MAR, "2.505", service="Amazon Simple Storage Service", tags=tag),
        charge(MAR, "6.00", account="222222222222"),
        charge(MAR, "0.125", account="444444444444"),
    ]


def _build(root: Path) -> Path:
    ws = Workspace.init(root / "ws")
    ws.org_file.write_text(ORG, encoding="utf-8")
    ws = Workspace.open(ws.root)
    ingest_focus(ws.lake, [write_focus_csv(root / "bill.csv", _bill())])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    return ws.root


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The allocated bill of the module docstring; returns the workspace folder."""
    return _build(tmp_path_factory.mktemp("report"))


def test_showback_table_is_the_default(cli: Run, ws: Path) -> None:
    proc = cli("report", "showback", "-w", ws)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Showback by team, EffectiveCost, 2026-03" in out
    assert re.search(r"checkout\s+│\s+\$11\.50\s+│\s+\$8\.00\s+│\s+\$3\.50\s+│\s+\+43\.8%", out)
    assert re.search(r"total\s+│\s+\$17\.63\s+│\s+\$12\.00\s+│", out)


def test_showback_csv_rows_sum_to_the_total(cli_main: Run, ws: Path) -> None:
    proc = cli_main(
        "report", "showback", "-w", ws, "--from", "2026-02", "--metric", "billed",
        "--format", "csv",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    for period, expected in (("2026-02", "14.00"), ("2026-03", "20.63")):
        detail = [r for r in rows if r["period"] == period and r["line"] == "row"]
        (total,) = [r for r in rows if r["period"] == period and r["line"] == "total"]
        assert sum(Decimal(r["cost"]) for r in detail) == Decimal(total["cost"])
        assert total["cost"] == expected
    checkout = next(r for r in rows if r["period"] == "2026-03" and r["team"] == "checkout")
    assert (checkout["cost"], checkout["previous_cost"], checkout["change_pct"]) == (
        "14.505",
        "10.00",
        "45.05",
    )
    assert (checkout["service_1"], checkout["service_1_cost"]) == (
        "Amazon Elastic Compute Cloud",
        "12.00",
    )
    assert (checkout["account_1"], checkout["account_1_cost"]) == ("acct-1111", "14.505")


def test_showback_json_has_decimal_strings(cli_main: Run, ws: Path) -> None:
    proc = cli_main("report", "showback", "-w", ws, "--by", "team,ServiceName", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["metric"], data["dimensions"], data["periods"]) == (
        "effective",
        ["team", "ServiceName"],
        ["2026-03"],
    )
    (group,) = data["groups"]
    assert (group["total"], group["previous_total"]) == ("17.63", "12.00")
    first = group["rows"][0]
    assert first["values"] == {"team": "checkout", "ServiceName": "Amazon Elastic Compute Cloud"}
    assert (first["cost"], first["previous_cost"], first["change_pct"]) == ("9.00", "8.00", "12.50")


def test_showback_json_flag_is_the_json_format(cli_main: Run, ws: Path) -> None:
    proc = cli_main("report", "showback", "-w", ws, "--json", "--from", "2026-02")
    assert proc.returncode == 0, proc.stderr
    same = cli_main("report", "showback", "-w", ws, "--format", "json", "--from", "2026-02")
    assert json.loads(proc.stdout) == json.loads(same.stdout)
    groups = json.loads(proc.stdout)["groups"]
    assert [(g["period"], g["total"]) for g in groups] == [
        ("2026-02", "12.00"),
        ("2026-03", "17.63"),
    ]
    clash = cli_main("report", "showback", "-w", ws, "--json", "--format", "csv")
    assert clash.returncode == 2
    assert "--json and --format csv disagree" in clash.stderr


def test_showback_markdown_table(cli_main: Run, ws: Path) -> None:
    proc = cli_main("report", "showback", "-w", ws, "--format", "md", "--metric", "billed")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "**Showback by team (BilledCost), 2026-03**"
    assert lines[2].startswith("| team | Cost | Previous | Change |")
    assert "| checkout | $14.50 | $10.00 | +45.0% |" in proc.stdout
    assert "| **Total** | **$20.63** | $14.00 | +47.4% |" in proc.stdout


def test_showback_html_is_self_contained(cli_main: Run, ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "showback.html"
    proc = cli_main("report", "showback", "-w", ws, "--from", "2026-02", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Showback written to" in proc.stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert html.count("<svg") == 2  # cost per period by team, and the latest period
    assert "<script" not in html and "<link" not in html
    assert re.findall(r"https?://[^\"']+", html) == ["http://www.w3.org/2000/svg"] * 2
    assert "$17.63" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--by", "team,Colour"), "unknown dimension 'Colour'; allowed: team, ProviderName"),
        (("--format", "xlsx"), "--format 'xlsx' is not one of: table, csv, md, html, json"),
        (("--month", "2026-03", "--from", "2026-02"), "either --month or --from/--to"),
        (("--month", "2026-13"), "expected a month as YYYY-MM"),
        (("--month", "2025-01"), "no allocated charges for 2025-01"),
        (("--metric", "cheap"), "unknown metric 'cheap'"),
        (("--out", "x.txt"), "--out needs --format"),
        (("--json", "--format", "md"), "--json and --format md disagree"),
    ],
)
def test_showback_bad_input_exits_2(
    cli_main: Run, ws: Path, args: tuple[str, ...], message: str
) -> None:
    proc = cli_main("report", "showback", "-w", ws, *args)
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split())


def test_team_report_markdown_and_html(cli_main: Run, ws: Path, tmp_path: Path) -> None:
    proc = cli_main("report", "team", "-w", ws, "--team", "checkout")
    assert proc.returncode == 0, proc.stderr
    md = proc.stdout
    assert md.startswith("**checkout: cloud cost 2026-03**\nOwner: ana@example.com")
    assert "| Billed | $14.50 | $10.00 | +45.0% |" in md
    assert "| Effective | $11.50 | $8.00 | +43.8% |" in md
    assert "| Amazon Elastic Compute Cloud | $9.00 | 78.2% |" in md
    out = tmp_path / "checkout.html"
    html = cli_main("report", "team", "-w", ws, "--team", "checkout", "--out", out)
    assert html.returncode == 0, html.stderr
    page = out.read_text(encoding="utf-8")
    assert "<svg" in page and "<script" not in page and "#checkout-costs" in page


def test_team_reports_for_all_teams(cli_main: Run, ws: Path, tmp_path: Path) -> None:
    proc = cli_main(
        "report", "team", "-w", ws, "--all", "--out", tmp_path / "teams", "--month", "2026-02"
    )
    assert proc.returncode == 0, proc.stderr
    files = sorted(p.name for p in (tmp_path / "teams").iterdir())
    assert files == ["team-checkout.md", "team-platform.md", "team-unallocated.md"]
    platform = (tmp_path / "teams" / "team-platform.md").read_text(encoding="utf-8")
    assert "**platform: cloud cost 2026-02**" in platform and "$4.00" in platform


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--team", "nobody"), "unknown team 'nobody'; teams: checkout, platform, unallocated"),
        ((), "give either --team NAME or --all"),
        (("--all",), "--all writes one file per team: give --out DIR"),
        (("--team", "checkout", "--format", "pdf"), "--format 'pdf' is not one of: html, md"),
    ],
)
def test_team_report_bad_input_exits_2(
    cli_main: Run, ws: Path, args: tuple[str, ...], message: str
) -> None:
    proc = cli_main("report", "team", "-w", ws, *args)
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split())


def test_chargeback_writes_statements_that_sum_to_the_invoice(
    cli: Run, ws: Path, tmp_path: Path
) -> None:
    out = tmp_path / "chargeback"
    proc = cli("report", "chargeback", "-w", ws, "--month", "2026-03", "--out", out)
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout
    assert re.search(r"checkout\s+│\s+999999999999\s+│\s+USD\s+│\s+\$14\.51", printed)
    assert re.search(r"invoice total\s+│\s+999999999999\s+│\s+USD\s+│\s+\$20\.63", printed)
    assert "Wrote 8 files" in printed
    statements = [pq.read_table(p).to_pylist() for p in out.glob("statement-*.parquet")]
    lines = [line for statement in statements for line in statement]
    assert sum(r["amount"] for r in lines) == Decimal("20.630")
    assert sum(r["amount_rounded"] for r in lines) == Decimal("20.63")
    s3 = [r for r in lines if r["service_name"] == "Amazon Simple Storage Service"]
    assert [(r["team"], r["amount"], r["amount_rounded"]) for r in s3] == [
        ("checkout", Decimal("2.505"), Decimal("2.51"))
    ]
    with (out / "summary.csv").open(newline="", encoding="utf-8") as f:
        summary = {r["team"] or "invoice": r for r in csv.DictReader(f)}
    assert summary["unallocated"]["amount"] == "0.125"
    assert summary["unallocated"]["amount_rounded"] == "0.12"
    assert summary["invoice"]["amount_rounded"] == "20.63"


def test_chargeback_refuses_an_unreconciled_month(cli_main: Run, tmp_path: Path) -> None:
    root = _build(tmp_path / "w")
    late = write_focus_csv(
        tmp_path / "late.csv", [charge(MAR, "1.00", billing_account="666666666666")]
    )
    ingest_focus(Workspace.open(root).lake, [late])  # ingested, not allocated
    out = tmp_path / "cb"
    proc = cli_main("report", "chargeback", "-w", root, "--month", "2026-03", "--out", out)
    assert proc.returncode == 1
    message = " ".join(proc.stderr.split())
    assert "does not reconcile for billing account 666666666666 (USD)" in message
    assert "run `costloop allocate --period 2026-03`" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.csv", "w"]  # nothing written
    missing = cli_main("report", "chargeback", "-w", root, "--month", "2026-03")
    assert missing.returncode == 2
    assert "--out" in missing.stderr
