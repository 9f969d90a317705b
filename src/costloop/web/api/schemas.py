"""Response and request models of the REST API (they make the OpenAPI document precise).

Money is exact decimal text (``"1234.50"``), never a JSON number; ratios are decimal
text too (``"0.9321"``); dates are ISO 8601 (``2026-10-31``), instants UTC
(``2026-10-31T09:00:00Z``), billing periods ``YYYY-MM``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from costloop.analytics.anomaly_view import money_text

__all__ = [
    "AnomalyAction",
    "AnomalyDetail",
    "AnomalyEvent",
    "AnomalyItem",
    "BudgetItem",
    "BudgetsOut",
    "CommitmentsOut",
    "CoverageOut",
    "ExplorerOut",
    "ForecastOut",
    "Money",
    "OpportunityAction",
    "OpportunityDetail",
    "OpportunityItem",
    "OverviewOut",
    "Problem",
    "Ratio",
    "RulesOut",
    "TeamDetail",
    "TeamItem",
    "UnitEconomicsOut",
    "money",
    "money_or_none",
]

Money = Annotated[str, Field(description="Exact decimal amount as text.", examples=["1234.50"])]
Ratio = Annotated[str, Field(description="Decimal ratio as text (0.25 = 25 %).", examples=["0.25"])]


def money(value: Decimal) -> str:
    """Money as exact decimal text (at least two places)."""
    return money_text(value)


def money_or_none(value: Decimal | None) -> str | None:
    """Money as text, or None."""
    return None if value is None else money_text(value)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, for every error status."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


# --- overview ---------------------------------------------------------------------------


class SpendOut(_Out):
    """EffectiveCost of the latest billing period against the one before, one currency."""

    currency: str
    current: Money
    previous: Money | None
    change: Money | None
    change_pct: Money | None = Field(description="Change in percent of the previous cost.")


class MonthForecastOut(_Out):
    """The latest month's total to its last day: actual plus forecast, 80 % interval."""

    currency: str
    month: str
    as_of: date | None
    actual: Money
    mean: Money | None
    lo80: Money | None
    hi80: Money | None
    model: str | None
    note: str | None


class CoverageFigure(_Out):
    """Team allocation coverage of the month and its FinOps maturity band."""

    value: Ratio | None
    band: str


class EsrOut(_Out):
    """Effective Savings Rate of the month in one currency (null without usage)."""

    currency: str
    value: Ratio | None


class OpportunityItem(_Out):
    """An opportunity as the lists show it."""

    id: int
    title: str
    detector: str
    code: str
    resource_id: str
    status: str
    owner_team: str
    currency: str
    monthly_savings: Money
    annual_savings: Money
    risk: int
    effort: int
    value: int
    priority: Money
    plan: str


class BudgetForecastOut(_Out):
    """The forecast total of a budget period with its 80 % interval."""

    total: Money
    lo80: Money
    hi80: Money
    pct: Money | None
    model: str
    fallback: str | None


class ThresholdHitOut(_Out):
    """A budget threshold reached by the actual spend or the forecast."""

    threshold: Money = Field(description="Percent of the budget amount.")
    basis: str
    crossed_on: date | None
    level: Money = Field(description="The spend the threshold stands for.")


class BudgetPeriodOut(_Out):
    """A completed earlier period of a budget."""

    period_label: str
    period_start: date
    period_end: date
    actual: Money
    amount: Money
    used_pct: Money | None
    breached: bool


class BudgetItem(_Out):
    """One budget's current period, as ``costloop budgets --json`` prints it."""

    name: str
    scope: dict[str, str]
    period: str
    period_label: str
    period_start: date
    period_end: date
    currency: str
    amount: Money
    actual: Money
    used_pct: Money | None
    forecast: BudgetForecastOut | None
    forecast_note: str | None
    status: str
    thresholds: list[Money]
    hits: list[ThresholdHitOut]
    run_rate: Money
    runs_out_on: date | None
    owners: list[str]
    previous: list[BudgetPeriodOut]


class OverviewOut(_Out):
    """The overview figures: spend this month vs last, month-end forecast, coverage, ESR,
    open anomalies, top opportunities and budget statuses."""

    month: str | None
    previous_month: str | None
    spend: list[SpendOut]
    forecasts: list[MonthForecastOut]
    coverage: CoverageFigure
    esr: list[EsrOut]
    open_anomalies: int
    top_opportunities: list[OpportunityItem]
    budgets: list[BudgetItem]


# --- explorer ---------------------------------------------------------------------------


class PointOut(_Out):
    """The metric of one series in one period (the period's first day)."""

    period: date
    cost: Money


class SeriesOut(_Out):
    """One dimension value in one currency, over the periods."""

    value: str | None
    currency: str
    total: Money
    points: list[PointOut]


