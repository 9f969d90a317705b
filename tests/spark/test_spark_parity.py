"""Allocation and showback on PySpark equal DuckDB's and the warehouse's, to the last decimal.

One small but rich workspace (tags in varied spellings, account, resource and
inheritance rules, proportional, even, fixed, Kubernetes and business-metric pools,
a credit, a JPY account, amounts with 2 and 11 decimals) is allocated in the
warehouse, exported to Parquet, and allocated again from the Parquet files by
DuckDB and by Spark.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pytest
from tests.allocation.conftest import (
    OPENCOST,
    load_bill,
    load_business_metrics,
    load_inventory,
    new_workspace,
)
from tests.conftest import Cli

from costloop.allocation import allocate, allocation_expr
from costloop.allocation.pools import PoolNote
from costloop.analytics.showback import spend_by
from costloop.core.focus import MONEY_COLUMNS
from costloop.testing import charge
from costloop.warehouse.engine import open_engine
from costloop.warehouse.k8s_load import load_k8s_allocation
from costloop.warehouse.parquet import EXPORT_TABLES, ParquetEngine, duckdb_engine, export_tables
from costloop.workspace import Workspace

D = Decimal
INPUTS = ("charges", "inventory", "k8s_allocation", "business_metrics")
ORDER = ("x_SourceFile", "x_SourceRow", "AllocatedResourceId")

ALLOCATION = """
dimensions:
  team:
    keys: [team, squad]
    value_aliases: {platform: [infra, platfrom]}
  env:
    values: [prod, staging, dev]
    keys: [env, environment]
    value_aliases: {prod: [production, prd]}
rules:
  - {dimension: team, account: ["555555555555"], value: search}
  - {dimension: env, account: ["333333333333"], value: staging}
  - {dimension: team, resource_name: "^search-", value: search}
  - {dimension: team, inherit: parent}
  - {dimension: env, inherit: parent}
pools:
  - name: eks
    match: {service: ["Amazon Elastic Kubernetes Service"]}
    method: metric
    metric: {kubernetes: {cluster: prod-east, namespaces: {catalog: search}}}
  - name: shared-network
    match: {account: ["500000000001"]}
    method: proportional
  - name: support
    match: {service: ["AWS Support"], unallocated: true}
    method: even
    targets: [checkout, platform, search]
  - name: security
    match: {account: ["500000000004"]}
    method: fixed
    shares: {checkout: 33.33, platform: 33.33, search: 33.34}
  - name: cdn
    match: {service: ["Amazon CloudFront"]}
    method: metric
    metric: {business: orders}
  - name: shared-env
    dimension: env
    match: {account: ["500000000006"]}
    method: proportional
