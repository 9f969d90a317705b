"""Business-metric files (date, metric, value[, dimension]): every row checked before a load.

The warehouse loader casts columns and stops on values DuckDB cannot parse, but it
accepts rows that parse and are still wrong for unit economics: an empty metric
name, a missing or negative value, or the same (date, metric, dimension) twice,
which would double the volume of that day. This module reads the file in plain
Python (``csv`` or pyarrow) and refuses such rows, naming the file, the row and
the column, so nothing reaches the warehouse half-checked.

Rows are numbered from 1 for the first data row (the header is row 0), as the
loader numbers them. Dimensions are compared case-insensitively, as unit-cost
reports match them, so ``Web`` and ``web`` on the same date are duplicates.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from costloop.connectors.files import FileFormat, InputFile, read_header
from costloop.core.errors import InputError

__all__ = [
    "MAX_DECIMAL_PLACES",
    "METRIC_COLUMNS",
    "REQUIRED_COLUMNS",
    "MetricSummary",
    "MetricsFileCheck",
    "check_metrics_file",
    "check_metrics_header",
]

REQUIRED_COLUMNS = ("date", "metric", "value")
METRIC_COLUMNS = (*REQUIRED_COLUMNS, "dimension")
MAX_DECIMAL_PLACES = 6
"""The warehouse stores values as DECIMAL(38, 6); more places would be rounded."""
_MAX_INTEGER_DIGITS = 38 - MAX_DECIMAL_PLACES
_NULLS = ("", "NULL")  # the loader's null strings
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class MetricSummary:
    """What a file holds for one metric."""

    metric: str
    rows: int
    first_date: date
    last_date: date
    dimensions: tuple[str, ...]
    total: Decimal


@dataclass(frozen=True)
class MetricsFileCheck:
    """A business-metrics file whose every row passed the checks."""

    item: InputFile
    rows: int
    metrics: tuple[MetricSummary, ...]


def check_metrics_header(item: InputFile) -> list[str]:
    """The header of a business-metrics file, refused unless it has the right columns.

    Raises:
        InputError: JSON lines (the loader reads CSV and Parquet), missing required
            columns (all named), or columns the business-metrics format does not have.
    """
    file = str(item.path)
    if item.format.is_json:
        raise InputError(
            "business metrics are read from CSV (.csv, .csv.gz) or Parquet files; "
            "convert JSON lines to one of those",
            file=file,
        )
    header = read_header(item)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"not a business-metrics file: missing column(s) {', '.join(missing)} "
            f"(expected {', '.join(METRIC_COLUMNS)}; dimension is optional)",
            file=file,
            column=missing[0],
        )
    unknown = [c for c in header if c not in METRIC_COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column(s) for business metrics: {', '.join(unknown)} "
            f"(expected {', '.join(METRIC_COLUMNS)})",
            file=file,
            column=unknown[0],
        )
    return header


def _csv_records(item: InputFile, header: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    file = str(item.path)
    opener = gzip.open if item.format.gzipped else open
    row = 0
    try:
        with opener(item.path, "rt", encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            for fields in reader:
                row = reader.line_num - 1
                if not fields:
                    continue
                if len(fields) != len(header):
                    raise InputError(
                        f"expected {len(header)} fields, found {len(fields)}", file=file, row=row
                    )
                yield (
                    row,
                    {
                        name: None if value in _NULLS else value
                        for name, value in zip(header, fields, strict=True)
                    },
                )
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8; save the file as UTF-8", file=file) from None
    except csv.Error as exc:
        raise InputError(f"unreadable CSV: {exc}", file=file, row=row + 1) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read: {exc}", file=file) from None


def _parquet_records(item: InputFile, header: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    row = 0
    try:
        batches = pq.ParquetFile(item.path).iter_batches(columns=header)
        for batch in batches:
            for record in batch.to_pylist():
                row += 1
                yield row, record
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {exc}", file=str(item.path)) from None


def _date(value: Any) -> date | str:
    """The date, or the reason it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return f"{value!r} is not a calendar date"
    if value is None:
        return "date is empty"
    return f"expected a date as YYYY-MM-DD, got {value!r}"


