"""Budget evaluation: spend to date, forecast, thresholds, run-out date, past periods.

For each budget, the period containing ``as_of`` is evaluated:

- actual: exact Σ EffectiveCost of ``allocated_charges`` rows matching the scope and
  currency, by ChargePeriodStart, from the period's first day to ``as_of``;
- forecast: actual plus the forecast of the remaining days
  (``costloop.analytics.forecast``), with its 80 % interval;
- thresholds reached by the actual spend (with the day it reached each) and those only
  the forecast reaches (with the day the cumulative forecast mean does);
- status: ``breached`` (actual ≥ amount), ``at-risk`` (forecast ≥ amount) or ``ok``;
- run-out date at the current rate, the mean daily spend of the 7 days ending at
  ``as_of`` (fewer when the data starts later): the day the cumulative spend reaches the
  amount, or the day it did when already breached.

The arithmetic on a daily series is pure (``assess``) so it is testable on hand-built
series; ``evaluate`` queries the warehouse and forecasts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Any

from costloop.analytics.forecast import ScopeForecast, forecast_scope
from costloop.analytics.showback import allowed_dimensions, daily_costs
from costloop.core.budgets import (
    Budget,
    BudgetForecast,
    BudgetPeriod,
    BudgetStatus,
    PeriodOutcome,
    ThresholdHit,
    budget_owners,
)
from costloop.core.errors import InputError
from costloop.core.money import ZERO, quantize
from costloop.core.org import Org
from costloop.warehouse.engine import Engine

__all__ = [
    "PREVIOUS_PERIODS",
    "RUN_RATE_DAYS",
    "Forecaster",
    "assess",
    "budget_record",
    "data_range",
    "evaluate",
    "forecast_period",
]

RUN_RATE_DAYS = 7
"""The current rate is the mean daily spend of this many days ending at ``as_of``."""

PREVIOUS_PERIODS = 3
"""How many earlier periods' outcomes a status carries."""

Forecaster = Callable[[Engine, Budget, BudgetPeriod, date], BudgetForecast]
"""Forecast of a period's remaining days (after ``as_of``); ``mean``/``lo80``/``hi80``
are the sums of those days only. Raises InputError when no forecast is possible."""

# Sums of DECIMAL(38, 18) values are exact at this precision.
_PRECISION = 60

_Key = tuple[tuple[tuple[str, str], ...], str]


def _key(budget: Budget) -> _Key:
    """Budgets with the same key count the same charges."""
    return tuple(sorted(budget.scope.items())), budget.currency


def data_range(engine: Engine) -> tuple[date, date] | None:
    """First and last day with allocated charges, or None when there are none."""
    t = daily_costs(engine)
    span = t.aggregate(first=t.ChargePeriodDay.min(), last=t.ChargePeriodDay.max())
    row = engine.rows(span)[0]
    if row["first"] is None:
        return None
    return row["first"].date(), row["last"].date()


def _check_scope(budget: Budget, allowed: Sequence[str]) -> None:
    for key in budget.scope:
        if key not in allowed:
            raise InputError(
                f"budget {budget.name!r}: scope.{key}: unknown column {key!r} "
                f"(allowed: {', '.join(allowed)})",
                file=budget.source,
                row=budget.scope_line,
            )


def _daily(engine: Engine, budget: Budget, first: date, last: date) -> dict[date, Decimal]:
    """Exact EffectiveCost per day of the budget's scope and currency, ``first``..``last``."""
    t = engine.table("allocated_charges")
    t = t.filter(
        t.BillingCurrency == budget.currency,
        t.ChargePeriodStart >= datetime.combine(first, datetime.min.time()),
        t.ChargePeriodStart < datetime.combine(last + timedelta(days=1), datetime.min.time()),
        *[t[column] == value for column, value in budget.scope.items()],
    )
    agg = t.group_by(t.ChargePeriodStart.date().name("day")).aggregate(cost=t.EffectiveCost.sum())
    return {r["day"]: r["cost"] or ZERO for r in engine.rows(agg)}


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _total(daily: Mapping[date, Decimal], first: date, last: date) -> Decimal:
    with localcontext(prec=_PRECISION):
        return sum((daily.get(d, ZERO) for d in _days(first, last)), ZERO)


