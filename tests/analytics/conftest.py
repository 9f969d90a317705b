"""A hand-made two-month FOCUS bill with commitments, spot and prepayments, known answers.

March 2026 (AWS; every figure in the tests is worked out from these rows by hand):

=====  ===============  ===============  ======  =========  =======  ==========
row    service          kind             Billed  Effective  List     Contracted
=====  ===============  ===============  ======  =========  =======  ==========
ec2-c  EC2              RI ri-1 Used     0       30         50       50
ec2-u  EC2              RI ri-1 Unused   0       10         0        0
ec2-o  EC2              on demand        45      45         50       45
ec2-s  EC2              spot (Dynamic)   6       6          20       20
ri-b   EC2              RI ri-1 fee      40      0          40       40
s3     S3               on demand        25      25         25       25
lam-c  Lambda           SP sp-1 Used     0       16         20       20
lam-o  Lambda           on demand        60      60         60       60
sp-b   Lambda           SP sp-1 fee      16      0          16       16
tax    Tax              tax              5       5          5        5
=====  ===============  ===============  ======  =========  =======  ==========

February 2026: one EC2 on-demand row (Billed 40, List 50, Contracted 40, tagged) and
one untagged S3 row (10), no commitments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from costloop.allocation import allocate
from costloop.connectors.files import FileFormat, InputFile
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.datasets_load import load_dataset
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

EC2 = "Amazon Elastic Compute Cloud"
S3 = "Amazon Simple Storage Service"
LAMBDA = "AWS Lambda"
MARCH = datetime(2026, 3, 10)
FEB = datetime(2026, 2, 10)

ORG = """
company: Test Co
teams:
  - name: checkout
    owner: ana@example.com
  - name: platform
    owner: pat@example.com
accounts:
  - id: "222222222222"
    name: shared
    team: platform
"""

RI = {
    "CommitmentDiscountId": "ri-1",
    "CommitmentDiscountName": "EC2 RI m5.large",
    "CommitmentDiscountType": "Reserved Instance",
    "CommitmentDiscountCategory": "Usage",
    "CommitmentDiscountUnit": "Hours",
}
SP = {
    "CommitmentDiscountId": "sp-1",
    "CommitmentDiscountName": "Compute Savings Plan",
    "CommitmentDiscountType": "Savings Plan",
    "CommitmentDiscountCategory": "Spend",
    "CommitmentDiscountUnit": "USD",
}


def _row(
    day: datetime,
    billed: str,
    effective: str,
    list_cost: str,
    contracted: str,
    *,
    service: str = EC2,
    pricing: str = "Standard",
    **extra: str,
) -> dict[str, str]:
    return charge(
        day,
        billed,
        effective=effective,
        service=service,
        ListCost=list_cost,
        ContractedCost=contracted,
        PricingCategory=pricing,
        **extra,
    )


def march_rows() -> list[dict[str, str]]:
    """The March rows of the table in the module docstring."""
    team = '{"team": "checkout"}'
    return [
        _row(MARCH, "0", "30", "50", "50", pricing="Committed", Tags=team,
             CommitmentDiscountStatus="Used", CommitmentDiscountQuantity="720", **RI),
        _row(MARCH, "0", "10", "0", "0", pricing="Committed", Tags=team,
             CommitmentDiscountStatus="Unused", CommitmentDiscountQuantity="360", **RI),
        _row(MARCH, "45", "45", "50", "45", Tags=team),
        _row(MARCH, "6", "6", "20", "20", pricing="Dynamic", Tags=team),
        _row(MARCH, "40", "0", "40", "40", ChargeCategory="Purchase", Tags=team,
             CommitmentDiscountQuantity="1080", **RI),
        _row(MARCH, "25", "25", "25", "25", service=S3, account="333333333333"),
        _row(MARCH, "0", "16", "20", "20", service=LAMBDA, pricing="Committed",
             account="222222222222", CommitmentDiscountStatus="Used",
             CommitmentDiscountQuantity="16", **SP),
        _row(MARCH, "60", "60", "60", "60", service=LAMBDA, account="222222222222"),
        _row(MARCH, "16", "0", "16", "16", service=LAMBDA, ChargeCategory="Purchase",
             account="222222222222", CommitmentDiscountQuantity="16", **SP),
        _row(MARCH, "5", "5", "5", "5", service="Tax", ChargeCategory="Tax",
             account="222222222222", pricing=""),
    ]  # fmt: skip


def february_rows() -> list[dict[str, str]]:
    """February: on-demand EC2 with a negotiated rate, untagged S3, no commitments."""
    return [
        _row(FEB, "40", "40", "50", "40", Tags='{"team": "checkout"}'),
        _row(FEB, "10", "10", "10", "10", service=S3, account="333333333333"),
    ]


def build_workspace(
    root: Path, rows: list[dict[str, str]], *, metrics: str | None, allocated: bool = True
) -> Workspace:
    """Ingest ``rows``, allocate them, and load ``metrics`` (business-metrics CSV text)."""
    ws = Workspace.init(root / "ws")
    ws.org_file.write_text(ORG, encoding="utf-8")
    ws = Workspace.open(ws.root)
    bill = write_focus_csv(root / "bill.csv", rows)
    ingest_focus(ws.lake, [bill])
    if allocated:
        with open_engine(ws.lake, read_only=False) as engine:
            allocate(engine, ws.allocation)
    if metrics is not None:
        path = root / "metrics.csv"
        path.write_text(metrics, encoding="utf-8")
        load_dataset(ws.lake, InputFile(path, FileFormat.CSV), "business_metrics")
    return ws


METRICS = (
    "date,metric,value,dimension\n"
    "2026-03-01,orders,100,web\n"
    "2026-03-31,orders,94,app\n"
    "2026-02-14,orders,50,web\n"
    "2026-04-01,orders,1000,web\n"
    "2026-02-20,signups,0,\n"
)
"""March: 194 orders (the 1 April row is outside); February: 50 orders, 0 signups."""


@pytest.fixture(scope="module")
def rate_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The hand-made bill (February and March 2026), allocated, with business metrics."""
    root = tmp_path_factory.mktemp("rates")
    return build_workspace(root, [*february_rows(), *march_rows()], metrics=METRICS)


Builder = Callable[..., Workspace]


@pytest.fixture
def make_rate_ws(tmp_path: Path) -> Builder:
    """``make(rows, metrics=None, allocated=True)``: a fresh workspace with those rows."""

    def make(
        rows: list[dict[str, str]], *, metrics: str | None = None, allocated: bool = True
    ) -> Workspace:
        return build_workspace(tmp_path, rows, metrics=metrics, allocated=allocated)

    return make


@pytest.fixture
def bill_rows() -> dict[str, list[dict[str, str]]]:
    """The hand-made rows by month (``february``, ``march``), fresh for each test."""
    return {"february": february_rows(), "march": march_rows()}
