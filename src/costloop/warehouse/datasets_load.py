"""Load inventory snapshots, utilization metrics and business metrics.

Each file replaces what it covers, in one transaction: an inventory file replaces
its snapshot times; a utilization file replaces its resources over its time range;
a business-metrics file replaces its (metric, dimension) series over its date range.
"""

from __future__ import annotations

import getpass
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from costloop.connectors.files import FileFormat, InputFile, file_digest, read_header
from costloop.core.datasets import (
    BUSINESS_METRICS_COLUMNS,
    INVENTORY_COLUMNS,
    UTILIZATION_COLUMNS,
)
from costloop.core.errors import InputError
from costloop.warehouse.connection import Lake
from costloop.warehouse.focus_sql import ident, lit

__all__ = ["DATASETS", "DatasetLoad", "detect_dataset", "load_dataset"]

DATASETS: dict[str, tuple[tuple[str, str], ...]] = {
    "inventory": INVENTORY_COLUMNS,
    "utilization": UTILIZATION_COLUMNS,
    "business_metrics": BUSINESS_METRICS_COLUMNS,
}
_REQUIRED = {
    "inventory": ("snapshot_time", "provider", "account_id", "resource_id", "resource_type"),
    "utilization": ("resource_id", "ts", "metric", "statistic", "value"),
    "business_metrics": ("date", "metric", "value"),
}
_REPLACE = {
    "inventory": "snapshot_time IN (SELECT DISTINCT snapshot_time FROM {new})",
    "utilization": (
        "resource_id IN (SELECT DISTINCT resource_id FROM {new}) "
        "AND ts BETWEEN (SELECT min(ts) FROM {new}) AND (SELECT max(ts) FROM {new})"
    ),
    "business_metrics": (
        "(metric, coalesce(dimension, '')) IN "
        "(SELECT DISTINCT metric, coalesce(dimension, '') FROM {new}) "
        "AND date BETWEEN (SELECT min(date) FROM {new}) AND (SELECT max(date) FROM {new})"
    ),
}


@dataclass(frozen=True)
class DatasetLoad:
    """Result of loading one non-billing file."""

    kind: str
    file: str
    rows: int
    replaced_rows: int


def detect_dataset(header: list[str]) -> str | None:
    """The dataset whose required columns all appear in ``header``, if any."""
    present = set(header)
    for kind, required in _REQUIRED.items():
        if set(required) <= present:
            return kind
    return None


_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMN = re.compile(r'column "([^"]+)"')


def load_dataset(lake: Lake, item: InputFile, kind: str) -> DatasetLoad:
    """Load one inventory / utilization / business-metrics file atomically.

    Raises:
        InputError: missing required columns or unparsable values (row and column named).
    """
    file = str(item.path)
    header = read_header(item)
    columns = DATASETS[kind]
    missing = [c for c in _REQUIRED[kind] if c not in header]
    if missing:
        raise InputError(
            f"missing required column(s) {', '.join(missing)}", file=file, column=missing[0]
        )
    known = dict(columns)
    unknown = [c for c in header if c not in known]
    if unknown:
        raise InputError(
            f"unknown column(s) for {kind}: {', '.join(unknown)}", file=file, column=unknown[0]
        )
    if item.format is FileFormat.PARQUET:
        rel = f"read_parquet({lit(file)})"
    else:
        types = "{" + ", ".join(f"{lit(c)}: {lit(known[c])}" for c in header) + "}"
        rel = (
            f"read_csv({lit(file)}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', columns = {types}, nullstr = ['NULL', ''], "
            f"timestampformat = '%Y-%m-%dT%H:%M:%SZ')"
        )
    select = ", ".join(
        f"CAST({ident(c)} AS {t}) AS {ident(c)}"
        if c in header
        else f"CAST(NULL AS {t}) AS {ident(c)}"
        for c, t in columns
    )
    sha = file_digest(item)
    load_id = uuid.uuid4().hex[:16]
    with lake.connect(read_only=False) as con:
        try:
            con.execute(f"CREATE TEMP TABLE new_rows AS SELECT {select} FROM {rel}")
        except duckdb.Error as exc:
            text = str(exc)
            line = _LINE.search(text)
            col = _COLUMN.search(text)
            raise InputError(
                text.splitlines()[0]
                if not line
                else "cannot parse value: "
                + next(
                    (ln.strip() for ln in text.splitlines() if "convert" in ln),
                    text.splitlines()[0],
                ),
                file=file,
                row=None if line is None else int(line.group(1)) - 1,
                column=None if col is None else col.group(1),
            ) from None
        counted = con.execute("SELECT count(*) FROM new_rows").fetchone()
        rows = int(counted[0]) if counted else 0
        if rows == 0:
            raise InputError("file has a header but no data rows", file=file)
        con.execute("BEGIN")
        try:
            deleted = con.execute(
                f"DELETE FROM {kind} WHERE " + _REPLACE[kind].format(new="new_rows")
            ).fetchone()
            con.execute(f"INSERT INTO {kind} SELECT * FROM new_rows")
            con.execute(
                "INSERT INTO loads (load_id, kind, source, files, rows, replaced_rows, loaded_at, "
                "loaded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    load_id,
                    kind,
                    kind,
                    json.dumps([{"path": file, "sha256": sha}]),
                    rows,
                    int(deleted[0]) if deleted else 0,
                    datetime.now(UTC).replace(tzinfo=None),
                    getpass.getuser(),
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return DatasetLoad(kind, file, rows, int(deleted[0]) if deleted else 0)
