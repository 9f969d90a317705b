"""Input files and FOCUS column plans, without a warehouse."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from costloop.connectors.files import FileFormat, InputFile, discover, file_digest, read_header
from costloop.connectors.focus import plan_focus
from costloop.core.errors import InputError
from costloop.core.focus import COLUMNS, Level

FOCUS_10 = [c.name for c in COLUMNS if c.since == "1.0"]
MANDATORY = [c.name for c in COLUMNS if c.level is Level.MANDATORY and c.since != "1.3"]


def _csv(path: Path, data: bytes) -> InputFile:
    path.write_bytes(data)
    return InputFile(path, FileFormat.CSV)


@pytest.mark.parametrize(
    ("extra", "version"),
    [
        ((), "1.0"),
        (("SkuMeter",), "1.1"),
        (("SkuMeter", "InvoiceId"), "1.2"),
        (("HostProviderName",), "1.3"),
    ],
)
def test_version_is_the_newest_evidenced(extra: tuple[str, ...], version: str) -> None:
    assert plan_focus([*FOCUS_10, *extra], "f.csv").version == version


def test_missing_mandatory_columns_are_all_named() -> None:
    header = [c for c in FOCUS_10 if c not in ("BilledCost", "ServiceName")]
    with pytest.raises(InputError) as caught:
        plan_focus(header, "f.csv")
    assert caught.value.column == "BilledCost"
    assert "missing mandatory column(s) BilledCost, ServiceName" in str(caught.value)


def test_every_mandatory_column_is_required() -> None:
    for name in MANDATORY:
        with pytest.raises(InputError, match=name):
            plan_focus([c for c in FOCUS_10 if c != name], "f.csv")


def test_unknown_columns_get_distinct_x_names() -> None:
    header = [*FOCUS_10, "Id", "cost center", "cost_center", "x_SourceRow", "x_team", "X_Team", ""]
    plan = plan_focus(header, "f.csv")
    names = [name for _, name in plan.extras]
    assert names == [
        "x_Id",
        "x_cost_center",
        "x_cost_center_",
        "x_SourceRow_",  # costloop's own lineage column keeps its name
        "x_team",
        "x_X_Team",
        "x_Column",
    ]
    assert [header[i] for i, _ in plan.extras] == header[len(FOCUS_10) :]


def test_header_reading(tmp_path: Path) -> None:
    item = _csv(tmp_path / "a.csv", b'\xef\xbb\xbf"BilledCost"," Billing,Account "\r\n1,2\r\n')
    assert read_header(item) == ["BilledCost", "Billing,Account"]  # BOM, quotes, blanks off
    gz = tmp_path / "a.csv.gz"
    gz.write_bytes(gzip.compress(b"A,B\n1,2\n"))
    assert read_header(InputFile(gz, FileFormat.CSV_GZIP)) == ["A", "B"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "file is empty"),
        (b"\n1,2\n", "no header line"),
        ("A,B\n".encode("utf-16"), "UTF-16"),
        (b"A,\xe9\n", "header is not valid UTF-8 (byte 2)"),
        (b"A, B ,B\n", "duplicate column name 'B' in the header (positions 2 and 3)"),
    ],
)
def test_bad_headers(tmp_path: Path, data: bytes, says: str) -> None:
    with pytest.raises(InputError) as caught:
        read_header(_csv(tmp_path / "a.csv", data))
    assert says in str(caught.value)
    assert caught.value.file == str(tmp_path / "a.csv")


def test_discover_expands_folders_in_path_order(tmp_path: Path) -> None:
    for name in (
        "b/2.csv.gz",
        "a/1.parquet",
        "c.csv",
        "notes.txt",
        "b/x.json",
        "b/cur-Manifest.json",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = discover([tmp_path])
    assert [(f.path.relative_to(tmp_path).as_posix(), f.format) for f in found] == [
        ("a/1.parquet", FileFormat.PARQUET),
        ("b/2.csv.gz", FileFormat.CSV_GZIP),
        ("b/x.json", FileFormat.JSONL),
        ("c.csv", FileFormat.CSV),
    ]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder holds no"):
        discover([tmp_path / "empty"])
    with pytest.raises(InputError, match="no such file"):
        discover([tmp_path / "missing.csv"])


def test_digest_hashes_bytes_and_checks_gzip_streams(tmp_path: Path) -> None:
    data = gzip.compress(b"A,B\n1,2\n") + gzip.compress(b"3,4\n")
    path = tmp_path / "a.csv.gz"
    path.write_bytes(data)
    item = InputFile(path, FileFormat.CSV_GZIP)
    assert file_digest(item) == hashlib.sha256(data).hexdigest()
    path.write_bytes(data[:-9])
    with pytest.raises(InputError, match="truncated"):
        file_digest(item)


def test_pretty_printed_json_is_named_as_such(tmp_path: Path) -> None:
    from costloop.connectors.files import FileFormat, json_columns

    path = tmp_path / "manifest.json"
    path.write_text('{\n  "a": 1\n}\n')
    with pytest.raises(InputError, match="multi-line JSON document, not JSON lines"):
        json_columns(InputFile(path, FileFormat.JSONL))
    path.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(InputError, match="line is not valid JSON") as caught:
        json_columns(InputFile(path, FileFormat.JSONL))
    assert caught.value.row == 2
