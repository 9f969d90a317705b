"""`costloop ingest` of the real FOCUS 1.0 sample, checked against the CSV text itself."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

DECIMAL_TEXT = re.compile(r"^-?\d+\.\d+$")
LOAD_KEYS = {
    "source",
    "billing_account_id",
    "billing_period_start",
    "rows",
    "source_billed_cost",
    "billed_cost",
    "source_effective_cost",
    "effective_cost",
}


def _null(value: str) -> bool:
    return value in ("", "NULL")


@pytest.fixture(scope="module")
def sample_rows(focus_sample: Path) -> list[dict[str, str]]:
    with focus_sample.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, cli_json: Any, focus_sample: Path) -> Any:
    """A workspace holding the sample, and the ``ingest --json`` output that loaded it."""
    from costloop.workspace import Workspace

    root = Workspace.init(tmp_path_factory.mktemp("sample") / "ws").root
    return root, cli_json("ingest", focus_sample, "-w", root)


def test_every_row_is_stored_and_each_slice_reconciles(loaded: Any, sample_rows: list) -> None:
    _, out = loaded
    expected: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for row in sample_rows:
        key = (row["BillingAccountId"], row["BillingPeriodStart"][:7])
        expected[key][0] += 1
        expected[key][1] += Decimal(row["BilledCost"])
        expected[key][2] += Decimal(row["EffectiveCost"])

    got = {}
    for s in out["loads"]:
        assert s.keys() >= LOAD_KEYS
        assert s["source"] == "default"
        for money in ("source_billed_cost", "billed_cost", "source_effective_cost"):
            assert isinstance(s[money], str) and DECIMAL_TEXT.match(s[money]), s[money]
        assert s["billed_cost"] == s["source_billed_cost"]
        assert s["effective_cost"] == s["source_effective_cost"]
        key = (s["billing_account_id"], s["billing_period_start"][:7])
        got[key] = [s["rows"], Decimal(s["billed_cost"]), Decimal(s["effective_cost"])]
    assert got == dict(expected)
    assert sum(s["rows"] for s in out["loads"]) == 1000


def test_sql_total_equals_the_csv_sum_exactly(
    loaded: Any, sample_rows: list, cli_json: Any
) -> None:
    root, _ = loaded
    out = cli_json(
        "sql",
        "SELECT count(*) AS n, sum(BilledCost) AS billed, sum(EffectiveCost) AS effective "
        "FROM charges",
        "-w",
        root,
    )
    (row,) = out["rows"]
    assert row["n"] == 1000
    assert Decimal(row["billed"]) == sum(Decimal(r["BilledCost"]) for r in sample_rows)
    assert Decimal(row["effective"]) == sum(Decimal(r["EffectiveCost"]) for r in sample_rows)


def test_providers_version_and_unknown_columns(loaded: Any, lake_sql: Any) -> None:
    root, _ = loaded
    rows = lake_sql(
        root,
        "SELECT ProviderName AS p, count(*) AS n, list(DISTINCT x_FocusVersion) AS v, "
        "count(x_Id) AS ids FROM charges GROUP BY p",
    )
    assert {r["p"]: r["n"] for r in rows} == {"AWS": 942, "Microsoft": 51, "Oracle": 7}
    assert all(r["v"] == ["1.0"] for r in rows)
    assert sum(r["ids"] for r in rows) == 1000  # the non-FOCUS column `Id` is kept as x_Id


@pytest.mark.parametrize("line", [1, 500, 926, 1000])
def test_lineage_points_back_to_the_csv_row(
    loaded: Any, sample_rows: list, lake_sql: Any, focus_sample: Path, line: int
) -> None:
    root, _ = loaded
    (row,) = lake_sql(
        root,
        "SELECT x_Id, BilledCost, ResourceId, ChargePeriodStart, x_SourceFile FROM charges "
        f"WHERE x_SourceRow = {line}",
    )
    csv_row = sample_rows[line - 1]
    assert row["x_Id"] == csv_row["Id"]
    assert row["BilledCost"] == Decimal(csv_row["BilledCost"])
    assert row["ResourceId"] == (None if _null(csv_row["ResourceId"]) else csv_row["ResourceId"])
    assert row["ChargePeriodStart"] == datetime.fromisoformat(csv_row["ChargePeriodStart"])
    assert row["x_SourceFile"] == str(focus_sample.resolve())


def test_validation_issues_are_reported_and_recorded(
    loaded: Any, sample_rows: list, lake_sql: Any
) -> None:
    root, out = loaded
    null_rows = [i for i, r in enumerate(sample_rows, start=1) if _null(r["ContractedCost"])]
    assert len(null_rows) == 7
    issues = {i["rule"]: i for i in out["issues"]}
    contracted = issues["ContractedCost-not-null"]
    assert (contracted["column"], contracted["rows"]) == ("ContractedCost", 7)
    assert contracted["first_rows"] == null_rows[:5]
    recorded = lake_sql(
        root,
        "SELECT violations, first_rows FROM load_issues WHERE rule = 'ContractedCost-not-null'",
    )
    assert [(r["violations"], json.loads(r["first_rows"])) for r in recorded] == [
        (7, null_rows[:5])
    ]


def test_loads_table_records_each_slice_with_the_file_digest(
    loaded: Any, lake_sql: Any, focus_sample: Path
) -> None:
    root, out = loaded
    rows = lake_sql(root, "SELECT * FROM loads WHERE kind = 'charges'")
    assert len(rows) == len(out["loads"]) == 4
    assert sum(r["rows"] for r in rows) == 1000
    digest = hashlib.sha256(focus_sample.read_bytes()).hexdigest()
    for r in rows:
        (file,) = json.loads(r["files"])
        assert (file["sha256"], file["focus_version"]) == (digest, "1.0")
        assert r["loaded_by"] and isinstance(r["loaded_at"], datetime)
        assert r["billed_cost"] == r["source_billed_cost"]


def test_reingest_prints_the_reconciliation_and_keeps_1000_rows(
    loaded: Any, cli: Any, focus_sample: Path, lake_state: Any
) -> None:
    root, _ = loaded
    proc = cli("ingest", focus_sample, "-w", root)
    assert proc.returncode == 0, proc.stderr
    assert "Loaded 1,000 rows" in proc.stdout
    assert "ContractedCost-not-null" in proc.stdout
    assert "FOCUS 1.0" in proc.stdout
    assert lake_state(root).rows == 1000


def test_strict_refuses_the_sample_and_changes_nothing(
    workspace: Path,
    tmp_path: Path,
    cli: Any,
    focus_sample: Path,
    focus: Any,
    lake_state: Any,
) -> None:
    from costloop.warehouse import Lake, LakePaths
    from costloop.warehouse.ingest import ingest_focus

    lake = Lake(LakePaths(workspace / ".costloop"))
    ingest_focus(lake, [focus.csv(tmp_path / "clean.csv", focus.rows())])
    before = lake_state(workspace)

    proc = cli("ingest", "--strict", focus_sample, "-w", workspace)

    assert proc.returncode == 2
    assert str(focus_sample) in proc.stderr
    assert "ContractedCost" in proc.stderr and "--strict" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert lake_state(workspace) == before
    staged = list((lake.paths.data / "staging").glob("*.parquet"))
    assert len(staged) == 1  # only the clean load's file is left
