"""The HTML report: spend over time, per-team breakdown, forecast, coverage, opportunities,
savings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

from costloop.allocation.coverage import coverage_report
from costloop.analytics.forecast import ScopeForecast, forecast_scope
from costloop.analytics.showback import showback, spend_by
from costloop.core.errors import InputError
from costloop.core.money import format_money
from costloop.core.periods import Month
from costloop.opportunities.records import executed_opportunities, verifications
from costloop.opportunities.store import list_opportunities
from costloop.report.charts import hbar_chart, interval_chart, stacked_bar_chart
from costloop.warehouse.engine import Engine, open_engine
from costloop.workspace import Workspace

__all__ = ["ForecastRow", "ForecastSection", "ReportData", "collect", "write_report"]

CHART_HISTORY_DAYS = 120
HORIZON_DAYS = 62
"""Forecast days: always to the end of the month after the last day of data."""


@dataclass(frozen=True)
class ForecastRow:
    """One team's forecast of next month, with the backtested error of its model."""

    team: str
    month: str
    mean: Decimal
    lo80: Decimal
    hi80: Decimal
    model: str
    variance: Decimal | None
    band: str
    fallback: str | None


@dataclass
class ForecastSection:
    """The overall forecast (for the chart) and a row per team.

    Attributes:
        overall: the forecast of everything (None with the reason in ``note``).
        next_month: the month the team rows forecast.
        teams: one row per team with enough history, largest first.
        skipped: teams without a forecast and why (too little history, ...).
        note: why there is no overall forecast.
    """

    overall: ScopeForecast | None
    next_month: str
    teams: list[ForecastRow] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    note: str | None = None


@dataclass
class ReportData:
    """Everything the template shows, already computed (money as Decimal)."""

    generated_at: datetime
    workspace: str
    months: list[str]
    by_provider: dict[str, list[Decimal]]
    by_team_month: dict[str, list[Decimal]]
    latest_month: str
    team_latest: list[tuple[str, Decimal, Decimal, Decimal | None]]
    total_billed: Decimal
    total_effective: Decimal
    coverage: list[tuple[str, Decimal]]
    opportunities: list[Any]
    savings: list[dict[str, Any]]
    forecast: ForecastSection | None = None


def _series(rows: list[dict[str, Any]], months: list[datetime]) -> dict[str, list[Decimal]]:
    keys = sorted({str(r["key"]) for r in rows})
    index = {m: i for i, m in enumerate(months)}
    out = {k: [Decimal(0)] * len(months) for k in keys}
    for r in rows:
        out[str(r["key"])][index[r["period"]]] += r["effective"] or Decimal(0)
    return dict(sorted(out.items(), key=lambda kv: -sum(kv[1], Decimal(0))))


def _next_month_row(team: str, f: ScopeForecast, month: Month) -> ForecastRow | None:
    row = next((m for m in f.monthly() if m.month == month), None)
    if row is None:
        return None
    score = f.backtest.score(f.model) if f.backtest else None
    return ForecastRow(
        team,
        str(month),
        row.mean,
        row.lo80,
        row.hi80,
        f.model,
        score.variance if score else None,
        score.band if score else "not measured",
        f.fallback,
    )


def _main_currency(engine: Engine) -> tuple[str | None, list[str]]:
    """The billing currency with the most cost, and the others."""
    t = engine.table("allocated_charges")
    rows = engine.rows(t.group_by("BillingCurrency").aggregate(cost=t.EffectiveCost.sum()))
    ranked = [str(r["BillingCurrency"]) for r in sorted(rows, key=lambda r: -(r["cost"] or 0))]
    return (ranked[0] if ranked else None), ranked[1:]


def _forecast_section(engine: Engine, teams: list[str], min_history_days: int) -> ForecastSection:
    """Forecast everything and each team to the end of next month (errors become notes)."""
    currency, others = _main_currency(engine)
    try:
        overall = forecast_scope(
            engine,
            {},
            horizon_days=HORIZON_DAYS,
            currency=currency,
            min_history_days=min_history_days,
        )
    except InputError as exc:
        return ForecastSection(None, "", note=str(exc))
    if others:
        overall.notes.append(f"in {currency} only; also billed in {', '.join(others)}")
    month = Month.of(overall.as_of).next()
    section = ForecastSection(overall, str(month))
    for team in teams:
        try:
            f = forecast_scope(
                engine,
                {"team": team},
                horizon_days=HORIZON_DAYS,
                as_of=overall.as_of,
                currency=overall.currency,
                min_history_days=min_history_days,
            )
        except InputError as exc:
            section.skipped.append((team, str(exc)))
            continue
        row = _next_month_row(team, f, month)
        if row is not None:
            section.teams.append(row)
    section.teams.sort(key=lambda r: -r.mean)
    return section


