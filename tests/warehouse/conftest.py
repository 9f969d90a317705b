"""Warehouse test kit: FOCUS files with independently computed totals, and lake state.

Rows are dicts of column name → CSV text (``None`` for an empty field), so every
writer (CSV with its variants, gzip, Parquet) emits the same values and the expected
totals come from :class:`decimal.Decimal` arithmetic on the text itself. Tests get the
kit through the ``focus`` fixture and read a warehouse with ``lake_state``.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

Row = dict[str, str | None]

FOCUS_12_HEADER: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "PricingCategory",
    "PricingCurrency",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "ResourceId",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "Tags",
)
"""A FOCUS 1.2 header: every column mandatory in 1.2 plus common conditional ones."""

_SERVICES = (
    ("Amazon Elastic Compute Cloud", "Compute"),
    ("Amazon Simple Storage Service", "Storage"),
    ("Amazon Relational Database Service", "Databases"),
)


def _next_month(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return f"{year + mon // 12}-{mon % 12 + 1:02d}"


def focus_rows(
    accounts: Sequence[str] = ("111111111111", "222222222222"),
    months: Sequence[str] = ("2024-09", "2024-10"),
    rows_per_slice: int = 6,
    *,
    seed: int = 7,
    scale: int = 1,
) -> list[Row]:
    """FOCUS 1.2 rows: ``rows_per_slice`` rows per (account, month) slice.

    ``scale`` multiplies every amount, to make a "restated" version of the same slices.
    """
    rng = random.Random(seed)
    rows: list[Row] = []
    for account in accounts:
        for month in months:
            start, end = f"{month}-01T00:00:00Z", f"{_next_month(month)}-01T00:00:00Z"
            for i in range(rows_per_slice):
                service, category = _SERVICES[i % len(_SERVICES)]
                day = 1 + i % 28
                cents = rng.randint(1, 10**9)
                billed = Decimal(cents * scale) / Decimal(10**7)
                effective = billed * Decimal("0.9")
                quantity = Decimal(rng.randint(1, 10**6)) / 1000
                rows.append(
                    {
                        "BilledCost": str(billed),
                        "BillingAccountId": account,
                        "BillingAccountName": f"Account {account[:3]}",
                        "BillingAccountType": "Billing Account",
                        "BillingCurrency": "USD",
                        "BillingPeriodEnd": end,
                        "BillingPeriodStart": start,
                        "ChargeCategory": "Usage",
                        "ChargeClass": None,
                        "ChargeDescription": f'{service} usage, "{i}" hours',
                        "ChargeFrequency": "Usage-Based",
                        "ChargePeriodEnd": f"{month}-{day:02d}T01:00:00Z",
                        "ChargePeriodStart": f"{month}-{day:02d}T00:00:00Z",
                        "ConsumedQuantity": str(quantity),
                        "ConsumedUnit": "Hours",
                        "ContractedCost": str(billed),
                        "EffectiveCost": str(effective),
                        "InvoiceId": f"INV-{account[:3]}-{month}",
                        "InvoiceIssuerName": "Amazon Web Services, Inc.",
                        "ListCost": str(billed * 2),
                        "PricingCategory": "Standard",
                        "PricingCurrency": "USD",
                        "PricingQuantity": str(quantity),
                        "PricingUnit": "Hours",
                        "ProviderName": "AWS",
                        "PublisherName": "Amazon Web Services, Inc.",
                        "RegionId": "us-east-1",
                        "ResourceId": f"i-{account[:4]}{i:06d}",
                        "ServiceCategory": category,
                        "ServiceName": service,
                        "SubAccountId": f"{account[:6]}{i % 2}",
                        "Tags": '{"Team": "core", "env": "prod"}' if i % 2 else None,
                    }
                )
    return rows


@dataclass(frozen=True)
class Totals:
    """What a file holds: rows and money totals, overall and per (account, period)."""

    rows: int
    billed: Decimal
    effective: Decimal
    slices: dict[tuple[str, str], tuple[int, Decimal]]


def totals(rows: Iterable[Row]) -> Totals:
    """Totals computed with Decimal from the rows' text (empty / NULL count as nothing)."""

    def money(value: str | None) -> Decimal:
        return Decimal(0) if value in (None, "", "NULL") else Decimal(value)

    n, billed, effective = 0, Decimal(0), Decimal(0)
    slices: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for row in rows:
        n += 1
        billed += money(row["BilledCost"])
        effective += money(row["EffectiveCost"])
        key = (str(row["BillingAccountId"]), str(row["BillingPeriodStart"])[:7])
        count, total = slices.get(key, (0, Decimal(0)))
        slices[key] = (count + 1, total + money(row["BilledCost"]))
    return Totals(n, billed, effective, slices)


