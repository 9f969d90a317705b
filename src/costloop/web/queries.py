"""Read services the web pages and the REST API share: overview, explorer, teams.

Each function takes an :class:`~costloop.warehouse.engine.Engine` (and the workspace
where it needs the org, budgets or state DB) and returns plain frozen dataclasses with
Decimal money, so the HTML pages and the JSON API show the same numbers as the CLI.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from costloop.allocation.coverage import band
from costloop.analytics import rates
from costloop.analytics.anomaly_store import list_anomalies
from costloop.analytics.anomaly_view import AnomalyView
from costloop.analytics.budgets import data_range, evaluate
from costloop.analytics.forecast import forecast_scope
from costloop.analytics.showback import (
    METRICS,
    billing_periods,
    daily_costs,
    metric_column,
)
from costloop.connectors.sql import ident
from costloop.core.allocation_rules import UNALLOCATED
from costloop.core.budgets import Budget, BudgetStatus
from costloop.core.errors import InputError, NotFoundError
from costloop.core.money import ZERO
from costloop.core.periods import Month
from costloop.opportunities.model import OpportunityView
from costloop.opportunities.store import list_opportunities
from costloop.opportunities.workflow import Status
from costloop.report.team import TeamReport, known_teams, team_report
from costloop.warehouse import LakeReader
from costloop.warehouse.engine import Engine, reader_engine
from costloop.warehouse.rollup import allocation_dimension_columns
from costloop.warehouse.schema import DAILY_COSTS
from costloop.workspace import CONFIG_FILE, Workspace, file_stamp

__all__ = [
    "ACTIVE_STATUSES",
    "EXPLORER_FOCUS_DIMENSIONS",
    "GRAINS",
    "Connect",
    "CurrencySpend",
    "ExplorerPoint",
    "ExplorerQuery",
    "ExplorerResult",
    "ExplorerSeries",
    "MonthEndForecast",
    "Overview",
    "TeamPage",
    "TeamSummary",
    "budget_statuses",
    "data_version",
    "explorer",
    "explorer_cached",
    "explorer_dimensions",
    "memoized",
    "month_end_forecast",
    "on_engine",
    "overview",
    "overview_cached",
    "parse_filter",
    "reader_engine_for",
    "require_team",
    "team_budgets",
    "team_page",
    "team_page_cached",
    "team_summaries",
    "team_summaries_cached",
]

EXPLORER_FOCUS_DIMENSIONS = (
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "RegionId",
    "ChargeCategory",
)
"""FOCUS columns the explorer groups and filters by (allocation dimensions come too)."""

GRAINS = ("day", "month")
"""Explorer time grains."""

TOP_OPPORTUNITIES = 5
ACTIVE_STATUSES = (Status.OPEN, Status.SNOOZED, Status.APPROVED, Status.IN_PROGRESS)
"""Opportunity statuses still waiting for someone: the overview and team pages list them."""

_RATIO = Decimal("0.000001")
_T = TypeVar("_T")


# --- memo of the slow figures ------------------------------------------------------------

_MEMO: OrderedDict[tuple[Path, str], tuple[tuple[Any, ...], Any]] = OrderedDict()
_MEMO_LOCK = threading.Lock()
_COMPUTING: set[tuple[tuple[Path, str], tuple[Any, ...]]] = set()
"""(memo key, data version) pairs being computed right now."""
MEMO_SIZE = 256
"""Results kept at most (least recently used go first)."""

Connect = Callable[[], AbstractContextManager[Engine]]
"""Opens a warehouse engine (e.g. ``functools.partial(open_engine, ws.lake)``)."""


def data_version(ws: Workspace) -> tuple[Any, ...]:
    """A fingerprint of what the figures read: the warehouse (every ingest and
    allocation commits to it, see :meth:`~costloop.warehouse.Lake.version`), and the
    budgets, org, allocation and settings files."""
    files = (ws.budgets_file, ws.org_file, ws.allocation_file, ws.root / CONFIG_FILE)
    return (*ws.lake.version(), *(file_stamp(f) for f in files))


@contextmanager
def reader_engine_for(ws: Workspace, reader: LakeReader) -> Iterator[Engine]:
    """A read-only engine on the server's shared reader, with the ``daily_costs``
    rollup held in memory for the workspace's current :func:`data_version` (copied
    again after each ingest or allocation)."""
    reader.keep_in_memory(DAILY_COSTS, data_version(ws), order_by=("ChargePeriodDay",))
    with reader_engine(reader) as engine:
        yield engine


def memoized(ws: Workspace, name: str, compute: Callable[[], _T]) -> _T:
    """``compute()``, reused until the workspace's :func:`data_version` changes.

    Forecasts and budget evaluations take seconds and every warehouse query needs a
    connection; the pages ask for the same figures on every view, so one result serves
    until new data arrives. At most :data:`MEMO_SIZE` results are kept.

    While another thread (the server's background warmer, or an earlier visitor) is
    computing the figure for new data, callers get the previous result instead of
    waiting for the same seconds-long computation; with no previous result, or when
    nobody is computing it, the caller computes it.
    """
    key = (ws.root.resolve(), name)
    version = data_version(ws)
    with _MEMO_LOCK:
        found = _MEMO.get(key)
        if found is not None and found[0] == version:
            _MEMO.move_to_end(key)
            value: _T = found[1]
            return value
        if found is not None and (key, version) in _COMPUTING:
            stale: _T = found[1]
            return stale
        _COMPUTING.add((key, version))
    try:
        value = compute()
    finally:
        with _MEMO_LOCK:
            _COMPUTING.discard((key, version))
    with _MEMO_LOCK:
        _MEMO[key] = (version, value)
        _MEMO.move_to_end(key)
        while len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
    return value


def on_engine(connect: Connect, work: Callable[[Engine], _T]) -> _T:
    """``work(engine)`` on an engine opened by ``connect`` (for :func:`memoized`)."""
    with connect() as engine:
        return work(engine)


_FORECAST_SLACK_DAYS = 14


# --- overview -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencySpend:
    """EffectiveCost of the latest billing period and the one before, in one currency.

    Attributes:
        previous: None when the warehouse holds no data for the previous period.
    """

    currency: str
    current: Decimal
    previous: Decimal | None

    @property
    def change(self) -> Decimal | None:
        """Current minus previous (None without a previous period)."""
        return None if self.previous is None else self.current - self.previous

    @property
    def change_pct(self) -> Decimal | None:
        """Change in percent of the previous cost (None when it is zero or unknown)."""
        if self.previous is None or self.previous == 0:
            return None
        return (self.current - self.previous) / abs(self.previous) * 100


@dataclass(frozen=True)
class MonthEndForecast:
    """The latest month's EffectiveCost to its last day: actual so far plus forecast.

    Attributes:
        as_of: last day of actual data the forecast starts after (None without forecast).
        mean, lo80, hi80: the month total and its 80 % interval (None without forecast).
        note: why there is no forecast, or the fallback the forecast used.
    """

    currency: str
    month: Month
    as_of: date | None
    actual: Decimal
    mean: Decimal | None
    lo80: Decimal | None
    hi80: Decimal | None
    model: str | None
    note: str | None


@dataclass(frozen=True)
class Overview:
    """What the overview page and ``GET /api/v1/overview`` show.

    Attributes:
        month: the latest billing period with allocated charges (None: no data yet).
        coverage: team allocation coverage of ``month`` (allocated ÷ total EffectiveCost).
        esr: Effective Savings Rate of ``month`` for each currency that has usage.
        open_anomalies: anomalies in status open or acknowledged.
        opportunities: the top active opportunities by priority.
        budgets: every budget's current period, in file order.
    """

    month: Month | None
    previous_month: Month | None
    spend: tuple[CurrencySpend, ...]
    forecasts: tuple[MonthEndForecast, ...]
    coverage: Decimal | None
    coverage_band: str
    esr: dict[str, Decimal | None]
    open_anomalies: int
    opportunities: tuple[OpportunityView, ...]
    budgets: tuple[BudgetStatus, ...]


def _spend(engine: Engine, month: Month, previous_known: bool) -> tuple[CurrencySpend, ...]:
    t = daily_costs(engine)
    prev = month.previous()
    window = t.filter((t.BillingPeriodStart >= prev.start) & (t.BillingPeriodStart < month.end))
    agg = window.group_by(["BillingCurrency", "BillingPeriodStart"]).aggregate(
        cost=window.EffectiveCost.sum()
    )
    sums: dict[tuple[str, Month], Decimal] = {
        (r["BillingCurrency"], Month.of(r["BillingPeriodStart"])): r["cost"] or ZERO
        for r in engine.rows(agg)
    }
    currencies = sorted({c for c, m in sums if m == month})
    return tuple(
        CurrencySpend(c, sums[(c, month)], sums.get((c, prev), ZERO) if previous_known else None)
        for c in currencies
    )


def month_end_forecast(
    engine: Engine, currency: str, month: Month, actual: Decimal
) -> MonthEndForecast:
    """Forecast ``month``'s total EffectiveCost in ``currency`` to its last day.

    The forecast is the same one ``costloop forecast`` makes for the whole estate; a
    month whose data is complete is its actual total.
    """
    span = data_range(engine)
    last_day = month.end.date() - timedelta(days=1)
    if span is None:
        return MonthEndForecast(currency, month, None, actual, None, None, None, None, "no data")
    days = max((last_day - span[1]).days, 0) + _FORECAST_SLACK_DAYS
    try:
        fc = forecast_scope(engine, None, horizon_days=days, currency=currency)
        total = fc.total_between(month.start.date(), last_day)
    except InputError as exc:
        return MonthEndForecast(
            currency, month, None, actual, None, None, None, None, f"no forecast: {exc.detail}"
        )
    return MonthEndForecast(
        currency,
        month,
        fc.as_of,
        total.actual,
        total.mean,
        total.lo80,
        total.hi80,
        fc.model,
        fc.fallback,
    )


def _team_coverage(engine: Engine, month: Month) -> Decimal | None:
    t = daily_costs(engine)
    t = t.filter(t.BillingPeriodStart == month.start)
    (row,) = engine.rows(
        t.aggregate(
            total=t.EffectiveCost.sum(),
            unallocated=t.EffectiveCost.sum(
                where=(t.team_source == UNALLOCATED) | t.team_source.isnull()
            ),
        )
    )
    total = row["total"] or ZERO
    return None if total == 0 else (total - (row["unallocated"] or ZERO)) / total


def _esr(engine: Engine, month: Month, currencies: Sequence[str]) -> dict[str, Decimal | None]:
    out: dict[str, Decimal | None] = {}
    for currency in currencies:
        s = rates.savings(engine, month, currency=currency)
        value = s.esr.value if s.usage_rows else None
        out[currency] = None if value is None else value.quantize(_RATIO, ROUND_HALF_EVEN)
    return out


def budget_statuses(
    engine: Engine,
    ws: Workspace,
    budgets: Sequence[Budget] | None = None,
    as_of: date | None = None,
) -> list[BudgetStatus]:
    """The current period of each budget (default: all of the workspace's), exactly as
    ``costloop budgets`` evaluates them."""
    chosen = ws.budgets if budgets is None else budgets
    if not chosen:
        return []

    def run() -> list[BudgetStatus]:
        return evaluate(
            engine,
            chosen,
            as_of=as_of,
            min_history_days=ws.config.int_("forecast.min_history_days"),
        )

    if budgets is not None:
        return run()
    return list(memoized(ws, f"budgets:{as_of}", run))


def overview(engine: Engine, ws: Workspace, *, forecast: bool = True) -> Overview:
    """Collect the overview: spend, month-end forecast, coverage, ESR, anomalies,
    top opportunities and budgets.

    Args:
        engine: engine on the workspace lake.
        ws: the workspace (state DB, budgets).
        forecast: compute the month-end forecasts and budget forecasts (the slow part).
    """
    return _with_state(_overview_figures(engine, ws, forecast), ws)


def overview_cached(ws: Workspace, connect: Connect, *, forecast: bool = True) -> Overview:
    """:func:`overview`, opening the warehouse only when its data changed since the last
    call (anomalies and opportunities, from the state DB, are always current)."""
    figures = memoized(
        ws,
        f"overview:{forecast}",
        lambda: on_engine(connect, lambda engine: _overview_figures(engine, ws, forecast)),
    )
    return _with_state(figures, ws)


def _with_state(figures: Overview, ws: Workspace) -> Overview:
    return replace(
        figures,
        open_anomalies=len(list_anomalies(ws.state, status="open")),
        opportunities=tuple(
            list_opportunities(ws.state, status=list(ACTIVE_STATUSES), limit=TOP_OPPORTUNITIES)
        ),
    )


def _overview_figures(engine: Engine, ws: Workspace, forecast: bool) -> Overview:
    """The warehouse part of the overview (anomalies and opportunities left empty)."""
    periods = billing_periods(engine)
    open_anomalies = 0
    opportunities: tuple[OpportunityView, ...] = ()
    if not periods:
        return Overview(None, None, (), (), None, band(None), {}, open_anomalies, opportunities, ())
    month = periods[-1]
    previous = month.previous()
    spend = _spend(engine, month, previous in periods)
    forecasts = (
        memoized(
            ws,
            f"month-end-forecast:{month}",
            lambda: tuple(month_end_forecast(engine, s.currency, month, s.current) for s in spend),
        )
        if forecast
        else ()
    )
    coverage = _team_coverage(engine, month)
    budgets = tuple(budget_statuses(engine, ws)) if forecast else ()
    return Overview(
        month=month,
        previous_month=previous if previous in periods else None,
        spend=spend,
        forecasts=forecasts,
        coverage=coverage,
        coverage_band=band(coverage),
        esr=_esr(engine, month, [s.currency for s in spend]),
        open_anomalies=open_anomalies,
        opportunities=opportunities,
        budgets=budgets,
    )


# --- explorer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplorerQuery:
    """One explorer question: a metric per dimension value and period.

    Attributes:
        group_by: the dimension to split by (see :func:`explorer_dimensions`).
        metric: ``effective``, ``billed`` or ``list``.
        start: first day (inclusive); None for the earliest data.
        end: last day (inclusive); None for the latest data.
        grain: ``day`` (ChargePeriodStart's day) or ``month`` (BillingPeriodStart). With
            ``month`` the range selects whole billing periods: those of ``start``..``end``.
        filters: (column, value) pairs; several values of one column are alternatives,
            different columns must all match.
    """

    group_by: str = "ServiceName"
    metric: str = "effective"
    start: date | None = None
    end: date | None = None
    grain: str = "month"
    filters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ExplorerPoint:
    """The metric of one dimension value in one period (``period`` is its first day)."""

    period: date
    value: str | None
    currency: str
    cost: Decimal


@dataclass(frozen=True)
class ExplorerSeries:
    """One dimension value's periods, for a chart line or stacked bar."""

    value: str | None
    currency: str
    total: Decimal
    points: tuple[ExplorerPoint, ...]


@dataclass(frozen=True)
class ExplorerResult:
    """The answer: series largest first, periods present, and totals per currency."""

    query: ExplorerQuery
    periods: tuple[date, ...]
    series: tuple[ExplorerSeries, ...]
    totals: dict[str, Decimal]

    @cached_property
    def rows(self) -> list[ExplorerPoint]:
        """Every point, by period then largest first: the table and the CSV."""
        points = [p for s in self.series for p in s.points]
        return sorted(points, key=lambda p: (p.period, p.currency, -p.cost, str(p.value)))


def explorer_dimensions(engine: Engine) -> list[str]:
    """Dimensions the explorer accepts: allocation dimensions, then FOCUS columns."""
    columns = list(daily_costs(engine).columns)
    present = set(columns)
    dims = allocation_dimension_columns(columns)[::2]
    return dims + [c for c in EXPLORER_FOCUS_DIMENSIONS if c in present]


def parse_filter(text: str) -> tuple[str, str]:
    """Parse one ``COLUMN:VALUE`` filter.

    Raises:
        InputError: no ``:`` or an empty column.
    """
    column, sep, value = text.partition(":")
    if not sep or not column.strip():
        raise InputError(f"filter: expected COLUMN:VALUE, got {text!r}")
    return column.strip(), value


def _check_query(engine: Engine, query: ExplorerQuery) -> str:
    """Validate the query; returns the money column of its metric."""
    allowed = explorer_dimensions(engine)
    if query.group_by not in allowed:
        raise InputError(
            f"group_by: unknown dimension {query.group_by!r}; allowed: {', '.join(allowed)}"
        )
    for column, _ in query.filters:
        if column not in allowed:
            raise InputError(f"filter: unknown column {column!r}; allowed: {', '.join(allowed)}")
    if query.grain not in GRAINS:
        raise InputError(f"grain: unknown grain {query.grain!r}; use one of: {', '.join(GRAINS)}")
    if query.metric not in METRICS:
        raise InputError(
            f"metric: unknown metric {query.metric!r}; use one of: {', '.join(METRICS)}"
        )
    if query.start is not None and query.end is not None and query.start > query.end:
        raise InputError(f"from {query.start} is after to {query.end}")
    return metric_column(query.metric)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _explorer_sql(engine: Engine, query: ExplorerQuery, column: str) -> tuple[str, list[Any]]:
    """One GROUP BY over the rollup (columns are checked names; values are parameters).

    Written as SQL rather than Ibis: the explorer is the one page whose every visit
    asks a new question, and compiling an expression cost more than running it.
    """
    if engine.has_table(DAILY_COSTS):
        source = engine.sql_name(DAILY_COSTS)
    else:  # a warehouse no write has upgraded yet
        source = (
            "(SELECT *, date_trunc('day', ChargePeriodStart) AS ChargePeriodDay "
            "FROM allocated_charges)"
        )
    where: list[str] = []
    params: list[Any] = []
    by_column: dict[str, list[str]] = {}
    for name, value in query.filters:
        by_column.setdefault(name, []).append(value)
    for name, values in by_column.items():
        where.append(f"{ident(name)} IN ({', '.join('?' for _ in values)})")
        params += values
    if query.grain == "month":
        period = "BillingPeriodStart"
        if query.start is not None:
            where.append("BillingPeriodStart >= ?")
            params.append(Month.of(query.start).start)
        if query.end is not None:
            where.append("BillingPeriodStart < ?")
            params.append(Month.of(query.end).end)
    else:
        period = "ChargePeriodDay"
        if query.start is not None:
            where.append("ChargePeriodDay >= ?")
            params.append(_midnight(query.start))
        if query.end is not None:
            where.append("ChargePeriodDay < ?")
            params.append(_midnight(query.end + timedelta(days=1)))
    sql = (
        f"SELECT {ident(query.group_by)} AS value, BillingCurrency AS currency, "
        f"{period} AS period, sum({ident(column)}) AS cost FROM {source}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " GROUP BY ALL ORDER BY currency, value, period"
    )
    return sql, params


def explorer(engine: Engine, query: ExplorerQuery) -> ExplorerResult:
    """Run an explorer query on the allocated charges (their :func:`daily_costs` rollup).

    Currencies are never added: each series is one dimension value in one currency.

    Raises:
        InputError: unknown dimension, filter column, metric or grain, or a reversed range.
    """
    column = _check_query(engine, query)
    sql, params = _explorer_sql(engine, query, column)
    grouped: dict[tuple[str | None, str], list[ExplorerPoint]] = {}
    for r in engine.sql_rows(sql, params):
        day = r["period"].date() if isinstance(r["period"], datetime) else r["period"]
        point = ExplorerPoint(day, r["value"], r["currency"], r["cost"] or ZERO)
        grouped.setdefault((point.value, point.currency), []).append(point)
    series = [
        ExplorerSeries(
            value,
            currency,
            sum((p.cost for p in points), ZERO),
            tuple(points),  # in period order (ORDER BY)
        )
        for (value, currency), points in grouped.items()
    ]
    series.sort(key=lambda s: (s.currency, -s.total, str(s.value)))
    totals: dict[str, Decimal] = {}
    for s in series:
        totals[s.currency] = totals.get(s.currency, ZERO) + s.total
    periods = tuple(sorted({p.period for s in series for p in s.points}))
    return ExplorerResult(query, periods, tuple(series), totals)


# --- teams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSummary:
    """One team in the teams list: owner and latest-month EffectiveCost per currency."""

    team: str
    owner: str
    channel: str
    spend: tuple[CurrencySpend, ...]


@dataclass(frozen=True)
class TeamPage:
    """Everything a team's page shows.

    Attributes:
        report: cost, trend, top services/accounts/resources and shared cost
            (the same object ``costloop report team`` renders).
        anomalies: the team's anomalies, most recent first.
        opportunities: the team's active opportunities, highest priority first.
        budgets: the budgets scoped to the team, current period.
    """

    report: TeamReport
    anomalies: tuple[AnomalyView, ...]
    opportunities: tuple[OpportunityView, ...]
    budgets: tuple[BudgetStatus, ...]


def team_summaries(engine: Engine, ws: Workspace) -> list[TeamSummary]:
    """Every known team (org file and allocated cost) with its latest-month spend."""
    org = ws.org
    periods = billing_periods(engine)
    costs: dict[tuple[str, str, Month], Decimal] = {}
    month = periods[-1] if periods else None
    if month is not None:
        t = daily_costs(engine)
        prev = month.previous()
        window = t.filter((t.BillingPeriodStart >= prev.start) & (t.BillingPeriodStart < month.end))
        agg = window.group_by(["team", "BillingCurrency", "BillingPeriodStart"]).aggregate(
            cost=window.EffectiveCost.sum()
        )
        for r in engine.rows(agg):
            key = (r["team"], r["BillingCurrency"], Month.of(r["BillingPeriodStart"]))
            costs[key] = r["cost"] or ZERO
    out = []
    for team in known_teams(engine, org):
        entry = org.team(team)
        spend: list[CurrencySpend] = []
        if month is not None:
            prev_known = month.previous() in periods
            for currency in sorted({c for n, c, _ in costs if n == team}):
                previous = costs.get((team, currency, month.previous()), ZERO)
                spend.append(
                    CurrencySpend(
                        currency,
                        costs.get((team, currency, month), ZERO),
                        previous if prev_known else None,
                    )
                )
        out.append(
            TeamSummary(
                team, entry.owner if entry else "", entry.channel if entry else "", tuple(spend)
            )
        )
    return out


def team_budgets(budgets: Sequence[Budget], team: str) -> list[Budget]:
    """The budgets whose scope is exactly the team."""
    return [b for b in budgets if dict(b.scope) == {"team": team}]


def team_page(
    engine: Engine,
    ws: Workspace,
    team: str,
    month: Month | None = None,
    *,
    with_budgets: bool = True,
) -> TeamPage:
    """Collect a team's page for ``month`` (default: the latest billing period).

    Raises:
        NotFoundError: unknown team, or no allocated charges for the month.
    """
    report, budgets = _team_figures(engine, ws, team, month, with_budgets)
    return _team_with_state(report, budgets, ws)


def team_page_cached(
    ws: Workspace,
    connect: Connect,
    team: str,
    month: Month | None = None,
    *,
    with_budgets: bool = True,
) -> TeamPage:
    """:func:`team_page`, opening the warehouse only when its data changed."""
    report, budgets = memoized(
        ws,
        f"team:{team}:{month}:{with_budgets}",
        lambda: on_engine(
            connect, lambda engine: _team_figures(engine, ws, team, month, with_budgets)
        ),
    )
    return _team_with_state(report, budgets, ws)


def _team_figures(
    engine: Engine, ws: Workspace, team: str, month: Month | None, with_budgets: bool
) -> tuple[TeamReport, tuple[BudgetStatus, ...]]:
    report = team_report(engine, ws.org, team, month)
    mine = {b.name for b in team_budgets(ws.budgets, team)}
    budgets = (
        tuple(s for s in budget_statuses(engine, ws) if s.budget.name in mine)
        if with_budgets and mine
        else ()
    )
    return report, budgets


def _team_with_state(
    report: TeamReport, budgets: tuple[BudgetStatus, ...], ws: Workspace
) -> TeamPage:
    team = report.team
    anomalies = tuple(list_anomalies(ws.state, team=team))
    opportunities = tuple(list_opportunities(ws.state, status=list(ACTIVE_STATUSES), owner=team))
    return TeamPage(report, anomalies, opportunities, budgets)


def team_summaries_cached(ws: Workspace, connect: Connect) -> list[TeamSummary]:
    """:func:`team_summaries`, opening the warehouse only when its data changed."""
    return memoized(
        ws, "teams", lambda: on_engine(connect, lambda engine: team_summaries(engine, ws))
    )


def explorer_cached(
    ws: Workspace, connect: Connect, query: ExplorerQuery
) -> tuple[ExplorerResult, list[str]]:
    """:func:`explorer` and :func:`explorer_dimensions`, reused until the data changes.

    Raises:
        InputError: as :func:`explorer` (errors are not kept).
    """

    def run(engine: Engine) -> tuple[ExplorerResult, list[str]]:
        return explorer(engine, query), explorer_dimensions(engine)

    return memoized(ws, f"explorer:{query!r}", lambda: on_engine(connect, run))


def require_team(engine: Engine, ws: Workspace, team: str) -> None:
    """Raise NotFoundError unless ``team`` is in the org file or has allocated cost."""
    teams = known_teams(engine, ws.org)
    if team not in teams:
        raise NotFoundError(f"unknown team {team!r}; teams: {', '.join(teams) or '(none)'}")
