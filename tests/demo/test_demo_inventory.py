"""Inventory and utilization agree with the bill, and the planted waste is findable."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from demo_helpers import tags

from costloop.core.datasets import INVENTORY_COLUMNS, UTILIZATION_COLUMNS
from costloop.demo import EstateManifest

SNAPSHOT = datetime(2026, 11, 1)


def _stats(utilization: list[dict[str, str]]) -> dict[tuple[str, str, str], float]:
    """Max over the 90 days of each (resource, metric, statistic)."""
    out: dict[tuple[str, str, str], float] = defaultdict(float)
    for row in utilization:
        key = (row["resource_id"], row["metric"], row["statistic"])
        out[key] = max(out[key], float(row["value"]))
    return out


def test_columns_follow_the_documented_schemas(estate: EstateManifest) -> None:
    inv_header = estate.inventory_file.read_text().split("\n", 1)[0].split(",")
    util_header = estate.utilization_file.read_text().split("\n", 1)[0].split(",")
    assert inv_header == [name for name, _ in INVENTORY_COLUMNS]
    assert util_header == [name for name, _ in UTILIZATION_COLUMNS]


def test_billing_resources_are_the_inventory_resources(
    billing: list[dict[str, str]], inventory: list[dict[str, str]]
) -> None:
    inventory_ids = {r["resource_id"] for r in inventory}
    assert len(inventory_ids) == len(inventory)
    commitments = {r["CommitmentDiscountId"] for r in billing if r["CommitmentDiscountId"]}
    billed = {r["ResourceId"] for r in billing if r["ResourceId"]}
    assert billed - commitments == inventory_ids
    names = {(r["ResourceId"], r["ResourceName"]) for r in billing if r["ResourceId"]}
    assert {(r["resource_id"], r["resource_name"]) for r in inventory} <= names


def test_utilization_is_daily_for_compute_storage_and_databases(
    inventory: list[dict[str, str]], utilization: list[dict[str, str]]
) -> None:
    kinds = {r["resource_id"]: r["resource_type"] for r in inventory}
    by_resource: dict[str, set[str]] = defaultdict(set)
    for row in utilization:
        assert row["ts"].endswith("T00:00:00Z")
        by_resource[row["resource_id"]].add(f"{row['metric']}/{row['statistic']}")
    for rid, kind in kinds.items():
        if kind in ("instance", "database"):
            assert by_resource[rid] == {
                f"{m}/{s}" for m in ("cpu", "memory") for s in ("avg", "max", "p95", "p99")
            }
        elif kind == "volume":
            assert by_resource[rid] == {f"disk_iops/{s}" for s in ("avg", "max", "p95", "p99")}
    days = {r["ts"] for r in utilization}
    assert len(days) == 90
    assert max(days) == "2026-10-31T00:00:00Z"


def test_planted_waste(inventory: list[dict[str, str]], utilization: list[dict[str, str]]) -> None:
    stats = _stats(utilization)
    by_name = {r["resource_name"]: r for r in inventory}

    idle = [
        r
        for r in inventory
        if r["resource_type"] == "instance" and stats[(r["resource_id"], "cpu", "p95")] < 3
    ]
    assert {"legacy-resizer", "jenkins", "marketing-preview"} <= {r["resource_name"] for r in idle}

    for name in ("checkout-api-1", "checkout-api-2"):
        r = by_name[name]
        assert r["size"] == "m5.2xlarge"
        assert 15 <= stats[(r["resource_id"], "cpu", "p99")] <= 30
        assert stats[(r["resource_id"], "memory", "p99")] <= 40
        assert r["iac_address"].startswith("aws_instance.checkout_api[")

    unattached = [
        r for r in inventory if r["resource_type"] == "volume" and r["state"] == "available"
    ]
    assert len(unattached) >= 3 and all(r["attached_to"] == "" for r in unattached)
    ips = [
        r for r in inventory if r["resource_type"] == "ip-address" and r["state"] == "unassociated"
    ]
    assert len(ips) >= 2 and all(r["resource_id"].startswith("eipalloc-0") for r in ips)
    old = [
        r
        for r in inventory
        if r["resource_type"] == "snapshot"
        and datetime.fromisoformat(r["created_at"][:19]) < SNAPSHOT - timedelta(days=180)
    ]
    assert len(old) >= 3
    gp2 = [r for r in inventory if r["resource_type"] == "volume" and r["size"] == "gp2"]
    assert len(gp2) >= 5
    staging = [
        r
        for r in inventory
        if r["resource_type"] == "instance"
        and tags(r).get("env", tags(r).get("Environment")) in ("staging", "stg")
    ]
    assert staging and all(r["state"] == "running" for r in staging)
    assert by_name["reporting-batch"]["size"] == "m4.xlarge"
    assert {r["resource_type"] for r in inventory} >= {
        "instance",
        "volume",
        "ip-address",
        "snapshot",
        "database",
        "bucket",
        "cluster",
        "nat-gateway",
        "function",
        "load-balancer",
    }


def test_busy_resources_stay_busy(
    inventory: list[dict[str, str]], utilization: list[dict[str, str]]
) -> None:
    stats = _stats(utilization)
    busy = [
        r
        for r in inventory
        if r["resource_name"].startswith("storefront-web") and r["resource_type"] == "instance"
    ]
    assert busy and all(stats[(r["resource_id"], "cpu", "p95")] > 50 for r in busy)


def test_idle_instances_still_bill_every_hour(
    billing: list[dict[str, str]], inventory: list[dict[str, str]]
) -> None:
    rid = next(r["resource_id"] for r in inventory if r["resource_name"] == "jenkins")
    hours = [
        Decimal(r["PricingQuantity"])
        for r in billing
        if r["ResourceId"] == rid and r["PricingUnit"] == "Hours"
    ]
    assert hours and set(hours) == {Decimal(24)}
