"""The KPI catalogue on the hand-made bill of conftest.py: values, trends, bands, gaps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest

from costloop.analytics.kpis import (
    BANDS,
    COSTLOOP_DEFAULT,
    FINOPS_FOUNDATION,
    Band,
    Kpi,
    kpi_catalogue,
    latest_month,
    month_currency,
)
from costloop.core.errors import InputError
from costloop.core.periods import Month
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

D = Decimal
Builder = Callable[..., Workspace]
Rows = dict[str, list[dict[str, str]]]
MARCH, FEB = Month(2026, 3), Month(2026, 2)


def _catalogue(ws: Workspace, month: Month = MARCH) -> dict[str, Kpi]:
    with open_engine(ws.lake) as engine:
        return {k.id: k for k in kpi_catalogue(engine, month)}


def test_catalogue_lists_every_kpi_with_a_stated_denominator(rate_ws: Workspace) -> None:
    kpis = _catalogue(rate_ws)
    assert list(kpis) == [
        "allocation_coverage",
        "tag_coverage",
        "shared_cost_share",
        "commitment_utilization",
        "commitment_coverage",
        "esr",
        "commitment_esr",
        "commitment_waste",
        "on_demand_equivalent",
        "negotiated_savings",
        "commitment_savings",
        "data_freshness",
        "unit_cost.orders",
        "unit_cost.signups",
    ]
    for k in kpis.values():
        assert "÷" in k.definition or k.unit != "%", k.id
    assert "no eligibility column" in kpis["commitment_coverage"].definition
    assert "Dynamic (spot)" in kpis["commitment_coverage"].definition


def test_allocation_kpis(rate_ws: Workspace) -> None:
    kpis = _catalogue(rate_ws)
    alloc = kpis["allocation_coverage"]
    # checkout by tag 91, platform by account 81 (Lambda and tax), S3 unallocated 25.
    assert (alloc.numerator, alloc.denominator) == (D(172), D(197))
    assert alloc.value == D("0.873096")
    assert alloc.previous == D("0.8")  # February: 40 of 50
    assert alloc.change == D("0.073096")
    assert (alloc.band, alloc.band_source) == ("walk", FINOPS_FOUNDATION)
    tag = kpis["tag_coverage"]
    assert (tag.numerator, tag.denominator) == (D(91), D(197))
    assert (tag.band, tag.band_source) == ("below crawl", COSTLOOP_DEFAULT)
    shared = kpis["shared_cost_share"]
    assert shared.available and shared.value == 0 and shared.band is None


def test_commitment_kpis(rate_ws: Workspace) -> None:
    kpis = _catalogue(rate_ws)
    util = kpis["commitment_utilization"]
    assert (util.numerator, util.denominator, util.value) == (D(46), D(56), D("0.821429"))
    assert util.band == "crawl"  # 70 % ≤ 82 % < 85 %
    assert util.previous is None and util.change is None  # no commitments in February
    cov = kpis["commitment_coverage"]
    assert (cov.numerator, cov.denominator) == (D(70), D(180))
    waste = kpis["commitment_waste"]
    assert (waste.numerator, waste.denominator, waste.value) == (D(10), D(197), D("0.050761"))
    assert waste.band == "below crawl"  # more than 5 % of spend unused


def test_rate_kpis_and_the_decomposition(rate_ws: Workspace) -> None:
    kpis = _catalogue(rate_ws)
    esr = kpis["esr"]
    assert (esr.numerator, esr.denominator, esr.value) == (D(19), D(205), D("0.092683"))
    assert esr.previous == D("0.166667")  # February: 10 saved on 60 list
    assert esr.change == D("-0.073984")
    assert kpis["commitment_esr"].value == D("0.07")
    ode, neg, com = (kpis[k] for k in ("on_demand_equivalent", "negotiated_savings",
                                       "commitment_savings"))  # fmt: skip
    assert (ode.unit, ode.value, ode.previous, ode.change) == ("USD", D(205), D(60), D(145))
    assert (neg.value, neg.previous) == (D(5), D(10))
    assert com.value == D(14) and com.previous is None
    assert neg.value + com.value == esr.numerator
    assert ode.numerator is None and ode.band is None


def test_unit_cost_per_business_metric(rate_ws: Workspace) -> None:
    kpis = _catalogue(rate_ws)
    orders = kpis["unit_cost.orders"]
    assert orders.unit == "USD per orders"
    assert (orders.numerator, orders.denominator) == (D(197), D(194))  # 1 April row left out
    assert orders.value == D("1.015464")
    assert orders.previous == D(1)  # February: 50 / 50
    signups = kpis["unit_cost.signups"]
    assert not signups.available and signups.value is None
    assert signups.reason == "no 'signups' business metric values dated in 2026-03"
    feb = _catalogue(rate_ws, FEB)["unit_cost.signups"]
    assert feb.reason == "Σ 'signups' is zero in 2026-02"


def test_data_freshness_in_hours(rate_ws: Workspace) -> None:
    with open_engine(rate_ws.lake) as engine:
        loads = engine.table("loads")
        (row,) = engine.rows(loads.aggregate(at=loads.loaded_at.max()))
    expected = (row["at"] - datetime(2026, 3, 11)).total_seconds() / 3600
    fresh = _catalogue(rate_ws)["data_freshness"]
    assert fresh.unit == "hours"
    assert fresh.value is not None
    assert abs(float(fresh.value) - expected) < 0.01
    assert fresh.band == "below crawl"  # March data loaded months later


def test_missing_inputs_are_not_zero(rate_ws: Workspace) -> None:
    kpis = _catalogue(rate_ws, FEB)
    for key in ("commitment_utilization", "commitment_coverage", "commitment_esr",
                "commitment_waste", "commitment_savings"):  # fmt: skip
        k = kpis[key]
        assert not k.available and k.value is None and k.band is None
        assert k.reason == (
            "no commitment discount rows (CommitmentDiscountStatus Used/Unused) in 2026-02"
        )
    # January has no charges at all: every previous value is missing, never 0.
    assert all(k.previous is None for k in kpis.values())
    assert kpis["esr"].previous_measure.reason == "no USD charges in 2026-01"


def test_allocation_missing_or_stale(make_rate_ws: Builder, bill_rows: Rows) -> None:
    ws = make_rate_ws(bill_rows["march"], allocated=False)
    kpis = _catalogue(ws)
    assert kpis["allocation_coverage"].reason == "2026-03 is not allocated; run `costloop allocate`"
    assert kpis["esr"].available  # rate KPIs do not need allocation
    stale = make_rate_ws(bill_rows["march"])
    extra = write_focus_csv(
        stale.root / "more.csv", [*bill_rows["march"], charge(datetime(2026, 3, 9), "3")]
    )
    ingest_focus(stale.lake, [extra])  # same slice again, one row more, not allocated
    reason = _catalogue(stale)["tag_coverage"].reason
    assert reason is not None and "out of date" in reason


def test_currency_and_month_checks(make_rate_ws: Builder, bill_rows: Rows) -> None:
    eur = charge(datetime(2026, 3, 2), "7", billing_account="888888888888", BillingCurrency="EUR")
    ws = make_rate_ws([*bill_rows["march"], eur], allocated=False)
    with open_engine(ws.lake) as engine:
        assert latest_month(engine) == MARCH
        with pytest.raises(InputError, match=r"several billing currencies \(EUR, USD\)"):
            month_currency(engine, MARCH)
        with pytest.raises(InputError, match="no charges in billing period 2026-07"):
            kpi_catalogue(engine, Month(2026, 7))
        in_eur = {k.id: k for k in kpi_catalogue(engine, MARCH, "EUR")}
    assert in_eur["on_demand_equivalent"].value == D(7)
    assert in_eur["on_demand_equivalent"].unit == "EUR"


@pytest.mark.parametrize(
    ("value", "band"),
    [("0.49", "below crawl"), ("0.50", "crawl"), ("0.80", "walk"), ("0.90", "walk"),
     ("0.9001", "run")],
)  # fmt: skip
def test_allocation_band_edges(value: str, band: str) -> None:
    # FinOps Foundation: Crawl ≥ 50 %, Walk ≥ 80 %, Run > 90 % (strictly).
    assert BANDS["allocation_coverage"].of(D(value)) == band


def test_lower_is_better_bands() -> None:
    waste = BANDS["commitment_waste"]
    assert [waste.of(D(v)) for v in ("0.06", "0.05", "0.02", "0.01", "0")] == [
        "below crawl",
        "crawl",
        "walk",
        "run",
        "run",
    ]
    assert Band(D(3), D(2), D(1), COSTLOOP_DEFAULT, higher_is_better=False).of(D("2.5")) == "crawl"
    assert {b.source for b in BANDS.values()} == {FINOPS_FOUNDATION, COSTLOOP_DEFAULT}
