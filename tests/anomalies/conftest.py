"""Fixtures for anomaly tests: synthetic daily series and small workspaces with incidents.

``small_estate`` is a 69-day AWS bill (two accounts, five resources, teams from tags)
with two overlapping incidents planted: the checkout Lambda function's cost jumps by
$300/day on 2026-02-20..22, and the only S3 bucket's by $200/day on 2026-02-21..23.
Month-start Tax, a Credit, a Purchase and a monthly support fee are in the bill too;
none is daily consumption.
``demo_ws`` is the demo workspace with 4 months of billing (built once per session when
a test asks for it).
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from costloop.allocation import allocate
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

ORG = """
company: Test Co
teams:
  - name: checkout
    owner: ana@example.com
  - name: catalog
    owner: cat@example.com
"""

FIRST_DAY = date(2026, 1, 1)
DAYS = 69
LAMBDA_SPIKE = (date(2026, 2, 20), date(2026, 2, 22))
S3_SPIKE = (date(2026, 2, 21), date(2026, 2, 23))
CHECKOUT_FN = "arn:aws:lambda:us-east-1:111111111111:function:checkout-api"


@dataclass
class Estate:
    """A small workspace and the exact costs that went into it."""

    ws: Workspace
    rows: list[dict[str, str]]

    def cost(self, start: date, end: date, **match: str) -> Decimal:
        """Exact Σ EffectiveCost of the daily usage rows matching ``match`` in ``start..end``."""
        total = Decimal(0)
        for row in self.rows:
            day = date.fromisoformat(row["ChargePeriodStart"][:10])
            if row["ChargeCategory"] != "Usage" or row["ChargeFrequency"] == "Recurring":
                continue
            if not start <= day <= end:
                continue
            if all(row.get(k) == v for k, v in match.items()):
                total += Decimal(row["EffectiveCost"])
        return total


def _amount(rng: random.Random, mean: float, weekend: float, day: date) -> Decimal:
    """A noisy daily amount with four decimals (so sums are not whole cents)."""
    base = mean * (weekend if day.weekday() >= 5 else 1.0)
    return Decimal(f"{base * rng.uniform(0.97, 1.03):.4f}")


def estate_rows(seed: int = 3) -> list[dict[str, str]]:
    """The bill of ``small_estate``."""
    rng = random.Random(seed)
    resources = [
        # account, service, category, resource, team, mean $/day, weekend factor
        ("111111111111", "Amazon Elastic Compute Cloud", "Compute", "i-web", "checkout", 200, 0.75),
        ("111111111111", "AWS Lambda", "Compute", CHECKOUT_FN, "checkout", 20, 0.8),
        ("111111111111", "AWS Lambda", "Compute", "fn-thumbs", "catalog", 15, 0.9),
        (
            "222222222222",
            "Amazon Elastic Compute Cloud",
            "Compute",
            "i-search",
            "catalog",
            100,
            1.0,
        ),
        ("222222222222", "Amazon Simple Storage Service", "Storage", "images", "catalog", 50, 1.0),
    ]
    rows = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        stamp = datetime.combine(day, datetime.min.time())
        for account, service, category, rid, team, mean, weekend in resources:
            amount = _amount(rng, mean, weekend, day)
            rows.append(
                charge(
                    stamp,
                    amount,
                    account=account,
                    service=service,
                    category=category,
                    resource_id=rid,
                    tags={"team": team},
                    SkuId=f"{service[:10]}-base",
                )
            )
        if LAMBDA_SPIKE[0] <= day <= LAMBDA_SPIKE[1]:
            rows.append(
                charge(
                    stamp,
                    Decimal("300.1234"),
                    account="111111111111",
                    service="AWS Lambda",
                    resource_id=CHECKOUT_FN,
                    tags={"team": "checkout"},
                    SkuId="Lambda-Requests",
                )
            )
        if S3_SPIKE[0] <= day <= S3_SPIKE[1]:
            rows.append(
                charge(
                    stamp,
                    Decimal("200.0101"),
                    account="222222222222",
                    service="Amazon Simple Storage Service",
                    category="Storage",
                    resource_id="images",
                    tags={"team": "catalog"},
                    SkuId="S3-Requests",
                )
            )
        if day.day == 1:
            # A monthly support fee: usage, but one lump for the whole month.
            month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
            rows.append(
                charge(
                    stamp,
                    "700",
                    service="AWS Support (Business)",
                    category="Management and Governance",
                    resource_id=None,
                    ChargeFrequency="Recurring",
                    ChargePeriodEnd=f"{month_end.isoformat()}T00:00:00Z",
                )
            )
            rows.append(charge(stamp, "900", charge_category="Tax", resource_id=None))
            rows.append(charge(stamp, "-250", charge_category="Credit", resource_id=None))
            rows.append(
                charge(stamp, "5000", effective="0", charge_category="Purchase", resource_id=None)
            )
    return rows


def build_estate(root: Path, rows: list[dict[str, str]]) -> Estate:
    """Ingest and allocate ``rows`` into a new workspace at ``root``."""
    ws = Workspace.init(root)
    ws.org_file.write_text(ORG, encoding="utf-8")
    ws = Workspace.open(ws.root)
    write_focus_csv(root / "bill.csv", rows)
    ingest_focus(ws.lake, [root / "bill.csv"])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
    return Estate(ws, rows)


@pytest.fixture(scope="session")
def small_estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    """The two-incident workspace (see the module docstring), built once."""
    return build_estate(tmp_path_factory.mktemp("anomaly-estate") / "ws", estate_rows())


@pytest.fixture
def make_estate(tmp_path: Path) -> Callable[[list[dict[str, str]]], Estate]:
    """Build a workspace from bill rows (``build_estate`` into a fresh folder)."""
    return lambda rows: build_estate(tmp_path / "ws", rows)


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The demo workspace with 4 months of billing (``costloop demo --workspace``), built
    once per session. Its six labelled anomalies are in ``estate/labels/anomalies.json``.
    """
    root = tmp_path_factory.mktemp("anomaly-demo") / "ws"
    command = [sys.executable, "-c", "from costloop.cli.main import main; main()"]
    subprocess.run(
        [*command, "demo", "--workspace", str(root), "--months", "4"],
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    return Workspace.open(root)


Series = Callable[..., np.ndarray]


@pytest.fixture
def series() -> Series:
    """Make one synthetic daily cost series (a function; see its arguments)."""

    def make(
        days: int = 140,
        *,
        level: float = 100.0,
        weekend: float = 1.0,
        trend_per_year: float = 0.0,
        noise: float = 0.02,
        seed: int = 0,
    ) -> np.ndarray:
        rng = np.random.default_rng(seed)
        t = np.arange(days)
        # Day 0 is a Monday, so days 5 and 6 of each week are the weekend.
        weekly = np.where(t % 7 >= 5, weekend, 1.0)
        trend = 1 + trend_per_year * t / 365
        return level * weekly * trend * (1 + noise * rng.standard_normal(days))

    return make