"""

OCT, NOV = datetime(2026, 10, 1), datetime(2026, 11, 1)
DAYS = [datetime(2026, m, d) for m in (10, 11) for d in (2, 8, 14, 20, 26)]
JPY_ACCOUNT = "888888888888"
EKS = "Amazon Elastic Kubernetes Service"

# resource id, charge fields, amount kind (cents | fine | yen | credit | yen-credit)
TEMPLATES: list[tuple[str, dict[str, Any], str]] = [
    ("web-1", {"tags": {"Team": "Checkout", "env": "prod"}}, "cents"),
    ("web-2", {"tags": {"TEAM": "check-out"}}, "fine"),  # the org file's alias
    ("web-3", {"tags": {"team": " Platfrom ", "Environment": "Production"}}, "cents"),
    ("web-4", {"tags": {"Squad": "search", "env": "PRD"}}, "fine"),  # second key, alias
    ("web-5", {"tags": {"team": "PLAT-FORM", "env": "dev"}}, "cents"),
    ("web-6", {"tags": {"team": "nobody"}, "account": "444444444444"}, "cents"),  # org account
    ("db-1", {"account": "222222222222"}, "fine"),  # org account → platform
    ("db-2", {"account": "555555555555", "tags": {"env": "qa"}}, "cents"),  # file account rule
    ("db-3", {"account": "333333333333", "tags": {"team": "checkout"}}, "fine"),  # env account
    ("idx-1", {"ResourceName": "search-index-1"}, "cents"),  # resource rule
    ("i-parent", {"tags": {"team": "checkout", "env": "prod"}}, "cents"),
    ("vol-1", {}, "fine"),  # inherits from i-parent
    ("vol-2", {}, "cents"),  # its parent has no charges
    ("orphan", {}, "fine"),
    ("eks-1", {"service": EKS}, "cents"),
    ("eks-2", {"service": EKS, "tags": {"team": "platform"}}, "fine"),
    ("net-1", {"account": "500000000001"}, "cents"),
    ("net-2", {"account": "500000000001", "tags": {"env": "prod"}}, "fine"),
    ("net-credit", {"account": "500000000001", "charge_category": "Credit"}, "credit"),
    ("support-1", {"service": "AWS Support"}, "cents"),
    ("support-2", {"service": "AWS Support", "tags": {"team": "search"}}, "cents"),  # direct
    ("sec-1", {"account": "500000000004"}, "fine"),
    ("cdn-1", {"service": "Amazon CloudFront"}, "cents"),
    ("env-shared", {"account": "500000000006", "tags": {"team": "platform"}}, "fine"),
    ("jpy-web", {"tags": {"team": "checkout", "env": "prod"}}, "yen"),
    ("jpy-db", {"tags": {"team": "platform"}}, "yen"),
    ("jpy-net", {"account": "500000000001"}, "yen"),
    ("jpy-credit", {"account": "500000000001", "charge_category": "Credit"}, "yen-credit"),
]

INVENTORY = [
    {"snapshot_time": "2026-10-01T00:00:00Z", "resource_id": "vol-1", "attached_to": "i-ghost"},
    {"snapshot_time": "2026-10-15T00:00:00Z", "resource_id": "vol-1", "attached_to": "i-parent"},
    {"snapshot_time": "2026-10-15T00:00:00Z", "resource_id": "vol-2", "attached_to": "i-ghost"},
]

METRICS = [
    {"date": "2026-10-05", "metric": "orders", "value": "300", "dimension": "checkout"},
    {"date": "2026-10-06", "metric": "orders", "value": "100", "dimension": "Platform"},
    {"date": "2026-10-07", "metric": "orders", "value": "50", "dimension": "unknown-team"},
    {"date": "2026-11-03", "metric": "orders", "value": "70", "dimension": "search"},
    {"date": "2026-11-04", "metric": "orders", "value": "30", "dimension": "checkout"},
]


def _amount(rng: random.Random, kind: str) -> Decimal:
    if kind == "cents":
        return D(rng.randint(1, 900_000)) / 100
    if kind == "fine":  # 11 decimals
        return D(rng.randint(1, 10**13)) / 10**11
    if kind == "credit":
        return -D(rng.randint(1, 50_000)) / 100
    if kind == "yen":
        return D(rng.randint(1, 2_000_000))
    return -D(rng.randint(1, 20_000))  # yen-credit


def bill() -> list[dict[str, str]]:
    """280 generated charges plus a few hand-made ones whose splits are checked by value."""
    rng = random.Random(20261124)
    rows = []
    for day in DAYS:
        for rid, fields, kind in TEMPLATES:
            amount = _amount(rng, kind)
            extra = dict(fields)
            if kind.startswith("yen"):
                extra |= {"BillingAccountId": JPY_ACCOUNT, "BillingCurrency": "JPY"}
            if kind in ("cents", "fine") and rng.random() < 0.5:
                extra["effective"] = str(amount * D("0.87"))
                extra["ListCost"] = str(amount * D("1.25"))
            rows.append(charge(day, str(amount), resource_id=rid, **extra))
    rows += [
        charge(DAYS[0], "100.00", resource_id="sec-100", account="500000000004"),
        # The largest amount a pool splits exactly, and a larger one no pool takes.
        charge(DAYS[1], "999999999.99", resource_id="net-big", account="500000000001"),
        charge(DAYS[1], "5000000000.50", resource_id="big-direct", tags={"team": "search"}),
        charge(
            DAYS[2],
            "1000",
            resource_id="jpy-thousand",
            account="500000000004",
            BillingAccountId=JPY_ACCOUNT,
            BillingCurrency="JPY",
        ),
    ]
    return rows


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: tuple("" if r[c] is None else r[c] for c in ORDER))


@dataclass
class Run:
    """One engine's allocation of the exported Parquet."""

    rows: list[dict[str, Any]]
    notes: list[PoolNote]
    showback: list[dict[str, Any]]
    spend_by: list[dict[str, Any]]
    schema: dict[str, str]


