"""Ibis over the lake: analytics build engine-free expressions; this runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import pyarrow as pa

from costloop.warehouse.connection import Lake
from costloop.warehouse.progress import tracked
from costloop.warehouse.schema import add_missing_columns

__all__ = ["Engine", "open_engine"]


class Engine:
    """An Ibis backend on one lake connection, plus the few writes analytics need."""

    def __init__(self, backend: Any, con: Any) -> None:
        self.backend = backend
        self._con = con

    def table(self, name: str) -> Any:
        """An Ibis table expression of a warehouse table."""
        return self.backend.table(name)

    def to_arrow(self, expr: Any) -> pa.Table:
        """Execute an expression to Arrow (exact decimals)."""
        return expr.to_pyarrow()

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        """Execute an expression to a list of Python rows (Decimal money)."""
        return list(expr.to_pyarrow().to_pylist())

    def ensure_columns(self, table: str, columns: tuple[tuple[str, str], ...]) -> list[str]:
        """Add the given (name, SQL type) columns the table lacks; returns those added."""
        self._con.execute("BEGIN")
        try:
            added = add_missing_columns(self._con, table, columns)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        return added

    def create_view(self, name: str, expr: Any) -> None:
        """Create or replace a warehouse view defined by an Ibis expression."""
        sql = ibis.to_sql(expr, dialect="duckdb")
        self._con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {sql}')

    def replace_slices(
        self,
        table: str,
        exprs: Any,
        key: str,
        keys: list[Any],
        check: Callable[[], None] | None = None,
        progress: Callable[[str, float], None] | None = None,
    ) -> int:
        """Atomically delete ``table`` rows whose ``key`` is in ``keys`` and insert the rows
        of ``exprs`` (one Ibis expression or a list, inserted one after the other).

        ``check`` runs inside the transaction, after the insert, and sees the new rows;
        if it raises, nothing is written. ``progress`` receives (table, fraction done)
        while the insert runs.

        Returns:
            Number of rows inserted.
        """
        parts = exprs if isinstance(exprs, list) else [exprs]
        statements = []
        for expr in parts:
            statements.append(ibis.to_sql(expr, dialect="duckdb"))
            # Small in-memory tables in the expression (e.g. split ratios) become views.
            self.backend._run_pre_execute_hooks(expr)
        inserted = 0
        self._con.execute("BEGIN")
        try:
            if keys:
                marks = ", ".join("?" for _ in keys)
                self._con.execute(f'DELETE FROM {table} WHERE "{key}" IN ({marks})', keys)
            # Row order means nothing in these tables: not keeping it lets DuckDB stream
            # large inserts instead of buffering them.
            self._con.execute("SET preserve_insertion_order = false")
            try:
                for i, sql in enumerate(statements):
                    step = _scaled(progress, i, len(statements))
                    with tracked(self._con, table, step):
                        done = self._con.execute(f"INSERT INTO {table} BY NAME {sql}").fetchone()
                    inserted += int(done[0]) if done else 0
            finally:
                self._con.execute("SET preserve_insertion_order = true")
            if check is not None:
                check()
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        return inserted


def _scaled(
    progress: Callable[[str, float], None] | None, index: int, count: int
) -> Callable[[str, float], None] | None:
    """Progress of statement ``index`` of ``count`` as a share of the whole."""
    if progress is None:
        return None
    report = progress

    def update(name: str, fraction: float) -> None:
        report(name, (index + fraction) / count)

    return update


@contextmanager
def open_engine(lake: Lake, *, read_only: bool = True) -> Iterator[Engine]:
    """An Engine on a fresh lake connection."""
    with lake.connect(read_only=read_only) as con:
        yield Engine(ibis.duckdb.from_connection(con), con)
