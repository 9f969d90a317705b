"""Every Google Cloud billing export sample through the real CLI.

The native totals are recomputed here from the files with Python's csv/json/ast and
Decimal — cost plus credits per billing account and invoice month, as Google's own
invoice-total query sums them — independently of the SQL mapping, and must equal both
sides of every ``reconciliation`` entry the CLI reports.
"""

from __future__ import annotations

import ast
import csv
import json
import os
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import Cli

from .conftest import Loaded, ingest, sql

FIXTURES = Path(__file__).parents[2] / "fixtures" / "native" / "gcp"
GOLDEN = Path(__file__).parents[2] / "golden" / "native" / "gcp"
JSONL = FIXTURES / "billing_export_detailed.jsonl"
Q = Decimal("1e-18")
D0 = Decimal(0)
# Discounts on the charge itself (applied in its row); every other credit is a Credit row.
IN_ROW = {
    "COMMITTED_USAGE_DISCOUNT",
    "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
    "FEE_UTILIZATION_OFFSET",
    "SUSTAINED_USAGE_DISCOUNT",
    "FREE_TIER",
    "SUBSCRIPTION_BENEFIT",
    "RESELLER_MARGIN",
}
COSTS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Q, ROUND_HALF_UP)


def _in_row(credit: dict[str, Any]) -> bool:
    kind = credit.get("type")
    if not kind:  # exports before September 2020: typed by name
        name = str(credit.get("name") or "").lower()
        return name.startswith(
            ("sustained usage discount", "committed usage discount", "free tier")
        )
    return str(kind).upper() in IN_ROW