def allocate_parquet(engine: ParquetEngine, ws: Workspace) -> Run:
    """Allocate the Parquet tables on ``engine``; showback from the result and from the file."""
    expr, notes = allocation_expr(engine.tables(INPUTS), ws.allocation, engine.rows)
    arrow = engine.to_arrow(expr)
    # Showback sums the engine's own result on the same engine, without recomputing it.
    result = ibis.memtable(arrow)
    showback = result.group_by(["team", "BillingPeriodStart", "BillingCurrency"]).aggregate(
        n=result.count(),
        **{c: result[c].sum() for c in ("BilledCost", "EffectiveCost", "ListCost")},
    )
    team_months = sorted(
        engine.rows(showback),
        key=lambda r: (r["BillingPeriodStart"], r["team"], r["BillingCurrency"]),
    )
    return Run(
        _sorted(arrow.to_pylist()),
        notes,
        team_months,
        spend_by(engine, "team"),  # the read interface suffices
        {f.name: str(f.type) for f in arrow.schema},
    )


@dataclass
class Estate:
    """The workspace, its Parquet export, and what each engine made of it."""

    ws: Workspace
    folder: Path
    bill: list[dict[str, str]]
    warehouse: list[dict[str, Any]]
    warehouse_spend: list[dict[str, Any]]
    duckdb: Run


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    root = tmp_path_factory.mktemp("spark")
    ws = new_workspace(root / "ws", ALLOCATION)
    rows = bill()
    load_bill(ws, rows)
    load_inventory(ws, INVENTORY)
    load_business_metrics(ws, METRICS)
    load_k8s_allocation(ws.lake, OPENCOST / "allocation-namespace-daily.json")
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    with open_engine(ws.lake) as engine:
        warehouse = _sorted(engine.rows(engine.table("allocated_charges")))
        warehouse_spend = spend_by(engine, "team")
    folder = root / "parquet"
    export_tables(ws.lake, folder)
    with duckdb_engine(folder) as engine:
        duck = allocate_parquet(engine, ws)
    return Estate(ws, folder, rows, warehouse, warehouse_spend, duck)


@pytest.fixture(scope="module")
def on_spark(estate: Estate, spark: Any) -> Run:
    return allocate_parquet(ParquetEngine(spark, estate.folder), estate.ws)


def test_the_estate_exercises_every_stage_and_pool(estate: Estate) -> None:
    rows = estate.duckdb.rows
    assert len(estate.bill) == 284
    assert {r["team_source"] for r in rows} == {
        "tag",
        "account",
        "resource",
        "inherited",
        "shared",
        "unallocated",
    }
    assert {r["env_source"] for r in rows} >= {"tag", "account", "inherited", "shared"}
    assert {r["AllocatedMethodId"] for r in rows} == {
        None,
        "costloop:proportional",
        "costloop:even",
        "costloop:fixed",
        "costloop:metric:kubernetes",
        "costloop:metric:business",
    }
    assert {r["BillingCurrency"] for r in rows} == {"USD", "JPY"}
    assert any(r["ChargeCategory"] == "Credit" and r["x_AllocationPool"] for r in rows)
    assert not [n for n in estate.duckdb.notes if n.unsplit_reason]
    ratios: dict[int, list[Decimal]] = defaultdict(list)
    for r in rows:
        if r["x_AllocationPool"] is not None:
            ratios[r["x_SourceRow"]].append(r["x_AllocationRatio"])
    assert len(ratios) == 11 * len(DAYS) + 3  # pooled charges, each in 2 or 3 rows
    assert {len(v) for v in ratios.values()} == {2, 3}
    assert {sum(v) for v in ratios.values()} == {1}


