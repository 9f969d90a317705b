"""Warehouse tables as Parquet, and a read-only engine over them for any Ibis backend.

``export_tables`` writes the tables allocation and showback read (plus their
result, ``allocated_charges``) from the lake to one Parquet file each.
``ParquetEngine`` reads such a folder back through any Ibis backend with the read
interface of :class:`costloop.warehouse.engine.Engine` (``table``, ``rows``,
``to_arrow``), so read-only analytics run unchanged on DuckDB or on a Spark cluster.
``duckdb_backend`` and ``spark_backend`` make the two backends costloop is tested on.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from costloop.core.errors import ConfigError, CostloopError, NotFoundError
from costloop.warehouse.connection import Lake
from costloop.warehouse.focus_sql import ident, lit
from costloop.warehouse.schema import TABLES

__all__ = [
    "EXPORT_TABLES",
    "ExportedTable",
    "ParquetEngine",
    "duckdb_backend",
    "duckdb_engine",
    "export_tables",
    "spark_backend",
    "spark_engine",
]

EXPORT_TABLES = ("charges", "inventory", "k8s_allocation", "business_metrics", "allocated_charges")
"""What allocation reads, and what it wrote: enough to re-run it and showback elsewhere."""


@dataclass(frozen=True)
class ExportedTable:
    """One table written by :func:`export_tables`."""

    name: str
    path: Path
    rows: int


def export_tables(
    lake: Lake, folder: Path, tables: Iterable[str] = EXPORT_TABLES
) -> list[ExportedTable]:
    """Write warehouse tables to ``folder/<table>.parquet`` from one snapshot of the lake.

    Decimals keep their declared precision (money as DECIMAL(38, 18)), timestamps
    stay naive UTC. Every file is first written beside its target and read back; only
    when all of them are complete are they renamed into place, so a failed export
    leaves existing files untouched and no partial file behind.

    Raises:
        NotFoundError: a name is not a warehouse table.
        ConfigError: the workspace has no warehouse.
    """
    names = list(dict.fromkeys(tables))
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise NotFoundError(
            f"no warehouse table {unknown[0]!r} (tables: {', '.join(sorted(TABLES))})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[ExportedTable] = []  # path: the temporary file until all are written
    try:
        with lake.connect() as con:
            # One transaction: every file shows the same snapshot, even while an ingest
            # or allocation commits in another process.
            con.execute("BEGIN")
            for name in names:
                fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet", dir=folder)
                os.close(fd)
                tmp = Path(tmp_name)
                staged.append(ExportedTable(name, tmp, 0))
                con.execute(
                    f"COPY (SELECT * FROM {ident(name)}) TO {lit(str(tmp))} "
                    "(FORMAT parquet, COMPRESSION zstd)"
                )
                [(expected,)] = con.execute(f"SELECT count(*) FROM {ident(name)}").fetchall()
                [(written,)] = con.execute(
                    f"SELECT count(*) FROM read_parquet({lit(str(tmp))})"
                ).fetchall()
                if written != expected:
                    raise CostloopError(
                        f"{name}: wrote {written} rows to {tmp} but the table has {expected}; "
                        "nothing was exported"
                    )
                staged[-1] = ExportedTable(name, tmp, int(written))
            con.execute("COMMIT")
        out = []
        for item in staged:
            target = folder / f"{item.name}.parquet"
            os.replace(item.path, target)
            out.append(ExportedTable(item.name, target, item.rows))
        return out
    finally:
        for item in staged:
            with contextlib.suppress(FileNotFoundError):
                item.path.unlink()


class ParquetEngine:
    """A read-only engine over a folder of ``<table>.parquet`` files on any Ibis backend.

    A table is a file ``<folder>/<table>.parquet`` or a folder of that name holding
    Parquet files (as Spark writes them). ``folder`` may also be a URI the backend
    reads (``s3a://bucket/costloop``, ``hdfs://...``); it is then not checked here.

    Args:
        backend: a connected Ibis backend with ``read_parquet`` (DuckDB, PySpark, ...).
        folder: the folder written by :func:`export_tables`.
    """

    def __init__(self, backend: Any, folder: Path | str) -> None:
        self.backend = backend
        self.folder = folder
        self._tables: dict[str, Any] = {}

    def _local(self) -> Path | None:
        text = str(self.folder)
        return None if "://" in text else Path(text)

    def location(self, name: str) -> str | None:
        """Where table ``name`` is read from (a file, a glob or a URI); None when absent."""
        local = self._local()
        if local is None:
            return f"{str(self.folder).rstrip('/')}/{name}.parquet"
        path = local / f"{name}.parquet"
        if path.is_dir():
            return str(path / "*.parquet")
        return str(path) if path.is_file() else None

    def has(self, name: str) -> bool:
        """Whether table ``name`` is there to read."""
        return self.location(name) is not None

    def table(self, name: str) -> Any:
        """An Ibis table expression of the table's Parquet data.

        Raises:
            NotFoundError: there is no such file or folder.
        """
        if name not in self._tables:
            location = self.location(name)
            if location is None:
                raise NotFoundError(
                    f"no {name}.parquet in {self.folder} "
                    "(write it with `costloop export tables --out DIR`)"
                )
            self._tables[name] = self.backend.read_parquet(location, table_name=name)
        return self._tables[name]

    def tables(self, names: Iterable[str]) -> dict[str, Any]:
        """The tables among ``names`` that exist, by name."""
        return {name: self.table(name) for name in names if self.has(name)}

    def to_arrow(self, expr: Any) -> pa.Table:
        """Execute an expression to Arrow (exact decimals)."""
        return self.backend.to_pyarrow(expr)

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        """Execute an expression to a list of Python rows (Decimal money)."""
        return list(self.to_arrow(expr).to_pylist())


def duckdb_backend(threads: int = 2, memory_limit: str = "4GB") -> Any:
    """An in-memory Ibis DuckDB backend computing in UTC, for reading Parquet."""
    backend = ibis.duckdb.connect(threads=threads, memory_limit=memory_limit)
    backend.raw_sql("SET TimeZone = 'UTC'")
    return backend


def _spark_sql() -> Any:
    try:
        return importlib.import_module("pyspark.sql")
    except ImportError:
        raise ConfigError(
            "the Spark engine needs pyspark 4.0 (pip install 'ibis-framework[pyspark]') and Java 17"
        ) from None


def spark_backend(master: str = "local[2]", app_name: str = "costloop", **conf: str) -> Any:
    """An Ibis PySpark backend on the running SparkSession, or on a new one.

    A new session computes in UTC, runs without the web UI and console progress
    bars, and logs only errors. ``conf`` adds Spark settings; their keys hold dots,
    so pass them as a mapping:
    ``spark_backend("spark://host:7077", **{"spark.executor.memory": "4g"})``.

    Raises:
        ConfigError: pyspark is not installed, or Spark did not start (local mode
            needs Java 17 on the PATH or in JAVA_HOME).
    """
    sql = _spark_sql()
    builder = (
        sql.SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise ConfigError(
            f"could not start Spark with master {master!r}: {exc} "
            "(local mode needs Java 17 on the PATH or in JAVA_HOME)"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


@contextlib.contextmanager
def duckdb_engine(folder: Path | str) -> Iterator[ParquetEngine]:
    """A ParquetEngine over ``folder`` on a fresh in-memory DuckDB, closed afterwards."""
    backend = duckdb_backend()
    try:
        yield ParquetEngine(backend, folder)
    finally:
        backend.disconnect()


@contextlib.contextmanager
def spark_engine(
    folder: Path | str, master: str = "local[2]", **conf: str
) -> Iterator[ParquetEngine]:
    """A ParquetEngine over ``folder`` on Spark (see :func:`spark_backend`).

    The session is stopped afterwards when this call started it; a session that was
    already running (a notebook's, a test suite's) is left running.
    """
    running = _spark_sql().SparkSession.getActiveSession()
    backend = spark_backend(master, **conf)
    try:
        yield ParquetEngine(backend, folder)
    finally:
        if running is None:
            backend.disconnect()
