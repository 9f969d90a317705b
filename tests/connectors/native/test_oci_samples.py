"""Every OCI report sample through the real CLI.

The native totals — ``cost/myCost`` per tenancy and usage month — are recomputed here
with Python's csv module and Decimal, independently of the SQL mapping, and must equal
both sides of every ``reconciliation`` entry the CLI reports.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from tests.conftest import Cli

from .conftest import Loaded, sql

FIXTURES = Path(__file__).parents[2] / "fixtures" / "native" / "oci"
GOLDEN = Path(__file__).parents[2] / "golden" / "native" / "oci"
Q = Decimal("1e-18")
COSTS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def native_totals(path: Path) -> dict[tuple[str, str, str], Decimal]:
    """(tenancy, period start, FOCUS column) → Σ cost/myCost (rounded to 18 places)."""
    out: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for r in _rows(path):
        period = r["lineItem/intervalUsageStart"][:7] + "-01T00:00:00Z"
        cost = Decimal(r["cost/myCost"] or 0)
        cost = Decimal(0) if abs(cost) < Decimal("5e-19") else cost.quantize(Q, ROUND_HALF_UP)
        for column in COSTS:
            out[(r["lineItem/tenantId"], period, column)] += cost
    return dict(out)


@pytest.mark.parametrize(
    ("name", "rows"),
    [("reports_cost-csv_0000000030000269.csv", 506), ("reports_cost-csv_0001000000603747.csv", 5)],
)
def test_cost_reports_reconcile(loaded: Loaded, name: str, rows: int) -> None:
    sample = FIXTURES / name
    assert len(_rows(sample)) == rows
    _, out = loaded(sample)
    (f,) = out["files"]
    assert (f["format"], f["rows"]) == ("oci-cost-report", rows)  # one FOCUS row per line
    assert sum(s["rows"] for s in out["loads"]) == rows
    assert out["issues"] == []
    expected = native_totals(sample)
    seen = {}
    for m in out["reconciliation"]:
        assert (m["format"], m["native_measure"], m["reconciled"]) == (
            "oci-cost-report",
            "cost/myCost",
            True,
        )
        key = (m["billing_account_id"], m["billing_period_start"], m["focus_column"])
        seen[key] = (Decimal(m["native_total"]), Decimal(m["focus_total"]))
    assert set(seen) == set(expected)
    for key, total in expected.items():
        assert seen[key] == (total, total), key


def test_focus_converters_sample_values(cli: Cli, loaded: Loaded) -> None:
    ws, _ = loaded(FIXTURES / "reports_cost-csv_0000000030000269.csv")
    rows = sql(
        cli,
        ws,
        "SELECT ServiceName, ServiceCategory, ServiceSubcategory, count(*) AS n, "
        "sum(BilledCost) AS billed FROM charges GROUP BY ALL ORDER BY ServiceName",
    )
    assert {r["ServiceName"]: (r["ServiceCategory"], r["n"]) for r in rows} == {
        "BLOCK_STORAGE": ("Storage", 18),
        "COMPUTE": ("Compute", 85),
        "DATABASE": ("Databases", 74),
        "MYSQL": ("Databases", 74),
        "NETWORK": ("Networking", 40),
        "OBJECTSTORE": ("Storage", 6),
        "ORACLE_STREAMING_SERVICE": ("Integration", 12),
        "TELEMETRY": ("Management and Governance", 197),
    }
    (row,) = sql(
        cli,
        ws,
        "SELECT Tags, SubAccountName, RegionId, AvailabilityZone, ResourceType, SkuId, "
        "BilledCost, x_TagsNormalized['valtest.cat'] AS cat FROM charges WHERE x_SourceRow = 1",
    )
    assert json.loads(row["Tags"])["Valtest.Cat"] == "boots"
    assert row["cat"] == "boots"
    assert (row["SubAccountName"], row["RegionId"], row["AvailabilityZone"]) == (
        "platformpm2022",
        "us-sanjose-1",
        "sj-1",
    )
    assert (row["ResourceType"], row["SkuId"], Decimal(row["BilledCost"])) == (
        "autonomousdatabase",
        "B92911",
        Decimal("0.012264277499950943"),
    )
    # A tag key with a backslash survives as written.
    (tagged,) = sql(
        cli,
        ws,
        "SELECT count(*) AS n FROM charges WHERE Tags LIKE '%redbull-analytics-hol-4cb4.release%'",
    )
    assert tagged["n"] == 6


def _golden(path: Path, actual: str) -> None:
    if os.environ.get("COSTLOOP_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; see tests/golden/README.md"
    assert actual == path.read_text(encoding="utf-8"), f"{path} differs; regenerate and review"


def test_koku_cost_report_golden(cli: Cli, loaded: Loaded) -> None:
    """Blank currencies take the tenancy's; overage lines and both subscription spellings."""
    ws, out = loaded(FIXTURES / "reports_cost-csv_0001000000603747.csv")
    (load,) = out["loads"]  # '015649487' and '15649487' do not split the tenancy's month
    assert (load["billing_account_id"], load["billing_period_start"], load["rows"]) == (
        "ocid1.tenancy.oc1..aaaaaaaa",
        "2022-04-01T00:00:00Z",
        5,
    )
    done = cli(
        "sql",
        "-w",
        ws,
        "--csv",
        "SELECT x_SourceRow, BillingAccountId, SubAccountId, SubAccountName, BillingCurrency, "
        "BillingPeriodStart, ChargePeriodStart, ChargePeriodEnd, ChargeCategory, ChargeClass, "
        "ChargeDescription, BilledCost, EffectiveCost, ListCost, ContractedCost, "
        "ContractedUnitPrice, PricingQuantity, PricingUnit, ServiceName, ServiceCategory, "
        "ServiceSubcategory, SkuId, RegionId, AvailabilityZone, ResourceId, ResourceType, Tags, "
        "x_SubscriptionId, x_OverageFlag, x_MyCostOverage FROM charges ORDER BY x_SourceRow",
    )
    assert done.returncode == 0, done.stderr
    _golden(GOLDEN / "reports_cost-csv_0001000000603747.csv", done.stdout)
    currencies = [r["BillingCurrency"] for r in csv.DictReader(done.stdout.splitlines())]
    assert currencies == ["GBP"] * 5


def test_usage_report_is_refused_and_nothing_is_loaded(cli: Cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert cli("init", ws).returncode == 0
    done = cli("ingest", "-w", ws, FIXTURES / "reports_usage-csv_0001000000829494.csv")
    assert done.returncode == 2
    assert "OCI usage report" in done.stderr
    assert "no costs" in done.stderr and "cost report" in done.stderr
    assert sql(cli, ws, "SELECT count(*) AS n FROM charges") == [{"n": 0}]


def test_usage_report_next_to_a_cost_report_refuses_the_whole_load(
    cli: Cli, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    assert cli("init", ws).returncode == 0
    done = cli(
        "ingest",
        "-w",
        ws,
        FIXTURES / "reports_cost-csv_0001000000603747.csv",
        FIXTURES / "reports_usage-csv_0001000000829494.csv",
    )
    assert done.returncode == 2 and "OCI usage report" in done.stderr
    assert sql(cli, ws, "SELECT count(*) AS n FROM charges") == [{"n": 0}]
