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

import contextlib
import fcntl
import getpass
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from costloop.connectors.files import (
    FileFormat,
    InputFile,
    discover,
    file_digest,
    line_endings,
    read_header,
)
from costloop.connectors.focus import FocusPlan, plan_focus
from costloop.connectors.native import (
    FORMATS,
    Conversion,
    Header,
    NativeFormat,
    detect_format,
    get_format,
)
from costloop.core.errors import CostloopError, InputError
from costloop.core.focus import CHARGES_COLUMNS, COLUMNS_BY_NAME
from costloop.warehouse.connection import LAKE, Lake
from costloop.warehouse.focus_sql import (
    ROW,
    ident,
    lit,
    native_extras,
    native_select,
    normalize_select,
    number_rows,
    source_relation,
)
from costloop.warehouse.progress import tracked as _tracked
from costloop.warehouse.validation import Issue, validate_stage

__all__ = [
    "ConcurrentLoadError",
    "IngestResult",
    "MeasureCheck",
    "SliceTotals",
    "ingest_focus",
]

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
    format: str = "focus"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeasureCheck:
    """A native cost measure's total vs the matching FOCUS total, for one slice."""

    billing_account_id: str
    billing_period_start: datetime
    format: str
    native: str
    native_total: Decimal
    focus: str
    focus_total: Decimal

    @property
    def reconciled(self) -> bool:
        """Whether the totals are equal to the last decimal place."""
        return self.native_total == self.focus_total


