"""Fixtures for detector tests: a small in-memory DuckDB warehouse built from YAML rows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from costloop.core.datasets import INVENTORY_COLUMNS, UTILIZATION_COLUMNS
from costloop.core.focus import CHARGES_COLUMNS

CHARGE_FIELDS = (
    "ResourceId",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
)
_TYPES = dict(CHARGES_COLUMNS)
CHARGE_COLUMNS = tuple((name, _TYPES[name]) for name in CHARGE_FIELDS)
RELATIVE = re.compile(r"^now(?:-(\d+)([dh]))?$")


class DuckReader:
    """The TableReader the detectors need, over a DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        return self.con.execute(sql, list(params)).to_arrow_table()


def _moment(value: object, now: datetime) -> object:
    """YAML dates, ISO text and ``now``, ``now-40d``, ``now-3h`` to datetimes."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        match = RELATIVE.match(value)
        if match:
            if match.group(1) is None:
                return now
            amount = int(match.group(1))
            delta = timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount)
            return now - delta
        return datetime.fromisoformat(value)
    return value


def _cell(value: object, sql_type: str, now: datetime) -> object:
    if value is None:
        return None
    if sql_type == "TIMESTAMP":
        return _moment(value, now)
    if sql_type.startswith("DECIMAL"):
        return Decimal(str(value))
    if sql_type == "VARCHAR" and isinstance(value, dict):
        return json.dumps(value)
    return value


def _days(now: datetime, count: int) -> list[datetime]:
    """Starts of the ``count`` whole days before ``now``'s day, oldest first."""
    today = datetime(now.year, now.month, now.day)
    return [today - timedelta(days=count - i) for i in range(count)]


def _inventory(rows: list[dict[str, Any]], now: datetime) -> Iterator[dict[str, Any]]:
    defaults = {
        "snapshot_time": "now-1h",
        "provider": "AWS",
        "account_id": "111122223333",
        "region": "us-east-1",
    }
    for row in rows:
        yield {**defaults, **row}


def _utilization(rows: list[dict[str, Any]], now: datetime) -> Iterator[dict[str, Any]]:
    """Rows as given, or daily series from ``values: [...]`` or ``value`` + ``days``."""
    for row in rows:
        if "values" not in row and "days" not in row:
            yield row
            continue
        values = row.get("values") or [row["value"]] * int(row["days"])
        base = {k: v for k, v in row.items() if k not in ("values", "value", "days")}
        for ts, value in zip(_days(now, len(values)), values, strict=True):
            yield {**base, "ts": ts, "value": float(value)}


def _charges(rows: list[dict[str, Any]], now: datetime) -> Iterator[dict[str, Any]]:
    """Rows as given, or ``daily_cost`` + ``days``: one usage row per recent day."""
    defaults = {"ChargeCategory": "Usage", "BillingCurrency": "USD"}
    for row in rows:
        if "daily_cost" not in row:
            yield {**defaults, **row}
            continue
        cost = str(row["daily_cost"])
        base = {k: v for k, v in row.items() if k not in ("daily_cost", "days")}
        for start in _days(now, int(row["days"])):
            yield {
                **defaults,
                **base,
                "ChargePeriodStart": start,
                "ChargePeriodEnd": start + timedelta(days=1),
                "BilledCost": cost,
                "EffectiveCost": cost,
            }


def build_reader(case: Mapping[str, Any], now: datetime) -> DuckReader:
    """An in-memory warehouse with the case's inventory, utilization and charges."""
    con = duckdb.connect()
    tables = (
        ("inventory", INVENTORY_COLUMNS, _inventory(case.get("inventory", []), now)),
        ("utilization", UTILIZATION_COLUMNS, _utilization(case.get("utilization", []), now)),
        ("charges", CHARGE_COLUMNS, _charges(case.get("charges", []), now)),
    )
    for table, columns, rows in tables:
        ddl = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns)
        con.execute(f"CREATE TABLE {table} ({ddl})")
        data = [[_cell(row.get(n), t, now) for n, t in columns] for row in rows]
        if data:
            marks = ", ".join("?" for _ in columns)
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", data)
    return DuckReader(con)


@pytest.fixture
def make_reader() -> Callable[[Mapping[str, Any], datetime], DuckReader]:
    """Builds a warehouse from case rows (inventory, utilization, charges) at ``now``."""
    return build_reader


@pytest.fixture
def parse_moment() -> Callable[[object, datetime], object]:
    """Parses case times: datetimes, ISO text, ``now``, ``now-40d``, ``now-3h``."""
    return _moment
