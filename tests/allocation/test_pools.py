"""Shared-cost pools: methods, exact splits, FOCUS 1.3 split columns, notes, the invariant."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.allocation.conftest import (
    OPENCOST,
    allocated_rows,
    load_bill,
    load_business_metrics,
    new_workspace,
    run_allocation,
    set_allocation,
    sums_by_slice,
)
from tests.conftest import Cli

from costloop.allocation import AllocationResult
from costloop.core.errors import InputError
from costloop.testing import charge
from costloop.warehouse.engine import open_engine
from costloop.warehouse.k8s_load import load_k8s_allocation
from costloop.workspace import Workspace

POOLS = """
pools:
  - name: first
    match: {account: ["500000000009"]}
    method: fixed
    shares: {search: 100}
  - name: shared-proportional
    match: {account: ["500000000001", "500000000009"]}
    method: proportional
  - name: shared-even
    match: {account: ["500000000002"]}
    method: even
    targets: [checkout, platform, search]
  - name: shared-even-default
    match: {account: ["500000000003"]}
    method: even
  - name: shared-fixed
    match: {account: ["500000000004"]}
    method: fixed
    shares: {checkout: 70, platform: 20, search: 10}
  - name: untagged-support
    match: {service: ["AWS Support"], unallocated: true}
    method: even
    targets: [checkout, platform]
  - name: search-only
    match: {account: ["500000000005"]}
    method: proportional
    targets: [search]
