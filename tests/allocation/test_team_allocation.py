"""Team allocation: tag → account → unallocated, with the money invariant."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costloop.allocation import allocate
from costloop.allocation.coverage import coverage_report
from costloop.analytics.showback import showback
from costloop.core.periods import Month
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

ORG = """
company: Test Co
teams:
  - name: checkout
    owner: ana@example.com
    tag_values: [check-out]
  - name: platform
    owner: pat@example.com
accounts:
  - id: "222222222222"
    name: shared
    team: platform
"""


def _workspace(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    ws.org_file.write_text(ORG, encoding="utf-8")
    return Workspace.open(ws.root)


def test_rules_in_order_and_invariant(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    day = datetime(2026, 3, 5)
    rows = [
        charge(day, "10.00", tags={"Team": "Checkout"}),  # tag, key and value case differ
        charge(day, "5.50", tags={"TEAM": "check-out"}),  # alias from the org file
        charge(day, "2.25", tags={"owner-team": "platform"}),  # second tag key
        charge(day, "1.10", account="222222222222", tags={"team": "nobody"}),  # unknown → account
        charge(day, "0.15", account="333333333333"),  # nothing matches
        charge(datetime(2026, 4, 1), "7.00", tags={"team": "checkout"}),
    ]
    write_focus_csv(tmp_path / "bill.csv", rows)
    ingest_focus(ws.lake, [tmp_path / "bill.csv"])
    with open_engine(ws.lake, read_only=False) as engine:
        results = allocate(engine, ws.allocation)
        sb = showback(engine)
        cov = coverage_report(engine, ws.allocation, Month(2026, 3)).periods
    assert [r.period for r in results] == [datetime(2026, 3, 1), datetime(2026, 4, 1)]
    march = {r.team: r.effective_cost for r in sb if r.period == Month(2026, 3)}
    assert march == {
        "checkout": Decimal("15.50"),
        "platform": Decimal("3.35"),
        "unallocated": Decimal("0.15"),
    }
    assert sum(march.values()) == results[0].totals["EffectiveCost"] == Decimal("19.00")
    assert cov[0].dimension == "team" and cov[0].period == Month(2026, 3)
    assert cov[0].by_source == {
        "tag": Decimal("17.75"),
        "account": Decimal("1.10"),
        "unallocated": Decimal("0.15"),
    }
    assert cov[0].coverage == Decimal("18.85") / Decimal("19.00")


def test_reallocation_is_idempotent(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    write_focus_csv(tmp_path / "b.csv", [charge(datetime(2026, 3, 1), "3.333333333333")])
    ingest_focus(ws.lake, [tmp_path / "b.csv"])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
        allocate(engine, ws.allocation)
        again = showback(engine)
    assert [(r.team, r.effective_cost) for r in again] == [
        ("unallocated", Decimal("3.333333333333"))
    ]


money = st.decimals(
    min_value=Decimal("-1000"), max_value=Decimal("100000"), places=10, allow_nan=False
)


@pytest.mark.slow
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            money,
            st.sampled_from(["checkout", "CHECKOUT", "check-out", "platform", "x", ""]),
            st.sampled_from(["111111111111", "222222222222"]),
            st.integers(min_value=1, max_value=3),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_allocated_sums_equal_source(
    tmp_path_factory: pytest.TempPathFactory, data: list[tuple[Decimal, str, str, int]]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    ws = _workspace(tmp)
    rows = [
        charge(
            datetime(2026, month, 2), str(cost), account=acct, tags={"team": tag} if tag else None
        )
        for cost, tag, acct, month in data
    ]
    write_focus_csv(tmp / "b.csv", rows)
    ingest_focus(ws.lake, [tmp / "b.csv"])
    with open_engine(ws.lake, read_only=False) as engine:
        results = allocate(engine, ws.allocation)
        sb = showback(engine)
    for r in results:
        expected = sum((Decimal(str(c)) for c, _, _, m in data if m == r.period.month), Decimal(0))
        assert r.totals["BilledCost"] == expected
        per_team = sum((s.billed_cost for s in sb if s.period == Month.of(r.period)), Decimal(0))
        assert per_team == expected