def _array(text: str) -> list[dict[str, Any]]:
    """A repeated field written as JSON or as a Python literal (pandas)."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = ast.literal_eval(text)
    return list(value or [])


def records(path: Path) -> list[dict[str, Any]]:
    """Native rows as (account, month, cost, cost_at_list, credits) records."""
    out = []
    if path.suffix == ".jsonl":
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line, parse_float=Decimal)
            out.append(
                {
                    "account": r["billing_account_id"],
                    "month": r["invoice"]["month"],
                    "cost": r["cost"],
                    "cost_at_list": r.get("cost_at_list"),
                    "credits": r["credits"],
                }
            )
        return out
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out.append(
                {
                    "account": r["billing_account_id"],
                    "month": r["invoice.month"],
                    "cost": r["cost"],
                    "cost_at_list": r.get("cost_at_list") or None,
                    "credits": _array(r["credits"]),
                }
            )
    return out


def native_totals(recs: list[dict[str, Any]]) -> dict[tuple[str, str, str], Decimal]:
    """(account, period start, FOCUS column) → the native total it must equal."""
    out: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for r in recs:
        period = f"{r['month'][:4]}-{r['month'][4:]}-01T00:00:00Z"
        cost = _money(r["cost"])
        credits_all = sum((_money(c["amount"]) for c in r["credits"]), D0)
        credits_rows = sum((_money(c["amount"]) for c in r["credits"] if not _in_row(c)), D0)
        listed = _money(r["cost_at_list"]) if r["cost_at_list"] is not None else cost
        out[(r["account"], period, "BilledCost")] += cost + credits_all
        out[(r["account"], period, "EffectiveCost")] += cost + credits_all
        out[(r["account"], period, "ListCost")] += listed + credits_rows
        out[(r["account"], period, "ContractedCost")] += cost + credits_rows
    return dict(out)


def focus_rows(recs: list[dict[str, Any]]) -> int:
    """Rows the load must hold: one per native row plus one per Credit-row credit."""
    return len(recs) + sum(1 for r in recs for c in r["credits"] if not _in_row(c))


def assert_reconciled(out: dict[str, Any], expected: dict[tuple[str, str, str], Decimal]) -> None:
    """Every measure of every slice reconciled and equal to the independent totals."""
    seen = {}
    for m in out["reconciliation"]:
        assert m["format"] == "gcp-billing-export"
        assert m["reconciled"] is True
        key = (m["billing_account_id"], m["billing_period_start"], m["focus_column"])
        seen[key] = (Decimal(m["native_total"]), Decimal(m["focus_total"]))
    assert set(seen) == set(expected)
    for key, total in expected.items():
        assert seen[key] == (total, total), key


CSV_SAMPLES = [
    ("tmp_example.csv", 292, 0),
    ("evidence-2020-11-16.csv", 224, 38),
    ("202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv", 25, 8),
    ("2022-08-01_5.csv", 9, 0),
    ("2024-03-01_5.csv", 6, 0),
]


@pytest.mark.parametrize(("name", "native", "credit_rows"), CSV_SAMPLES)
def test_koku_csv_samples_reconcile(
    cli: Cli, loaded: Loaded, name: str, native: int, credit_rows: int
) -> None:
    sample = FIXTURES / name
    recs = records(sample)
    assert len(recs) == native
    ws, out = loaded(sample)
    (f,) = out["files"]
    assert f["format"] == "gcp-billing-export"
    assert f["rows"] == focus_rows(recs) == native + credit_rows
    assert sum(s["rows"] for s in out["loads"]) == f["rows"]
    assert_reconciled(out, native_totals(recs))
    credits = sql(
        cli,
        ws,
        "SELECT count(*) AS n, coalesce(sum(BilledCost), 0) AS total, "
        "count(*) FILTER (WHERE x_CreditType = 'PROMOTION') AS promo "
        "FROM charges WHERE ChargeCategory = 'Credit'",
    )[0]
    assert (credits["n"], credits["promo"]) == (credit_rows, credit_rows)


def test_free_trial_credits_cancel_the_charges(cli: Cli, loaded: Loaded) -> None:
    ws, out = loaded(FIXTURES / "evidence-2020-11-16.csv")
    (load,) = out["loads"]
    assert Decimal(load["billed_cost"]) == 0  # the free trial paid for everything
    rows = sql(
        cli,
        ws,
        "SELECT ServiceName, ServiceCategory, ServiceSubcategory, ChargeCategory, "
        "sum(BilledCost) AS billed, count(*) AS n FROM charges GROUP BY ALL ORDER BY ALL",
    )
    by = {(r["ServiceName"], r["ChargeCategory"]): r for r in rows}
    logging = by[("Stackdriver Logging", "Usage")]
    assert (logging["ServiceCategory"], logging["ServiceSubcategory"]) == (
        "Management and Governance",
        "Observability",
    )
    assert by[("Security Command Center", "Credit")]["ServiceCategory"] == "Security"
    usage = sum(Decimal(r["billed"]) for r in rows if r["ChargeCategory"] == "Usage")
    credit = sum(Decimal(r["billed"]) for r in rows if r["ChargeCategory"] == "Credit")
    assert usage == -credit == Decimal("0.000183")


def test_labels_regions_and_bad_charge_periods(cli: Cli, loaded: Loaded) -> None:
    ws, out = loaded(FIXTURES / "tmp_example.csv")
    # koku's file has 9 rows ending before they start: kept, and reported.
    (issue,) = out["issues"]
    assert (issue["rule"], issue["rows"], issue["first_rows"][:2]) == (
        "ChargePeriod-half-open",
        9,
        [87, 94],
    )
    (row,) = sql(
        cli,
        ws,
        "SELECT Tags, x_ProjectLabels, RegionId, RegionName, SubAccountId, PricingUnit "
        "FROM charges WHERE x_SourceRow = 42",
    )
    assert json.loads(row["Tags"]) == {
        "compute.googleapis.com/cores": "2",
        "compute.googleapis.com/machine_spec": "e2-medium",
        "compute.googleapis.com/memory": "4096",
    }
    assert json.loads(row["x_ProjectLabels"]) == {"foo": "bar"}
    assert (row["RegionId"], row["RegionName"], row["SubAccountId"], row["PricingUnit"]) == (
        "us-central1",
        "Iowa",
        "test-proj-id-2",
        "GiB-Hours",
    )


def test_detailed_export_resources_and_two_invoice_months(cli: Cli, loaded: Loaded) -> None:
    ws, out = loaded(FIXTURES / "2024-03-01_5.csv")
    assert sorted(s["billing_period_start"] for s in out["loads"]) == [
        "2024-02-01T00:00:00Z",
        "2024-03-01T00:00:00Z",
    ]
    rows = sql(cli, ws, "SELECT DISTINCT ResourceId, ResourceName FROM charges")
    assert rows == [{"ResourceId": "//example", "ResourceName": "instance-1"}]


def _focus_dump(cli: Cli, ws: Path) -> str:
    columns = (
        "x_SourceRow, BillingAccountId, BillingPeriodStart, ChargePeriodStart, ChargeCategory, "
        "ChargeClass, ChargeFrequency, ChargeDescription, BilledCost, EffectiveCost, ListCost, "
        "ContractedCost, ListUnitPrice, ContractedUnitPrice, PricingQuantity, PricingUnit, "
        "ConsumedQuantity, ConsumedUnit, PricingCategory, CommitmentDiscountId, "
        "CommitmentDiscountCategory, CommitmentDiscountStatus, BillingCurrency, SubAccountId, "
        "ServiceName, ServiceCategory, ServiceSubcategory, SkuId, RegionId, RegionName, "
        "AvailabilityZone, ResourceId, ResourceName, PublisherName, Tags, x_ProjectLabels, "
        "x_CreditType, x_AdjustmentType"
    )
    done = cli(
        "sql",
        "-w",
        ws,
        "--csv",
        f"SELECT {columns} FROM charges ORDER BY x_SourceRow, ChargeCategory = 'Credit', "
        "BilledCost",
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _golden(path: Path, actual: str) -> None:
    if os.environ.get("COSTLOOP_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; see tests/golden/README.md"
    assert actual == path.read_text(encoding="utf-8"), f"{path} differs; regenerate and review"


def test_bigquery_json_lines_export(cli: Cli, loaded: Loaded) -> None:
    recs = records(JSONL)
    ws, out = loaded(JSONL)
    (f,) = out["files"]
    assert f["rows"] == focus_rows(recs) == 16 + 3
    assert_reconciled(out, native_totals(recs))
    # Tax, goodwill and rounding lines span Google's Pacific-time month: kept and reported.
    (issue,) = out["issues"]
    assert (issue["rule"], issue["first_rows"]) == ("ChargePeriod-within-BillingPeriod", [7, 9, 10])
    dump = _focus_dump(cli, ws)
    _golden(GOLDEN / "billing_export_detailed.csv", dump)
    rows = list(csv.DictReader(dump.splitlines()))
    by_row: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_row[r["x_SourceRow"]].append(r)
    # A committed-use credit makes the covered usage free and committed.
    (ram,) = by_row["2"]
    assert (Decimal(ram["BilledCost"]), Decimal(ram["ListCost"])) == (0, Decimal("0.011694"))
    assert (ram["PricingCategory"], ram["CommitmentDiscountStatus"]) == ("Committed", "Used")
    (fee,) = by_row["3"]
    assert (fee["ChargeCategory"], fee["CommitmentDiscountId"]) == (
        "Purchase",
        "769c55ea-c50f-4258-bcf5-04b6688fa5fa",
    )
    # The free-trial promotion and the spending-based discount are Credit rows.
    assert [r["ChargeCategory"] for r in by_row["5"]] == ["Usage", "Credit"]
    assert sorted(r["x_CreditType"] for r in by_row["6"] if r["x_CreditType"]) == [
        "DISCOUNT",
        "PROMOTION",
    ]
    assert [(r["ChargeCategory"], r["ChargeClass"]) for r in by_row["8"]] == [
        ("Usage", "Correction")
    ]
    assert by_row["9"][0]["ChargeCategory"] == "Credit"  # goodwill
    assert by_row["10"][0]["ChargeCategory"] == "Adjustment"  # rounding error
    assert by_row["7"][0]["ChargeCategory"] == "Tax"
    assert by_row["11"][0]["PublisherName"] == "Elasticsearch B.V."
    assert json.loads(by_row["12"][0]["Tags"]) == {
        "env": "batch",
        "821092389413/cost_center": "android_mobile_apps",
    }
    assert by_row["12"][0]["PricingCategory"] == "Dynamic"
    assert by_row["14"][0]["BillingCurrency"] == "EUR"


def _parquet_from_jsonl(target: Path) -> None:
    """The JSON lines rows as ``bq extract --destination_format=PARQUET`` types them."""
    s, f64, ts = pa.string(), pa.float64(), pa.timestamp("us", tz="UTC")
    numeric = pa.decimal128(38, 9)
    kv = pa.list_(pa.struct([("key", s), ("value", s)]))
    schema = pa.schema(
        [
            ("billing_account_id", s),
            ("service", pa.struct([("id", s), ("description", s)])),
            ("sku", pa.struct([("id", s), ("description", s)])),
            ("usage_start_time", ts),
            ("usage_end_time", ts),
            (
                "project",
                pa.struct(
                    [
                        ("id", s),
                        ("number", s),
                        ("name", s),
                        ("labels", kv),
                        ("ancestry_numbers", s),
                        (
                            "ancestors",
                            pa.list_(pa.struct([("resource_name", s), ("display_name", s)])),
                        ),
                    ]
                ),
            ),
            ("labels", kv),
            ("system_labels", kv),
            (
                "location",
                pa.struct([("location", s), ("country", s), ("region", s), ("zone", s)]),
            ),
            ("resource", pa.struct([("name", s), ("global_name", s)])),
            (
                "tags",
                pa.list_(
                    pa.struct(
                        [("key", s), ("value", s), ("inherited", pa.bool_()), ("namespace", s)]
                    )
                ),
            ),
            (
                "price",
                pa.struct(
                    [
                        ("effective_price", numeric),
                        ("tier_start_amount", numeric),
                        ("unit", s),
                        ("pricing_unit_quantity", numeric),
                        ("list_price", numeric),
                    ]
                ),
            ),
            ("subscription", pa.struct([("instance_id", s)])),
            ("transaction_type", s),
            ("seller_name", s),
            ("export_time", ts),
            ("cost", f64),
            ("currency", s),
            ("currency_conversion_rate", f64),
            (
                "usage",
                pa.struct(
                    [
                        ("amount", f64),
                        ("unit", s),
                        ("amount_in_pricing_units", f64),
                        ("pricing_unit", s),
                    ]
                ),
            ),
            (
                "credits",
                pa.list_(
                    pa.struct(
                        [("name", s), ("amount", f64), ("full_name", s), ("id", s), ("type", s)]
                    )
                ),
            ),
            ("invoice", pa.struct([("month", s), ("publisher_type", s)])),
            ("cost_type", s),
            (
                "adjustment_info",
                pa.struct([("id", s), ("description", s), ("mode", s), ("type", s)]),
            ),
            ("cost_at_list", f64),
        ]
    )

    def when(text: str) -> datetime:
        return datetime.fromisoformat(text.replace(" UTC", "+00:00")).astimezone(UTC)

    rows = []
    for line in JSONL.read_text(encoding="utf-8").splitlines():
        r = json.loads(line, parse_float=Decimal)
        for key in ("usage_start_time", "usage_end_time", "export_time"):
            r[key] = when(r[key])
        for key in ("cost", "cost_at_list", "currency_conversion_rate"):
            r[key] = None if r.get(key) is None else float(r[key])
        r["usage"] = {k: float(v) if isinstance(v, Decimal) else v for k, v in r["usage"].items()}
        r["credits"] = [{**c, "amount": float(c["amount"])} for c in r["credits"]]
        if r.get("price"):
            r["price"] = {
                k: Decimal(v) if k != "unit" and v is not None else v for k, v in r["price"].items()
            }
        rows.append(r)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), target)


def test_bigquery_parquet_export_maps_like_json_lines(
    cli: Cli, loaded: Loaded, tmp_path: Path
) -> None:
    parquet = tmp_path / "gcp_billing_export_resource_v1.parquet"
    _parquet_from_jsonl(parquet)
    recs = records(JSONL)
    out = ingest(cli, tmp_path / "ws_parquet", parquet)
    (f,) = out["files"]
    assert (f["format"], f["rows"]) == ("gcp-billing-export", focus_rows(recs))
    assert_reconciled(out, native_totals(recs))
    # Struct and list columns read from Parquet give the very FOCUS rows of the JSON lines.
    jsonl_ws, _ = loaded(JSONL)
    assert _focus_dump(cli, tmp_path / "ws_parquet") == _focus_dump(cli, jsonl_ws)


def test_catalog_api_sku_list_is_not_a_bill(cli: Cli, tmp_path: Path) -> None:
    """opencost's skus.json is a Cloud Billing Catalog API response: refused, nothing loaded."""
    ws = tmp_path / "ws"
    assert cli("init", ws).returncode == 0
    done = cli("ingest", "-w", ws, FIXTURES / "opencost_skus.json")
    assert done.returncode == 2
    assert "opencost_skus.json" in done.stderr
    assert sql(cli, ws, "SELECT count(*) AS n FROM charges") == [{"n": 0}]
