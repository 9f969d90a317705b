"""Open DuckDB with the DuckLake extensions from site-packages and attach the lake."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from costloop.core.errors import ConfigError
from costloop.warehouse.schema import create_schema

__all__ = ["Lake", "LakePaths", "extension_path"]

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

    @property
    def exists(self) -> bool:
        """Whether the lake has been created."""
        return self.paths.catalog.exists()

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
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
            create_schema(con)
        finally:
            con.close()

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
                create_schema(con)
            except BaseException:
                con.close()
                raise
            self._schema_current = True
        try:
            yield con
        finally:
            con.close()


def _lit(text: str) -> str:
    """Escape text for a single-quoted SQL literal."""
    return text.replace("'", "''")
