"""The ``daily_costs`` rollup: written with every allocation, equal to its source."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.allocation.conftest import load_bill, new_workspace, run_allocation, set_allocation

from costloop.core.focus import MONEY_COLUMNS
from costloop.testing import charge
from costloop.warehouse.engine import open_engine
from costloop.workspace import Workspace

ALLOCATION = """
dimensions:
  team:
    keys: [team]
  env:
    keys: [env]
pools:
  - name: shared
    match: {account: ["222222222222"]}
    method: proportional
"""

KEY = ("day", "BillingPeriodStart", "BillingCurrency", "team", "team_source", "env", "pool")


def _bill() -> list[dict[str, str]]:
    rows = []
    for month in (1, 2):
        for day in (1, 2, 15, 28):
            at = datetime(2026, month, day, 6)
            rows += [
                charge(
                    at, "10.01", resource_id=f"i-a{day}", tags={"team": "checkout", "env": "prod"}
                ),
                charge(at, "3.337", resource_id=f"i-b{day}", tags={"team": "search"}),
                charge(at, "7.5", resource_id=f"i-c{day}", account="222222222222"),
                charge(at, "1.25", resource_id=None, tags={"env": "dev"}),
            ]
    return rows


def _sums(ws: Workspace, table: str) -> dict[tuple[Any, ...], dict[str, Decimal]]:
    with open_engine(ws.lake) as engine:
        t = engine.table(table)
        day = t.ChargePeriodDay if table == "daily_costs" else t.ChargePeriodStart.truncate("D")
        keys = [
            day.name("day"),
            t.BillingPeriodStart,
            t.BillingCurrency,
            t.team,
            t.team_source,
            t.env,
            t.x_AllocationPool.name("pool"),
        ]
        rows = t.x_Rows.sum() if table == "daily_costs" else t.count()
        agg = t.group_by(keys).aggregate(rows=rows, **{c: t[c].sum() for c in MONEY_COLUMNS})
        return {tuple(r[k] for k in KEY): r for r in engine.rows(agg)}


def _allocated_workspace(tmp_path: Path) -> Workspace:
    ws = new_workspace(tmp_path / "ws", ALLOCATION)
    load_bill(ws, _bill())
    run_allocation(ws)
    return ws


def test_rollup_equals_allocated_charges_to_the_last_digit(tmp_path: Path) -> None:
    ws = _allocated_workspace(tmp_path)
    source, rollup = _sums(ws, "allocated_charges"), _sums(ws, "daily_costs")
    assert source.keys() == rollup.keys()
    for key, row in source.items():
        assert rollup[key] == row, key
    # Pools split the shared account's charges across teams; those rows are kept apart.
    assert any(k[6] == "shared" for k in rollup)
    assert {k[3] for k in rollup} >= {"checkout", "search"}
    assert sum(r["rows"] for r in rollup.values()) == sum(r["rows"] for r in source.values())


def test_reallocation_rewrites_only_its_periods(tmp_path: Path) -> None:
    ws = _allocated_workspace(tmp_path)
    before = _sums(ws, "daily_costs")
    ws = set_allocation(
        ws,
        ALLOCATION + "rules:\n  - {dimension: team, account: ['111111111111'], value: platform}\n",
    )
    run_allocation(ws, [datetime(2026, 2, 1)])
    after = _sums(ws, "daily_costs")
    assert after == _sums(ws, "allocated_charges")
    jan = {k: v for k, v in after.items() if k[1].month == 1}
    assert jan == {k: v for k, v in before.items() if k[1].month == 1}
    feb_teams = {k[3] for k in after if k[1].month == 2}
    assert "platform" in feb_teams
    total = sum((v["EffectiveCost"] for v in after.values()), Decimal(0))
    assert total == sum((v["EffectiveCost"] for v in before.values()), Decimal(0))


def test_a_warehouse_from_before_the_rollup_gets_it_filled(tmp_path: Path) -> None:
    ws = _allocated_workspace(tmp_path)
    expected = _sums(ws, "daily_costs")
    with ws.lake.connect(read_only=False) as con:
        con.execute("DROP TABLE daily_costs")
    upgraded = Workspace.open(ws.root)  # a new process: its first write connection upgrades
    with upgraded.lake.connect(read_only=False):
        pass
    assert _sums(upgraded, "daily_costs") == expected
