"""Chargeback files for finance systems: per-team statements and a summary, CSV and Parquet.

``statement-<team>.csv|parquet`` hold a team's lines; ``summary.csv|parquet`` one row
per team × billing account × currency plus the invoice-total rows. CSV money is plain
decimal text (full precision, no separators or symbol); Parquet money is
``decimal128(38, 18)``. The folder is written whole into a temporary sibling and then
renamed into place, so readers never see half a chargeback.
"""

from __future__ import annotations

import csv
import re
import shutil
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pyarrow as pa
import pyarrow.parquet as pq

from costloop.analytics.chargeback import Chargeback, StatementLine
from costloop.core.errors import CostloopError, InputError
from costloop.report.render import plain_decimal

__all__ = [
    "STATEMENT_COLUMNS",
    "SUMMARY_COLUMNS",
    "statement_file_stem",
    "write_chargeback",
]

MONEY = pa.decimal128(38, 18)

STATEMENT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("billing_period", pa.string()),
    ("team", pa.string()),
    ("billing_account_id", pa.string()),
    ("billing_currency", pa.string()),
    ("sub_account_id", pa.string()),
    ("sub_account_name", pa.string()),
    ("service_name", pa.string()),
    ("charge_category", pa.string()),
    ("allocation_method", pa.string()),
    ("measure", pa.string()),
    ("amount", MONEY),
    ("amount_rounded", MONEY),
)
"""Columns of a statement file (Parquet types)."""

SUMMARY_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("line", pa.string()),
    ("billing_period", pa.string()),
    ("team", pa.string()),
    ("billing_account_id", pa.string()),
    ("billing_currency", pa.string()),
    ("measure", pa.string()),
    ("amount", MONEY),
    ("amount_rounded", MONEY),
    ("statement_lines", pa.int64()),
)
"""Columns of the summary file; ``line`` is ``team`` or ``invoice_total``."""

_OURS = re.compile(r"^(statement-.+|summary)\.(csv|parquet)$")


def statement_file_stem(team: str) -> str:
    """``statement-<team>`` with characters unsafe in file names replaced by ``_``."""
    return "statement-" + re.sub(r"[^A-Za-z0-9._-]+", "_", team)


def _statement_rows(cb: Chargeback, lines: list[StatementLine]) -> list[dict[str, object]]:
    return [
        {
            "billing_period": str(cb.month),
            "team": line.team,
            "billing_account_id": line.billing_account_id,
            "billing_currency": line.currency,
            "sub_account_id": line.sub_account_id,
            "sub_account_name": line.sub_account_name,
            "service_name": line.service_name,
            "charge_category": line.charge_category,
            "allocation_method": line.method,
            "measure": cb.column,
            "amount": line.amount,
            "amount_rounded": line.amount_rounded,
        }
        for line in lines
    ]


def _summary_rows(cb: Chargeback) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {
            "line": "team",
            "billing_period": str(cb.month),
            "team": s.team,
            "billing_account_id": s.billing_account_id,
            "billing_currency": s.currency,
            "measure": cb.column,
            "amount": s.amount,
            "amount_rounded": s.amount_rounded,
            "statement_lines": s.lines,
        }
        for s in cb.summary
    ]
    rows += [
        {
            "line": "invoice_total",
            "billing_period": str(cb.month),
            "team": None,
            "billing_account_id": i.billing_account_id,
            "billing_currency": i.currency,
            "measure": cb.column,
            "amount": i.amount,
            "amount_rounded": i.amount_rounded,
            "statement_lines": i.lines,
        }
        for i in cb.invoices
    ]
    return rows


def _cell(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        # Rounded amounts already have the currency's places (``151`` yen, ``9.24``
        # dollars); exact amounts print every significant digit.
        return format(value, "f") if name == "amount_rounded" else plain_decimal(value)
    return str(value)


def _write(
    folder: Path,
    stem: str,
    columns: tuple[tuple[str, pa.DataType], ...],
    rows: list[dict[str, object]],
) -> None:
    names = [name for name, _ in columns]
    with (folder / f"{stem}.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([_cell(n, row[n]) for n in names])
    schema = pa.schema([pa.field(name, kind) for name, kind in columns])
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, folder / f"{stem}.parquet")


def write_chargeback(cb: Chargeback, out: Path) -> list[Path]:
    """Write the statements and the summary into the folder ``out``, atomically.

    An existing ``out`` is replaced only when it holds nothing but earlier chargeback
    files (``statement-*`` and ``summary.*``).

    Returns:
        The written files, summary first.

    Raises:
        InputError: ``out`` is a file, or a folder holding other files.
        CostloopError: two teams would share a statement file name.
    """
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise InputError("--out must be a folder, this is a file", file=str(out))
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if not _OURS.match(p.name))
        if foreign:
            raise InputError(
                f"refusing to replace a folder holding other files ({', '.join(foreign[:5])})",
                file=str(out),
            )
    stems: dict[str, str] = {}
    for team in cb.teams:
        stem = statement_file_stem(team)
        if stem in stems:
            raise CostloopError(f"teams {stems[stem]!r} and {team!r} share the file name {stem}")
        stems[stem] = team
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid4().hex[:8]}.tmp")
    tmp.mkdir()
    try:
        _write(tmp, "summary", SUMMARY_COLUMNS, _summary_rows(cb))
        for stem, team in stems.items():
            _write(tmp, stem, STATEMENT_COLUMNS, _statement_rows(cb, cb.statement(team)))
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    names = ["summary", *stems]
    return [out / f"{stem}.{ext}" for stem in names for ext in ("csv", "parquet")]


def _swap(new: Path, out: Path) -> None:
    """Rename ``new`` to ``out``, replacing an existing ``out`` (restored on failure)."""
    if not out.exists():
        new.rename(out)
        return
    old = out.with_name(f".{out.name}.{uuid4().hex[:8]}.old")
    out.rename(old)
    try:
        new.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