def csv_text(
    rows: Sequence[Row],
    header: Sequence[str] = FOCUS_12_HEADER,
    *,
    newline: str = "\n",
    null: str = "",
) -> str:
    """CSV text of ``rows`` (all fields quoted when needed; ``None`` written as ``null``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([null if row.get(c) is None else row.get(c) for c in header])
    return buf.getvalue()


def write_csv(
    path: Path,
    rows: Sequence[Row],
    header: Sequence[str] = FOCUS_12_HEADER,
    *,
    newline: str = "\n",
    null: str = "",
    bom: bool = False,
) -> Path:
    """Write a CSV file; gzip-compressed when ``path`` ends in ``.gz``."""
    data = (b"\xef\xbb\xbf" if bom else b"") + csv_text(
        rows, header, newline=newline, null=null
    ).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def write_large_csv(
    path: Path, rows: int, *, account: str = "999999999999", month: str = "2024-09", scale: int = 1
) -> Path:
    """A FOCUS 1.2 CSV of ``rows`` rows of one (account, month) slice, written by DuckDB.

    Row ``i`` has ``ResourceId`` ``r-<i>`` and ``BilledCost`` ``(i % 1000 + 1) * scale / 100``.
    """
    import duckdb  # only here: the generator is the one place tests write files via SQL

    end = f"{_next_month(month)}-01T00:00:00Z"
    exprs = {c: "NULL" for c in FOCUS_12_HEADER}
    exprs.update(
        {
            "BilledCost": f"CAST((i % 1000 + 1) * {scale} / 100 AS DECIMAL(18, 2))",
            "EffectiveCost": f"CAST((i % 1000 + 1) * {scale} / 100 AS DECIMAL(18, 2))",
            "ListCost": f"CAST((i % 1000 + 1) * {scale} / 50 AS DECIMAL(18, 2))",
            "ContractedCost": f"CAST((i % 1000 + 1) * {scale} / 100 AS DECIMAL(18, 2))",
            "BillingAccountId": f"'{account}'",
            "BillingAccountName": "'Big account'",
            "BillingCurrency": "'USD'",
            "BillingPeriodStart": f"'{month}-01T00:00:00Z'",
            "BillingPeriodEnd": f"'{end}'",
            "ChargePeriodStart": f"strftime(TIMESTAMP '{month}-01' + to_hours(i % 600), "
            "'%Y-%m-%dT%H:%M:%SZ')",
            "ChargePeriodEnd": f"strftime(TIMESTAMP '{month}-01' + to_hours(i % 600 + 1), "
            "'%Y-%m-%dT%H:%M:%SZ')",
            "ChargeCategory": "'Usage'",
            "ChargeDescription": "'Compute usage'",
            "ChargeFrequency": "'Usage-Based'",
            "InvoiceIssuerName": "'Amazon Web Services, Inc.'",
            "PricingQuantity": "1",
            "PricingUnit": "'Hours'",
            "ProviderName": "'AWS'",
            "PublisherName": "'Amazon Web Services, Inc.'",
            "ResourceId": "'r-' || i",
            "ServiceCategory": "'Compute'",
            "ServiceName": "'Amazon Elastic Compute Cloud'",
            "Tags": "CASE WHEN i % 3 = 0 THEN '{\"team\": \"t' || (i % 7) || '\"}' END",
        }
    )
    select = ", ".join(f'{expr} AS "{c}"' for c, expr in exprs.items())
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar_print = false")
        con.execute(
            f"COPY (SELECT {select} FROM range(1, {rows + 1}) r(i) ORDER BY i) "
            f"TO '{path}' (HEADER, DELIMITER ',')"
        )
    finally:
        con.close()
    return path


def large_billed_total(rows: int, scale: int = 1) -> Decimal:
    """Sum of ``BilledCost`` in :func:`write_large_csv`, from arithmetic alone."""
    # Every 1,000 consecutive i give i % 1000 + 1 = 1..1000; rows 1..rest of a last,
    # partial block give 2..rest + 1.
    full, rest = divmod(rows, 1000)
    cents = full * sum(range(1, 1001)) + sum(range(2, rest + 2))
    return Decimal(cents * scale) / 100


def write_parquet(path: Path, rows: Sequence[Row], header: Sequence[str] = FOCUS_12_HEADER) -> Path:
    """Write a Parquet file with every column as a string (as many exports do)."""
    table = pa.table({c: pa.array([row.get(c) for row in rows], pa.string()) for c in header})
    pq.write_table(table, path)
    return path


@dataclass(frozen=True)
class LakeState:
    """What a reader of the warehouse sees: charges rows and total, loads, snapshot."""

    rows: int
    billed: Decimal
    loads: int
    snapshot: int


def lake_state(workspace: Path) -> LakeState:
    """Read the current snapshot of a workspace's warehouse (read-only)."""
    from costloop.warehouse import Lake, LakePaths

    with Lake(LakePaths(workspace / ".costloop")).connect(read_only=True) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM charges), "
            "(SELECT coalesce(sum(BilledCost), 0) FROM charges), "
            "(SELECT count(*) FROM loads), "
            "(SELECT max(snapshot_id) FROM lake.snapshots())"
        ).fetchone()
    assert row is not None
    return LakeState(int(row[0]), Decimal(row[1]), int(row[2]), int(row[3]))