"""

JAN, FEB, MAR, APR = (datetime(2026, m, 3) for m in (1, 2, 3, 4))
USD, JPY = "999999999999", "888888888888"


def pooled(rid: str, day: datetime, cost: str, account: str, **fields: Any) -> dict[str, str]:
    return charge(day, cost, account=account, resource_id=rid, **fields)


def direct(rid: str, day: datetime, cost: str, team: str, **fields: Any) -> dict[str, str]:
    return charge(day, cost, resource_id=rid, tags={"team": team}, **fields)


def jpy(row: dict[str, str]) -> dict[str, str]:
    return {**row, "BillingAccountId": JPY, "BillingCurrency": "JPY"}


BILL = [
    # January: direct EffectiveCost checkout 60.00, platform 40.00 → proportional 60/40
    # (BilledCost 75.00 / 25.00 does not count)
    direct("d-jan-1", JAN, "75.00", "checkout", effective="60.00"),
    direct("d-jan-2", JAN, "25.00", "platform", effective="40.00"),
    pooled(
        "p-jan-100",
        JAN,
        "100.00",
        "500000000001",
        effective="90.00",
        ListCost="120.00",
        ContractedCost="110.00",
    ),
    pooled("p-jan-credit", JAN, "-10.00", "500000000001", charge_category="Credit"),
    pooled("p-jan-cent", JAN, "0.01", "500000000001"),
    pooled("p-jan-subcent", JAN, "0.001", "500000000001"),
    pooled("p-jan-first", JAN, "7.00", "500000000009"),  # matches two pools: the first wins
    # February: three equal USD values; JPY weighs by JPY cost only (2000 : 1000)
    direct("d-feb-1", FEB, "10.00", "checkout"),
    direct("d-feb-2", FEB, "10.00", "platform"),
    direct("d-feb-3", FEB, "10.00", "search"),
    pooled("p-feb-thirds", FEB, "100.00", "500000000001"),
    pooled("p-feb-tiny", FEB, "0.005", "500000000001"),
    jpy(direct("d-feb-jpy-1", FEB, "2000", "checkout")),
    jpy(direct("d-feb-jpy-2", FEB, "1000", "platform")),
    jpy(pooled("p-feb-yen", FEB, "1000", "500000000001")),
    jpy(pooled("p-feb-yen-credit", FEB, "-1001", "500000000001")),
    jpy(pooled("p-feb-yen-fraction", FEB, "100.5", "500000000001")),
    # March: even, fixed, unallocated-only pools; a pool with no weights
    direct("d-mar-1", MAR, "30.00", "checkout"),
    direct("d-mar-2", MAR, "10.00", "platform"),
    pooled("p-mar-even", MAR, "100.00", "500000000002"),
    pooled("p-mar-even-default", MAR, "0.05", "500000000003"),
    pooled("p-mar-fixed", MAR, "10.00", "500000000004"),
    pooled("p-mar-fixed-cents", MAR, "0.07", "500000000004"),
    direct("d-mar-support", MAR, "3.00", "checkout", service="AWS Support"),
    pooled("p-mar-support", MAR, "1.00", "500000000000", service="AWS Support"),
    pooled("p-mar-search-only", MAR, "5.00", "500000000005"),
    # April: nothing direct, so proportional and default-even pools cannot split
    pooled("p-apr-proportional", APR, "50.00", "500000000001"),
    pooled("p-apr-even", APR, "20.00", "500000000003", tags={"team": "search"}),
    pooled("p-apr-fixed", APR, "10.00", "500000000004"),
]


class Estate:
    """One workspace with every non-metric pool, allocated once for the module."""

    def __init__(self, ws: Workspace, results: list[AllocationResult]) -> None:
        self.ws = ws
        self.results = results
        self.rows = allocated_rows(ws)

    def parts(self, rid: str, column: str = "BilledCost") -> list[tuple[str, Decimal]]:
        """(team, amount) of each row of one charge, in target id order."""
        return [(r["team"], r[column]) for r in self.rows if r["ResourceId"] == rid]

    def only(self, rid: str) -> dict[str, Any]:
        [row] = [r for r in self.rows if r["ResourceId"] == rid]
        return row

    def notes(self, period: datetime) -> dict[tuple[str, str], Any]:
        [result] = [r for r in self.results if r.period == period.replace(day=1)]
        return {(n.pool, n.currency): n for n in result.pools}


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    ws = new_workspace(tmp_path_factory.mktemp("pools") / "ws", POOLS)
    load_bill(ws, BILL)
    return Estate(ws, run_allocation(ws))


D = Decimal

SPLITS = [
    ("p-jan-100", "BilledCost", [("checkout", D("60.00")), ("platform", D("40.00"))]),
    ("p-jan-100", "EffectiveCost", [("checkout", D("54.00")), ("platform", D("36.00"))]),
    ("p-jan-100", "ListCost", [("checkout", D("72.00")), ("platform", D("48.00"))]),
    ("p-jan-100", "ContractedCost", [("checkout", D("66.00")), ("platform", D("44.00"))]),
    ("p-jan-credit", "BilledCost", [("checkout", D("-6.00")), ("platform", D("-4.00"))]),
    # 0.006 and 0.004 round down to 0.00; the cent left goes to the largest remainder
    ("p-jan-cent", "BilledCost", [("checkout", D("0.01")), ("platform", D("0.00"))]),
    # not a whole number of cents: split at 18 places
    ("p-jan-subcent", "BilledCost", [("checkout", D("0.0006")), ("platform", D("0.0004"))]),
    ("p-jan-first", "BilledCost", [("search", D("7.00"))]),
    # ratios 0.333333334 / 0.333333333 / 0.333333333: the extra cent to the first target
    (
        "p-feb-thirds",
        "BilledCost",
        [("checkout", D("33.34")), ("platform", D("33.33")), ("search", D("33.33"))],
    ),
    (
        "p-feb-tiny",
        "BilledCost",
        [
            ("checkout", D("0.00166666667")),
            ("platform", D("0.001666666665")),
            ("search", D("0.001666666665")),
        ],
    ),
    # JPY: whole yen, weights 2000 : 1000 of JPY cost only (ratios .666666667/.333333333)
    ("p-feb-yen", "BilledCost", [("checkout", D("667")), ("platform", D("333"))]),
    # 667.333… and 333.666… round down to 667 + 333; the yen left goes to platform (.666)
    ("p-feb-yen-credit", "BilledCost", [("checkout", D("-667")), ("platform", D("-334"))]),
    (
        "p-feb-yen-fraction",
        "BilledCost",
        [("checkout", D("67.0000000335")), ("platform", D("33.4999999665"))],
    ),
    (
        "p-mar-even",
        "BilledCost",
        [("checkout", D("33.34")), ("platform", D("33.33")), ("search", D("33.33"))],
    ),
    # values with direct cost in March (checkout, platform): 0.025 each, tie → first id
    ("p-mar-even-default", "BilledCost", [("checkout", D("0.03")), ("platform", D("0.02"))]),
    (
        "p-mar-fixed",
        "BilledCost",
        [("checkout", D("7.00")), ("platform", D("2.00")), ("search", D("1.00"))],
    ),
    # 0.049 / 0.014 / 0.007 → 0.04 / 0.01 / 0.00, the two cents left to .009 and .007
    (
        "p-mar-fixed-cents",
        "BilledCost",
        [("checkout", D("0.05")), ("platform", D("0.01")), ("search", D("0.01"))],
    ),
    ("p-mar-support", "BilledCost", [("checkout", D("0.50")), ("platform", D("0.50"))]),
    (
        "p-apr-fixed",
        "BilledCost",
        [("checkout", D("7.00")), ("platform", D("2.00")), ("search", D("1.00"))],
    ),
]


@pytest.mark.parametrize(
    ("rid", "column", "expected"), SPLITS, ids=[f"{s[0]}-{s[1]}" for s in SPLITS]
)
def test_split_amounts(
    estate: Estate, rid: str, column: str, expected: list[tuple[str, Decimal]]
) -> None:
    parts = estate.parts(rid, column)
    assert parts == expected
    assert [str(a.normalize()) for _, a in parts] == [
        str(a.normalize()) for _, a in expected
    ]  # to the last digit
    for row in (r for r in estate.rows if r["ResourceId"] == rid):
        assert row["team_source"] == "shared"


def test_split_rows_carry_the_focus_allocation_columns(estate: Estate) -> None:
    checkout, platform = (r for r in estate.rows if r["ResourceId"] == "p-jan-100")
    assert checkout["AllocatedMethodId"] == "costloop:proportional"
    assert checkout["AllocatedResourceId"] == checkout["AllocatedResourceName"] == "checkout"
    assert json.loads(checkout["AllocatedTags"]) == {"team": "checkout"}
    assert checkout["x_AllocationPool"] == "shared-proportional"
    assert checkout["x_AllocationRatio"] == Decimal("0.6")
    assert json.loads(checkout["AllocatedMethodDetails"]) == {
        "Elements": [
            {
                "AllocatedRatio": 0.6,
                "x_AllocatedRatio": "0.600000000",
                "x_Pool": "shared-proportional",
                "x_Method": "proportional",
                "x_Dimension": "team",
                "x_Value": "checkout",
            }
        ]
    }
    assert (platform["x_AllocationRatio"], platform["AllocatedResourceId"]) == (
        Decimal("0.4"),
        "platform",
    )
    fixed = [r for r in estate.rows if r["ResourceId"] == "p-mar-fixed"]
    assert {r["AllocatedMethodId"] for r in fixed} == {"costloop:fixed"}
    even = [r for r in estate.rows if r["ResourceId"] == "p-mar-even"]
    assert [r["x_AllocationRatio"] for r in even] == [
        Decimal("0.333333334"),
        Decimal("0.333333333"),
        Decimal("0.333333333"),
    ]
    assert {r["AllocatedMethodId"] for r in even} == {"costloop:even"}


def test_direct_rows_have_no_split_columns(estate: Estate) -> None:
    row = estate.only("d-jan-1")
    assert (row["team"], row["team_source"], row["x_AllocationRatio"]) == (
        "checkout",
        "tag",
        Decimal(1),
    )
    assert [
        row[c]
        for c in (
            "AllocatedMethodId",
            "AllocatedMethodDetails",
            "AllocatedResourceId",
            "AllocatedResourceName",
            "AllocatedTags",
            "x_AllocationPool",
        )
    ] == [None] * 6


def test_ratios_of_one_origin_sum_to_one_and_keep_its_lineage(estate: Estate) -> None:
    with open_engine(estate.ws.lake) as engine:
        t = engine.table("charges")
        source = {
            r["ResourceId"]: (r["x_SourceId"], r["x_SourceFile"], r["x_SourceRow"])
            for r in engine.rows(
                t.select("ResourceId", "x_SourceId", "x_SourceFile", "x_SourceRow")
            )
        }
    ratios: dict[str, Decimal] = {}
    for row in estate.rows:
        assert (row["x_SourceId"], row["x_SourceFile"], row["x_SourceRow"]) == source[
            row["ResourceId"]
        ]
        ratios[row["ResourceId"]] = (
            ratios.get(row["ResourceId"], Decimal(0)) + row["x_AllocationRatio"]
        )
    assert set(ratios.values()) == {Decimal(1)}
    assert len(ratios) == len(BILL)
    assert len(estate.rows) == len(BILL) + 21  # the extra rows of the split charges


def test_unallocated_only_pool_leaves_allocated_charges_direct(estate: Estate) -> None:
    row = estate.only("d-mar-support")
    assert (row["team"], row["team_source"], row["x_AllocationPool"]) == (
        "checkout",
        "tag",
        None,
    )
    assert {r["x_AllocationPool"] for r in estate.rows if r["ResourceId"] == "p-mar-support"} == {
        "untagged-support"
    }


def test_pool_without_weights_passes_its_charges_through_whole(estate: Estate) -> None:
    notes = estate.notes(APR)
    assert notes["shared-proportional", "USD"].unsplit_reason == (
        "no direct USD cost in 2026-04 to weigh by"
    )
    assert notes["shared-even-default", "USD"].unsplit_reason == (
        "no team has direct cost in 2026-04"
    )
    assert notes["shared-fixed", "USD"].unsplit_reason is None
    assert notes["shared-fixed", "USD"].targets == 3
    assert estate.notes(MAR)["search-only", "USD"].unsplit_reason == (
        "no direct USD cost in 2026-03 to weigh by"
    )
    for rid, cost, team, source in [
        ("p-apr-proportional", "50.00", "unallocated", "unallocated"),
        ("p-apr-even", "20.00", "search", "tag"),  # keeps the value its own tag gave it
        ("p-mar-search-only", "5.00", "unallocated", "unallocated"),
    ]:
        row = estate.only(rid)
        assert (row["team"], row["team_source"], row["BilledCost"]) == (team, source, D(cost))
        assert (row["x_AllocationPool"], row["AllocatedMethodId"], row["AllocatedTags"]) == (
            None,
            None,
            None,
        )
        assert row["x_AllocationRatio"] == 1


def test_cli_json_reports_what_each_pool_did(estate: Estate, cli_main: Cli) -> None:
    proc = cli_main("allocate", "-w", estate.ws.root, "--period", "2026-04", "--json")
    assert proc.returncode == 0, proc.stderr
    [april] = json.loads(proc.stdout)["periods"]
    assert april["totals"]["BilledCost"] == "80.00"
    assert (april["source_rows"], april["rows"]) == (3, 5)
    assert sorted(april["pools"], key=lambda p: p["pool"]) == [
        {
            "pool": "shared-even-default",
            "currency": "USD",
            "method": "even",
            "targets": 0,
            "not_split": "no team has direct cost in 2026-04",
            "unmapped": [],
            "usage_month": None,
        },
        {
            "pool": "shared-fixed",
            "currency": "USD",
            "method": "fixed",
            "targets": 3,
            "not_split": None,
            "unmapped": [],
            "usage_month": None,
        },
        {
            "pool": "shared-proportional",
            "currency": "USD",
            "method": "proportional",
            "targets": 0,
            "not_split": "no direct USD cost in 2026-04 to weigh by",
            "unmapped": [],
            "usage_month": None,
        },
    ]
    assert allocated_rows(estate.ws) == estate.rows


def test_notes_per_pool_period_and_currency(estate: Estate) -> None:
    feb = estate.notes(FEB)
    assert sorted(feb) == [("shared-proportional", "JPY"), ("shared-proportional", "USD")]
    assert (
        feb["shared-proportional", "JPY"].targets,
        feb["shared-proportional", "USD"].targets,
    ) == (
        2,
        3,
    )
    assert feb["shared-proportional", "USD"].method == "proportional"


def test_sums_equal_the_source_per_period_account_currency_and_column(estate: Estate) -> None:
    source = sums_by_slice(estate.ws, "charges")
    assert sums_by_slice(estate.ws, "allocated_charges") == source
    assert source[datetime(2026, 2, 1), JPY, "JPY"]["BilledCost"] == Decimal("3099.5")
    assert source[datetime(2026, 1, 1), USD, "USD"] == {
        "BilledCost": Decimal("197.011"),
        "EffectiveCost": Decimal("187.011"),
        "ListCost": Decimal("217.011"),
        "ContractedCost": Decimal("207.011"),
    }
    jan = estate.results[0]
    assert jan.totals == source[datetime(2026, 1, 1), USD, "USD"]
    assert (jan.rows, jan.source_rows) == (11, 7)


def test_reallocating_is_idempotent(estate: Estate) -> None:
    again = run_allocation(estate.ws)
    assert allocated_rows(estate.ws) == estate.rows  # same rows, nothing duplicated
    assert [(r.period, r.rows, r.totals) for r in again] == [
        (r.period, r.rows, r.totals) for r in estate.results
    ]


def test_allocating_one_period_leaves_the_others(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws", POOLS)
    load_bill(ws, [r for r in BILL if r["ResourceId"].startswith(("p-mar", "p-apr"))])
    run_allocation(ws)
    before = allocated_rows(ws)
    # A new rule, reallocated for March only: March changes, April does not.
    rule = (
        "rules:\n  - {dimension: team, account: ['500000000005', '500000000001'], value: search}\n"
    )
    ws = set_allocation(ws, POOLS + rule)
    [result] = run_allocation(ws, [datetime(2026, 3, 1)])
    assert result.period == datetime(2026, 3, 1)
    after = allocated_rows(ws)
    assert [
        (r["team"], r["team_source"]) for r in after if r["ResourceId"] == "p-mar-search-only"
    ] == [("search", "account")]
    april = [r for r in after if r["BillingPeriodStart"] == datetime(2026, 4, 1)]
    assert april == [r for r in before if r["BillingPeriodStart"] == datetime(2026, 4, 1)]
    assert [r["team"] for r in april if r["ResourceId"] == "p-apr-proportional"] == [
        "unallocated"
    ]  # would be search (account rule) had April been reallocated
    assert sums_by_slice(ws, "allocated_charges") == sums_by_slice(ws, "charges")


METRIC_POOLS = """
pools:
  - name: eks
    match: {service: ["Amazon Elastic Kubernetes Service"]}
    method: metric
    metric:
      kubernetes:
        cluster: prod-east
        namespaces: {catalog: search}
  - name: eks-staging
    match: {service: ["Amazon EKS Anywhere"]}
    method: metric
    metric: {kubernetes: {cluster: staging-west}}
  - name: support
    match: {service: ["AWS Support"]}
    method: metric
    metric: {business: orders}
