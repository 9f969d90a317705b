"""Open DuckDB with the DuckLake extensions from site-packages and attach the lake."""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from costloop.connectors.sql import ident
from costloop.core.errors import ConfigError
from costloop.warehouse.rollup import refresh_daily_costs
from costloop.warehouse.schema import DAILY_COSTS, create_schema

__all__ = ["Lake", "LakePaths", "LakeReader", "extension_path"]

DUCKDB_VERSION = duckdb.__version__
LAKE = "lake"


def extension_path(name: str) -> Path:
    """Path of an extension binary shipped in its ``duckdb-extension-<name>`` wheel.

    Raises:
        ConfigError: the wheel is not installed or its version does not match DuckDB's.
    """
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the {package} wheel is not installed (pip install {package})")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{DUCKDB_VERSION}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise ConfigError(f"{package} does not match DuckDB {DUCKDB_VERSION}: {path} missing")
    return path


@dataclass(frozen=True)
class LakePaths:
    """Files of a workspace's warehouse, all under ``<workspace>/.costloop``."""

    root: Path

    @property
    def catalog(self) -> Path:
        """DuckLake catalog (SQLite)."""
        return self.root / "lake.sqlite"

    @property
    def data(self) -> Path:
        """Parquet data files."""
        return self.root / "lake"

    @property
    def tmp(self) -> Path:
        """DuckDB spill directory."""
        return self.root / "tmp"


