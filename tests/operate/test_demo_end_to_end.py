"""`costloop demo` runs the whole loop, and its results hold up from the outside."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).parent / "costloop")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COSTLOOP_")}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, env=_env(), timeout=600, check=False
    )


def _json(*args: str) -> dict[str, object]:
    done = _run(*args, "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("demo") / "ws"
    done = _run("demo", "--workspace", str(root), "--months", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    return root, done.stdout


def test_summary_says_where_to_look(demo: tuple[Path, str]) -> None:
    root, out = demo
    for heading in (
        "Spend",
        "Anomalies, forecast, budgets",
        "Cost anomalies:",
        "Budgets as of",
        "Optimize",
        "Feed back",
        "Where to look",
        "Allocation coverage",
    ):
        assert heading in out, heading
    assert f"serve -w {root}" in " ".join(out.split())
    report = root / "reports" / "costloop-report.html"
    assert str(report) in out
    html = report.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3  # spend by provider, by team, team bars
    assert "checkout" in html


def test_stored_billing_equals_the_generated_files(demo: tuple[Path, str]) -> None:
    root, _ = demo
    expected = Decimal(0)
    for path in (root / "estate" / "billing").rglob("*.csv"):
        with path.open(newline="", encoding="utf-8") as f:
            expected += sum((Decimal(r["BilledCost"]) for r in csv.DictReader(f)), Decimal(0))
    data = _json("sql", "-w", str(root), "SELECT sum(BilledCost) AS total FROM charges")
    rows = data["rows"]
    assert isinstance(rows, list)
    assert Decimal(rows[0]["total"]) == expected


def test_showback_rows_sum_to_the_total(demo: tuple[Path, str]) -> None:
    root, _ = demo
    first = _json("sql", "-w", str(root), "SELECT min(BillingPeriodStart) AS p FROM charges")
    start = str(first["rows"][0]["p"])[:7]
    report = _json("report", "showback", "--by", "team", "--from", start, "-w", str(root))
    per_period: dict[str, Decimal] = {}
    teams: set[str] = set()
    for group in report["groups"]:
        assert group["currency"] == "USD"
        rows = group["rows"]
        teams |= {r["values"]["team"] for r in rows}
        total = sum((Decimal(r["cost"]) for r in rows), Decimal(0))
        assert total == Decimal(group["total"])
        per_period[group["period"]] = total
    sql = _json(
        "sql",
        "-w",
        str(root),
        "SELECT strftime(BillingPeriodStart, '%Y-%m') AS p, sum(EffectiveCost) AS e "
        "FROM charges GROUP BY 1",
    )["rows"]
    assert isinstance(sql, list)
    assert per_period == {r["p"]: Decimal(r["e"]) for r in sql}
    # The demo's shared-cost pools (EKS cluster by namespace, shared-services account,
    # tax) leave no team cost unallocated; their split rows add up to whole charges.
    assert "unallocated" not in teams
    pools = _json(
        "sql",
        "-w",
        str(root),
        "SELECT x_AllocationPool AS pool, count(*) AS n FROM allocated_charges "
        "WHERE x_AllocationPool IS NOT NULL GROUP BY 1 ORDER BY 1",
    )["rows"]
    assert [r["pool"] for r in pools] == ["eks-stride-prod", "shared-services", "tax"]
    partial = _json(
        "sql",
        "-w",
        str(root),
        "SELECT x_SourceId, x_SourceFile, x_SourceRow, sum(x_AllocationRatio) AS r "
        "FROM allocated_charges GROUP BY ALL HAVING sum(x_AllocationRatio) <> 1",
    )["rows"]
    assert partial == []


def test_pull_requests_changed_the_terraform(demo: tuple[Path, str]) -> None:
    root, _ = demo
    infra = root / "estate" / "infra"
    branches = subprocess.run(
        ["git", "-C", str(infra), "branch", "--list", "costloop/*", "--format=%(refname:short)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(branches) == 2
    resize = next(b for b in branches if b.startswith("costloop/cmp002"))
    diff = subprocess.run(
        ["git", "-C", str(infra), "diff", "main", resize],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    changed = [
        ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))
    ]
    assert len(changed) == 2, diff
    assert changed[0].startswith("-") and '"m5.2xlarge"' in changed[0]
    assert changed[1].startswith("+") and '"m5.xlarge"' in changed[1]
    assert "instance_type" in changed[0] and "instance_type" in changed[1]


def test_realized_savings_are_verified_and_rerun_does_not_duplicate(
    demo: tuple[Path, str],
) -> None:
    root, _ = demo
    opps = _json("opportunities", "-w", str(root))["opportunities"]
    assert isinstance(opps, list)
    verified = [o for o in opps if o["status"] == "verified"]
    assert len(verified) == 2
    before = len(opps)
    assert _run("discover", "-w", str(root)).returncode == 0
    again = _json("opportunities", "-w", str(root))["opportunities"]
    assert isinstance(again, list)
    assert len(again) == before
    checks = _json("verify", "-w", str(root))["verifications"]
    assert isinstance(checks, list)
    for c in checks:
        projected, realized = Decimal(c["projected_monthly"]), Decimal(c["realized_monthly"])
        assert abs(realized - projected) <= projected * Decimal("0.1"), c