def _value(value: Any) -> Decimal | str:
    """The value as an exact Decimal, or the reason it is refused."""
    if value is None:
        return "value is empty"
    if isinstance(value, bool):
        return f"expected a number, got {value!r}"
    if isinstance(value, float):
        value = repr(value)  # the shortest text that round-trips, not the binary expansion
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return f"expected a number, got {value!r}"
    if not number.is_finite():
        return f"expected a finite number, got {value!r}"
    if number < 0:
        return f"value is negative ({value}); business volumes are counts or amounts ≥ 0"
    if number.adjusted() >= _MAX_INTEGER_DIGITS:
        return f"{value} is too large (at most {_MAX_INTEGER_DIGITS} digits before the point)"
    if _places(number) > MAX_DECIMAL_PLACES:
        return f"{value} has more than {MAX_DECIMAL_PLACES} decimal places"
    return number


def _places(number: Decimal) -> int:
    """Significant decimal places (trailing zeros do not count), without rounding."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


def _name(value: Any, column: str, *, required: bool) -> str | None:
    """A metric or dimension name; raises ValueError with the reason it is refused."""
    if value is None:
        if required:
            raise ValueError(f"{column} name is empty")
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    if not value.strip():
        hint = "" if required else "; leave it empty for a row without dimension"
        raise ValueError(f"{column} is blank (only spaces){hint}")
    if value != value.strip():
        raise ValueError(f"{column} {value!r} has leading or trailing spaces")
    return value


@dataclass
class _Series:
    rows: int
    first: date
    last: date
    dimensions: set[str]
    total: Decimal


def check_metrics_file(item: InputFile) -> MetricsFileCheck:
    """Read a business-metrics file and check every row.

    Checks: a date as YYYY-MM-DD, a non-empty metric name, a number ≥ 0 with at most
    six decimal places, no leading or trailing spaces in names, and each
    (date, metric, dimension) at most once (dimension case-insensitive).

    Raises:
        InputError: the first bad row, with file, row and column; for a duplicate,
            the message names both rows.
    """
    file = str(item.path)
    header = check_metrics_header(item)
    records = (
        _parquet_records(item, header)
        if item.format is FileFormat.PARQUET
        else _csv_records(item, header)
    )
    seen: dict[tuple[date, str, str | None], int] = {}
    series: dict[str, _Series] = {}
    count = 0
    for row, record in records:
        day = _date(record.get("date"))
        if isinstance(day, str):
            raise InputError(day, file=file, row=row, column="date")
        names: list[str | None] = []
        for column, required in (("metric", True), ("dimension", False)):
            try:
                names.append(_name(record.get(column), column, required=required))
            except ValueError as exc:
                raise InputError(str(exc), file=file, row=row, column=column) from None
        metric, dimension = names
        assert metric is not None
        value = _value(record.get("value"))
        if isinstance(value, str):
            raise InputError(value, file=file, row=row, column="value")
        key = (day, metric, None if dimension is None else dimension.casefold())
        if key in seen:
            shown = f"{day}, {metric}, {dimension if dimension is not None else '(none)'}"
            raise InputError(
                f"rows {seen[key]} and {row} repeat the same (date, metric, dimension) = "
                f"({shown}); keep one row per day, metric and dimension",
                file=file,
                row=row,
                column="dimension" if dimension is not None else "date",
            )
        seen[key] = row
        count += 1
        s = series.get(metric)
        if s is None:
            series[metric] = _Series(1, day, day, set(), value)
        else:
            s.rows += 1
            s.first = min(s.first, day)
            s.last = max(s.last, day)
            s.total += value
        if dimension is not None:
            series[metric].dimensions.add(dimension)
    if count == 0:
        raise InputError("file has a header but no data rows", file=file)
    return MetricsFileCheck(
        item,
        count,
        tuple(
            MetricSummary(name, s.rows, s.first, s.last, tuple(sorted(s.dimensions)), s.total)
            for name, s in sorted(series.items())
        ),
    )
