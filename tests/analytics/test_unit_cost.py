"""Unit cost: cost per business unit per period, its change and the growth/efficiency split."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costloop.allocation import allocate
from costloop.analytics.unit_cost import (
    UnitCostReport,
    UnitCostRow,
    decompose,
    format_pct,
    unit_cost,
)
from costloop.connectors.business_metrics import check_metrics_file
from costloop.connectors.files import discover
from costloop.core.errors import InputError, NotFoundError
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.datasets_load import load_dataset
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

ORG = """
company: Test Co
teams:
  - name: checkout
    owner: ana@example.com
  - name: search
    owner: sam@example.com
"""

Metric = tuple[str, str, str, str]  # date, metric, value, dimension


def _workspace(
    tmp_path: Path,
    charges: Sequence[Mapping[str, str]],
    metrics: Sequence[Metric],
    allocation: str | None = None,
) -> Workspace:
    """A workspace with these charges (allocated) and business metrics loaded."""
    ws = Workspace.init(tmp_path / "ws")
    ws.org_file.write_text(ORG, encoding="utf-8")
    if allocation is not None:
        ws.allocation_file.write_text(allocation, encoding="utf-8")
    ws = Workspace.open(ws.root)
    write_focus_csv(tmp_path / "bill.csv", charges)
    ingest_focus(ws.lake, [tmp_path / "bill.csv"])
    path = tmp_path / "metrics.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["date", "metric", "value", "dimension"])
        writer.writerows(metrics)
    item = check_metrics_file(discover([path])[0]).item
    load_dataset(ws.lake, item, "business_metrics")
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    return ws


def _report(ws: Workspace, metric: str = "orders", **options: object) -> UnitCostReport:
    with open_engine(ws.lake) as engine:
        return unit_cost(engine, metric, **options)  # type: ignore[arg-type]


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text)


# Three months of growth: cost 1,000 → 1,200 → 1,416 for 4,000 → 5,000 → 6,250 orders.
# Each month has cost and orders on its first and last day, so every month is complete.
# BilledCost is twice EffectiveCost: the report must use EffectiveCost (amortized).
MONTHLY_COST = [
    ("2026-01-01", "600.00"),
    ("2026-01-31", "400.00"),
    ("2026-02-01", "700.00"),
    ("2026-02-28", "500.00"),
    ("2026-03-01", "800.00"),
    ("2026-03-31", "616.00"),
]
MONTHLY_ORDERS = [
    ("2026-01-01", "2000"),
    ("2026-01-31", "2000"),
    ("2026-02-01", "2500"),
    ("2026-02-28", "2500"),
    ("2026-03-01", "3000"),
    ("2026-03-31", "3250"),
]


@pytest.fixture(scope="module")
def monthly(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    charges = [charge(_day(d), str(Decimal(c) * 2), effective=c) for d, c in MONTHLY_COST]
    metrics = [(d, "orders", v, "") for d, v in MONTHLY_ORDERS]
    metrics += [(d, "active_users", "99999", "") for d, _ in MONTHLY_ORDERS]
    return _workspace(tmp_path_factory.mktemp("monthly"), charges, metrics)


def test_cost_per_order_over_three_months(monthly: Workspace) -> None:
    report = _report(monthly)
    assert report.currency == "USD"
    assert [(r.period, r.cost, r.volume, r.unit_cost) for r in report.rows] == [
        (date(2026, 1, 1), Decimal("1000.00"), Decimal(4000), Decimal("0.25")),
        (date(2026, 2, 1), Decimal("1200.00"), Decimal(5000), Decimal("0.24")),
        (date(2026, 3, 1), Decimal("1416.00"), Decimal(6250), Decimal("0.22656")),
    ]
    assert [r.period_end for r in report.rows] == [
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 4, 1),
    ]
    assert not any(r.partial for r in report.rows)
    assert report.covered == (date(2026, 1, 1), date(2026, 3, 31))
    assert report.rows[0].change is None

    feb = report.rows[1].change
    assert feb is not None
    assert (feb.cost_change, feb.cost_pct, feb.volume_pct) == (
        Decimal("200.00"),
        Decimal("0.2"),
        Decimal("0.25"),
    )
    assert feb.unit_cost_pct == Decimal("-0.04")
    assert (feb.volume_effect, feb.unit_cost_effect) == (Decimal("250.00"), Decimal("-50.00"))
    assert feb.sentence() == (
        "spend +20.0%: volume +25.0%, unit cost −4.0% (healthy: cost grows slower than volume)"
    )

    mar = report.rows[2].change
    assert mar is not None
    assert (mar.volume_effect, mar.unit_cost_effect) == (Decimal("300.00"), Decimal("-84.00"))
    assert mar.volume_effect + mar.unit_cost_effect == mar.cost_change == Decimal("216.00")
    assert mar.verdict == "healthy"
    assert mar.sentence().startswith("spend +18.0%: volume +25.0%, unit cost −5.6%")
    headline = report.headline
    assert headline is not None and headline[0].period == date(2026, 3, 1)


def test_window_and_unknown_names(monthly: Workspace) -> None:
    report = _report(monthly, start=date(2026, 2, 1), end=date(2026, 2, 28))
    assert [(r.period, r.cost, r.volume) for r in report.rows] == [
        (date(2026, 2, 1), Decimal("1200.00"), Decimal(5000))
    ]
    assert report.rows[0].change is None  # January is outside the window
    with pytest.raises(NotFoundError, match=r"no business metric 'revenue'.*active_users, orders"):
        _report(monthly, "revenue")
    with pytest.raises(InputError, match=r"'product' is not an allocation dimension.*team"):
        _report(monthly, by="product")
    with pytest.raises(InputError, match="'env' is not an allocation dimension"):
        _report(monthly, scope={"env": ["prod"]})
    with pytest.raises(InputError, match="starts after it ends"):
        _report(monthly, start=date(2026, 3, 1), end=date(2026, 2, 1))


def _daily(
    start: date, days: int, cost: str, volume: str
) -> tuple[list[dict[str, str]], list[Metric]]:
    charges, metrics = [], []
    for i in range(days):
        day = start + timedelta(days=i)
        charges.append(charge(datetime.combine(day, datetime.min.time()), cost))
        metrics.append((day.isoformat(), "orders", volume, ""))
    return charges, metrics


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Mon 2 March – Sun 15 March 2026 (two full ISO weeks) and Monday 16 March alone."""
    c1, m1 = _daily(date(2026, 3, 2), 7, "10.00", "100")
    c2, m2 = _daily(date(2026, 3, 9), 7, "12.00", "150")
    c3, m3 = _daily(date(2026, 3, 16), 1, "5.00", "50")
    return _workspace(tmp_path_factory.mktemp("weeks"), c1 + c2 + c3, m1 + m2 + m3)


