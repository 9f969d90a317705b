"""The shared read services (``costloop.web.queries``) on a tiny, exact workspace."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from costloop.allocation import allocate
from costloop.core.errors import InputError, NotFoundError
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import Engine, open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.web import queries
from costloop.web.queries import ExplorerQuery
from costloop.workspace import Workspace

ORG = """
company: Test Co
teams:
  - name: checkout
    owner: ana@example.com
  - name: platform
    owner: pat@example.com
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """Two months of charges in USD and one in EUR, allocated to two teams."""
    root = Workspace.init(tmp_path / "ws").root
    (root / "org.yaml").write_text(ORG, encoding="utf-8")
    ws = Workspace.open(root)
    rows = [
        charge(datetime(2026, 3, 5), "10.10", tags={"team": "checkout"}),
        charge(datetime(2026, 3, 6), "0.01", tags={"team": "platform"}, service="Amazon S3"),
        charge(datetime(2026, 4, 1), "7.00", tags={"team": "checkout"}),
        charge(datetime(2026, 4, 2), "2.50", tags={"team": "checkout"}, service="Amazon S3"),
        charge(datetime(2026, 4, 2), "1.25", billing_account="888", BillingCurrency="EUR"),
    ]
    write_focus_csv(tmp_path / "bill.csv", rows)
    ingest_focus(ws.lake, [tmp_path / "bill.csv"])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    return ws


def _connect(ws: Workspace) -> partial[AbstractContextManager[Engine]]:
    return partial(open_engine, ws.lake)


def test_explorer_month_and_day(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        months = queries.explorer(engine, ExplorerQuery(group_by="team"))
        days = queries.explorer(
            engine,
            ExplorerQuery(
                group_by="ServiceName",
                grain="day",
                start=date(2026, 4, 2),
                end=date(2026, 4, 2),
                filters=(("team", "checkout"),),
            ),
        )
    assert months.totals == {"USD": Decimal("19.61"), "EUR": Decimal("1.25")}
    usd = [(s.value, s.total) for s in months.series if s.currency == "USD"]
    assert usd == [("checkout", Decimal("19.60")), ("platform", Decimal("0.01"))]
    checkout = next(s for s in months.series if s.value == "checkout")
    assert [(p.period, p.cost) for p in checkout.points] == [
        (date(2026, 3, 1), Decimal("10.10")),
        (date(2026, 4, 1), Decimal("9.50")),
    ]
    assert [(s.value, s.total) for s in days.series] == [("Amazon S3", Decimal("2.50"))]
    assert days.periods == (date(2026, 4, 2),)


def test_explorer_rejects_unknown_names(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        with pytest.raises(InputError, match="unknown dimension 'ResourceId'; allowed: team"):
            queries.explorer(engine, ExplorerQuery(group_by="ResourceId"))
        with pytest.raises(InputError, match="filter: unknown column 'x'"):
            queries.explorer(engine, ExplorerQuery(filters=(("x", "1"),)))
        with pytest.raises(InputError, match="from 2026-04-02 is after to 2026-04-01"):
            queries.explorer(engine, ExplorerQuery(start=date(2026, 4, 2), end=date(2026, 4, 1)))
    assert queries.parse_filter("team:a:b") == ("team", "a:b")
    with pytest.raises(InputError, match="COLUMN:VALUE"):
        queries.parse_filter("team")


def test_overview_and_teams(ws: Workspace) -> None:
    data = queries.overview_cached(ws, _connect(ws), forecast=False)
    assert str(data.month) == "2026-04" and str(data.previous_month) == "2026-03"
    spend = {s.currency: (s.current, s.previous) for s in data.spend}
    assert spend == {
        "EUR": (Decimal("1.25"), Decimal("0")),
        "USD": (Decimal("9.50"), Decimal("10.11")),
    }
    # The EUR charge has no team: 9.50 of the month's 10.75 (both currencies) is allocated.
    assert data.coverage == Decimal("9.50") / Decimal("10.75")
    teams = {t.team: t for t in queries.team_summaries_cached(ws, _connect(ws))}
    assert set(teams) == {"checkout", "platform", "unallocated"}
    assert teams["checkout"].owner == "ana@example.com"
    assert [(s.currency, s.current) for s in teams["platform"].spend] == [("USD", Decimal(0))]
    page = queries.team_page_cached(ws, _connect(ws), "checkout")
    assert page.report.current["USD"].effective == Decimal("9.50")
    with pytest.raises(NotFoundError, match="unknown team 'nobody'"):
        queries.team_page_cached(ws, _connect(ws), "nobody")


def test_memo_serves_until_the_data_changes(ws: Workspace) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert queries.memoized(ws, "probe", compute) == 1
    assert queries.memoized(ws, "probe", compute) == 1
    stamp = ws.org_file.stat().st_mtime_ns + 1_000_000_000
    os.utime(ws.org_file, ns=(stamp, stamp))
    assert queries.memoized(ws, "probe", compute) == 2