class Lake:
    """Connections to a workspace's DuckLake warehouse.

    Args:
        paths: where the catalog and data live.
        memory_limit: DuckDB memory limit (e.g. ``4GB``); larger work spills to disk.
        threads: DuckDB worker threads.
    """

    def __init__(self, paths: LakePaths, memory_limit: str = "4GB", threads: int = 2) -> None:
        self.paths = paths
        self.memory_limit = memory_limit
        self.threads = threads
        self._schema_current = False
        self._wal_checked = False

    @property
    def exists(self) -> bool:
        """Whether the lake has been created."""
        return self.paths.catalog.exists()

    def version(self) -> tuple[tuple[int, int] | None, ...]:
        """A cheap fingerprint of the warehouse's contents, from file metadata only.

        Every commit (an ingest, an allocation) writes to the SQLite catalog's
        write-ahead log or, after a checkpoint, to the catalog itself, so the size and
        modification time of the two files change with it. An empty log counts as
        none (SQLite creates one when a connection opens). A checkpoint without new
        commits may change it too, which costs a recomputation, never a stale answer.
        The files are only looked at: opening the catalog with Python's own SQLite in
        a process where DuckDB has it open would release DuckDB's locks on it (two
        SQLite libraries in one process share POSIX locks without knowing it).
        """
        catalog = self.paths.catalog
        return (_stamp(catalog), _stamp(catalog.with_name(catalog.name + "-wal"), empty=None))

    def _ensure_wal(self) -> None:
        """Put the SQLite catalog in write-ahead-log mode (once per process and catalog).

        In SQLite's default rollback-journal mode a connection that merely has the
        catalog open (``costloop serve``) makes another process's commit (an ingest)
        fail with "database is locked". In WAL mode readers and one writer proceed
        together, and readers see each new snapshot at their next transaction. The mode
        is stored in the file, so this upgrades catalogs made by older versions too.
        """
        if self._wal_checked or not self.paths.catalog.exists():
            return
        key = str(self.paths.catalog.resolve())
        if key in _WAL_CHECKED:
            # Checked by another Lake object of this process, possibly while DuckDB has
            # the catalog open now: opening it with Python's SQLite again could release
            # DuckDB's locks on it.
            self._wal_checked = True
            return
        try:
            db = sqlite3.connect(self.paths.catalog, timeout=1)
            try:
                db.execute("PRAGMA journal_mode=WAL")
            finally:
                db.close()
        except sqlite3.Error:
            # Busy or read-only file: stay in the current mode, try again next open.
            return
        self._wal_checked = True
        _WAL_CHECKED.add(key)

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        self._ensure_wal()
        try:
            con = duckdb.connect(
                config={
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                    "threads": self.threads,
                    "memory_limit": self.memory_limit,
                }
            )
        except duckdb.Error as exc:
            raise ConfigError(
                f"invalid warehouse settings (warehouse.memory_limit = {self.memory_limit!r}, "
                f"warehouse.threads = {self.threads}): {exc}"
            ) from None
        try:
            self.paths.tmp.mkdir(parents=True, exist_ok=True)
            con.execute(f"SET temp_directory = '{_lit(str(self.paths.tmp))}'")
            con.execute("SET TimeZone = 'UTC'")
            # DuckDB would draw its own progress bar on stdout after 2 s (breaking
            # `--json` output). Progress is still tracked, from the first moment, for
            # `query_progress()` (the ingest progress bar).
            con.execute("SET enable_progress_bar_print = false")
            con.execute("SET progress_bar_time = 0")
            # The default, made explicit: staged files keep input order, which is what
            # numbers their rows for lineage (focus_sql.number_rows).
            con.execute("SET preserve_insertion_order = true")
            for name in ("ducklake", "sqlite_scanner"):
                con.execute(f"LOAD '{_lit(str(extension_path(name)))}'")
            options = f"DATA_PATH '{_lit(str(self.paths.data))}/'"
            if read_only:
                options += ", READ_ONLY"
            con.execute(
                f"ATTACH 'ducklake:sqlite:{_lit(str(self.paths.catalog))}' AS {LAKE} ({options})"
            )
            con.execute(f"USE {LAKE}")
        except BaseException:
            con.close()
            raise
        return con

    def create(self) -> None:
        """Create the catalog and every table (idempotent)."""
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.paths.data.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only=False)
        try:
            _upgrade_schema(con)
        finally:
            con.close()
        self._wal_checked = False
        _WAL_CHECKED.discard(str(self.paths.catalog.resolve()))
        self._ensure_wal()

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with the lake attached as the default database.

        Raises:
            ConfigError: the workspace has no warehouse yet (run ``costloop init``).
        """
        if not self.exists:
            raise ConfigError(
                f"no warehouse at {self.paths.root} (run `costloop init` in the workspace first)"
            )
        con = self._open(read_only=read_only)
        if not read_only and not self._schema_current:
            # A warehouse made by an older version gains the tables and columns added
            # since (once per process).
            try:
                _upgrade_schema(con)
            except BaseException:
                con.close()
                raise
            self._schema_current = True
        try:
            yield con
        finally:
            con.close()


class LakeReader:
    """Read-only connections to one lake for a long-running process, opened once.

    Opening DuckDB, loading the DuckLake extension and attaching the catalog takes a
    large part of a second; a server answering many small questions keeps one attached
    database and gives each request its own cursor (a DuckDB connection to the same
    database, safe to use from one thread while other threads use theirs). Every
    transaction reads the latest committed snapshot, so ingests by other processes show
    up on the next request.

    Args:
        lake: the warehouse to read.
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._copy_lock = threading.Lock()
        self._in_memory: dict[str, Hashable] = {}

    def keep_in_memory(self, table: str, version: Hashable, order_by: tuple[str, ...] = ()) -> bool:
        """Hold a copy of a small, hot lake table in memory, refreshed when ``version``
        (the caller's fingerprint of the data) changes.

        Queries on the copy skip reading the catalog and decoding Parquet, which is most
        of the cost of a small aggregate. Engines from :func:`reader_engine` read the
        copy in place of the lake table. Rows are stored in ``order_by`` order, so
        filters on those columns skip the row groups outside their range.

        Returns:
            False when the lake has no such table (nothing is kept).
        """
        if self._in_memory.get(table) == version:
            return True
        with self._copy_lock:
            if self._in_memory.get(table) == version:
                return True
            name = ident(table)
            with self.connect() as cur:
                found = cur.execute(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_catalog = ? AND table_name = ?",
                    [LAKE, table],
                ).fetchone()
                if not found or not found[0]:
                    self._in_memory.pop(table, None)
                    cur.execute(f"DROP TABLE IF EXISTS memory.main.{name}")
                    return False
                order = ", ".join(ident(c) for c in order_by)
                cur.execute(
                    f"CREATE OR REPLACE TABLE memory.main.{name} AS "
                    f"SELECT * FROM {LAKE}.{name}" + (f" ORDER BY {order}" if order else "")
                )
            self._in_memory[table] = version
        return True

    @property
    def in_memory(self) -> frozenset[str]:
        """Tables whose in-memory copy engines read (see :meth:`keep_in_memory`)."""
        return frozenset(self._in_memory)

    def _base(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                if not self.lake.exists:
                    raise ConfigError(
                        f"no warehouse at {self.lake.paths.root} "
                        "(run `costloop init` in the workspace first)"
                    )
                self._con = self.lake._open(read_only=True)
            return self._con

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the shared read-only database, with the lake as default."""
        cursor = self._base().cursor()
        try:
            cursor.execute("SET TimeZone = 'UTC'")
            cursor.execute(f"USE {LAKE}")
            yield cursor
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the shared database (a later :meth:`connect` opens it again)."""
        with self._lock:
            self._in_memory.clear()
            if self._con is not None:
                self._con.close()
                self._con = None


def _upgrade_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and columns; fill a newly created ``daily_costs`` rollup
    from the charges allocated before it existed."""
    if DAILY_COSTS in create_schema(con):
        con.execute("BEGIN")
        try:
            refresh_daily_costs(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


_WAL_CHECKED: set[str] = set()
"""Catalogs this process has put in WAL mode (see ``Lake._ensure_wal``)."""


def _stamp(path: Path, empty: tuple[int, int] | None = (0, 0)) -> tuple[int, int] | None:
    """(modification time in ns, size) of a file; None when missing, ``empty`` when empty."""
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size == 0:
        return empty
    return st.st_mtime_ns, st.st_size


def _lit(text: str) -> str:
    """Escape text for a single-quoted SQL literal."""
    return text.replace("'", "''")
