"""Helpers of the budget tests: a warehouse with hand-made daily charges, a forecaster.

The shared warehouse (``budget_ws`` in conftest.py) has charges every day from
2025-12-01 to 2026-04-10 (131 days):

- checkout (team tag): 40.123456789 USD of EC2;
- platform (team tag): 25.50 USD of EC2, plus 500.00 USD of S3 on 2026-03-20;
- 2026-03-01..05 only: 7.77 EUR of EC2 for checkout (another currency).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from costloop.allocation import allocate
from costloop.core.budgets import Budget, BudgetForecast, BudgetPeriod
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import Engine, open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

ORG = """
company: Test Co
teams:
  - name: checkout
    owner: ana@example.com
  - name: platform
    owner: pat@example.com
"""

FIRST_DAY = date(2025, 12, 1)
LAST_DAY = date(2026, 4, 10)
CHECKOUT_DAILY = Decimal("40.123456789")
PLATFORM_DAILY = Decimal("25.50")
S3_SPIKE = Decimal("500.00")
SPIKE_DAY = date(2026, 3, 20)
EUR_DAILY = Decimal("7.77")


def daily_rows() -> list[dict[str, str]]:
    """The charges of the shared warehouse (see the module docstring)."""
    rows = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        at = datetime.combine(day, datetime.min.time())
        rows.append(charge(at, str(CHECKOUT_DAILY), tags={"team": "checkout"}))
        rows.append(
            charge(at, str(PLATFORM_DAILY), resource_id="i-0002", tags={"team": "platform"})
        )
        if day == SPIKE_DAY:
            rows.append(
                charge(
                    at,
                    str(S3_SPIKE),
                    service="Amazon Simple Storage Service",
                    category="Storage",
                    resource_id="bucket-1",
                    tags={"team": "platform"},
                )
            )
        if date(2026, 3, 1) <= day <= date(2026, 3, 5):
            rows.append(
                charge(
                    at,
                    str(EUR_DAILY),
                    resource_id="i-0003",
                    billing_account="888888888888",
                    tags={"team": "checkout"},
                    BillingCurrency="EUR",
                )
            )
        day += timedelta(days=1)
    return rows


def build_workspace(root: Path, rows: list[dict[str, str]], org: str = ORG) -> Workspace:
    """A workspace with ``org`` as its org file and ``rows`` ingested and allocated."""
    ws = Workspace.init(root)
    ws.org_file.write_text(org, encoding="utf-8")
    ws = Workspace.open(ws.root)
    write_focus_csv(root / "bill.csv", rows)
    ingest_focus(ws.lake, [root / "bill.csv"])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    return ws


def flat_forecaster(
    daily: Decimal, spread: Decimal = Decimal("0.10")
) -> Callable[[Engine, Budget, BudgetPeriod, date], BudgetForecast]:
    """A forecaster that expects ``daily`` per remaining day, ± ``spread`` of the sum."""

    def forecast(
        engine: Engine, budget: Budget, period: BudgetPeriod, as_of: date
    ) -> BudgetForecast:
        del engine, budget
        first = max(as_of + timedelta(days=1), period.start)
        days = []
        while first <= period.last_day:
            days.append((first, daily))
            first += timedelta(days=1)
        total = daily * len(days)
        return BudgetForecast(
            mean=total,
            lo80=total * (1 - spread),
            hi80=total * (1 + spread),
            model="flat",
            daily=tuple(days),
        )

    return forecast
