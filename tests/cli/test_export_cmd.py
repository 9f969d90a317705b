"""`costloop export focus`: FOCUS 1.2 files that round-trip exactly, written atomically."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costloop.core.errors import CostloopError
from costloop.core.focus import FOCUS_12_COLUMNS, LINEAGE_COLUMNS, DataType

FOCUS_12 = [c.name for c in FOCUS_12_COLUMNS]
DECIMALS = [c.name for c in FOCUS_12_COLUMNS if c.dtype is DataType.DECIMAL]
DATETIMES = [c.name for c in FOCUS_12_COLUMNS if c.dtype is DataType.DATETIME]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, focus_sample: Path) -> Path:
    """A workspace holding the FOCUS 1.0 sample (1,000 rows; periods 2024-09 and 2024-10)."""
    from costloop.warehouse.ingest import ingest_focus
    from costloop.workspace import Workspace

    ws = Workspace.init(tmp_path_factory.mktemp("export") / "ws")
    ingest_focus(ws.lake, [focus_sample], source="aws-sample")
    return ws.root


def _ingest(root: Path, file: Path) -> None:
    from costloop.warehouse.ingest import ingest_focus
    from costloop.workspace import Workspace

    ingest_focus(Workspace.init(root).lake, [file])


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    from costloop.warehouse.query import run_sql
    from costloop.workspace import Workspace

    return run_sql(Workspace.open(root).lake, sql).rows


def _column_sums(root: Path) -> tuple[Any, ...]:
    sums = ", ".join(f'sum("{c}")' for c in DECIMALS)
    return _rows(root, f"SELECT count(*), {sums} FROM charges")[0]


def _focus_rows(root: Path) -> list[tuple[Any, ...]]:
    """Every FOCUS 1.2 value of every row, in a canonical order."""
    cols = ", ".join(f'"{c}"' for c in FOCUS_12)
    return sorted(_rows(root, f"SELECT {cols} FROM charges"), key=repr)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
    header = next(reader)
    return header, list(reader)


def test_csv_round_trips_every_value(
    cli_main: Any, loaded: Path, tmp_path: Path, focus_sample: Path
) -> None:
    out = tmp_path / "focus.csv"

    proc = cli_main("export", "focus", "-w", loaded, "--out", out)

    assert proc.returncode == 0, proc.stderr
    assert "Wrote 1,000 rows" in " ".join(proc.stdout.split())
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temp file's 0600
    second = tmp_path / "second"
    _ingest(second, out)
    assert _column_sums(second) == _column_sums(loaded)
    assert _column_sums(second)[0] == 1000
    assert _focus_rows(second) == _focus_rows(loaded)


def test_csv_values_are_exact_text(cli_main: Any, loaded: Path, tmp_path: Path) -> None:
    out = tmp_path / "focus.csv"
    assert cli_main("export", "focus", "-w", loaded, "--out", out).returncode == 0

    header, rows = _read_csv(out)

    assert header[: len(FOCUS_12)] == FOCUS_12
    assert header[len(FOCUS_12) :] == ["x_Id"]  # the sample's non-FOCUS Id column
    index = {name: i for i, name in enumerate(header)}
    plain_decimal = re.compile(r"-?\d+(\.\d*[1-9])?")
    utc = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    for row in rows:
        for name in DECIMALS:
            value = row[index[name]]
            assert value == "" or plain_decimal.fullmatch(value), (name, value)
        for name in DATETIMES:
            value = row[index[name]]
            assert value == "" or utc.fullmatch(value), (name, value)
        if row[index["Tags"]]:
            assert isinstance(json.loads(row[index["Tags"]]), dict)
    first = rows[0]
    assert first[index["BilledCost"]] == "0.0000008"  # stored as 0.000000800000000000
    assert first[index["ConsumedQuantity"]] == "2"  # 2.000000000000000 in the file
    assert first[index["BillingPeriodStart"]] == "2024-09-01T00:00:00Z"
    assert first[index["AvailabilityZone"]] == ""  # NULL in the file
    assert first[index["InvoiceId"]] == ""  # a 1.2 column FOCUS 1.0 lacks


def test_no_extras_and_never_lineage(cli_main: Any, loaded: Path, tmp_path: Path) -> None:
    out = tmp_path / "focus.csv"

    proc = cli_main("export", "focus", "-w", loaded, "--out", out, "--no-extras")

    assert proc.returncode == 0, proc.stderr
    header, _ = _read_csv(out)
    assert header == FOCUS_12
    lineage = {name for name, _ in LINEAGE_COLUMNS}
    assert not lineage & set(header)


def test_gzip_csv_holds_the_same_text(cli_main: Any, loaded: Path, tmp_path: Path) -> None:
    plain, packed = tmp_path / "focus.csv", tmp_path / "focus.csv.gz"
    assert cli_main("export", "focus", "-w", loaded, "--out", plain).returncode == 0

    proc = cli_main("export", "focus", "-w", loaded, "--out", packed)

    assert proc.returncode == 0, proc.stderr
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()


def test_parquet_has_exact_types_and_round_trips(
    cli_main: Any, loaded: Path, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "focus.parquet"

    proc = cli_main("export", "focus", "-w", loaded, "--out", out)

    assert proc.returncode == 0, proc.stderr
    schema = pq.read_schema(out)
    assert schema.names == [*FOCUS_12, "x_Id"]
    assert schema.field("BilledCost").type == pa.decimal128(38, 18)
    assert schema.field("ChargePeriodStart").type == pa.timestamp("us", tz="UTC")
    assert schema.field("Tags").type == pa.string()
    table = pq.read_table(out)
    assert table.num_rows == 1000
    billed = sum((v for v in table.column("BilledCost").to_pylist()), start=Decimal(0))
    assert billed == _rows(loaded, "SELECT sum(BilledCost) FROM charges")[0][0]
    second = tmp_path / "second"
    _ingest(second, out)
    assert _focus_rows(second) == _focus_rows(loaded)


def test_period_filter(cli_main: Any, loaded: Path, tmp_path: Path) -> None:
    out = tmp_path / "october.csv"

    proc = cli_main("export", "focus", "-w", loaded, "--out", out, "--period", "2024-10", "--json")

    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    expected = _rows(
        loaded,
        "SELECT count(*), sum(BilledCost), sum(EffectiveCost) FROM charges "
        "WHERE BillingPeriodStart = TIMESTAMP '2024-10-01'",
    )[0]
    assert summary["period"] == "2024-10"
    assert summary["rows"] == expected[0] == 1
    assert Decimal(summary["billed_cost"]) == expected[1]
    assert Decimal(summary["effective_cost"]) == expected[2]
    assert summary["totals"][0]["currency"] == "USD"
    assert isinstance(summary["totals"][0]["billed_cost"], str)
    header, rows = _read_csv(out)
    assert len(rows) == 1
    assert rows[0][header.index("BillingPeriodStart")] == "2024-10-01T00:00:00Z"


def test_source_filter(cli_main: Any, loaded: Path, tmp_path: Path) -> None:
    out = tmp_path / "focus.csv"

    ok = cli_main("export", "focus", "-w", loaded, "--out", out, "--source", "aws-sample")
    missing = cli_main(
        "export", "focus", "-w", loaded, "--out", tmp_path / "x.csv", "--source", "x"
    )

    assert ok.returncode == 0, ok.stderr
    assert len(_read_csv(out)[1]) == 1000
    assert missing.returncode == 2
    assert "sources: aws-sample" in " ".join(missing.stderr.split())
    assert not (tmp_path / "x.csv").exists()


def test_unknown_period_exits_2_naming_the_periods(
    cli_main: Any, loaded: Path, tmp_path: Path
) -> None:
    out = tmp_path / "focus.csv"

    proc = cli_main("export", "focus", "-w", loaded, "--out", out, "--period", "2030-01")

    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "no charges for billing period 2030-01" in message
    assert "2024-09, 2024-10" in message
    assert not out.exists()


def test_bad_period_text_exits_2(cli_main: Any, loaded: Path, tmp_path: Path) -> None:
    proc = cli_main("export", "focus", "-w", loaded, "--out", tmp_path / "a.csv", "--period", "9")

    assert proc.returncode == 2
    assert "YYYY-MM" in proc.stderr


@pytest.mark.parametrize("name", ["focus.txt", "focus", "focus.json", "focus.csv.zip", ".csv"])
def test_unknown_extension_exits_2(cli_main: Any, loaded: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / name

    proc = cli_main("export", "focus", "-w", loaded, "--out", out)

    assert proc.returncode == 2
    assert ".csv, .csv.gz or .parquet" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_empty_warehouse_exits_2(cli_main: Any, workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "focus.csv"

    proc = cli_main("export", "focus", "-w", workspace, "--out", out)

    assert proc.returncode == 2
    assert "holds no charges" in " ".join(proc.stderr.split())
    assert not out.exists()


def test_missing_folder_exits_2(cli_main: Any, loaded: Path, tmp_path: Path) -> None:
    proc = cli_main("export", "focus", "-w", loaded, "--out", tmp_path / "nope" / "f.csv")

    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


@pytest.mark.parametrize("name", ["focus.csv", "focus.parquet"])
def test_failed_write_leaves_nothing_behind(
    cli_main: Any, loaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from costloop.warehouse import export

    out = tmp_path / name
    out.write_bytes(b"previous export\n")

    def fail(path: Path) -> None:
        assert path.stat().st_size > 0  # the whole file was written beside the target
        raise CostloopError("simulated failure before the rename")

    monkeypatch.setattr(export, "_fsync", fail)

    proc = cli_main("export", "focus", "-w", loaded, "--out", out)

    assert proc.returncode == 1
    assert "simulated failure" in proc.stderr
    assert out.read_bytes() == b"previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_file_not_reading_back_to_the_totals_is_not_kept(
    cli_main: Any, loaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costloop.warehouse import export

    read_back = export._read_back
    monkeypatch.setattr(
        export, "_read_back", lambda path, fmt: f"(SELECT * FROM {read_back(path, fmt)} LIMIT 10)"
    )
    out = tmp_path / "focus.csv"

    proc = cli_main("export", "focus", "-w", loaded, "--out", out)

    assert proc.returncode == 1
    assert "export check failed" in " ".join(proc.stderr.split())
    assert list(tmp_path.iterdir()) == []