class FilterOut(_Out):
    """A filter the query applied."""

    column: str
    value: str


class CurrencyTotal(_Out):
    """A total in one currency."""

    currency: str
    total: Money


class ExplorerOut(_Out):
    """Cost per dimension value and period, largest series first."""

    group_by: str
    metric: str
    grain: str
    start: date | None = Field(alias="from")
    end: date | None = Field(alias="to")
    filters: list[FilterOut]
    dimensions: list[str] = Field(description="Every dimension group_by and filter accept.")
    periods: list[date]
    totals: list[CurrencyTotal]
    series: list[SeriesOut]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- allocation -------------------------------------------------------------------------


class CoveragePeriod(_Out):
    """Coverage of one dimension in one billing period."""

    dimension: str
    period: str
    effective_cost: Money
    allocated_effective_cost: Money
    coverage: Ratio | None
    band: str
    by_rule: dict[str, Money]


class UnallocatedOut(_Out):
    """One of the largest unallocated items of the latest month."""

    dimension: str
    resource_id: str | None
    resource_name: str | None
    service: str | None
    account: str | None
    charge_category: str | None
    effective_cost: Money


class SuggestionOut(_Out):
    """An action that raises coverage."""

    dimension: str
    kind: str
    text: str
    effective_cost: Money
    reaches: Ratio | None
    resources: list[str]


class CoverageOut(_Out):
    """Allocation coverage, as ``costloop report coverage --json`` prints it."""

    latest: str | None
    required: list[str]
    definition: str
    periods: list[CoveragePeriod]
    unallocated: list[UnallocatedOut]
    suggestions: list[SuggestionOut]


class RulesOut(_Out):
    """The allocation rules in force (``allocation.yaml``): dimensions, rules, pools."""

    source: str = Field(description="The file the rules come from, or 'defaults'.")
    text: str | None = Field(description="The allocation file as written (null: defaults).")
    dimensions: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    pools: list[dict[str, Any]]


# --- teams ------------------------------------------------------------------------------


class TeamItem(_Out):
    """A team with its owner and latest-month spend."""

    team: str
    owner: str
    channel: str
    spend: list[SpendOut]


class CostsOut(_Out):
    """Billed, effective and list cost of one month in one currency."""

    currency: str
    billed: Money
    effective: Money
    list: Money


class TrendPoint(_Out):
    """A team's costs in one month and currency."""

    month: str
    currency: str
    billed: Money
    effective: Money
    list: Money


class RankedOut(_Out):
    """One of the team's top services, accounts or resources (EffectiveCost)."""

    name: str | None
    detail: str | None
    currency: str
    cost: Money
    share: Ratio | None


class TeamDetail(_Out):
    """A team's page: spend, trend, top services, anomalies, opportunities, budgets."""

    team: str
    month: str
    owner: str
    channel: str
    current: list[CostsOut]
    previous: list[CostsOut] | None
    trend: list[TrendPoint]
    top_services: list[RankedOut]
    top_accounts: list[RankedOut]
    top_resources: list[RankedOut]
    anomalies: list[AnomalyItem]
    opportunities: list[OpportunityItem]
    budgets: list[BudgetItem]


# --- anomalies --------------------------------------------------------------------------


class RootCauseOut(_Out):
    """A dimension value that explains part of an anomaly's impact."""

    dimension: str
    value: str | None
    impact: Money
    share: Money


class AnomalyComment(_Out):
    """A comment or status note on an anomaly."""

    at: str | None
    actor: str
    action: str
    note: str


class AnomalyItem(_Out):
    """An anomaly, as ``costloop anomalies --json`` prints it."""

    id: int
    scope: dict[str, str]
    start: date
    end: date
    kind: str
    expected_cost: Money
    actual_cost: Money
    impact: Money
    impact_pct: Money | None
    root_cause: list[RootCauseOut]
    owner: str | None
    status: str
    currency: str
    owner_email: str | None
    owner_source: str | None
    days: int
    max_daily_impact: Money
    first_detected: str | None
    last_detected: str | None
    acknowledged_at: str | None
    resolved_at: str | None
    time_to_ack_hours: str | None
    comments: list[AnomalyComment]


class SeriesDay(_Out):
    """Expected against actual cost on one day of an anomaly's window."""

    day: date
    actual: Money
    expected: Money
    lower: Money
    upper: Money


class AnomalyEvent(_Out):
    """One history entry of an anomaly."""

    at: str | None
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str


class AnomalyDetail(AnomalyItem):
    """An anomaly with its daily expected-vs-actual series and full history."""

    series: list[SeriesDay]
    history: list[AnomalyEvent]


class AnomalyAction(_Out):
    """Body of an anomaly action."""

    note: str = Field(default="", max_length=4000, description="Recorded in the history.")
    false_positive: bool = Field(
        default=False, description="resolve only: close it as a false positive."
    )