class FocusKit:
    """The generators and writers above, handed to tests by the ``focus`` fixture."""

    HEADER = FOCUS_12_HEADER
    rows = staticmethod(focus_rows)
    totals = staticmethod(totals)
    csv_text = staticmethod(csv_text)
    csv = staticmethod(write_csv)
    parquet = staticmethod(write_parquet)
    large_csv = staticmethod(write_large_csv)
    large_billed_total = staticmethod(large_billed_total)


@pytest.fixture(scope="session")
def focus() -> type[FocusKit]:
    """FOCUS file generators: ``focus.rows()``, ``focus.csv(path, rows)``, ``focus.totals``..."""
    return FocusKit


@pytest.fixture(name="lake_state", scope="session")
def lake_state_fixture() -> Callable[[Path], LakeState]:
    """``lake_state(workspace)``: rows, billed total, loads and snapshot id now."""
    return lake_state


def lake_sql(workspace: Path, *queries: str) -> Any:
    """Rows (dicts of Decimal, datetime... values) of read-only queries, on one connection.

    Returns the rows of the query, or a list of row lists when given several queries.
    """
    from costloop.warehouse import Lake, LakePaths

    results = []
    with Lake(LakePaths(workspace / ".costloop")).connect(read_only=True) as con:
        for query in queries:
            cur = con.execute(query)
            names = [d[0] for d in cur.description or []]
            results.append([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
    return results[0] if len(queries) == 1 else results


@pytest.fixture(name="lake_sql", scope="session")
def lake_sql_fixture() -> Callable[..., Any]:
    """``lake_sql(workspace, query, ...)``: see :func:`lake_sql`."""
    return lake_sql


@pytest.fixture
def lake(tmp_path: Path) -> Any:
    """A fresh warehouse at ``tmp_path/.costloop`` (so ``lake_state(tmp_path)`` reads it)."""
    from costloop.warehouse import Lake, LakePaths

    lake = Lake(LakePaths(tmp_path / ".costloop"))
    lake.create()
    return lake
