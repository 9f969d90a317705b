"""The demo's OpenCost export of stride-prod: loads, covers every day, matches the nodes."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from demo_helpers import charge_day, tags

from costloop.connectors.opencost import read_opencost
from costloop.demo import EstateManifest
from costloop.warehouse.k8s_load import load_k8s_allocation
from costloop.workspace import Workspace

NAMESPACES = {"checkout", "catalog", "search", "data-pipelines", "kube-system", "__idle__"}


def _node_list_cost(billing: list[dict[str, str]]) -> dict[date, Decimal]:
    """ListCost of the stride-prod node instance-hours in the bill, per day."""
    out: dict[date, Decimal] = defaultdict(Decimal)
    for row in billing:
        if (
            row["ServiceName"] == "Amazon Elastic Compute Cloud"
            and row["ResourceType"] == "Virtual Machine"
            and row["ChargeCategory"] == "Usage"
            and tags(row).get("aws:eks:cluster-name") == "stride-prod"
        ):
            out[charge_day(row)] += Decimal(row["ListCost"])
    return out


def test_export_loads_and_covers_every_estate_day(estate: EstateManifest, workspace: Path) -> None:
    assert estate.kubernetes_file == estate.out / "kubernetes" / "opencost-allocation.json"
    assert EstateManifest.read(estate.out).kubernetes_file == estate.kubernetes_file
    done = load_k8s_allocation(Workspace.open(workspace).lake, estate.kubernetes_file)
    first = estate.start_month.start.date()
    last = estate.end_month.end.date() - timedelta(days=1)
    assert (done.first_window.date(), done.last_window.date()) == (first, last)
    assert done.windows == done.days == (last - first).days + 1 == 92  # Aug-Oct 2026
    assert done.rows == 92 * 6 and done.namespaces == 6 and done.clusters == ("stride-prod",)


def test_namespace_costs_divide_the_node_cost_of_each_day(
    estate: EstateManifest, billing: list[dict[str, str]]
) -> None:
    assert estate.kubernetes_file is not None
    nodes = _node_list_cost(billing)
    rows = read_opencost(estate.kubernetes_file).to_pylist()
    assert {r["namespace"] for r in rows} == NAMESPACES
    compute: dict[date, Decimal] = defaultdict(Decimal)
    total: dict[date, Decimal] = defaultdict(Decimal)
    idle: dict[date, Decimal] = {}
    for r in rows:
        day = r["window_start"].date()
        compute[day] += r["cpu_cost"] + r["ram_cost"]
        total[day] += r["total_cost"]
        if r["namespace"] == "__idle__":
            idle[day] = r["total_cost"]
    window_days = {d for d in nodes if d < estate.end_month.next().start.date()}
    assert set(compute) == window_days
    # CPU + RAM of the namespaces and __idle__ is exactly the nodes' on-demand cost;
    # volumes and egress come on top, so a day's total is a little higher.
    assert all(compute[d] == nodes[d] for d in window_days)
    assert all(nodes[d] < total[d] < nodes[d] * Decimal("1.03") for d in window_days)
    assert all(Decimal("0.05") < idle[d] / nodes[d] < Decimal("0.40") for d in window_days)


def test_export_is_the_documented_api_shape(estate: EstateManifest) -> None:
    assert estate.kubernetes_file is not None
    doc = json.loads(estate.kubernetes_file.read_text())
    assert doc["code"] == 200 and len(doc["data"]) == 92
    checkout = doc["data"][0]["checkout"]
    assert checkout["properties"] == {"cluster": "stride-prod", "namespace": "checkout"}
    assert checkout["window"] == {"start": "2026-08-01T00:00:00Z", "end": "2026-08-02T00:00:00Z"}
    assert "namespace" not in doc["data"][0]["__idle__"]["properties"]