def _reached_on(
    steps: Iterable[tuple[date, Decimal]], start: Decimal, level: Decimal
) -> date | None:
    """The day a running total (from ``start``) reached ``level`` and stayed there."""
    running, since = start, None
    with localcontext(prec=_PRECISION):
        for day, cost in steps:
            running += cost
            if running < level:
                since = None
            elif since is None:
                since = day
    return since if running >= level else None


def _run_rate(daily: Mapping[date, Decimal], as_of: date, first_data: date) -> Decimal:
    start = max(as_of - timedelta(days=RUN_RATE_DAYS - 1), first_data)
    if start > as_of:
        return ZERO
    days = (as_of - start).days + 1
    return quantize(_total(daily, start, as_of) / days)


def assess(
    budget: Budget,
    period: BudgetPeriod,
    as_of: date,
    daily: Mapping[date, Decimal],
    *,
    first_data: date,
    forecast: BudgetForecast | None = None,
    forecast_note: str | None = None,
    previous: Sequence[PeriodOutcome] = (),
) -> BudgetStatus:
    """A budget's status from its daily spend (pure; see the module docstring).

    Args:
        budget: the budget.
        period: the period evaluated (contains ``as_of``, or starts after it).
        as_of: last day counted.
        daily: exact spend per day of the scope and currency; missing days are zero.
            Needs the period up to ``as_of`` and the run-rate window before it.
        first_data: first day with data in the warehouse (limits the run-rate window).
        forecast: the forecast period total (actual included), if any.
        forecast_note: why there is no forecast, or its caveat.
        previous: outcomes of earlier periods, most recent first.
    """
    amount = budget.amount
    last_counted = min(as_of, period.last_day)
    steps = [(d, daily.get(d, ZERO)) for d in _days(period.start, last_counted)]
    actual = _total(daily, period.start, last_counted)
    hits: list[ThresholdHit] = []
    forecast_hits: list[ThresholdHit] = []
    for pct in budget.thresholds:
        level = amount * pct / 100
        if actual >= level:
            hits.append(ThresholdHit(pct, "actual", _reached_on(steps, ZERO, level), level))
        elif forecast is not None and forecast.mean >= level:
            day = _reached_on(forecast.daily, actual, level)
            forecast_hits.append(ThresholdHit(pct, "forecast", day, level))
    rate = _run_rate(daily, as_of, first_data)
    if actual >= amount:
        status, runs_out = "breached", _reached_on(steps, ZERO, amount)
    else:
        status = "at-risk" if forecast is not None and forecast.mean >= amount else "ok"
        runs_out = None
        if rate > 0:
            days_left = int(((amount - actual) / rate).to_integral_value(ROUND_CEILING))
            day = max(as_of, period.start - timedelta(days=1)) + timedelta(days=days_left)
            runs_out = day if day <= period.last_day else None
    return BudgetStatus(
        budget=budget,
        period=period,
        as_of=as_of,
        actual=actual,
        forecast=forecast,
        forecast_note=forecast_note,
        hits=tuple(hits + forecast_hits),
        status=status,
        run_rate=rate,
        runs_out_on=runs_out,
        previous=tuple(previous),
    )


def _remaining(fc: ScopeForecast, period: BudgetPeriod, as_of: date) -> BudgetForecast:
    """The forecast of the period's days after ``as_of`` out of a scope's forecast."""
    first = max(as_of + timedelta(days=1), period.start)
    rest = fc.total_between(first, period.last_day)
    return BudgetForecast(
        mean=rest.mean - rest.actual,
        lo80=rest.lo80 - rest.actual,
        hi80=rest.hi80 - rest.actual,
        model=fc.model,
        fallback=fc.fallback,
        daily=tuple((p.day, p.mean) for p in fc.daily if first <= p.day <= period.last_day),
    )


