"""`costloop sql`: read-only, and exact --json / --csv output."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, focus_sample: Path) -> Path:
    """A workspace holding the FOCUS 1.0 sample (loaded in-process)."""
    from costloop.warehouse.ingest import ingest_focus
    from costloop.workspace import Workspace

    ws = Workspace.init(tmp_path_factory.mktemp("sql") / "ws")
    ingest_focus(ws.lake, [focus_sample])
    return ws.root


@pytest.fixture(scope="module")
def sample_rows(focus_sample: Path) -> list[dict[str, str]]:
    with focus_sample.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _snapshot(root: Path) -> tuple[int, int]:
    from costloop.warehouse import Lake, LakePaths

    with Lake(LakePaths(root / ".costloop")).connect() as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM charges), (SELECT max(snapshot_id) FROM lake.snapshots())"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("INSERT INTO loads (load_id) VALUES ('x')", "INSERT"),
        ("CREATE TABLE notes (a INTEGER)", "CREATE"),
        ("DELETE FROM charges", "DELETE"),
    ],
)
def test_writes_are_refused(cli_main: Any, loaded: Path, statement: str, kind: str) -> None:
    before = _snapshot(loaded)

    proc = cli_main("sql", statement, "-w", loaded)

    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert f'Cannot execute statement of type "{kind}"' in message
    assert "read-only" in message
    assert "Traceback" not in proc.stderr
    assert _snapshot(loaded) == before


def test_invalid_sql_is_an_input_error(cli_main: Any, loaded: Path) -> None:
    proc = cli_main("sql", "SELEC 1", "-w", loaded)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: SQL error: Parser Error")


def test_json_output_types(cli_json: Any, loaded: Path, sample_rows: list) -> None:
    out = cli_json(
        "sql",
        "SELECT x_SourceRow AS r, BilledCost AS billed, ChargePeriodStart AS start, "
        "ChargeClass AS class, x_TagsNormalized AS tags, BilledCost > 0 AS positive "
        "FROM charges WHERE x_SourceRow IN (2, 3) ORDER BY r",
        "-w",
        loaded,
    )

    assert out["columns"] == ["r", "billed", "start", "class", "tags", "positive"]
    first, second = out["rows"]
    source = sample_rows[1]
    assert first["r"] == 2
    assert isinstance(first["billed"], str)
    assert Decimal(first["billed"]) == Decimal(source["BilledCost"])
    assert first["start"] == source["ChargePeriodStart"].replace(" ", "T") + "Z"
    assert first["class"] is None
    assert first["tags"] == json.loads(source["Tags"])
    assert first["positive"] is True
    assert second["billed"] == "0.00"  # zero keeps two places, never "0E-18"


def test_csv_output_round_trips(cli: Any, loaded: Path, sample_rows: list) -> None:
    proc = cli(
        "sql",
        "SELECT x_SourceRow AS r, BilledCost AS billed, ChargeDescription AS description, "
        "ChargeClass AS class, x_TagsNormalized AS tags FROM charges "
        "WHERE x_SourceRow <= 3 ORDER BY r",
        "--csv",
        "-w",
        loaded,
    )

    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [int(r["r"]) for r in rows] == [1, 2, 3]
    for row in rows:
        source = sample_rows[int(row["r"]) - 1]
        assert Decimal(row["billed"]) == Decimal(source["BilledCost"])
        assert row["description"] == source["ChargeDescription"]  # commas, quotes, '$'
        assert row["class"] == ""  # NULL
        expected_tags = {} if source["Tags"] == "NULL" else json.loads(source["Tags"])
        assert json.loads(row["tags"]) == expected_tags


def test_table_output_and_option_conflict(cli: Any, cli_main: Any, loaded: Path) -> None:
    table = cli("sql", "SELECT count(*) AS charges FROM charges", "-w", loaded)
    assert table.returncode == 0, table.stderr
    assert "1000" in table.stdout and "1 row(s)" in table.stdout

    both = cli_main("sql", "SELECT 1", "--json", "--csv", "-w", loaded)
    assert both.returncode == 2
    assert "choose one of --json and --csv" in both.stderr