def test_iso_weeks_start_monday_and_last_week_is_partial(weeks: Workspace) -> None:
    report = _report(weeks, grain="week")
    assert [(r.period, r.cost, r.volume, r.unit_cost, r.partial) for r in report.rows] == [
        (date(2026, 3, 2), Decimal("70.00"), Decimal(700), Decimal("0.1"), False),
        (date(2026, 3, 9), Decimal("84.00"), Decimal(1050), Decimal("0.08"), False),
        (date(2026, 3, 16), Decimal("5.00"), Decimal(50), Decimal("0.1"), True),
    ]
    assert report.rows[2].period_end == date(2026, 3, 23)
    # The headline skips the partial week and compares the two complete ones.
    headline = report.headline
    assert headline is not None
    row, change = headline
    assert row.period == date(2026, 3, 9)
    assert change.sentence().startswith("spend +20.0%: volume +50.0%, unit cost −20.0%")
    assert (change.volume_effect, change.unit_cost_effect) == (Decimal("35.00"), Decimal("-21.00"))


def test_monthly_grain_flags_the_incomplete_current_month(weeks: Workspace) -> None:
    (march,) = _report(weeks).rows
    assert march.partial
    assert march.cost == Decimal("159.00")


def test_days(weeks: Workspace) -> None:
    report = _report(weeks, grain="day", start=date(2026, 3, 7), end=date(2026, 3, 9))
    assert [(r.period, r.cost, r.unit_cost, r.partial) for r in report.rows] == [
        (date(2026, 3, 7), Decimal("10.00"), Decimal("0.1"), False),
        (date(2026, 3, 8), Decimal("10.00"), Decimal("0.1"), False),
        (date(2026, 3, 9), Decimal("12.00"), Decimal("0.08"), False),
    ]
    changes = [r.change for r in report.rows]
    assert changes[0] is None
    assert changes[1] is not None and changes[1].verdict == "steady"
    assert changes[2] is not None and changes[2].verdict == "healthy"