def _forecast(
    engine: Engine, budget: Budget, until: date, as_of: date, min_history_days: int, backtest: bool
) -> ScopeForecast:
    return forecast_scope(
        engine,
        dict(budget.scope),
        # A few days more, in case the forecast's own history ends before ``as_of``.
        horizon_days=max((until - as_of).days, 1) + RUN_RATE_DAYS,
        as_of=as_of,
        currency=budget.currency,
        min_history_days=min_history_days,
        backtest=backtest,
    )


def forecast_period(
    engine: Engine,
    budget: Budget,
    period: BudgetPeriod,
    as_of: date,
    *,
    min_history_days: int = 56,
    backtest: bool = True,
) -> BudgetForecast:
    """Forecast of the period's days after ``as_of`` with the scope's best model.

    The remainder's interval is that of the sum of the remaining days (see
    docs/forecasts.md); ``daily`` carries the forecast mean per remaining day. Scopes
    with less than ``min_history_days`` of history get the forecast's labelled
    fallback; ``backtest`` off skips model selection (faster, ETS forecasts).

    Raises:
        InputError: the scope's history is too short to forecast.
    """
    fc = _forecast(engine, budget, period.last_day, as_of, min_history_days, backtest)
    return _remaining(fc, period, as_of)


class _SharedForecasts:
    """The default forecaster of ``evaluate``: one forecast per scope and currency.

    Budgets of the same scope (a company's monthly, quarterly and yearly budgets) share
    one forecast that reaches the end of the longest of their periods.
    """

    def __init__(self, until: Mapping[_Key, date], min_history_days: int) -> None:
        self._until = until
        self._min_history_days = min_history_days
        self._done: dict[_Key, ScopeForecast | InputError] = {}

    def __call__(
        self, engine: Engine, budget: Budget, period: BudgetPeriod, as_of: date
    ) -> BudgetForecast:
        key = _key(budget)
        if key not in self._done:
            until = self._until.get(key, period.last_day)
            try:
                self._done[key] = _forecast(
                    engine, budget, until, as_of, self._min_history_days, backtest=True
                )
            except InputError as exc:
                self._done[key] = exc
        fc = self._done[key]
        if isinstance(fc, InputError):
            raise fc
        return _remaining(fc, period, as_of)


def _with_actual(rest: BudgetForecast, actual: Decimal) -> BudgetForecast:
    return replace(rest, mean=actual + rest.mean, lo80=actual + rest.lo80, hi80=actual + rest.hi80)


def _previous(
    budget: Budget, period: BudgetPeriod, daily: Mapping[date, Decimal], first_data: date
) -> list[PeriodOutcome]:
    out: list[PeriodOutcome] = []
    p = period.previous()
    while len(out) < PREVIOUS_PERIODS and p.start >= first_data:
        if budget.start is not None and p.start < budget.start:
            break
        out.append(PeriodOutcome(p, _total(daily, p.start, p.last_day), budget.amount))
        p = p.previous()
    return out


