"""Read-only SQL over the warehouse, returned as Arrow tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from costloop.core.errors import InputError
from costloop.warehouse.connection import Lake

__all__ = ["QueryResult", "WarehouseReader", "run_sql"]


@dataclass(frozen=True)
class QueryResult:
    """Columns and rows of a query (values as DuckDB returns them: Decimal, datetime...)."""

    columns: list[str]
    rows: list[tuple[object, ...]]


def run_sql(lake: Lake, sql: str) -> QueryResult:
    """Run one read-only statement against the current snapshot.

    Raises:
        InputError: the SQL is invalid or tries to write (the lake is attached read-only).
    """
    with lake.connect(read_only=True) as con:
        try:
            cur = con.execute(sql)
            description = cur.description or []
            columns = [d[0] for d in description]
            return QueryResult(columns, cur.fetchall())
        except duckdb.Error as exc:
            raise InputError(f"SQL error: {exc}") from None


class WarehouseReader:
    """A reusable read-only connection handing out Arrow tables (detectors, reports)."""

    def __init__(self, lake: Lake) -> None:
        self._cm = lake.connect(read_only=True)
        self._con = self._cm.__enter__()

    def query(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        """Run a query and return an Arrow table."""
        return self._con.execute(sql, list(params)).to_arrow_table()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """Run a query and return Python rows (Decimal money)."""
        return self._con.execute(sql, list(params)).fetchall()

    def close(self) -> None:
        """Release the connection."""
        self._cm.__exit__(None, None, None)

    def __enter__(self) -> WarehouseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
