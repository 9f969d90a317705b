"""Risk / Effort / Value, ROI and priority formulas."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from costloop.core.findings import Change, ChangeAction, Finding
from costloop.opportunities import assess

MakeFinding = Callable[..., Finding]
RATE = Decimal("120")


def test_prod_rightsizing_with_iac(make_finding: MakeFinding) -> None:
    a = assess(make_finding(), RATE)
    # risk 1 + prod 2 + set 0 + confidence 0; effort 2 h + IaC 0 + prod 1 = 3 h
    assert (a.risk_score, a.risk_level, a.effort_hours, a.effort_score) == (3, "medium", 3, 3)
    assert a.value_score == 3  # 100 <= 140.16 < 500
    assert a.annual_savings == Decimal("1681.92")
    assert a.cost_of_inaction == Decimal("420.48")
    assert a.roi == Decimal("3.6720")  # (1681.92 - 360) / 360
    assert a.priority == Decimal("21.60")  # 100 * 3 * 3 * 3 / 125
    assert a.environment == "prod"


def test_deleting_prod_data_is_riskier_than_resizing(make_finding: MakeFinding) -> None:
    delete = Change(ChangeAction.DELETE)
    volume = assess(make_finding(change=delete, resource_type="aws_ebs_volume"), RATE)
    ip = assess(make_finding(change=delete, resource_type="aws_eip"), RATE)
    resize = assess(make_finding(), RATE)
    assert volume.risk_score == 5 and volume.risk_level == "high"
    assert ip.risk_score == 4
    assert resize.risk_score == 3
    assert volume.priority < resize.priority


def test_nonprod_low_risk_and_unknown_env_in_between(make_finding: MakeFinding) -> None:
    dev = assess(make_finding(tags={"ENVIRONMENT": "Dev"}), RATE)
    unknown = assess(make_finding(tags={}), RATE)
    assert (dev.risk_score, dev.risk_level, dev.environment) == (1, "low", "nonprod")
    assert (unknown.risk_score, unknown.environment) == (2, "unknown")


def test_performance_risk_and_low_confidence_raise_risk(make_finding: MakeFinding) -> None:
    tags = {"env": "dev"}
    assert assess(make_finding(tags=tags, evidence={"performance_risk": "3"}), RATE).risk_score == 2
    assert assess(make_finding(tags=tags, evidence={"performance_risk": "1"}), RATE).risk_score == 1
    assert assess(make_finding(tags=tags, evidence={"confidence": "Low"}), RATE).risk_score == 2


def test_console_change_costs_more_effort_than_iac(make_finding: MakeFinding) -> None:
    iac = assess(make_finding(tags={"env": "dev"}), RATE)
    console = assess(make_finding(tags={"env": "dev"}, iac_address=None), RATE)
    advisory = assess(make_finding(tags={"env": "dev"}, change=None, iac_address=None), RATE)
    assert (iac.effort_hours, iac.effort_score) == (2, 2)
    assert (console.effort_hours, console.effort_score) == (4, 3)
    assert (advisory.effort_hours, advisory.effort_score) == (6, 4)


def test_value_buckets(make_finding: MakeFinding) -> None:
    scores = [
        assess(make_finding(monthly_savings=Decimal(m)), RATE).value_score
        for m in ("9.99", "10", "99.99", "100", "499.99", "500", "1999.99", "2000", "50000")
    ]
    assert scores == [1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_roi_is_net_of_engineering_time_and_can_be_negative(make_finding: MakeFinding) -> None:
    small = assess(make_finding(monthly_savings=Decimal("5")), Decimal("200"))
    assert small.roi == Decimal("-0.9000")  # (60 - 600) / 600
    assert assess(make_finding(), Decimal("0")).roi is None


def test_review_months_scale_cost_of_inaction(make_finding: MakeFinding) -> None:
    assert assess(make_finding(), RATE, review_months=6).cost_of_inaction == Decimal("840.96")


def test_best_case_priority_is_100(make_finding: MakeFinding) -> None:
    best = make_finding(
        monthly_savings=Decimal("5000"),
        tags={"env": "dev"},
        change=Change(ChangeAction.DELETE),
        resource_type="aws_eip",
    )
    a = assess(best, RATE)
    assert (a.value_score, a.risk_score, a.effort_score) == (5, 2, 1)
    assert a.priority == Decimal("80.00")
