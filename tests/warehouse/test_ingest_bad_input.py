"""Bad input: exit code 2, a message naming file, row and column, and nothing written.

Rows are numbered as ``x_SourceRow`` is: 1 is the first data row after the header.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from costloop.core.errors import InputError
from costloop.warehouse.ingest import ingest_focus


@dataclass(frozen=True)
class Case:
    """A bad file and what the error must say about it."""

    make: Callable[[Any, Path], Path]
    says: str
    row: int | None = None
    column: str | None = None


def _with(focus: Any, path: Path, row: int, **values: str) -> Path:
    rows = focus.rows()
    rows[row - 1].update(values)
    return focus.csv(path, rows)


def _missing_column(focus: Any, d: Path) -> Path:
    return focus.csv(d / "bill.csv", focus.rows(), [c for c in focus.HEADER if c != "ServiceName"])


def _truncated_gzip(focus: Any, d: Path) -> Path:
    data = focus.csv(d / "whole.csv.gz", focus.rows()).read_bytes()
    path = d / "bill.csv.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def _empty(focus: Any, d: Path) -> Path:
    path = d / "bill.csv"
    path.write_bytes(b"")
    return path


def _duplicate_column(focus: Any, d: Path) -> Path:
    text = focus.csv_text(focus.rows()).replace("ChargeFrequency", "BilledCost", 1)
    path = d / "bill.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _latin1(focus: Any, d: Path) -> Path:
    rows = focus.rows()
    rows[3]["ChargeDescription"] = "Caf\u00e9 usage"
    path = d / "bill.csv"
    path.write_bytes(focus.csv_text(rows).encode("latin-1"))
    return path


CLI_CASES: dict[str, Case] = {
    "missing-mandatory-column": Case(
        _missing_column, "missing mandatory column(s) ServiceName", None, "ServiceName"
    ),
    "decimal-comma": Case(
        lambda f, d: _with(f, d / "bill.csv", 5, BilledCost="12,5"),
        'cannot parse as a decimal number: "12,5"',
        5,
        "BilledCost",
    ),
    "not-a-number": Case(
        lambda f, d: _with(f, d / "bill.csv", 9, EffectiveCost="abc"),
        'cannot parse as a decimal number: "abc"',
        9,
        "EffectiveCost",
    ),
    "unparsable-date": Case(
        lambda f, d: _with(f, d / "bill.csv", 7, ChargePeriodStart="2024-13-45"),
        'cannot parse as an ISO 8601 date/time: "2024-13-45"',
        7,
        "ChargePeriodStart",
    ),
    "truncated-gzip": Case(_truncated_gzip, "gzip file is truncated"),
    "empty-file": Case(_empty, "file is empty"),
    "header-only": Case(lambda f, d: f.csv(d / "bill.csv", []), "header but no data rows"),
    "duplicate-column": Case(
        _duplicate_column, "duplicate column name 'BilledCost'", None, "BilledCost"
    ),
    "latin-1-bytes": Case(_latin1, "invalid UTF-8 byte sequence", 4),
    "malformed-tags-json": Case(
        lambda f, d: _with(f, d / "bill.csv", 3, Tags='{"team": "core"'),
        "is not a JSON object",
        3,
        "Tags",
    ),
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, focus: Any) -> Path:
    """A workspace already holding one good load, which no bad file may disturb."""
    from costloop.workspace import Workspace

    root = Workspace.init(tmp_path_factory.mktemp("bad") / "ws").root
    good = focus.csv(root / "good.csv", focus.rows(("333333333333",), ("2024-09",)))
    ingest_focus(Workspace.open(root).lake, [good])
    return root


def _staged(root: Path) -> set[str]:
    return {p.name for p in (root / ".costloop" / "lake" / "staging").glob("*.parquet")}


# Two cases run the installed console script in a subprocess; the others run the same
# `main()` in-process, which saves the interpreter start-up (about 1.5 s each).
SUBPROCESS = {"decimal-comma", "truncated-gzip"}


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_refuses_bad_input(
    name: str,
    loaded: Path,
    tmp_path: Path,
    focus: Any,
    cli: Any,
    cli_main: Any,
    lake_state: Any,
) -> None:
    case = CLI_CASES[name]
    path = case.make(focus, tmp_path)
    before, staged = lake_state(loaded), _staged(loaded)

    proc = (cli if name in SUBPROCESS else cli_main)("ingest", path, "-w", loaded)

    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())  # undo terminal wrapping
    assert message.startswith(f"error: file {path}")
    assert case.says in message
    assert re.findall(r", row (\d+)", message) == ([] if case.row is None else [str(case.row)])
    if case.column is not None:
        assert f"column {case.column}" in message
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert lake_state(loaded) == before
    assert _staged(loaded) == staged


def _too_many_fields(focus: Any, d: Path) -> Path:
    lines = focus.csv_text(focus.rows()).splitlines(keepends=True)
    lines[6] = lines[6].rstrip("\n") + ",surplus\n"  # data row 6
    path = d / "bill.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _utf16(focus: Any, d: Path) -> Path:
    path = d / "bill.csv"
    path.write_bytes(focus.csv_text(focus.rows()).encode("utf-16"))
    return path


def _corrupt_parquet(focus: Any, d: Path) -> Path:
    path = d / "bill.parquet"
    path.write_bytes(b"PAR1" + bytes(range(200)))
    return path


def _good_then_bad_in_folder(focus: Any, d: Path) -> Path:
    folder = d / "exports"
    folder.mkdir()
    focus.csv(folder / "a.csv", focus.rows(("444444444444",), ("2024-09",)))
    _with(focus, folder / "b.csv", 2, ListCost="1.2.3")
    return folder


def _gzip_not_gzip(focus: Any, d: Path) -> Path:
    path = d / "bill.csv.gz"
    path.write_bytes(focus.csv_text(focus.rows()).encode("utf-8"))
    return path


def _currency_differs_across_files(focus: Any, d: Path) -> Path:
    folder = d / "exports"
    folder.mkdir()
    focus.csv(folder / "a.csv", focus.rows(("444444444444",), ("2024-09",)))
    euro = focus.rows(("444444444444",), ("2024-09",), seed=8)
    for row in euro:
        row["BillingCurrency"] = "EUR"
    focus.csv(folder / "b.csv", euro)
    return folder


def _unknown_extension(focus: Any, d: Path) -> Path:
    return focus.csv(d / "bill.txt", focus.rows())


LIBRARY_CASES: dict[str, Case] = {
    "too-many-fields": Case(
        _too_many_fields, "the row has 33 fields but the header has 32 columns", 6
    ),
    "empty-billing-account": Case(
        lambda f, d: _with(f, d / "bill.csv", 2, BillingAccountId=""),
        "BillingAccountId is empty",
        2,
        "BillingAccountId",
    ),
    "too-many-decimals": Case(
        lambda f, d: _with(f, d / "bill.csv", 4, BilledCost="0.1234567890123456789"),
        "more than 18 decimal places",
        4,
        "BilledCost",
    ),
    "duplicate-tag-keys": Case(
        lambda f, d: _with(f, d / "bill.csv", 8, Tags='{"team": "a", "team": "b"}'),
        "is not a JSON object with unique keys",
        8,
        "Tags",
    ),
    "mixed-currency-in-a-slice": Case(
        lambda f, d: _with(f, d / "bill.csv", 3, BillingCurrency="EUR"),
        "mixes currencies USD and EUR",
        3,
        "BillingCurrency",
    ),
    "mixed-currency-across-files": Case(
        _currency_differs_across_files, "mixes currencies USD in", 1, "BillingCurrency"
    ),
    "utf-16": Case(_utf16, "UTF-16"),
    "corrupt-parquet": Case(_corrupt_parquet, "not a readable Parquet file"),
    "bad-file-in-folder": Case(
        _good_then_bad_in_folder, 'cannot parse as a decimal number: "1.2.3"', 2, "ListCost"
    ),
    "gz-name-plain-content": Case(_gzip_not_gzip, "gzip"),
    "unknown-extension": Case(_unknown_extension, "unknown file type"),
}


@pytest.mark.parametrize("name", LIBRARY_CASES)
def test_ingest_refuses_bad_input(
    name: str, loaded: Path, tmp_path: Path, focus: Any, lake_state: Any
) -> None:
    from costloop.workspace import Workspace

    case = LIBRARY_CASES[name]
    path = case.make(focus, tmp_path)
    before, staged = lake_state(loaded), _staged(loaded)

    with pytest.raises(InputError) as caught:
        ingest_focus(Workspace.open(loaded).lake, [path])

    error = caught.value
    assert error.exit_code == 2
    assert error.file is not None and Path(error.file).parent in (path, path.parent)
    assert case.says in str(error)
    assert (error.row, error.column) == (case.row, case.column)
    assert lake_state(loaded) == before
    assert _staged(loaded) == staged


def test_gzip_fixture_is_really_gzip(focus: Any, tmp_path: Path) -> None:
    """Guards the truncated-gzip case: the whole file it cuts is a valid gzip stream."""
    data = focus.csv(tmp_path / "whole.csv.gz", focus.rows()).read_bytes()
    assert gzip.decompress(data).startswith(b"BilledCost,")
