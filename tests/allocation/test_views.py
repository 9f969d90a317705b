"""Warehouse views over allocated_charges: showback_monthly, allocation_coverage,
shared_cost_splits — created by allocation, readable with plain SQL."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from tests.allocation.conftest import load_bill, new_workspace, run_allocation

from costloop.testing import charge
from costloop.warehouse.query import run_sql

ALLOCATION = """
dimensions:
  env:
    values: [prod, dev]
pools:
  - name: support
    match: {service: [AWS Support]}
    method: fixed
    shares: {checkout: 75, platform: 25}
"""


def test_views_sum_to_the_source_and_show_rules_and_splits(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws", ALLOCATION)
    day = datetime(2026, 3, 5)
    load_bill(
        ws,
        [
            charge(day, "10.00", tags={"team": "checkout", "env": "prod"}),
            charge(day, "4.00", account="222222222222", resource_id="i-2"),
            charge(day, "1.01", service="AWS Support", resource_id=None),
        ],
    )
    run_allocation(ws)
    showback = run_sql(
        ws.lake,
        "SELECT team, env, sum(EffectiveCost) FROM showback_monthly GROUP BY ALL ORDER BY 1, 2",
    ).rows
    assert showback == [
        ("checkout", "prod", Decimal("10.00")),
        ("checkout", "unallocated", Decimal("0.76")),
        ("platform", "unallocated", Decimal("4.25")),
    ]
    coverage = run_sql(
        ws.lake,
        "SELECT dimension, source, EffectiveCost FROM allocation_coverage ORDER BY 1, 2",
    ).rows
    assert coverage == [
        ("env", "tag", Decimal("10.00")),
        ("env", "unallocated", Decimal("5.01")),
        ("team", "account", Decimal("4.00")),
        ("team", "shared", Decimal("1.01")),
        ("team", "tag", Decimal("10.00")),
    ]
    splits = run_sql(
        ws.lake,
        "SELECT team, EffectiveCost, x_AllocationRatio, x_SourceRow FROM shared_cost_splits "
        "ORDER BY 1",
    ).rows
    assert splits == [
        ("checkout", Decimal("0.76"), Decimal("0.75"), 3),
        ("platform", Decimal("0.25"), Decimal("0.25"), 3),
    ]
