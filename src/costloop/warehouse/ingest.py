"""Load FOCUS files into ``charges``: stage, validate, replace slices atomically, reconcile.

One ingest run is one transaction. Each input file is normalized by DuckDB into a
staged Parquet file (streaming, explicit VARCHAR reads then typed casts, row numbers
for lineage); the staged files are validated, then in a single DuckLake transaction
the (source, BillingAccountId, BillingPeriodStart) slices they contain are deleted
and the staged files registered. Totals read back through the catalog must equal the
totals staged from the files, or the transaction rolls back. A crash at any point
leaves the previous snapshot untouched; orphaned staged files are removed by the
next ingest.
"""

from __future__ import annotations

import getpass
import json
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from costloop.connectors.files import InputFile, discover, file_digest, read_header
from costloop.connectors.focus import FocusPlan, plan_focus
from costloop.core.errors import InputError
from costloop.core.focus import CHARGES_COLUMNS
from costloop.warehouse.connection import LAKE, Lake
from costloop.warehouse.focus_sql import ident, lit, normalize_select, source_relation
from costloop.warehouse.validation import Issue, validate_stage

__all__ = ["IngestResult", "SliceTotals", "ingest_focus"]

Progress = Callable[[str, float], None]
"""Called with (file name, fraction done 0..1) while a file is read."""


@dataclass(frozen=True)
class SliceTotals:
    """Reconciliation of one load slice: totals read from the files vs stored."""

    source: str
    billing_account_id: str
    billing_period_start: datetime
    rows: int
    source_billed_cost: Decimal
    billed_cost: Decimal
    source_effective_cost: Decimal
    effective_cost: Decimal
    replaced_rows: int

    @property
    def reconciled(self) -> bool:
        """Whether stored totals equal the file totals exactly."""
        return (
            self.source_billed_cost == self.billed_cost
            and self.source_effective_cost == self.effective_cost
        )


@dataclass(frozen=True)
class StagedFile:
    """A normalized input file waiting to be registered."""

    item: InputFile
    plan: FocusPlan
    path: Path
    sha256: str
    rows: int


