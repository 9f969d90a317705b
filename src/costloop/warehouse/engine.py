"""Ibis over the lake: analytics build engine-free expressions; this runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ibis
import pyarrow as pa

from costloop.connectors.sql import ident
from costloop.warehouse.connection import Lake, LakeReader
from costloop.warehouse.progress import tracked
from costloop.warehouse.rollup import allocation_dimension_columns, refresh_daily_costs
from costloop.warehouse.schema import DAILY_COSTS, add_missing_columns

__all__ = ["Engine", "open_engine", "reader_engine"]


class Engine:
    """An Ibis backend on one lake connection, plus the few writes analytics need."""

    def __init__(self, backend: Any, con: Any, in_memory: frozenset[str] = frozenset()) -> None:
        self.backend = backend
        self._con = con
        self._tables: dict[str, Any] = {}
        self._in_memory = in_memory

    def table(self, name: str) -> Any:
        """An Ibis table expression of a warehouse table (its schema is read once per
        Engine, and again after this Engine changes a table).

        Raises:
            KeyError: no table or view of that name.
        """
        found = self._tables.get(name)
        if found is None and name in self._in_memory:
            found = self._tables[name] = self.backend.table(name, database=("memory", "main"))
        if found is None:
            try:
                found = self.backend.table(name)
            except Exception as exc:  # Ibis raises its own and DuckDB's errors here
                if self._con.execute(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_catalog = current_database() AND table_name = ?",
                    [name],
                ).fetchone()[0]:
                    raise
                raise KeyError(f"no warehouse table {name!r}") from exc
            self._tables[name] = found
        return found

    def sql_name(self, name: str) -> str:
        """How a SQL statement names a table: its in-memory copy when the reader keeps
        one (see :meth:`LakeReader.keep_in_memory`), else the lake table."""
        return f"memory.main.{ident(name)}" if name in self._in_memory else ident(name)

    def sql_rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one parameterized SELECT; rows as dicts (DECIMAL columns as Decimal).

        For the few hot paths where building and compiling an Ibis expression costs
        more than running the query (the web explorer); everything else uses Ibis.
        """
        cur = self._con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def has_table(self, name: str) -> bool:
        """Whether the warehouse has a table or view of that name."""
        try:
            self.table(name)
        except KeyError:
            return False
        return True

    def to_arrow(self, expr: Any) -> pa.Table:
        """Execute an expression to Arrow (exact decimals)."""
        return expr.to_pyarrow()

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        """Execute an expression to a list of Python rows (Decimal money)."""
        return list(expr.to_pyarrow().to_pylist())

    def ensure_columns(self, table: str, columns: tuple[tuple[str, str], ...]) -> list[str]:
        """Add the given (name, SQL type) columns the table lacks; returns those added."""
        self._tables.clear()
        self._con.execute("BEGIN")
        try:
            added = add_missing_columns(self._con, table, columns)
            if table == "allocated_charges":  # the rollup keeps every allocation dimension
                names = allocation_dimension_columns([c for c, _ in columns])
                add_missing_columns(
                    self._con, DAILY_COSTS, tuple(c for c in columns if c[0] in names)
                )
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        return added

    def create_view(self, name: str, expr: Any) -> None:
        """Create or replace a warehouse view defined by an Ibis expression."""
        sql = ibis.to_sql(expr, dialect="duckdb")
        self._con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {sql}')
        self._tables.pop(name, None)

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

        Replacing ``allocated_charges`` slices rewrites the ``daily_costs`` rollup of the
        same slices in the same transaction. ``check`` runs inside the transaction,
        after the insert, and sees the new rows; if it raises, nothing is written.
        ``progress`` receives (table, fraction done) while the insert runs.

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
        self._tables.clear()
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
            if table == "allocated_charges" and key == "BillingPeriodStart":
                refresh_daily_costs(self._con, keys)
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


@contextmanager
def reader_engine(reader: LakeReader) -> Iterator[Engine]:
    """A read-only Engine on a cursor of a long-lived :class:`LakeReader` (tables the
    reader keeps in memory are read from there)."""
    with reader.connect() as con:
        yield Engine(ibis.duckdb.from_connection(con), con, reader.in_memory)
