"""``costloop ingest-metrics`` and ``costloop report unit-cost`` end to end."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import Cli

from costloop.core.periods import Month
from costloop.demo import generate_estate
from costloop.testing import charge, write_focus_csv

GOOD = (
    "date,metric,value,dimension\n"
    "2026-01-01,orders,120,web\n"
    "2026-01-01,orders,80,app\n"
    "2026-01-02,orders,130,web\n"
    "2026-01-03,active_users,1500.5,\n"
)


def _count(cli_main: Cli, ws: Path) -> int:
    proc = cli_main("sql", "SELECT count(*) AS n FROM business_metrics", "--json", "-w", ws)
    return int(json.loads(proc.stdout)["rows"][0]["n"])


def test_ingest_metrics_reports_rows_per_metric_and_dates(
    cli_main: Cli, workspace: Path, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(GOOD, encoding="utf-8")
    proc = cli_main("ingest-metrics", path, "-w", workspace, env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"Loaded 4 business-metric rows from {path} (replaced 0)." in out
    lines = {line.split("│")[2].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert [c.strip() for c in lines["orders"].split("│")[3:8]] == [
        "3",
        "2026-01-01",
        "2026-01-02",
        "app, web",
        "330",
    ]
    assert [c.strip() for c in lines["active_users"].split("│")[3:8]] == [
        "1",
        "2026-01-03",
        "2026-01-03",
        "(none)",
        "1,500.5",
    ]
    again = cli_main("ingest-metrics", path, "--json", "-w", workspace)
    data = json.loads(again.stdout)
    (loaded,) = data["files"]
    assert (loaded["rows"], loaded["replaced_rows"]) == (4, 4)
    assert loaded["metrics"][1] == {
        "metric": "orders",
        "rows": 3,
        "first_date": "2026-01-01",
        "last_date": "2026-01-02",
        "dimensions": ["app", "web"],
        "total": "330.00",
    }
    assert _count(cli_main, workspace) == 4


def test_parquet_and_gzip_csv_load(cli_main: Cli, workspace: Path, tmp_path: Path) -> None:
    table = pa.table(
        {
            "date": pa.array([date(2026, 2, 1), date(2026, 2, 2)], pa.date32()),
            "metric": ["orders", "orders"],
            "value": pa.array([Decimal("10.5"), Decimal("11")], pa.decimal128(10, 2)),
        }
    )
    pq.write_table(table, tmp_path / "m.parquet")
    with gzip.open(tmp_path / "m.csv.gz", "wt", encoding="utf-8") as f:
        f.write("date,metric,value\n2026-03-01,signups,7\n")
    proc = cli_main(
        "ingest-metrics", tmp_path / "m.parquet", tmp_path / "m.csv.gz", "--json", "-w", workspace
    )
    assert proc.returncode == 0, proc.stderr
    files = json.loads(proc.stdout)["files"]
    assert [(Path(f["file"]).name, f["rows"]) for f in files] == [
        ("m.parquet", 2),
        ("m.csv.gz", 1),
    ]
    assert files[0]["metrics"][0]["total"] == "21.50"
    assert _count(cli_main, workspace) == 3


HEADER = "date,metric,value,dimension\n"
BAD_FILES = [
    # name, text, row, column, words of the message
    (
        "nodata.csv",
        "date,metric,amount\n2026-01-01,orders,3\n",
        None,
        "value",
        "missing column(s) value",
    ),
    (
        "inventory.csv",
        "resource_id,ts,metric\nr,2026-01-01,cpu\n",
        None,
        "date",
        "missing column(s) date, value",
    ),
    (
        "extra.csv",
        "date,metric,value,team\n2026-01-01,orders,3,x\n",
        None,
        "team",
        "unknown column(s)",
    ),
    (
        "text.csv",
        HEADER + "2026-01-01,orders,3,\n2026-01-02,orders,abc,\n",
        2,
        "value",
        "expected a number, got 'abc'",
    ),
    (
        "feb30.csv",
        HEADER + "2026-02-30,orders,3,\n",
        1,
        "date",
        "'2026-02-30' is not a calendar date",
    ),
    (
        "us.csv",
        HEADER + "2026-01-01,orders,3,\n01/02/2026,orders,3,\n",
        2,
        "date",
        "expected a date as YYYY-MM-DD",
    ),
    (
        "nometric.csv",
        HEADER + "2026-01-01,orders,3,\n2026-01-02,,3,web\n",
        2,
        "metric",
        "metric name is empty",
    ),
    ("negative.csv", HEADER + "2026-01-01,orders,-3,web\n", 1, "value", "value is negative"),
    ("empty.csv", HEADER + "2026-01-01,orders,,web\n", 1, "value", "value is empty"),
    (
        "places.csv",
        HEADER + "2026-01-01,orders,1.1234567,\n",
        1,
        "value",
        "more than 6 decimal places",
    ),
    ("spaces.csv", HEADER + "2026-01-01,orders ,1,\n", 1, "metric", "leading or trailing spaces"),
    ("fields.csv", HEADER + "2026-01-01,orders,1\n", 1, None, "expected 4 fields, found 3"),
    (
        "dupe.csv",
        HEADER + "2026-01-01,orders,3,web\n2026-01-01,orders,4,app\n2026-01-01,orders,5,Web\n",
        3,
        "dimension",
        "rows 1 and 3 repeat the same (date, metric, dimension) = (2026-01-01, orders, Web)",
    ),
    (
        "dupe-total.csv",
        HEADER + "2026-01-01,orders,3,\n2026-01-01,orders,4,\n",
        2,
        "date",
        "rows 1 and 2 repeat",
    ),
    ("latin1.csv", HEADER.encode() + b"2026-01-01,caf\xe9,1,\n", None, None, "not valid UTF-8"),
    ("lines.jsonl", '{"date": "2026-01-01", "metric": "orders", "value": 1}\n', None, None, "CSV"),
]


@pytest.mark.parametrize(("name", "text", "row", "column", "message"), BAD_FILES)
def test_bad_metric_files_exit_2_naming_file_row_column(
    cli_main: Cli,
    workspace: Path,
    tmp_path: Path,
    name: str,
    text: str | bytes,
    row: int | None,
    column: str | None,
    message: str,
) -> None:
    good = tmp_path / "a-good.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / name
    bad.write_bytes(text.encode() if isinstance(text, str) else text)
    proc = cli_main("ingest-metrics", good, bad, "-w", workspace)
    assert proc.returncode == 2
    err = " ".join(proc.stderr.split())
    where = [f"file {bad}"]
    if row is not None:
        where.append(f"row {row}")
    if column is not None:
        where.append(f"column {column}")
    assert ", ".join(where) + ":" in err
    assert message in err
    assert _count(cli_main, workspace) == 0  # the good file was not loaded either


# Cost 1,000 → 1,200 → 1,416 (EffectiveCost; BilledCost is higher) for 4,000 → 5,000 →
# 6,250 orders, on the first and last day of each month.
MONTHS = [
    ("2026-01-01", "600.00", 2000),
    ("2026-01-31", "400.00", 2000),
    ("2026-02-01", "700.00", 2500),
    ("2026-02-28", "500.00", 2500),
    ("2026-03-01", "800.00", 3000),
    ("2026-03-31", "616.00", 3250),
]


@pytest.fixture
def shop(cli_main: Cli, workspace: Path, tmp_path: Path) -> Path:
    """A workspace with three months of cost and orders, allocated, all through the CLI."""
    bill = write_focus_csv(
        tmp_path / "bill.csv",
        [
            charge(datetime.fromisoformat(d), str(Decimal(c) + 100), effective=c, tags={"team": t})
            for (d, c, _), t in zip(MONTHS, ["a", "b"] * 3, strict=True)
        ],
    )
    metrics = tmp_path / "orders.csv"
    metrics.write_text(
        HEADER + "".join(f"{d},orders,{n},\n" for d, _, n in MONTHS), encoding="utf-8"
    )
    for args in (("ingest", bill), ("ingest-metrics", metrics), ("allocate",)):
        proc = cli_main(*args, "-w", workspace)
        assert proc.returncode == 0, proc.stderr
    return workspace


def test_unit_cost_json(cli_main: Cli, shop: Path) -> None:
    proc = cli_main("report", "unit-cost", "--metric", "orders", "--format", "json", "-w", shop)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["cost_basis"] == "EffectiveCost (amortized)"
    assert data["covered"] == {"from": "2026-01-01", "to": "2026-03-31"}
    got = [
        (r["period"], r["cost"], r["volume"], r["unit_cost"], r["partial"]) for r in data["rows"]
    ]
    assert got == [
        ("2026-01-01", "1000.00", "4000.00", "0.25", False),
        ("2026-02-01", "1200.00", "5000.00", "0.24", False),
        ("2026-03-01", "1416.00", "6250.00", "0.22656", False),
    ]
    march = data["rows"][2]
    assert (march["cost_change"], march["volume_effect"], march["unit_cost_effect"]) == (
        "216.00",
        "300.00",
        "-84.00",
    )
    assert (
        march["cost_change_pct"],
        march["volume_change_pct"],
        march["unit_cost_change_pct"],
    ) == ("18.00", "25.00", "-5.60")
    assert data["summary"] == {
        "period": "2026-03-01",
        "sentence": "spend +18.0%: volume +25.0%, unit cost −5.6% "
        "(healthy: cost grows slower than volume)",
        "verdict": "healthy",
    }


def test_unit_cost_table_csv_and_by_team(cli_main: Cli, shop: Path) -> None:
    proc = cli_main("report", "unit-cost", "--metric", "orders", "-w", shop, env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "2026-03 vs the month before: spend +18.0%: volume +25.0%, unit cost −5.6%" in out
    march = next(line for line in out.splitlines() if line.startswith("│ 2026-03"))
    assert [c.strip() for c in march.split("│")[2:11]] == [
        "$1,416.00",
        "6,250",
        "$0.2266",
        "+18.0%",
        "+25.0%",
        "−5.6%",
        "$300.00",
        "-$84.00",
        "healthy",
    ]

    proc = cli_main(
        "report", "unit-cost", "--metric", "orders", "--by", "team", "--format", "csv",
        "--from", "2026-02-01", "-w", shop,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["period"], r["team"], r["cost"], r["volume"]) for r in rows] == [
        ("2026-02-01", "a", "700.00", ""),
        ("2026-02-01", "b", "500.00", ""),
        ("2026-02-01", "(total)", "1200.00", "5000.00"),
        ("2026-03-01", "a", "800.00", ""),
        ("2026-03-01", "b", "616.00", ""),
        ("2026-03-01", "(total)", "1416.00", "6250.00"),
    ]
    assert rows[5]["unit_cost"] == "0.22656"
    assert rows[5]["verdict"] == "healthy"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--metric", "revenue"), "no business metric 'revenue'; loaded: orders"),
        (("--metric", "orders", "--by", "product"), "'product' is not an allocation dimension"),
        (("--metric", "orders", "--from", "2026-1-1"), "--from expects a date as YYYY-MM-DD"),
        (("--metric", "orders", "--scope", "prod"), "--scope expects DIMENSION=VALUE"),
        (("--metric", "orders", "--grain", "year"), "year"),
    ],
)
def test_unit_cost_usage_errors_exit_2(
    cli_main: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    proc = cli_main("report", "unit-cost", *args, "-w", shop)
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split())


@pytest.mark.slow
def test_demo_cost_per_order(cli_main: Cli, workspace: Path, tmp_path: Path) -> None:
    manifest = generate_estate(tmp_path / "estate", months=3, end_month=Month(2026, 10))
    shutil.copyfile(manifest.org_file, workspace / "org.yaml")
    for args in (
        ("ingest", tmp_path / "estate" / "billing"),
        ("ingest-metrics", manifest.business_file),
        ("allocate",),
    ):
        proc = cli_main(*args, "-w", workspace)
        assert proc.returncode == 0, proc.stderr
    proc = cli_main(
        "report", "unit-cost", "--metric", "orders", "--format", "json", "-w", workspace
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [r["period"] for r in data["rows"]] == ["2026-08-01", "2026-09-01", "2026-10-01"]
    assert not any(r["partial"] for r in data["rows"])
    sql = cli_main(
        "sql",
        "SELECT sum(EffectiveCost) AS cost FROM allocated_charges "
        "WHERE ChargePeriodStart >= '2026-10-01'",
        "--json",
        "-w",
        workspace,
    )
    october_cost = Decimal(json.loads(sql.stdout)["rows"][0]["cost"])
    october = data["rows"][2]
    assert Decimal(october["cost"]) == october_cost
    orders = sum(
        int(r["value"])
        for r in csv.DictReader(manifest.business_file.open(encoding="utf-8"))
        if r["metric"] == "orders" and r["date"].startswith("2026-10")
    )
    assert Decimal(october["volume"]) == orders
    assert Decimal(october["unit_cost"]) == round(october_cost / orders, 10)
    # Per-channel volumes reach the total; the summary sentence compares Oct with Sep.
    assert data["summary"]["period"] == "2026-10-01"
    assert data["summary"]["sentence"].startswith("spend ")
    assert data["summary"]["verdict"] in {"healthy", "unhealthy", "steady"}
