"""Commitment and rate KPIs against hand-computed answers (bill in conftest.py)."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costloop.analytics.rates import (
    Ratio,
    billed_vs_amortized,
    commitment_coverage,
    commitment_utilization,
    savings,
)
from costloop.core.periods import Month
from costloop.demo import generate_estate
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

D = Decimal
MARCH, FEB = Month(2026, 3), Month(2026, 2)


def test_ratio_never_divides_by_zero() -> None:
    assert Ratio(D(0), D(0)).value is None
    assert Ratio(D(5), D(0)).value is None
    assert Ratio(D(3), D(4)).value == D("0.75")


def test_esr_of_the_proposal_example(tmp_path: Path) -> None:
    # ProsperOps' example: a $50 on-demand instance covered by an RI costing $30 → 40 %.
    ws = Workspace.init(tmp_path / "ws")
    day = datetime(2026, 5, 3)
    rows = [
        charge(day, "0", effective="30", ListCost="50", ContractedCost="50",
               PricingCategory="Committed", CommitmentDiscountId="ri-x",
               CommitmentDiscountStatus="Used"),
    ]  # fmt: skip
    ingest_focus(ws.lake, [write_focus_csv(tmp_path / "b.csv", rows)])
    with open_engine(ws.lake) as engine:
        s = savings(engine, Month(2026, 5))
    assert s.esr == Ratio(D(20), D(50))
    assert s.esr.value == D("0.4")
    assert s.commitment_esr.value == D("0.4")


def test_savings_decomposition_by_hand(rate_ws: Workspace) -> None:
    with open_engine(rate_ws.lake) as engine:
        s = savings(engine, MARCH)
    # In scope: EC2 covered + on demand, S3, Lambda covered + on demand. Spot, the
    # Unused row, both purchase rows and tax are out.
    assert s.usage_rows == 5
    assert s.on_demand_equivalent == D(205)  # 50 + 50 + 25 + 20 + 60
    assert s.contracted_cost == D(200)  # 50 + 45 + 25 + 20 + 60
    assert s.usage_effective_cost == D(176)  # 30 + 45 + 25 + 16 + 60
    assert s.unused_commitment_cost == D(10)
    assert s.actual_cost == D(186)
    assert s.negotiated_savings == D(5)
    assert s.commitment_savings == D(14)  # 200 − 176 − 10: waste lowers it
    assert s.total_savings == s.negotiated_savings + s.commitment_savings == D(19)
    assert s.esr == Ratio(D(19), D(205))
    assert s.commitment_esr == Ratio(D(14), D(200))
    assert s.commitment_esr.value == D("0.07")


def test_waste_lowers_esr(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    day = datetime(2026, 5, 3)
    covered = charge(
        day,
        "0",
        effective="30",
        ListCost="50",
        ContractedCost="50",
        CommitmentDiscountId="ri-x",
        CommitmentDiscountStatus="Used",
    )
    unused = charge(day, "0", effective="10", ListCost="0", ContractedCost="0",
                    CommitmentDiscountId="ri-x", CommitmentDiscountStatus="Unused")  # fmt: skip
    ingest_focus(ws.lake, [write_focus_csv(tmp_path / "b.csv", [covered, unused])])
    with open_engine(ws.lake) as engine:
        s = savings(engine, Month(2026, 5))
    assert s.esr.value == D("0.2")  # 1 − (30 + 10) / 50, not 40 %


def test_range_of_months_adds_up(rate_ws: Workspace) -> None:
    with open_engine(rate_ws.lake) as engine:
        both = savings(engine, FEB, MARCH)
        feb = savings(engine, FEB)
    assert feb.esr == Ratio(D(10), D(60))  # EC2 50 list / 40 paid, S3 10 / 10
    assert both.on_demand_equivalent == D(265)
    assert both.total_savings == D(29)


def test_utilization_per_commitment_and_overall(rate_ws: Workspace) -> None:
    with open_engine(rate_ws.lake) as engine:
        use = commitment_utilization(engine, MARCH)
    by_id = {c.commitment_id: c for c in use.commitments}
    assert [c.commitment_id for c in use.commitments] == ["ri-1", "sp-1"]  # most waste first
    ri, sp = by_id["ri-1"], by_id["sp-1"]
    assert (ri.used_cost, ri.unused_cost, ri.waste) == (D(30), D(10), D(10))
    assert ri.utilization.value == D("0.75")
    assert ri.quantity_utilization == Ratio(D(720), D(1080))  # hours, not the cost basis
    assert (ri.type, ri.category, ri.unit) == ("Reserved Instance", "Usage", "Hours")
    assert sp.utilization.value == D(1)
    assert use.overall == Ratio(D(46), D(56))
    assert use.unused_cost == D(10)


def test_quantity_utilization_needs_every_quantity(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    day = datetime(2026, 5, 3)
    rows = [
        charge(day, "0", effective="8", CommitmentDiscountId="ri-x",
               CommitmentDiscountStatus="Used", CommitmentDiscountQuantity="8"),
        charge(day, "0", effective="2", CommitmentDiscountId="ri-x",
               CommitmentDiscountStatus="Unused"),
    ]  # fmt: skip
    ingest_focus(ws.lake, [write_focus_csv(tmp_path / "b.csv", rows)])
    with open_engine(ws.lake) as engine:
        (c,) = commitment_utilization(engine, Month(2026, 5)).commitments
    assert c.utilization.value == D("0.8")
    assert c.quantity_utilization is None


def test_coverage_of_eligible_services_only(rate_ws: Workspace) -> None:
    with open_engine(rate_ws.lake) as engine:
        cov = commitment_coverage(engine, MARCH)
    got = {s.service: (s.covered_list_cost, s.eligible_list_cost) for s in cov.services}
    # S3 never consumed a commitment: not eligible. EC2 spot (list 20) and the Unused
    # row are left out of the EC2 denominator.
    assert got == {
        "Amazon Elastic Compute Cloud": (D(50), D(100)),
        "AWS Lambda": (D(20), D(80)),
    }
    assert cov.overall == Ratio(D(70), D(180))


def test_no_commitments_means_no_ratio(rate_ws: Workspace) -> None:
    with open_engine(rate_ws.lake) as engine:
        use = commitment_utilization(engine, FEB)
        cov = commitment_coverage(engine, FEB)
        empty = savings(engine, Month(2025, 1))
    assert use.commitments == [] and use.overall.value is None
    assert cov.services == [] and cov.overall.value is None
    assert empty.usage_rows == 0
    assert empty.esr.value is None and empty.commitment_esr.value is None


def test_billed_vs_amortized_lines(rate_ws: Workspace) -> None:
    with open_engine(rate_ws.lake) as engine:
        lines = billed_vs_amortized(engine, MARCH)
    got = [(x.charge_category, x.kind, x.rows, x.billed_cost, x.effective_cost) for x in lines]
    assert got == [
        ("Usage", "on demand / negotiated", 3, D(130), D(130)),
        ("Usage", "spot (Dynamic)", 1, D(6), D(6)),
        ("Usage", "covered by commitment", 2, D(0), D(46)),
        ("Usage", "unused commitment", 1, D(0), D(10)),
        ("Purchase", "commitment purchase (amortized into usage)", 2, D(56), D(0)),
        ("Tax", "Tax", 1, D(5), D(5)),
    ]
    assert sum(x.difference for x in lines) == 0  # the fees are amortized in full


def _csv_sums(files: list[Path], period: str) -> dict[str, Decimal]:
    """Rate sums of one period straight from the generated FOCUS CSV files."""
    sums = dict.fromkeys(("list", "contracted", "effective", "unused"), D(0))
    for path in files:
        with path.open(newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if not r["BillingPeriodStart"].startswith(period) or r["ChargeCategory"] != "Usage":
                    continue
                if r["CommitmentDiscountStatus"] == "Unused":
                    sums["unused"] += D(r["EffectiveCost"])
                elif r["PricingCategory"] != "Dynamic":
                    sums["list"] += D(r["ListCost"])
                    sums["contracted"] += D(r["ContractedCost"])
                    sums["effective"] += D(r["EffectiveCost"])
    return sums


@pytest.mark.slow
def test_demo_estate_rates_hold_up(tmp_path: Path) -> None:
    estate = generate_estate(tmp_path / "estate", months=2, end_month=Month(2026, 10))
    ws = Workspace.init(tmp_path / "ws")
    ingest_focus(ws.lake, list(estate.billing_files))
    month = Month(2026, 10)
    with open_engine(ws.lake) as engine:
        s = savings(engine, month)
        use = commitment_utilization(engine, month)
        cov = commitment_coverage(engine, month)
    for ratio in (s.esr, s.commitment_esr, use.overall, cov.overall):
        assert ratio.value is not None
        assert 0 < ratio.value < 1
    assert {c.type for c in use.commitments} == {"Savings Plan", "Reserved Instance"}
    # The decomposition, checked against sums taken from the files themselves.
    raw = _csv_sums(list(estate.billing_files), "2026-10")
    cent = D("0.01")
    saved = raw["list"] - raw["effective"] - raw["unused"]
    assert s.on_demand_equivalent.quantize(cent) == raw["list"].quantize(cent)
    assert s.unused_commitment_cost.quantize(cent) == raw["unused"].quantize(cent)
    assert (s.negotiated_savings + s.commitment_savings).quantize(cent) == saved.quantize(cent)
    assert s.negotiated_savings.quantize(cent) == (raw["list"] - raw["contracted"]).quantize(cent)