@dataclass
class IngestResult:
    """What an ingest did."""

    load_id: str
    files: list[StagedFile] = field(default_factory=list)
    slices: list[SliceTotals] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows loaded."""
        return sum(s.rows for s in self.slices)


_ROW_ERROR = re.compile(r"row (\d+) column (\S+): (.*)", re.S)
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_GZ_ERROR = re.compile(r"gzip|GZIP|compress|inflate", re.S)


def _input_error(exc: duckdb.Error, item: InputFile, header: list[str]) -> InputError:
    """Turn a DuckDB error while reading ``item`` into an InputError naming row/column."""
    text = str(exc)
    m = _ROW_ERROR.search(text)
    if m:
        detail = m.group(3).strip().splitlines()[0]
        return InputError(detail, file=str(item.path), row=int(m.group(1)), column=m.group(2))
    m = _CSV_LINE.search(text)
    if m:
        line = int(m.group(1))
        first = text.splitlines()
        reason = next(
            (ln for ln in first if "Expected" in ln or "Invalid" in ln or "unicode" in ln),
            first[0],
        )
        if "unicode" in text:
            reason = "invalid UTF-8 byte sequence (save the file as UTF-8)"
        return InputError(f"malformed CSV: {reason.strip()}", file=str(item.path), row=line - 1)
    if _GZ_ERROR.search(text):
        return InputError(
            f"corrupt or truncated gzip data: {text.splitlines()[0]}", file=str(item.path)
        )
    return InputError(f"cannot read: {text.splitlines()[0]}", file=str(item.path))


def _poll_progress(
    con: duckdb.DuckDBPyConnection, name: str, progress: Progress, done: threading.Event
) -> None:
    while not done.wait(0.2):
        try:
            pct = con.query_progress()
        except duckdb.Error:
            return
        if pct >= 0:
            progress(name, min(pct / 100.0, 1.0))


def _stage_file(
    con: duckdb.DuckDBPyConnection,
    item: InputFile,
    staging: Path,
    load_id: str,
    source: str,
    index: int,
    progress: Progress | None,
) -> tuple[FocusPlan, Path, list[str]]:
    header = read_header(item)
    plan = plan_focus(header, str(item.path))
    select = normalize_select(
        plan,
        source_relation(item, header),
        load_id=load_id,
        source_name=source,
        file=str(item.path.resolve()),
    )
    target = staging / f"{load_id}-{index:04d}.parquet"
    done = threading.Event()
    poller = None
    if progress is not None:
        poller = threading.Thread(
            target=_poll_progress, args=(con, item.path.name, progress, done), daemon=True
        )
        poller.start()
    try:
        con.execute(f"COPY ({select}) TO {lit(str(target))} (FORMAT parquet)")
    except duckdb.Error as exc:
        target.unlink(missing_ok=True)
        raise _input_error(exc, item, header) from None
    finally:
        done.set()
        if poller is not None:
            poller.join()
    if progress is not None:
        progress(item.path.name, 1.0)
    return plan, target, header


def _slice_totals(
    con: duckdb.DuckDBPyConnection, relation: str
) -> dict[tuple[str, datetime], tuple[int, Decimal, Decimal]]:
    rows = con.execute(
        f'SELECT "BillingAccountId", "BillingPeriodStart", count(*), '
        f'coalesce(sum("BilledCost"), 0), coalesce(sum("EffectiveCost"), 0) '
        f"FROM {relation} GROUP BY ALL"
    ).fetchall()
    return {(r[0], r[1]): (int(r[2]), Decimal(r[3]), Decimal(r[4])) for r in rows}


def _check_keys(con: duckdb.DuckDBPyConnection, stage: Path, file: str) -> None:
    row = con.execute(
        f'SELECT min(x_SourceRow) FILTER (WHERE "BillingAccountId" IS NULL), '
        f'min(x_SourceRow) FILTER (WHERE "BillingPeriodStart" IS NULL), count(*) '
        f"FROM read_parquet({lit(str(stage))})"
    ).fetchone()
    assert row is not None
    if row[0] is not None:
        raise InputError(
            "BillingAccountId is empty (it keys the load)",
            file=file,
            row=int(row[0]),
            column="BillingAccountId",
        )
    if row[1] is not None:
        raise InputError(
            "BillingPeriodStart is empty (it keys the load)",
            file=file,
            row=int(row[1]),
            column="BillingPeriodStart",
        )
    if int(row[2]) == 0:
        raise InputError("file has a header but no data rows", file=file)


def _remove_orphans(con: duckdb.DuckDBPyConnection, staging: Path) -> None:
    registered = {
        Path(r[0]).name
        for r in con.execute(
            f"SELECT data_file FROM ducklake_list_files({lit(LAKE)}, 'charges')"
        ).fetchall()
    }
    for path in staging.glob("*.parquet"):
        if path.name not in registered:
            path.unlink(missing_ok=True)


def ingest_focus(
    lake: Lake,
    paths: Sequence[Path],
    *,
    source: str = "default",
    strict: bool = False,
    progress: Progress | None = None,
    loaded_by: str | None = None,
) -> IngestResult:
    """Ingest FOCUS files or folders as one atomic load.

    Raises:
        InputError: bad input (file, row and column named); nothing is written.
    """
    items = discover(list(paths))
    load_id = uuid.uuid4().hex[:16]
    result = IngestResult(load_id)
    staging = lake.paths.data / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    user = loaded_by or getpass.getuser()
    with lake.connect(read_only=False) as con, ThreadPoolExecutor(max_workers=1) as pool:
        _remove_orphans(con, staging)
        digests: list[Future[str]] = [pool.submit(file_digest, item) for item in items]
        staged_paths: list[Path] = []
        try:
            source_totals: dict[tuple[str, datetime], tuple[int, Decimal, Decimal]] = {}
            extras: dict[str, None] = {}
            for index, item in enumerate(items):
                plan, target, _ = _stage_file(con, item, staging, load_id, source, index, progress)
                staged_paths.append(target)
                sha = digests[index].result()
                _check_keys(con, target, str(item.path))
                totals = _slice_totals(con, f"read_parquet({lit(str(target))})")
                for key, (n, billed, effective) in totals.items():
                    prev = source_totals.get(key, (0, Decimal(0), Decimal(0)))
                    source_totals[key] = (prev[0] + n, prev[1] + billed, prev[2] + effective)
                result.issues += validate_stage(con, str(target), plan, str(item.path))
                result.files.append(
                    StagedFile(item, plan, target, sha, sum(t[0] for t in totals.values()))
                )
                for _, name in plan.extras:
                    extras[name] = None
            if strict and result.issues:
                first = result.issues[0]
                raise InputError(
                    f"{len(result.issues)} FOCUS validation rule(s) violated (--strict); "
                    f"first: {first.message} ({first.violations} rows)",
                    file=first.file,
                    row=first.first_rows[0] if first.first_rows else None,
                    column=first.column,
                )
            _commit(con, result, source, source_totals, list(extras), user)
        except BaseException:
            for path in staged_paths:
                path.unlink(missing_ok=True)
            raise
    return result


def _commit(
    con: duckdb.DuckDBPyConnection,
    result: IngestResult,
    source: str,
    source_totals: dict[tuple[str, datetime], tuple[int, Decimal, Decimal]],
    extras: list[str],
    user: str,
) -> None:
    known = {c for c, _ in CHARGES_COLUMNS} | {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() "
            "WHERE database_name = ? AND table_name = 'charges'",
            [LAKE],
        ).fetchall()
    }
    files_json = json.dumps(
        [
            {
                "path": str(f.item.path),
                "sha256": f.sha256,
                "format": f.item.format.value,
                "focus_version": f.plan.version,
            }
            for f in result.files
        ]
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN")
    try:
        for name in extras:
            if name not in known:
                con.execute(f"ALTER TABLE charges ADD COLUMN {ident(name)} VARCHAR")
        replaced: dict[tuple[str, datetime], int] = {}
        for account, period in source_totals:
            row = con.execute(
                'DELETE FROM charges WHERE "x_SourceName" = ? AND "BillingAccountId" = ? '
                'AND "BillingPeriodStart" = ?',
                [source, account, period],
            ).fetchone()
            replaced[(account, period)] = int(row[0]) if row else 0
            con.execute(
                "DELETE FROM loads WHERE kind = 'charges' AND source = ? "
                "AND billing_account_id = ? AND billing_period_start = ?",
                [source, account, period],
            )
        for staged in result.files:
            con.execute(
                f"CALL ducklake_add_data_files({lit(LAKE)}, 'charges', "
                f"{lit(str(staged.path))}, allow_missing => true)"
            )
        stored = _slice_totals(
            con, f"(SELECT * FROM charges WHERE x_SourceId = {lit(result.load_id)})"
        )
        for key in sorted(source_totals):
            n, src_billed, src_eff = source_totals[key]
            s_n, billed, eff = stored.get(key, (0, Decimal(0), Decimal(0)))
            totals = SliceTotals(
                source, key[0], key[1], s_n, src_billed, billed, src_eff, eff, replaced[key]
            )
            if s_n != n or not totals.reconciled:
                raise InputError(
                    f"reconciliation failed for account {key[0]} period {key[1]:%Y-%m}: "
                    f"{n} rows / {src_billed} billed read, {s_n} rows / {billed} billed stored"
                )
            result.slices.append(totals)
            con.execute(
                "INSERT INTO loads VALUES (?, 'charges', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    result.load_id,
                    source,
                    key[0],
                    key[1],
                    files_json,
                    s_n,
                    totals.replaced_rows,
                    src_billed,
                    billed,
                    src_eff,
                    eff,
                    now,
                    user,
                ],
            )
        for issue in result.issues:
            con.execute(
                "INSERT INTO load_issues VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    result.load_id,
                    issue.file,
                    issue.rule,
                    issue.column,
                    issue.violations,
                    json.dumps(list(issue.first_rows)),
                    issue.message,
                ],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
