"""Loads are keyed by (source, billing account, billing period) and replace exactly that."""

from __future__ import annotations

import getpass
import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from costloop.warehouse.ingest import ingest_focus

SLICES = (
    "SELECT x_SourceName AS src, BillingAccountId AS acct, strftime(BillingPeriodStart, '%Y-%m') "
    "AS month, count(*) AS n, sum(BilledCost) AS billed, list(DISTINCT x_SourceId) AS loads "
    "FROM charges GROUP BY ALL"
)


def _by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["src"], r["acct"], r["month"]): r for r in rows}


def test_loading_the_same_file_twice_keeps_one_copy(
    focus: Any, lake: Any, tmp_path: Path, lake_state: Any
) -> None:
    path = focus.csv(tmp_path / "bill.csv", focus.rows())
    first = ingest_focus(lake, [path])
    once = lake_state(tmp_path)

    again = ingest_focus(lake, [path])
    twice = lake_state(tmp_path)

    assert (twice.rows, twice.billed) == (once.rows, once.billed)
    assert twice.loads == 2 * once.loads  # the history keeps both loads of each slice
    assert twice.rows == first.rows == 24
    assert twice.snapshot > once.snapshot
    assert [s.replaced_rows for s in again.slices] == [s.rows for s in first.slices]


def test_a_restated_period_replaces_only_its_slice(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any, cli_json: Any
) -> None:
    aws = focus.rows(("111111111111", "222222222222"), ("2024-09", "2024-10"))
    other = focus.rows(("111111111111",), ("2024-09",), 3, seed=99)
    ingest_focus(lake, [focus.csv(tmp_path / "aws.csv", aws)], source="aws")
    ingest_focus(lake, [focus.csv(tmp_path / "other.csv", other)], source="other")
    before = _by_key(lake_sql(tmp_path, SLICES))
    assert len(before) == 5

    restated = focus.rows(("111111111111",), ("2024-09",), 4, seed=3, scale=3)
    out = cli_json(
        "ingest",
        focus.csv(tmp_path / "restated.csv", restated),
        "--source",
        "aws",
        "-w",
        tmp_path,
    )

    (load,) = out["loads"]
    assert (load["source"], load["billing_account_id"], load["rows"]) == (
        "aws",
        "111111111111",
        4,
    )
    assert load["replaced_rows"] == 6
    expected_total = focus.totals(restated).billed
    assert Decimal(load["billed_cost"]) == expected_total
    after = _by_key(lake_sql(tmp_path, SLICES))
    key = ("aws", "111111111111", "2024-09")
    assert (after[key]["n"], after[key]["billed"]) == (4, expected_total)
    assert after[key]["loads"] != before[key]["loads"]
    untouched = {k: v for k, v in after.items() if k != key}
    assert untouched == {k: v for k, v in before.items() if k != key}


def test_the_loads_table_records_who_when_what_and_totals(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any
) -> None:
    first = focus.csv(tmp_path / "first.csv", focus.rows(("111111111111",), ("2024-09",)))
    second_rows = focus.rows(("111111111111",), ("2024-09",), 5, scale=2)
    second = focus.csv(tmp_path / "second.csv", second_rows)
    started = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    load1 = ingest_focus(lake, [first])
    load2 = ingest_focus(lake, [second], loaded_by="finops-bot")

    old, row = lake_sql(tmp_path, "SELECT * FROM loads WHERE kind = 'charges' ORDER BY loaded_at")
    assert (old["load_id"], old["rows"], old["replaced_rows"]) == (load1.load_id, 6, 0)
    assert old["loaded_by"] == getpass.getuser()
    assert row["load_id"] == load2.load_id
    assert (row["source"], row["billing_account_id"]) == ("default", "111111111111")
    assert row["billing_period_start"] == datetime(2024, 9, 1)
    assert (row["rows"], row["replaced_rows"]) == (5, 6)
    total = focus.totals(second_rows)
    assert row["billed_cost"] == row["source_billed_cost"] == total.billed
    assert row["effective_cost"] == row["source_effective_cost"] == total.effective
    assert row["loaded_by"] == "finops-bot"
    assert started <= row["loaded_at"] <= datetime.now(UTC).replace(tzinfo=None)
    (file,) = json.loads(row["files"])
    assert file["sha256"] == hashlib.sha256(second.read_bytes()).hexdigest()
    assert (file["path"], file["format"], file["focus_version"]) == (str(second), "csv", "1.2")

    # The superseded load's rows are gone from charges but readable by time travel.
    [latest] = lake_sql(tmp_path, "SELECT max(snapshot_id) AS s FROM lake.snapshots()")
    history = lake_sql(
        tmp_path,
        f"SELECT DISTINCT x_SourceId AS load_id FROM charges AT (VERSION => {latest['s'] - 1})",
    )
    assert history == [{"load_id": load1.load_id}]