# January and February for two teams and unallocated cost; the orders file writes the
# team names in other cases, adds a row without dimension and one for no known team.
BY_TEAM_COST = [
    ("2026-01-01", "300.00", "checkout"),
    ("2026-01-01", "100.00", "search"),
    ("2026-01-01", "50.00", None),
    ("2026-02-28", "330.00", "checkout"),
    ("2026-02-28", "90.00", "search"),
    ("2026-02-28", "50.00", None),
]
BY_TEAM_ORDERS: list[Metric] = [
    ("2026-01-01", "orders", "1000", "Checkout"),
    ("2026-01-01", "orders", "500", "SEARCH"),
    ("2026-01-01", "orders", "100", ""),
    ("2026-01-01", "orders", "10", "kiosk"),
    ("2026-02-28", "orders", "1200", "Checkout"),
    ("2026-02-28", "orders", "450", "SEARCH"),
    ("2026-02-28", "orders", "100", ""),
]


def test_by_team_matches_dimension_case_insensitively(tmp_path: Path) -> None:
    charges = [
        charge(_day(d), c, tags={"team": t} if t else None, resource_id=f"r-{i}")
        for i, (d, c, t) in enumerate(BY_TEAM_COST)
    ]
    ws = _workspace(tmp_path, charges, BY_TEAM_ORDERS)
    report = _report(ws, by="team")
    got = {(r.period.month, r.group): (r.cost, r.volume, r.unit_cost) for r in report.rows}
    assert got == {
        (1, "checkout"): (Decimal("300.00"), Decimal(1000), Decimal("0.3")),
        (1, "search"): (Decimal("100.00"), Decimal(500), Decimal("0.2")),
        (1, "unallocated"): (Decimal("50.00"), None, None),
        (1, None): (Decimal("450.00"), Decimal(1610), Decimal("450") / Decimal("1610")),
        (2, "checkout"): (Decimal("330.00"), Decimal(1200), Decimal("0.275")),
        (2, "search"): (Decimal("90.00"), Decimal(450), Decimal("0.2")),
        (2, "unallocated"): (Decimal("50.00"), None, None),
        (2, None): (Decimal("470.00"), Decimal(1750), Decimal("470") / Decimal("1750")),
    }
    # Nothing disappears: the values of each period add up to its total row.
    for month in (1, 2):
        parts = [r.cost for r in report.rows if r.period.month == month and not r.is_total]
        (total,) = [r.cost for r in report.rows if r.period.month == month and r.is_total]
        assert sum(parts, Decimal(0)) == total
    # Within a period the biggest cost comes first and the total last.
    assert [r.group for r in report.rows if r.period.month == 1] == [
        "checkout",
        "search",
        "unallocated",
        None,
    ]
    checkout = next(r for r in report.rows if r.period.month == 2 and r.group == "checkout")
    assert checkout.change is not None
    assert checkout.change.sentence().startswith("spend +10.0%: volume +20.0%, unit cost −8.3%")
    search = next(r for r in report.rows if r.period.month == 2 and r.group == "search")
    assert search.change is not None and search.change.verdict == "steady"
    assert not any(r.partial for r in report.rows)
    notes = " | ".join(report.notes)
    assert "team value(s) without orders: unallocated" in notes
    assert "matching no team value with cost: kiosk" in notes
    assert "rows without a dimension count for the total only" in notes


ALLOCATION = """
dimensions:
  product:
    keys: [product]
  env:
    keys: [env]
"""


