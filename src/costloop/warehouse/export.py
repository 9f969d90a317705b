"""Write the warehouse's ``charges`` out as a FOCUS 1.2 file (CSV, gzip CSV or Parquet).

The file holds the FOCUS 1.2 columns in spec order (the FOCUS 1.3-only columns and
costloop's lineage columns are left out), then the table's other ``x_`` columns unless
``extras=False``. Values are written exactly:

* CSV: decimals as plain decimal text without storage padding (``12.5``, never
  ``12.500000000000000000`` or ``1.25E1``), date/times as ISO 8601 UTC
  ``YYYY-MM-DDTHH:MM:SSZ`` (with a fraction only when a value has one), nulls as empty
  fields (an empty string is written ``""``), JSON columns (``Tags``,
  ``SkuPriceDetails``) as their JSON text.
* Parquet: decimals as ``DECIMAL(38, 18)``, date/times as UTC-adjusted timestamps
  (``TIMESTAMP WITH TIME ZONE``), JSON columns as strings.

Rows are written in the order they are stored (by load, then source row). The export
reads one snapshot of the lake. It is written to a temporary file beside the
target, read back and checked against the warehouse (row count and every cost
column's total per currency), and only then renamed over the target: a failed export
leaves no file behind and an existing file untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import duckdb

from costloop.core.errors import CostloopError, InputError, NotFoundError
from costloop.core.focus import FOCUS_12_COLUMNS, LINEAGE_COLUMNS, MONEY_COLUMNS, DataType
from costloop.core.periods import Month
from costloop.warehouse.connection import Lake
from costloop.warehouse.focus_sql import ident, lit

__all__ = [
    "CurrencyTotals",
    "ExportFormat",
    "ExportResult",
    "export_focus",
    "export_format",
    "focus_export_columns",
]

_LINEAGE = frozenset(name for name, _ in LINEAGE_COLUMNS)
_FOCUS_12 = {c.name: c for c in FOCUS_12_COLUMNS}
_TABLE = "charges"


class ExportFormat(StrEnum):
    """File formats ``export_focus`` writes, chosen by the file name's ending."""

    CSV = "csv"
    CSV_GZIP = "csv.gz"
    PARQUET = "parquet"


def export_format(path: Path) -> ExportFormat:
    """The format of an export file from its name (``.csv``, ``.csv.gz``, ``.parquet``).

    Raises:
        InputError: the name has none of these endings.
    """
    name = path.name.lower()
    for fmt in (ExportFormat.CSV_GZIP, ExportFormat.CSV, ExportFormat.PARQUET):
        if name.endswith("." + fmt.value) and len(name) > len(fmt.value) + 1:
            return fmt
    raise InputError(
        "cannot tell the export format from the file name: use a name ending in "
        ".csv, .csv.gz or .parquet",
        file=str(path),
    )


@dataclass(frozen=True)
class CurrencyTotals:
    """Rows and exact cost-column totals of the exported rows in one billing currency."""

    currency: str
    rows: int
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal
    contracted_cost: Decimal


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    path: Path
    format: ExportFormat
    columns: tuple[str, ...]
    totals: tuple[CurrencyTotals, ...]
    period: Month | None
    source: str | None

    @property
    def rows(self) -> int:
        """Rows written."""
        return sum(t.rows for t in self.totals)

    @property
    def billed_cost(self) -> Decimal:
        """Σ BilledCost of the rows written (across currencies: a column sum)."""
        return sum((t.billed_cost for t in self.totals), start=Decimal(0))

    @property
    def effective_cost(self) -> Decimal:
        """Σ EffectiveCost of the rows written (across currencies: a column sum)."""
        return sum((t.effective_cost for t in self.totals), start=Decimal(0))