@dataclass
class IngestResult:
    """What an ingest did."""

    load_id: str
    files: list[StagedFile] = field(default_factory=list)
    slices: list[SliceTotals] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    measures: list[MeasureCheck] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows loaded."""
        return sum(s.rows for s in self.slices)


_ROW_ERROR = re.compile(r"row (\d+) column (\S+): (.*)", re.S)
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_FIELD_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_COLUMN_REF = re.compile(r"\bc(\d+)\b")
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
        # DuckDB puts the reason on the last line before its "Possible fixes" advice.
        described = [ln.strip() for ln in text.split("Possible fixes")[0].splitlines()]
        reason = next((ln for ln in reversed(described[2:]) if ln), "unreadable row")
        counts = _FIELD_COUNT.search(text)
        if "unicode" in text:
            reason = "invalid UTF-8 byte sequence (save the file as UTF-8)"
        elif counts:
            expected, found = counts.groups()
            reason = f"the row has {found} fields but the header has {expected} columns"
        return InputError(f"malformed CSV: {reason}", file=str(item.path), row=line - 1)
    if _GZ_ERROR.search(text):
        return InputError(
            f"corrupt or truncated gzip data: {text.splitlines()[0]}", file=str(item.path)
        )
    if "invalid state" in text:
        mixed = line_endings(item)
        if mixed is not None:
            return InputError(mixed, file=str(item.path), row=None)
    return InputError(f"cannot read: {text.splitlines()[0]}", file=str(item.path))


def _copy(con: duckdb.DuckDBPyConnection, select: str, target: Path) -> None:
    try:
        con.execute(f"COPY ({select}) TO {lit(str(target))} (FORMAT parquet)")
    except BaseException:
        target.unlink(missing_ok=True)
        raise


NativeTotals = dict[tuple[str, str, datetime, str, str], Decimal]
"""(format, account, period, native measure, FOCUS column) → total."""


@dataclass
class _Staged:
    plan: FocusPlan
    target: Path
    format: str = "focus"
    notes: tuple[str, ...] = ()
    native: NativeTotals = field(default_factory=dict)
    focus: NativeTotals = field(default_factory=dict)


def _choose_format(header: list[str], item: InputFile, forced: str | None) -> NativeFormat | None:
    """The native format of a file, or None for FOCUS."""
    if forced == "focus":
        return None
    if forced is not None:
        return get_format(forced)
    native = detect_format(header, str(item.path))
    if native is None:
        return None
    # A FOCUS export (e.g. AWS's FOCUS_1_2_AWS or Azure's FocusCost) is FOCUS even
    # though it carries provider x_ columns.
    if {"BilledCost", "ChargePeriodStart", "BillingAccountId"} <= set(header):
        return None
    return native


def _stage_file(
    con: duckdb.DuckDBPyConnection,
    item: InputFile,
    staging: Path,
    load_id: str,
    source: str,
    index: int,
    progress: Progress | None,
    forced: str | None = None,
) -> _Staged:
    header = read_header(item)
    native = _choose_format(header, item, forced)
    if native is not None:
        return _stage_native(con, item, header, native, staging, load_id, source, index, progress)
    try:
        plan = plan_focus(header, str(item.path))
    except InputError as exc:
        if forced is None:
            raise InputError(
                f"{exc.detail}; nor is it a native export costloop recognises "
                f"(formats: {', '.join(f.name for f in FORMATS)}; see `costloop sources`, "
                "or name one with --format)",
                file=exc.file,
                column=exc.column,
            ) from None
        raise

    def select(numbered: bool) -> str:
        return normalize_select(
            plan,
            source_relation(item, header, numbered=numbered),
            load_id=load_id,
            source_name=source,
            file=str(item.path.resolve()),
        )

    target = staging / f"{load_id}-{index:04d}.parquet"
    # CSV rows are numbered in a second, parallel pass over the staged Parquet: numbering
    # them while reading would run normalization on one thread (about 2x slower).
    two_pass = item.format is not FileFormat.PARQUET
    first = target.with_suffix(".pass1.parquet") if two_pass else target
    name = item.path.name
    try:
        with _tracked(con, name, progress, 0.0, 0.85 if two_pass else 1.0):
            _copy(con, select(numbered=not two_pass), first)
    except duckdb.Error as exc:
        error: duckdb.Error = exc
        if two_pass and not _CSV_LINE.search(str(exc)):
            error = _locate(con, select(numbered=True), target.with_suffix(".check.parquet"), exc)
        raise _input_error(error, item, header) from None
    if two_pass:
        try:
            with _tracked(con, name, progress, 0.85, 0.15):
                _copy(con, number_rows(str(first)), target)
        finally:
            first.unlink(missing_ok=True)
    if progress is not None:
        progress(name, 1.0)
    return _Staged(plan, target)


def _stage_native(
    con: duckdb.DuckDBPyConnection,
    item: InputFile,
    header: list[str],
    fmt: NativeFormat,
    staging: Path,
    load_id: str,
    source: str,
    index: int,
    progress: Progress | None,
) -> _Staged:
    """Convert a native export to FOCUS and record its native totals.

    Text inputs are first copied to an all-VARCHAR Parquet file in parallel; the
    conversion then reads it with row numbers, so every FOCUS row keeps the number of
    the native row it comes from.
    """
    conversion = fmt.convert(Header(header, str(item.path), fmt.key))
    names = list(conversion.columns)
    plan = FocusPlan(
        "1.2",
        {c: i for i, c in enumerate(names) if c in COLUMNS_BY_NAME},
        extras=[(i, c) for i, c in enumerate(native_extras(conversion), start=len(names))],
    )
    target = staging / f"{load_id}-{index:04d}.parquet"
    raw = target.with_suffix(".raw.parquet")
    # Only the columns the conversion reads are staged (CUR files have hundreds).
    text = conversion.sql("") + conversion.totals_sql("")
    used = [f"c{i}" for i in sorted({int(n) for n in _COLUMN_REF.findall(text)}) if i < len(header)]
    used = used or ["c0"]
    name = item.path.name
    try:
        if conversion.staged is not None:
            select, totals = _stage_typed(con, conversion, item, header, raw, progress)
        else:
            if item.format is FileFormat.PARQUET:
                relation = source_relation(item, header)
            else:
                try:
                    with _tracked(con, name, progress, 0.0, 0.5):
                        _copy(
                            con,
                            f"SELECT {', '.join(used)} FROM "
                            + source_relation(item, header, numbered=False),
                            raw,
                        )
                except duckdb.Error as exc:
                    raise _input_error(exc, item, header) from None
                relation = _numbered_parquet(raw)
            select, totals = relation, conversion.totals_sql(relation)
        select = native_select(
            conversion,
            select,
            load_id=load_id,
            source_name=source,
            file=str(item.path.resolve()),
            staged=_numbered_parquet(raw) if conversion.staged is not None else None,
        )
        try:
            with _tracked(con, name, progress, 0.5, 0.4):
                _copy(con, select, target)
            native_rows = con.execute(totals).fetchall()
        except duckdb.Error as exc:
            raise _input_error(exc, item, header) from None
    finally:
        raw.unlink(missing_ok=True)
    staged = _Staged(plan, target, fmt.name, conversion.notes)
    for row in native_rows:
        account, period = row[0], row[1]
        for i, m in enumerate(conversion.measures):
            staged.native[(fmt.name, account, period, m.native, m.focus)] = Decimal(row[2 + i])
    columns = sorted({m.focus for m in conversion.measures})
    if columns:
        sums = ", ".join(f"coalesce(sum({ident(c)}), 0)" for c in columns)
        for row in con.execute(
            f'SELECT "BillingAccountId", "BillingPeriodStart", {sums} '
            f"FROM read_parquet({lit(str(target))}) GROUP BY ALL"
        ).fetchall():
            for m in conversion.measures:
                key = (fmt.name, row[0], row[1], m.native, m.focus)
                staged.focus[key] = Decimal(row[2 + columns.index(m.focus)])
    if progress is not None:
        progress(name, 1.0)
    return staged


def _numbered_parquet(path: Path) -> str:
    """A staged Parquet file with ``__row`` = its 1-based row position."""
    return (
        f"SELECT CAST(file_row_number + 1 AS BIGINT) AS {ROW}, * EXCLUDE (file_row_number) "
        f"FROM read_parquet({lit(str(path))}, file_row_number = true)"
    )


def _stage_typed(
    con: duckdb.DuckDBPyConnection,
    conversion: Conversion,
    item: InputFile,
    header: list[str],
    raw: Path,
    progress: Progress | None,
) -> tuple[str, str]:
    """First pass: compute the conversion's staged (parsed) layer into ``raw``.

    The pass runs in parallel without row numbers; when it fails, it is re-run with
    row numbers so the error names the row. Returns (source relation, totals query).
    """
    name = item.path.name
    try:
        with _tracked(con, name, progress, 0.0, 0.5):
            _copy(con, conversion.staged_sql(source_relation(item, header, numbered=False)), raw)
    except duckdb.Error as exc:
        error: duckdb.Error = exc
        if not _CSV_LINE.search(str(exc)):
            numbered = conversion.staged_sql(source_relation(item, header, numbered=True))
            error = _locate(con, numbered, raw.with_suffix(".check.parquet"), exc)
        raise _input_error(error, item, header) from None
    staged = _numbered_parquet(raw)
    return "SELECT 1", conversion.totals_sql("SELECT 1", staged)


def _reconcile_native(native: NativeTotals, focus: NativeTotals) -> list[MeasureCheck]:
    """Compare native and FOCUS totals of every measure and slice (all files summed).

    Raises:
        InputError: a total differs; the load is refused.
    """
    checks = []
    zero = Decimal(0)
    for key in sorted(set(native) | set(focus), key=lambda k: (k[0], k[1], k[2], k[3])):
        fmt, account, period, measure, column = key
        check = MeasureCheck(
            account, period, fmt, measure, native.get(key, zero), column, focus.get(key, zero)
        )
        if not check.reconciled:
            raise InputError(
                f"{fmt} conversion does not reconcile for billing account {account} period "
                f"{period:%Y-%m}: native {measure} totals {check.native_total}, FOCUS "
                f"{column} totals {check.focus_total}; nothing was loaded"
            )
        checks.append(check)
    return checks


def _locate(
    con: duckdb.DuckDBPyConnection, numbered: str, scratch: Path, original: duckdb.Error
) -> duckdb.Error:
    """Re-run a failed unnumbered staging with row numbers: the error then names the row."""
    try:
        _copy(con, numbered, scratch)
    except duckdb.Error as located:
        return located
    scratch.unlink(missing_ok=True)
    return original


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


def _check_currency(
    con: duckdb.DuckDBPyConnection,
    stage: Path,
    file: str,
    seen: dict[tuple[str, datetime], tuple[str, str]],
) -> None:
    """One currency per (billing account, billing period), within and across files.

    A billing account is invoiced in one currency, and totals of mixed currencies
    would be meaningless, so a mix is refused (``seen`` carries earlier files' slices).
    """
    rows = con.execute(
        'SELECT "BillingAccountId", "BillingPeriodStart", "BillingCurrency", '
        "min(x_SourceRow) AS first_row "
        f"FROM read_parquet({lit(str(stage))}) GROUP BY ALL ORDER BY first_row"
    ).fetchall()
    for account, period, currency, first_row in rows:
        key = (account, period)
        if key not in seen:
            seen[key] = (currency, file)
            continue
        earlier, where = seen[key]
        if currency != earlier:
            origin = "" if where == file else f" in {where}"
            raise InputError(
                f"billing account {account} period {period:%Y-%m} mixes currencies "
                f"{earlier}{origin} and {currency}; a billing account is invoiced in one "
                "currency",
                file=file,
                row=int(first_row),
                column="BillingCurrency",
            )


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


@contextmanager
def _staging_area(con: duckdb.DuckDBPyConnection, staging: Path) -> Iterator[None]:
    """Hold the staging folder for one ingest, first removing orphans if no one else does.

    Every ingest holds a shared lock on ``staging/.lock`` until its files are
    registered, so the unregistered files of a running ingest are never taken for
    orphans; the kernel drops the lock of a killed process.
    """
    with (staging / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another ingest is running: its staged files are not orphans
        else:
            _remove_orphans(con, staging)
        fcntl.flock(lock, fcntl.LOCK_SH)
        yield


def ingest_focus(
    lake: Lake,
    paths: Sequence[Path],
    *,
    source: str = "default",
    strict: bool = False,
    progress: Progress | None = None,
    loaded_by: str | None = None,
    file_format: str | None = None,
) -> IngestResult:
    """Ingest FOCUS files or native exports (files or folders) as one atomic load.

    Each file's format is detected from its columns unless ``file_format`` (``focus``
    or a native format name) is given. Native exports are converted to FOCUS 1.2 and
    their native cost totals must equal the FOCUS totals per billing account and
    period, or nothing is loaded.

    Raises:
        InputError: bad input (file, row and column named); nothing is written.
    """
    items = discover(list(paths))
    load_id = uuid.uuid4().hex[:16]
    result = IngestResult(load_id)
    staging = lake.paths.data / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    user = loaded_by or getpass.getuser()
    with (
        lake.connect(read_only=False) as con,
        _staging_area(con, staging),
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        digests: list[Future[str]] = [pool.submit(file_digest, item) for item in items]
        staged_paths: list[Path] = []
        try:
            source_totals: dict[tuple[str, datetime], tuple[int, Decimal, Decimal]] = {}
            extras: dict[str, None] = {}
            currencies: dict[tuple[str, datetime], tuple[str, str]] = {}
            native_totals: NativeTotals = {}
            focus_totals: NativeTotals = {}
            for index, item in enumerate(items):
                try:
                    staged = _stage_file(
                        con, item, staging, load_id, source, index, progress, file_format
                    )
                except InputError:
                    # A truncated gzip stream surfaces in DuckDB as a malformed last row;
                    # the digest check names the real cause.
                    digests[index].result()
                    raise
                plan, target = staged.plan, staged.target
                staged_paths.append(target)
                for measure, value in staged.native.items():
                    native_totals[measure] = native_totals.get(measure, Decimal(0)) + value
                for measure, value in staged.focus.items():
                    focus_totals[measure] = focus_totals.get(measure, Decimal(0)) + value
                sha = digests[index].result()
                _check_keys(con, target, str(item.path))
                _check_currency(con, target, str(item.path), currencies)
                totals = _slice_totals(con, f"read_parquet({lit(str(target))})")
                for key, (n, billed, effective) in totals.items():
                    prev = source_totals.get(key, (0, Decimal(0), Decimal(0)))
                    source_totals[key] = (prev[0] + n, prev[1] + billed, prev[2] + effective)
                result.issues += validate_stage(con, str(target), plan, str(item.path))
                result.files.append(
                    StagedFile(
                        item,
                        plan,
                        target,
                        sha,
                        sum(t[0] for t in totals.values()),
                        staged.format,
                        staged.notes,
                    )
                )
                for _, name in plan.extras:
                    extras[name] = None
            result.measures = _reconcile_native(native_totals, focus_totals)
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
    known = {c.lower() for c, _ in CHARGES_COLUMNS} | {
        r[0].lower()
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
                "source_format": f.format,
                "focus_version": f.plan.version,
            }
            for f in result.files
        ]
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN")
    try:
        for name in extras:
            if name.lower() not in known:  # DuckDB column names are case-insensitive
                con.execute(f"ALTER TABLE charges ADD COLUMN {ident(name)} VARCHAR")
        # One statement per kind for all slices: each DuckLake statement costs a catalog
        # round trip, and a year of monthly files for a few accounts has dozens of slices.
        keys = sorted(source_totals)
        slice_keys = [source, [k[0] for k in keys], [k[1] for k in keys]]
        in_slices = "IN (SELECT unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[]))"
        in_charges = (
            f'FROM charges WHERE "x_SourceName" = ? '
            f'AND ("BillingAccountId", "BillingPeriodStart") {in_slices}'
        )
        replaced: dict[tuple[str, datetime], int] = dict.fromkeys(keys, 0)
        for account, period, count in con.execute(
            f'SELECT "BillingAccountId", "BillingPeriodStart", count(*) {in_charges} GROUP BY ALL',
            slice_keys,
        ).fetchall():
            replaced[(account, period)] = int(count)
        con.execute(f"DELETE {in_charges}", slice_keys)
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
        _insert_rows(
            con,
            "loads",
            [
                [
                    result.load_id,
                    "charges",
                    source,
                    t.billing_account_id,
                    t.billing_period_start,
                    files_json,
                    t.rows,
                    t.replaced_rows,
                    t.source_billed_cost,
                    t.billed_cost,
                    t.source_effective_cost,
                    t.effective_cost,
                    now,
                    user,
                ]
                for t in result.slices
            ],
        )
        _insert_rows(
            con,
            "load_reconciliation",
            [
                [
                    result.load_id,
                    source,
                    m.billing_account_id,
                    m.billing_period_start,
                    m.format,
                    m.native,
                    m.native_total,
                    m.focus,
                    m.focus_total,
                ]
                for m in result.measures
            ],
        )
        _insert_rows(
            con,
            "load_issues",
            [
                [
                    result.load_id,
                    issue.file,
                    issue.rule,
                    issue.column,
                    issue.violations,
                    json.dumps(list(issue.first_rows)),
                    issue.message,
                ]
                for issue in result.issues
            ],
        )
        try:
            con.execute("COMMIT")
        except duckdb.TransactionException as exc:
            raise ConcurrentLoadError(
                "another ingest committed changes to the same data while this one ran; "
                f"nothing was written, run the ingest again ({str(exc).splitlines()[0]})"
            ) from None
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a failed COMMIT already ended it
            con.execute("ROLLBACK")
        raise


class ConcurrentLoadError(CostloopError):
    """A concurrent ingest won the commit race; running again will succeed."""

    exit_code = 1
    retryable = True


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[list[object]]) -> None:
    """Insert rows with one statement (one DuckLake catalog round trip)."""
    if rows:
        one = "(" + ", ".join("?" * len(rows[0])) + ")"
        values = ", ".join([one] * len(rows))
        con.execute(f"INSERT INTO {table} VALUES {values}", [v for row in rows for v in row])