def _forecast_chart(f: ScopeForecast) -> str:
    start = f.as_of - timedelta(days=CHART_HISTORY_DAYS)
    history: list[tuple[date, Decimal]] = [(d, v) for d, v in f.history if d > start]
    return interval_chart(
        history,
        [(p.day, p.mean, p.lo80, p.hi80, p.lo95, p.hi95) for p in f.daily],
        title=f"Daily effective cost: last {CHART_HISTORY_DAYS} days and forecast ({f.model})",
        currency=f.currency,
    )


def collect(ws: Workspace) -> ReportData:
    """Query the warehouse and the state DB for the report."""
    with open_engine(ws.lake) as engine:
        by_provider_rows = spend_by(engine, "ProviderName")
        by_team_rows = spend_by(engine, "team")
        sb = showback(engine)
        cov = [
            p
            for p in coverage_report(engine, ws.allocation, limit=0).periods
            if p.dimension == "team" and p.coverage is not None
        ]
        teams = sorted({r.team for r in sb})
        forecast = _forecast_section(engine, teams, ws.config.int_("forecast.min_history_days"))
    months = sorted({r["period"] for r in by_provider_rows})
    labels = [f"{m:%Y-%m}" for m in months]
    latest = labels[-1] if labels else ""
    prev = labels[-2] if len(labels) > 1 else None
    latest_rows = {r.team: r for r in sb if str(r.period) == latest}
    prev_rows = {r.team: r for r in sb if prev and str(r.period) == prev}
    team_latest = []
    for team, r in sorted(latest_rows.items(), key=lambda kv: -kv[1].effective_cost):
        before = prev_rows.get(team)
        change = (
            (r.effective_cost - before.effective_cost) / before.effective_cost * 100
            if before and before.effective_cost
            else None
        )
        team_latest.append((team, r.billed_cost, r.effective_cost, change))
    savings = []
    for opp, ex in executed_opportunities(ws.state):
        checks = verifications(ws.state, opp.id)
        last = checks[-1] if checks else None
        savings.append(
            {
                "id": opp.id,
                "title": opp.title,
                "branch": ex.branch,
                "projected": opp.monthly_savings,
                "realized": None if last is None else last.realized_monthly,
                "status": "pending" if last is None else last.status,
            }
        )
    return ReportData(
        generated_at=datetime.now(UTC).replace(microsecond=0),
        workspace=str(ws.root),
        months=labels,
        by_provider=_series(by_provider_rows, months),
        by_team_month=_series(by_team_rows, months),
        latest_month=latest,
        team_latest=team_latest,
        total_billed=sum((r.billed_cost for r in sb), Decimal(0)),
        total_effective=sum((r.effective_cost for r in sb), Decimal(0)),
        coverage=[(str(c.period), c.coverage * 100) for c in cov if c.coverage is not None],
        opportunities=list_opportunities(ws.state, limit=25),
        savings=savings,
        forecast=forecast,
    )


def write_report(ws: Workspace, out: Path | None = None, data: ReportData | None = None) -> Path:
    """Render the report to ``out`` (default ``<report.dir>/costloop-report.html``).

    ``data`` is what ``collect(ws)`` returns, for callers that also show its figures.
    """
    data = data if data is not None else collect(ws)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["money"] = lambda v: "" if v is None else format_money(Decimal(v))
    template = env.from_string(
        files("costloop.report").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    )
    html = template.render(
        d=data,
        provider_chart=stacked_bar_chart(
            data.months, data.by_provider, title="Effective cost per month by provider"
        ),
        team_chart=stacked_bar_chart(
            data.months, data.by_team_month, title="Effective cost per month by team"
        ),
        forecast_chart=(
            _forecast_chart(data.forecast.overall)
            if data.forecast is not None and data.forecast.overall is not None
            else ""
        ),
        team_bars=hbar_chart(
            [(t, e) for t, _, e, _ in data.team_latest],
            title=f"Effective cost by team, {data.latest_month}",
        ),
    )
    path = out or ws.reports_dir / "costloop-report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