def evaluate(
    engine: Engine,
    budgets: Sequence[Budget],
    *,
    as_of: date | None = None,
    forecaster: Forecaster | None = None,
    min_history_days: int = 56,
) -> list[BudgetStatus]:
    """The status of each budget's current period, in file order.

    Args:
        engine: warehouse engine with ``allocated_charges``.
        budgets: the budgets (``costloop.core.budgets.parse_budgets``).
        as_of: last day counted; default: the last day with allocated charges. Before a
            budget's ``start``, its first period is evaluated (nothing spent yet).
        forecaster: forecasts a period's remaining days; default: the scope's best
            statistical model, as ``forecast_period`` does, with one forecast per scope
            and currency shared by the budgets that have them. A forecaster raising
            InputError leaves the budget without a forecast, and the status says why.
        min_history_days: history the default forecaster's statistical models need
            (setting ``forecast.min_history_days``).

    Raises:
        InputError: a scope names an unknown column (budgets file and line named), the
            warehouse has no allocated charges, or ``as_of`` is after its last day.
    """
    if not budgets:
        return []
    span = data_range(engine)
    if span is None:
        raise InputError(
            "no allocated charges to compare budgets with; load billing data with "
            "`costloop ingest FILE` and run `costloop allocate`"
        )
    first_data, last_data = span
    day = last_data if as_of is None else as_of
    allowed = [c for c in allowed_dimensions(engine) if c != "BillingCurrency"]
    if as_of is not None and as_of > last_data:
        raise InputError(
            f"{as_of} is after the last day with data ({last_data}); "
            "days without data would count as nothing spent"
        )
    periods: list[BudgetPeriod] = []
    until: dict[_Key, date] = {}
    for budget in budgets:
        _check_scope(budget, allowed)
        period = budget.period_of(day)
        if budget.start is not None and period.start < budget.start:
            period = budget.period_of(budget.start)
        periods.append(period)
        until[_key(budget)] = max(until.get(_key(budget), period.last_day), period.last_day)
    forecast = forecaster or _SharedForecasts(until, min_history_days)
    out: list[BudgetStatus] = []
    for budget, period in zip(budgets, periods, strict=True):
        oldest = period
        for _ in range(PREVIOUS_PERIODS):
            oldest = oldest.previous()
        first = min(oldest.start, day - timedelta(days=RUN_RATE_DAYS))
        daily = _daily(engine, budget, first, max(day, period.start))
        actual = _total(daily, period.start, min(day, period.last_day))
        fc: BudgetForecast | None = None
        note: str | None = None
        if day >= period.last_day:
            fc = BudgetForecast(actual, actual, actual, "actual", daily=())
            note = "the period is complete: the forecast is the actual total"
        else:
            try:
                fc = _with_actual(forecast(engine, budget, period, day), actual)
            except InputError as exc:
                note = f"no forecast: {exc.detail}"
            else:
                note = fc.fallback
        out.append(
            assess(
                budget,
                period,
                day,
                daily,
                first_data=first_data,
                forecast=fc,
                forecast_note=note,
                previous=_previous(budget, period, daily, first_data),
            )
        )
    return out


def budget_record(s: BudgetStatus, org: Org) -> dict[str, Any]:
    """A budget status as plain values (Decimal money, dates), the shape of
    ``costloop budgets --json`` and ``GET /api/v1/budgets``; percentages to 2 places."""
    b = s.budget
    fc = s.forecast
    return {
        "name": b.name,
        "scope": dict(b.scope),
        "period": b.period,
        "period_label": s.period.label,
        "period_start": s.period.start,
        "period_end": s.period.last_day,
        "currency": b.currency,
        "amount": b.amount,
        "actual": s.actual,
        "used_pct": _pct2(s.used_pct),
        "forecast": None
        if fc is None
        else {
            "total": fc.mean,
            "lo80": fc.lo80,
            "hi80": fc.hi80,
            "pct": _pct2(s.forecast_pct),
            "model": fc.model,
            "fallback": fc.fallback,
        },
        "forecast_note": s.forecast_note,
        "status": s.status,
        "thresholds": list(b.thresholds),
        "hits": [
            {
                "threshold": h.threshold,
                "basis": h.basis,
                "crossed_on": h.crossed_on,
                "level": h.level,
            }
            for h in s.hits
        ],
        "run_rate": s.run_rate,
        "runs_out_on": s.runs_out_on,
        "owners": list(budget_owners(b, org)),
        "previous": [
            {
                "period_label": p.period.label,
                "period_start": p.period.start,
                "period_end": p.period.last_day,
                "actual": p.actual,
                "amount": p.amount,
                "used_pct": _pct2(p.used_pct),
                "breached": p.breached,
            }
            for p in s.previous
        ],
    }


def _pct2(value: Decimal | None) -> Decimal | None:
    return None if value is None else quantize(value, 2)