def test_duckdb_over_parquet_equals_the_warehouse(estate: Estate) -> None:
    assert len(estate.duckdb.rows) == len(estate.warehouse)
    assert estate.duckdb.rows == estate.warehouse
    assert estate.duckdb.spend_by == estate.warehouse_spend


@pytest.mark.spark
def test_spark_rows_equal_duckdb_and_the_warehouse_in_every_column(
    estate: Estate, on_spark: Run
) -> None:
    assert len(on_spark.rows) == len(estate.duckdb.rows)
    assert on_spark.rows[0].keys() == estate.duckdb.rows[0].keys()
    for spark_row, duck_row in zip(on_spark.rows, estate.duckdb.rows, strict=True):
        assert spark_row == duck_row
        # Equal and written the same way: no scale lost on a money column or ratio.
        for column in (*MONEY_COLUMNS, "x_AllocationRatio"):
            assert str(spark_row[column]) == str(duck_row[column]), (column, duck_row)
    assert on_spark.rows == estate.warehouse
    assert on_spark.schema == estate.duckdb.schema
    assert on_spark.notes == estate.duckdb.notes


@pytest.mark.spark
def test_spark_showback_equals_duckdb_and_the_bill(estate: Estate, on_spark: Run) -> None:
    assert on_spark.showback == estate.duckdb.showback
    assert on_spark.spend_by == estate.warehouse_spend
    # Σ over teams of each month and currency is the bill's own total, to the last decimal.
    billed: dict[tuple[datetime, str], Decimal] = defaultdict(Decimal)
    for r in estate.bill:
        start = datetime.strptime(r["BillingPeriodStart"], "%Y-%m-%dT%H:%M:%SZ")
        billed[start, r["BillingCurrency"]] += D(r["BilledCost"])
    shown: dict[tuple[datetime, str], Decimal] = defaultdict(Decimal)
    for r in on_spark.showback:
        shown[r["BillingPeriodStart"], r["BillingCurrency"]] += r["BilledCost"]
    assert shown == billed
    assert {r["team"] for r in on_spark.showback} == {
        "checkout",
        "platform",
        "search",
        "unallocated",
    }


@pytest.mark.spark
def test_spark_splits_exactly_like_the_documented_examples(on_spark: Run) -> None:
    def parts(rid: str, column: str = "BilledCost") -> list[tuple[str, Decimal]]:
        return [(r["team"], r[column]) for r in on_spark.rows if r["ResourceId"] == rid]

    assert parts("sec-100") == [
        ("checkout", D("33.33")),
        ("platform", D("33.33")),
        ("search", D("33.34")),
    ]
    assert parts("jpy-thousand") == [
        ("checkout", D("333")),
        ("platform", D("333")),
        ("search", D("334")),
    ]
    big = parts("net-big")
    assert sum(amount for _, amount in big) == D("999999999.99")
    assert all(amount == amount.quantize(D("0.01")) for _, amount in big)
    [direct] = parts("big-direct")
    assert direct == ("search", D("5000000000.50"))
    details = [
        json.loads(r["AllocatedMethodDetails"])
        for r in on_spark.rows
        if r["ResourceId"] == "sec-100"
    ]
    assert [d["Elements"][0]["x_AllocatedRatio"] for d in details] == [
        "0.333300000",
        "0.333300000",
        "0.333400000",
    ]


