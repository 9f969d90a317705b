"""The warehouse: DuckLake (Parquet + SQLite catalog) and the only code that opens DuckDB."""

from costloop.warehouse.connection import Lake, LakePaths, LakeReader
from costloop.warehouse.query import QueryResult

__all__ = ["Lake", "LakePaths", "LakeReader", "QueryResult"]