def test_by_product_in_scope_env_prod(tmp_path: Path) -> None:
    day = _day("2026-04-01")
    charges = [
        charge(day, "40.00", tags={"product": "Web", "env": "prod"}, resource_id="a"),
        charge(day, "25.00", tags={"product": "web", "env": "dev"}, resource_id="b"),
        charge(day, "60.00", tags={"product": "app", "env": "prod"}, resource_id="c"),
        charge(day, "7.00", tags={"env": "prod"}, resource_id="d"),
    ]
    metrics: list[Metric] = [
        ("2026-04-01", "orders", "400", "WEB"),
        ("2026-04-01", "orders", "300", "App"),
    ]
    ws = _workspace(tmp_path, charges, metrics, ALLOCATION)
    everything = _report(ws, by="product")
    assert [r.cost for r in everything.rows if r.is_total] == [Decimal("132.00")]
    report = _report(ws, by="product", scope={"env": ["PROD"]})
    assert report.scope == {"env": ("PROD",)}
    assert [(r.group, r.cost, r.volume, r.unit_cost) for r in report.rows] == [
        ("app", Decimal("60.00"), Decimal(300), Decimal("0.2")),
        ("web", Decimal("40.00"), Decimal(400), Decimal("0.1")),
        ("unallocated", Decimal("7.00"), None, None),
        (None, Decimal("107.00"), Decimal(700), Decimal("107") / Decimal("700")),
    ]


def test_additive_split_is_exact_when_unit_costs_do_not_terminate() -> None:
    change = decompose(Decimal("100.01"), Decimal(3), Decimal("200.03"), Decimal(7))
    assert change.volume_effect is not None and change.unit_cost_effect is not None
    assert change.volume_effect + change.unit_cost_effect == Decimal("100.02")
    u0, u1 = Decimal("100.01") / 3, Decimal("200.03") / 7
    assert abs(change.volume_effect - 4 * u0) < Decimal("1e-17")
    assert abs(change.unit_cost_effect - (u1 - u0) * 7) < Decimal("1e-17")
    assert change.cost_pct is not None and change.volume_pct is not None
    assert change.unit_cost_pct is not None
    lhs = 1 + change.cost_pct
    rhs = (1 + change.volume_pct) * (1 + change.unit_cost_pct)
    assert abs(lhs - rhs) < Decimal("1e-25")
    assert change.verdict == "healthy"  # cost doubles, volume grows 2⅓ times
    assert change.sentence() == (
        "spend +100.0%: volume +133.3%, unit cost −14.3% (healthy: cost grows slower than volume)"
    )


def test_no_volume_gives_no_unit_cost() -> None:
    change = decompose(Decimal("10"), Decimal(0), Decimal("12"), Decimal(5))
    assert change.unit_cost_pct is None and change.volume_effect is None
    assert change.verdict is None
    assert change.sentence() == "spend +20.0%; no unit cost without volume in both periods"
    row = UnitCostRow(date(2026, 1, 1), date(2026, 2, 1), None, Decimal(5), Decimal(0), False, None)
    assert row.unit_cost is None


def test_percent_text() -> None:
    assert format_pct(Decimal("-0.056")) == "−5.6%"
    assert format_pct(Decimal("0.18")) == "+18.0%"
    assert format_pct(Decimal("0.00001")) == "0.0%"
    assert format_pct(None) == "n/a"


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=18)
volume = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e12"), places=6)


@settings(max_examples=200, deadline=None)
@given(money, volume, money, volume)
def test_effects_always_sum_to_the_change(
    c0: Decimal, v0: Decimal, c1: Decimal, v1: Decimal
) -> None:
    change = decompose(c0, v0, c1, v1)
    assert change.volume_effect is not None and change.unit_cost_effect is not None
    with localcontext() as ctx:
        ctx.prec = 100  # exact sums: the check itself must not round
        assert change.volume_effect + change.unit_cost_effect == c1 - c0
    exact_unit_effect = (c1 / v1 - c0 / v0) * v1
    assert abs(change.unit_cost_effect - exact_unit_effect) <= Decimal("1e-15") * max(
        1, abs(exact_unit_effect)
    )
