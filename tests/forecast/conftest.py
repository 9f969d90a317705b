"""A small estate with known daily costs per team, allocated, shared by the forecast tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from costloop.allocation import allocate
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import Engine, open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

ORG = """
company: Forecast Co
teams:
  - name: shop
    owner: ana@example.com
  - name: newbie
    owner: ned@example.com
  - name: tiny
    owner: tia@example.com
  - name: blip
    owner: bo@example.com
  - name: euro
    owner: eva@example.com
  - name: late
    owner: lee@example.com
"""

FIRST = date(2026, 1, 1)
LAST = date(2026, 9, 30)
WEEK = (30, 30, 30, 30, 20, -70, -70)  # Monday..Sunday
TAX_RATE = Decimal("0.10")


def shop_cost(day: date) -> Decimal:
    """The shop team's daily usage: trend, weekly pattern and seeded noise, in cents."""
    i = (day - FIRST).days
    noise = np.random.default_rng(i).normal(0, 8)
    return Decimal(f"{600 + 0.8 * i + WEEK[day.weekday()] + noise:.2f}")


def days(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def estate_rows() -> list[dict[str, str]]:
    """Charges of every team (the tests recompute what they expect from the same rules)."""
    rows = []
    usage_by_month: dict[date, Decimal] = {}
    for d in days(FIRST, LAST):
        cost = shop_cost(d)
        rows.append(charge(_at(d), str(cost), tags={"team": "shop"}))
        month = d.replace(day=1)
        usage_by_month[month] = usage_by_month.get(month, Decimal(0)) + cost
    for month, usage in usage_by_month.items():
        tax = (usage * TAX_RATE).quantize(Decimal("0.01"))
        rows.append(charge(_at(month), str(tax), tags={"team": "shop"}, charge_category="Tax"))
    # A purchase never enters the forecast (its cost is amortized into EffectiveCost).
    rows.append(
        charge(
            _at(date(2026, 9, 15)),
            "5000.00",
            effective="0",
            tags={"team": "shop"},
            charge_category="Purchase",
        )
    )
    for d in days(LAST - timedelta(days=19), LAST):
        rows.append(charge(_at(d), "40.00", tags={"team": "newbie"}, account="222222222222"))
    for d in days(LAST - timedelta(days=9), LAST):
        rows.append(charge(_at(d), "12.50", tags={"team": "tiny"}, account="333333333333"))
    for d in days(LAST - timedelta(days=4), LAST):
        rows.append(charge(_at(d), "3.00", tags={"team": "blip"}, account="444444444444"))
    for d in days(LAST - timedelta(days=29), LAST):
        rows.append(charge(_at(d), "9.00", tags={"team": "euro"}, account="555555555555"))
        rows.append(
            charge(
                _at(d),
                "8.00",
                tags={"team": "euro"},
                account="555555555555",
                billing_account="888888888888",
                BillingCurrency="EUR",
            )
        )
    # The last day's usage has only partly arrived (data lag).
    for d in days(LAST - timedelta(days=59), LAST):
        cost = "5.00" if d == LAST else "50.00"
        rows.append(charge(_at(d), cost, tags={"team": "late"}, account="666666666666"))
    return rows


@pytest.fixture(scope="session")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The allocated workspace (read it only; copy it to change it)."""
    tmp = tmp_path_factory.mktemp("forecast-estate")
    ws = Workspace.init(tmp / "ws")
    ws.org_file.write_text(ORG, encoding="utf-8")
    ws = Workspace.open(ws.root)
    write_focus_csv(tmp / "bill.csv", estate_rows())
    ingest_focus(ws.lake, [tmp / "bill.csv"])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    return ws.root


@pytest.fixture(scope="session")
def shop() -> Callable[[date], Decimal]:
    """The shop team's daily usage rule (to recompute expected sums)."""
    return shop_cost


@pytest.fixture
def engine(estate: Path) -> Iterator[Engine]:
    """A read-only engine on the estate."""
    with open_engine(Workspace.open(estate).lake) as e:
        yield e