"""
EKS = "Amazon Elastic Kubernetes Service"


@pytest.fixture(scope="module")
def metric_estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    ws = new_workspace(tmp_path_factory.mktemp("metric") / "ws", METRIC_POOLS)
    load_bill(
        ws,
        [
            charge(datetime(2026, 10, 9), "100.00", service=EKS, resource_id="eks-oct"),
            charge(datetime(2026, 11, 9), "10.00", service=EKS, resource_id="eks-nov"),
            charge(datetime(2027, 1, 9), "1.00", service=EKS, resource_id="eks-jan"),
            charge(datetime(2027, 2, 9), "1.00", service=EKS, resource_id="eks-feb"),
            charge(
                datetime(2026, 10, 9), "5.00", service="Amazon EKS Anywhere", resource_id="eks-stg"
            ),
            charge(datetime(2026, 10, 9), "80.00", service="AWS Support", resource_id="support"),
        ],
    )
    load_k8s_allocation(ws.lake, OPENCOST / "allocation-namespace-daily.json")
    load_business_metrics(
        ws,
        [
            {"date": "2026-10-05", "metric": "orders", "value": "100", "dimension": "checkout"},
            {"date": "2026-10-06", "metric": "orders", "value": "200", "dimension": "checkout"},
            {"date": "2026-10-06", "metric": "orders", "value": "100", "dimension": "Platform"},
            {"date": "2026-10-07", "metric": "orders", "value": "50", "dimension": "unknown-team"},
            {"date": "2026-09-30", "metric": "orders", "value": "1000", "dimension": "checkout"},
            {"date": "2026-10-07", "metric": "signups", "value": "999", "dimension": "search"},
        ],
    )
    return Estate(ws, run_allocation(ws))


def test_kubernetes_pool_splits_by_namespace_cost(metric_estate: Estate) -> None:
    # October namespace costs: catalog 14.970099 (mapped to search), checkout 23.985872;
    # ratios 0.384282528 / 0.615717472
    rows = [r for r in metric_estate.rows if r["ResourceId"] == "eks-oct"]
    assert [
        (r["AllocatedResourceId"], r["AllocatedResourceName"], r["team"], r["BilledCost"])
        for r in rows
    ] == [
        ("catalog", "prod-east/catalog", "search", D("38.43")),
        ("checkout", "prod-east/checkout", "checkout", D("61.57")),
    ]
    assert [r["x_AllocationRatio"] for r in rows] == [D("0.384282528"), D("0.615717472")]
    assert {r["AllocatedMethodId"] for r in rows} == {"costloop:metric:kubernetes"}
    note = metric_estate.notes(datetime(2026, 10, 1))["eks", "USD"]
    assert (note.targets, note.unmapped, note.usage_month) == (
        2,
        ["__idle__", "__unmounted__", "kube-system"],
        None,
    )


def test_kubernetes_pool_uses_the_latest_of_three_earlier_months(metric_estate: Estate) -> None:
    assert metric_estate.parts("eks-nov") == [("search", D("3.84")), ("checkout", D("6.16"))]
    assert metric_estate.notes(datetime(2026, 11, 1))["eks", "USD"].usage_month == "2026-10"
    assert metric_estate.parts("eks-jan") == [("search", D("0.38")), ("checkout", D("0.62"))]
    assert metric_estate.notes(datetime(2027, 1, 1))["eks", "USD"].usage_month == "2026-10"
    feb = metric_estate.notes(datetime(2027, 2, 1))["eks", "USD"]
    assert feb.unsplit_reason == "no kubernetes usage data for 2027-02 or the 3 months before"
    assert metric_estate.parts("eks-feb") == [("unallocated", D("1.00"))]


def test_kubernetes_pool_of_another_cluster_does_not_split(metric_estate: Estate) -> None:
    note = metric_estate.notes(datetime(2026, 10, 1))["eks-staging", "USD"]
    assert note.unsplit_reason == "no kubernetes usage data for 2026-10 or the 3 months before"
    assert metric_estate.parts("eks-stg") == [("unallocated", D("5.00"))]


def test_business_metric_pool_splits_by_volume_per_value(metric_estate: Estate) -> None:
    # October orders: checkout 300, platform 100 ("Platform"); unknown-team is unmapped
    rows = [r for r in metric_estate.rows if r["ResourceId"] == "support"]
    assert [(r["team"], r["BilledCost"], r["x_AllocationRatio"]) for r in rows] == [
        ("checkout", D("60.00"), D("0.75")),
        ("platform", D("20.00"), D("0.25")),
    ]
    assert {r["AllocatedMethodId"] for r in rows} == {"costloop:metric:business"}
    note = metric_estate.notes(datetime(2026, 10, 1))["support", "USD"]
    assert (note.targets, note.unmapped) == (2, ["unknown-team"])
    assert sums_by_slice(metric_estate.ws, "allocated_charges") == sums_by_slice(
        metric_estate.ws, "charges"
    )


def test_amounts_just_below_a_billion_split_exactly(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        "pools:\n  - {name: p, match: {account: ['222222222222']}, method: even, "
        "targets: [checkout, platform]}\n",
    )
    load_bill(
        ws,
        [
            charge(JAN, "999999999.999999999999999999", account="222222222222"),
            charge(JAN, "5000000000.50", tags={"team": "search"}, resource_id="big-direct"),
        ],
    )
    run_allocation(ws)
    assert [(r["team"], r["BilledCost"]) for r in allocated_rows(ws)] == [
        ("checkout", D("500000000.000000000000000000")),
        ("platform", D("499999999.999999999999999999")),
        ("search", D("5000000000.50")),
    ]


def test_a_pooled_amount_of_a_billion_is_refused_with_file_and_row(tmp_path: Path) -> None:
    ws = new_workspace(
        tmp_path / "ws",
        "pools:\n  - {name: p, match: {account: ['222222222222']}, method: even, "
        "targets: [checkout, platform]}\n",
    )
    path = load_bill(
        ws,
        [
            charge(JAN, "1.00", tags={"team": "search"}),
            charge(JAN, "1000000000.00", account="222222222222"),
        ],
    )
    with pytest.raises(InputError) as caught:
        run_allocation(ws)
    assert (caught.value.file, caught.value.row, caught.value.column) == (
        str(path),
        2,
        "BilledCost",
    )
    assert allocated_rows(ws) == []
