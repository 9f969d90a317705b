"""Monthly amounts (tax, monthly credits) for the month starts a forecast covers.

Tax follows the cost it is levied on: its share of the last complete month's daily
cost, applied to the forecast month. Any other category posted on month starts (a
credit, a fixed fee) repeats what the latest month start brought, zero when it brought
nothing, so a credit programme that ended stays ended.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from costloop.analytics.forecast.series import DailySeries

__all__ = ["monthly_amounts"]

_SCALED = frozenset({"Tax"})


def _month_end(start: date) -> date:
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def _tax_share(series: DailySeries, amounts: dict[date, Decimal]) -> Decimal | None:
    """The category's amount over the daily cost of the last complete month."""
    if not series.days:
        return None
    start = series.days[-1].replace(day=1)
    if _month_end(start) != series.days[-1]:
        start = (start - timedelta(days=1)).replace(day=1)
    if start < series.days[0]:
        return None
    days = zip(series.days, series.base, strict=True)
    base = sum((v for d, v in days if d.replace(day=1) == start), Decimal(0))
    if base <= 0:
        return None
    return amounts.get(start, Decimal(0)) / base


def monthly_amounts(
    series: DailySeries, first_day: date, base_mean: Sequence[float]
) -> dict[date, Decimal]:
    """Forecast monthly amounts on the month starts among the forecast days.

    Args:
        series: the history the forecast starts from.
        first_day: the first forecast day (the day after the history).
        base_mean: the model's forecast of the daily cost, one value per day from
            ``first_day``.

    Returns:
        The total monthly amount per forecast month start (only non-zero ones).
    """
    h = len(base_mean)
    out: dict[date, Decimal] = {}
    if not series.monthly or not series.days:
        return out
    latest = series.days[-1].replace(day=1)
    for category, amounts in series.monthly.items():
        share = _tax_share(series, amounts) if category in _SCALED else None
        repeat = amounts.get(latest, Decimal(0))
        for i in range(h):
            day = first_day + timedelta(days=i)
            if day.day != 1:
                continue
            if share is None:
                value = repeat
            else:
                length = calendar.monthrange(day.year, day.month)[1]
                covered = base_mean[i : i + length]
                month_base = sum(covered) * length / len(covered)
                value = share * Decimal(repr(float(month_base)))
            if value:
                out[day] = out.get(day, Decimal(0)) + value
    return out