# --- forecasts, budgets, commitments, unit economics ------------------------------------


class ForecastMonth(_Out):
    """A month of history or forecast."""

    month: str
    kind: str = Field(description="actual, partial (month to date + forecast) or forecast.")
    actual: Money
    mean: Money
    lo80: Money | None
    hi80: Money | None
    lo95: Money | None
    hi95: Money | None


class ForecastDay(_Out):
    """One forecast day with its intervals."""

    day: date
    mean: Money
    lo80: Money
    hi80: Money
    lo95: Money
    hi95: Money


class ForecastOut(_Out):
    """A scope's forecast, as ``costloop forecast --json`` prints it (without backtest
    details beyond the winning model)."""

    scope: dict[str, str]
    currency: str
    as_of: date
    horizon_end: date
    model: str
    fallback: str | None
    notes: list[str]
    backtest_winner: str | None
    months: list[ForecastMonth]
    daily: list[ForecastDay]


class BudgetsOut(_Out):
    """Every budget's current period."""

    as_of: date | None
    budgets: list[BudgetItem]


class KpiOut(_Out):
    """One KPI of the month."""

    id: str
    name: str
    definition: str
    unit: str
    value: Money | None
    previous: Money | None
    change: Money | None
    band: str | None
    band_source: str | None
    numerator: Money | None
    denominator: Money | None
    available: bool
    reason: str | None


class CommitmentOut(_Out):
    """Utilization of one commitment."""

    provider: str | None
    commitment_id: str | None
    name: str | None
    type: str | None
    category: str | None
    unit: str | None
    used_cost: Money
    unused_cost: Money
    utilization: Ratio | None
    used_quantity: Money | None
    unused_quantity: Money | None
    quantity_utilization: Ratio | None


class ServiceCoverageOut(_Out):
    """Commitment coverage of one eligible service."""

    provider: str | None
    service: str | None
    covered_list_cost: Money
    eligible_list_cost: Money
    coverage: Ratio | None


class BilledAmortizedOut(_Out):
    """Billed against amortized cost of one charge category and kind."""

    charge_category: str | None
    kind: str
    rows: int
    billed_cost: Money
    effective_cost: Money
    difference: Money


class CommitmentsOut(_Out):
    """Commitment utilization, coverage and ESR, as ``costloop kpis --json`` prints them."""

    month: str
    currency: str
    kpis: list[KpiOut]
    commitments: list[CommitmentOut]
    coverage_by_service: list[ServiceCoverageOut]
    billed_vs_amortized: list[BilledAmortizedOut]


class UnitCostRowOut(_Out):
    """Cost, volume and unit cost of one period (and dimension value with ``by``)."""

    period: date
    period_end: date
    partial: bool
    group: str | None = Field(description="The ``by`` dimension value; (total) on totals.")
    cost: Money
    volume: Money | None
    unit_cost: Money | None
    cost_change: Money | None
    cost_change_pct: Money | None
    volume_change_pct: Money | None
    unit_cost_change_pct: Money | None
    volume_effect: Money | None
    unit_cost_effect: Money | None
    verdict: str | None


class UnitEconomicsOut(_Out):
    """Cost per unit of a business metric, as ``costloop report unit-cost --format json``."""

    metric: str
    grain: str
    by: str | None
    cost_basis: str
    scope: dict[str, list[str]]
    currency: str | None
    covered_from: date | None
    covered_to: date | None
    rows: list[UnitCostRowOut]
    summary: str | None
    notes: list[str]


# --- opportunities ----------------------------------------------------------------------


class OpportunityEvent(_Out):
    """One audit-log entry of an opportunity."""

    at: str
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str


class ExecutionOut(_Out):
    """A change made for an opportunity (a pull request), with its body and diff."""

    kind: str
    branch: str | None
    commit_sha: str | None
    url: str | None
    files: list[str]
    executed_at: str
    body: str | None
    diff: str | None


class ChangeOut(_Out):
    """The change a detector proposes."""

    action: str
    attribute: str | None
    old_value: str | None
    new_value: str | None


class OpportunityDetail(OpportunityItem):
    """An opportunity with its evidence, owner, plan, history and executions."""

    fingerprint: str
    account_id: str
    region: str
    provider: str
    resource_type: str
    effort_hours: Money
    roi: Money | None
    cost_of_inaction: Money
    risk_level: str
    owner_email: str
    owner_source: str
    evidence: dict[str, str]
    change: ChangeOut | None
    iac_address: str | None
    iac_file: str | None
    first_seen: str
    last_seen: str
    history: list[OpportunityEvent]
    executions: list[ExecutionOut]


class OpportunityAction(_Out):
    """Body of an opportunity action: a comment for the audit log."""

    comment: str = Field(default="", max_length=4000)


TeamDetail.model_rebuild()