def test_export_tables_cli_writes_every_table(
    estate: Estate, cli_main: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    proc = cli_main("export", "tables", "--out", out, "--json", "-w", estate.ws.root)
    assert proc.returncode == 0, proc.stderr
    written = {t["table"]: t["rows"] for t in json.loads(proc.stdout)["tables"]}
    assert list(written) == list(EXPORT_TABLES)
    assert written["charges"] == len(estate.bill)
    assert written["allocated_charges"] == len(estate.warehouse)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in EXPORT_TABLES)


def _preview_json(cli_main: Cli, estate: Estate, *args: str) -> dict[str, Any]:
    proc = cli_main(
        "allocate-preview",
        "--parquet",
        estate.folder,
        "--month",
        "2026-10",
        "--json",
        "-w",
        estate.ws.root,
        *args,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _expected_preview(estate: Estate) -> dict[tuple[str, str], tuple[str, str]]:
    out: dict[tuple[str, str], tuple[Decimal, Decimal]] = defaultdict(lambda: (D(0), D(0)))
    for r in estate.warehouse:
        if r["BillingPeriodStart"] == OCT:
            b, e = out[r["team"], r["BillingCurrency"]]
            out[r["team"], r["BillingCurrency"]] = (b + r["BilledCost"], e + r["EffectiveCost"])
    return {k: (f"{b.normalize():f}", f"{e.normalize():f}") for k, (b, e) in out.items()}


def _got_preview(result: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (v["value"], v["currency"]): (
            f"{D(v['billed_cost']).normalize():f}",
            f"{D(v['effective_cost']).normalize():f}",
        )
        for v in result["values"]
    }


def test_allocate_preview_on_duckdb_prints_the_stored_team_totals(
    estate: Estate, cli_main: Cli
) -> None:
    result = _preview_json(cli_main, estate)
    assert (result["engine"], result["period"], result["dimension"]) == (
        "duckdb",
        "2026-10",
        "team",
    )
    assert _got_preview(result) == _expected_preview(estate)
    proc = cli_main("allocate-preview", "--parquet", estate.folder, "-w", estate.ws.root)
    assert proc.returncode == 0, proc.stderr
    assert "Allocation preview of 2026-11 by team on duckdb" in proc.stdout


@pytest.mark.spark
def test_allocate_preview_on_spark_prints_the_same_totals(
    estate: Estate, cli_main: Cli, spark: Any
) -> None:
    result = _preview_json(cli_main, estate, "--engine", "spark")
    assert result["engine"] == "spark"
    assert _got_preview(result) == _expected_preview(estate)
    # The running session (a notebook's, here the tests') is left running.
    assert spark._session.sparkContext._jsc is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--spark-master", "local[1]"), "--spark-master and --spark-conf are for --engine spark"),
        (("--month", "2026-13"), "expected a month as YYYY-MM, got '2026-13'"),
        (("--by", "product"), "--by 'product' is not an allocation dimension (team, env)"),
        (
            ("--engine", "spark", "--spark-conf", "novalue"),
            "--spark-conf 'novalue': expected KEY=VALUE",
        ),
    ],
)
def test_allocate_preview_refuses_bad_options(
    estate: Estate, cli_main: Cli, args: tuple[str, ...], message: str
) -> None:
    proc = cli_main("allocate-preview", "--parquet", estate.folder, "-w", estate.ws.root, *args)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_allocate_preview_names_a_missing_folder_or_file(
    estate: Estate, cli_main: Cli, tmp_path: Path
) -> None:
    proc = cli_main("allocate-preview", "--parquet", tmp_path / "nope", "-w", estate.ws.root)
    assert proc.returncode == 2
    assert f"no folder {tmp_path / 'nope'}" in proc.stderr
    proc = cli_main("allocate-preview", "--parquet", tmp_path, "-w", estate.ws.root)
    assert proc.returncode == 2
    assert f"no charges.parquet in {tmp_path}" in proc.stderr