def focus_export_columns(table_columns: list[str], *, extras: bool = True) -> list[str]:
    """Columns of a FOCUS 1.2 export of a ``charges`` table with ``table_columns``.

    The FOCUS 1.2 columns in spec order, then (with ``extras``) the table's ``x_``
    columns other than costloop's lineage columns, in table order.
    """
    columns = [c.name for c in FOCUS_12_COLUMNS]
    if extras:
        columns += [c for c in table_columns if c.startswith("x_") and c not in _LINEAGE]
    return columns


def _csv_expr(name: str) -> str:
    """SELECT expression rendering one column as CSV text (see the module docstring)."""
    col = _FOCUS_12.get(name)
    q = ident(name)
    if col is None or col.dtype in (DataType.STRING, DataType.JSON):
        return q
    if col.dtype is DataType.DECIMAL:
        # DECIMAL(38, 18) text always has a point and 18 places: drop the padding zeros,
        # then a point left bare. Casting a decimal to text never uses an exponent.
        return f"rtrim(rtrim(CAST({q} AS VARCHAR), '0'), '.') AS {q}"
    return (
        f"CASE WHEN epoch_us({q}) % 1000000 = 0 THEN strftime({q}, '%Y-%m-%dT%H:%M:%SZ') "
        f"ELSE strftime({q}, '%Y-%m-%dT%H:%M:%S.%fZ') END AS {q}"
    )


def _parquet_expr(name: str) -> str:
    """SELECT expression of one column for Parquet (UTC-adjusted timestamps)."""
    col = _FOCUS_12.get(name)
    q = ident(name)
    if col is not None and col.dtype is DataType.DATETIME:
        return f"timezone('UTC', {q}) AS {q}"
    return q


def _copy_options(fmt: ExportFormat) -> str:
    if fmt is ExportFormat.PARQUET:
        return "FORMAT PARQUET"
    compression = "gzip" if fmt is ExportFormat.CSV_GZIP else "none"
    return (
        f"FORMAT CSV, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', "
        f"NULL '', COMPRESSION '{compression}'"
    )


def _read_back(path: Path, fmt: ExportFormat) -> str:
    """A relation reading the written file, every cost column as DECIMAL(38, 18)."""
    if fmt is ExportFormat.PARQUET:
        return f"read_parquet({lit(str(path))})"
    compression = "gzip" if fmt is ExportFormat.CSV_GZIP else "none"
    return (
        f"read_csv({lit(str(path))}, header = true, all_varchar = true, delim = ',', "
        f"quote = '\"', escape = '\"', compression = '{compression}')"
    )


def _totals(con: duckdb.DuckDBPyConnection, relation: str, where: str) -> list[CurrencyTotals]:
    sums = ", ".join(f"sum(CAST({ident(c)} AS DECIMAL(38, 18)))" for c in MONEY_COLUMNS)
    rows = con.execute(
        f"SELECT BillingCurrency, count(*), {sums} FROM {relation} {where} "
        "GROUP BY BillingCurrency ORDER BY BillingCurrency"
    ).fetchall()
    zero = Decimal(0)
    return [
        CurrencyTotals(
            currency="" if r[0] is None else str(r[0]),
            rows=int(r[1]),
            billed_cost=zero if r[2] is None else Decimal(r[2]),
            effective_cost=zero if r[3] is None else Decimal(r[3]),
            list_cost=zero if r[4] is None else Decimal(r[4]),
            contracted_cost=zero if r[5] is None else Decimal(r[5]),
        )
        for r in rows
    ]


def _where(period: Month | None, source: str | None) -> str:
    terms = []
    if period is not None:
        terms.append(
            f"BillingPeriodStart >= TIMESTAMP {lit(f'{period.start:%Y-%m-%d %H:%M:%S}')} "
            f"AND BillingPeriodStart < TIMESTAMP {lit(f'{period.end:%Y-%m-%d %H:%M:%S}')}"
        )
    if source is not None:
        terms.append(f"x_SourceName = {lit(source)}")
    return ("WHERE " + " AND ".join(terms)) if terms else ""


