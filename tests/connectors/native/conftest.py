"""Helpers to run a native conversion (a pure mapping) on tiny in-memory tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.conftest import Cli

from costloop.connectors.native import Conversion, Header, get_format
from costloop.connectors.sql import ROW, lit
from costloop.warehouse.focus_sql import native_select

Rows = Sequence[Sequence[str | None]]
Convert = Callable[..., list[dict[str, Any]]]


def relation_of(header: Sequence[str], rows: Rows) -> str:
    """A source relation (``__row``, ``c0..cN`` VARCHAR) holding ``rows``."""
    if not rows:
        cols = ", ".join(f"CAST(NULL AS VARCHAR) AS c{i}" for i in range(len(header)))
        return f"SELECT CAST(NULL AS BIGINT) AS {ROW}, {cols} WHERE false"
    values = ", ".join(
        "("
        + ", ".join([str(n), *("CAST(NULL AS VARCHAR)" if v is None else lit(v) for v in row)])
        + ")"
        for n, row in enumerate(rows, start=1)
    )
    names = ", ".join([ROW, *(f"c{i}" for i in range(len(header)))])
    return f"SELECT * FROM (VALUES {values}) AS t({names})"


def run_conversion(
    fmt: str, header: Sequence[str], rows: Rows, *, file: str = "sample.csv"
) -> tuple[Conversion, list[dict[str, Any]], dict[tuple[str, str], Decimal]]:
    """Convert ``rows`` with format ``fmt``: (conversion, FOCUS rows, native totals).

    FOCUS rows are dicts of the ``charges`` columns (lineage included) in output order;
    native totals map (native measure, FOCUS column) to the summed native value.
    """
    native = get_format(fmt)
    conversion = native.convert(Header(list(header), file, native.key))
    relation = relation_of(header, rows)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    select = native_select(conversion, relation, load_id="test", source_name="t", file=file)
    cur = con.execute(f"SELECT * FROM ({select}) ORDER BY x_SourceRow")
    names = [d[0] for d in cur.description]
    out = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    totals: dict[tuple[str, str], Decimal] = {}
    for row in con.execute(conversion.totals_sql(relation)).fetchall():
        for i, m in enumerate(conversion.measures):
            key = (m.native, m.focus)
            totals[key] = totals.get(key, Decimal(0)) + Decimal(row[2 + i])
    return conversion, out, totals


def ingest(cli: Cli, ws: Path, sample: Path) -> dict[str, Any]:
    """``costloop init WS`` + ``costloop ingest --json SAMPLE``; the ingest JSON."""
    assert cli("init", ws).returncode == 0
    done = cli("ingest", "-w", ws, "--json", sample)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


Loaded = Callable[[Path], tuple[Path, dict[str, Any]]]


@pytest.fixture(scope="module")
def loaded(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """``loaded(sample)``: (workspace, ingest JSON) of the sample, ingested once per module."""
    cache: dict[Path, tuple[Path, dict[str, Any]]] = {}

    def load(sample: Path) -> tuple[Path, dict[str, Any]]:
        if sample not in cache:
            ws = tmp_path_factory.mktemp("ws")
            cache[sample] = (ws, ingest(cli, ws, sample))
        return cache[sample]

    return load


def sql(cli: Cli, ws: Path, query: str) -> list[dict[str, Any]]:
    """Rows of ``costloop sql --json QUERY``."""
    done = cli("sql", "-w", ws, "--json", query)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)["rows"]
    return rows


@pytest.fixture
def convert() -> Convert:
    """``convert(fmt, header, rows)`` → FOCUS rows (see :func:`run_conversion`)."""

    def run(fmt: str, header: Sequence[str], rows: Rows, **kw: Any) -> list[dict[str, Any]]:
        return run_conversion(fmt, header, rows, **kw)[1]

    return run