def _nothing_to_export(
    con: duckdb.DuckDBPyConnection, period: Month | None, source: str | None
) -> NotFoundError:
    """The error for a filter that matches no charges, naming what there is."""
    rows = con.execute(
        f"SELECT DISTINCT strftime(BillingPeriodStart, '%Y-%m'), x_SourceName FROM {_TABLE}"
    ).fetchall()
    if not rows:
        return NotFoundError(
            "the warehouse holds no charges: load billing files with `costloop ingest` first"
        )
    periods = ", ".join(sorted({str(r[0]) for r in rows}))
    sources = ", ".join(sorted({str(r[1]) for r in rows}))
    wanted = []
    if period is not None:
        wanted.append(f"billing period {period}")
    if source is not None:
        wanted.append(f"source {source!r}")
    return NotFoundError(
        f"no charges for {' and '.join(wanted)} "
        f"(billing periods in the warehouse: {periods}; sources: {sources})"
    )


@contextlib.contextmanager
def _temporary_beside(out: Path) -> Iterator[Path]:
    """A fresh temporary file next to ``out``, removed unless renamed away."""
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _file_mode(out: Path) -> int:
    """Permissions for the export: the replaced file's, else the umask's default."""
    if out.exists():
        return out.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def export_focus(
    lake: Lake,
    out: Path,
    *,
    period: Month | None = None,
    source: str | None = None,
    extras: bool = True,
) -> ExportResult:
    """Write ``charges`` (optionally one billing period and/or source) as FOCUS 1.2.

    Args:
        lake: the warehouse.
        out: the file to write; its ending chooses the format (see :func:`export_format`).
        period: only charges whose BillingPeriodStart falls in this month.
        source: only charges loaded with this ``--source`` name.
        extras: also write the table's non-lineage ``x_`` columns.

    Raises:
        InputError: unknown file ending, or the target folder does not exist.
        NotFoundError: the warehouse is empty, or nothing matches ``period``/``source``.
        CostloopError: the written file did not read back to the warehouse's totals.
    """
    fmt = export_format(out)
    out = out.expanduser().absolute()
    if not out.parent.is_dir():
        raise InputError("the folder to write into does not exist", file=str(out.parent))
    if out.is_dir():
        raise InputError("is a folder; give a file name to write", file=str(out))
    where = _where(period, source)
    with lake.connect(read_only=True) as con:
        con.execute("BEGIN TRANSACTION")  # one snapshot for the totals and the copy
        try:
            described = con.execute(f"DESCRIBE {_TABLE}").fetchall()
            columns = focus_export_columns([str(r[0]) for r in described], extras=extras)
            expected = _totals(con, _TABLE, where)
            if not expected:
                raise _nothing_to_export(con, period, source)
            render = _parquet_expr if fmt is ExportFormat.PARQUET else _csv_expr
            select = ", ".join(render(c) for c in columns)
            # No ORDER BY: rows stream out in storage order (load, then source row;
            # preserve_insertion_order), where a sort would hold the table in memory.
            query = f"SELECT {select} FROM {_TABLE} {where}"
            with _temporary_beside(out) as tmp:
                try:
                    con.execute(f"COPY ({query}) TO {lit(str(tmp))} ({_copy_options(fmt)})")
                    written = _totals(con, _read_back(tmp, fmt), "")
                except duckdb.Error as exc:
                    raise CostloopError(f"writing {out} failed: {exc}") from None
                if written != expected:
                    raise CostloopError(
                        f"export check failed: {tmp} reads back as {written}, "
                        f"the warehouse holds {expected}; nothing was written to {out}"
                    )
                _fsync(tmp)
                tmp.chmod(_file_mode(out))  # mkstemp made it private (0600)
                tmp.replace(out)
        finally:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
    return ExportResult(
        path=out,
        format=fmt,
        columns=tuple(columns),
        totals=tuple(expected),
        period=period,
        source=source,
    )
