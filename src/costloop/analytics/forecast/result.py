"""Forecast values: daily points, sums over a date range, months, backtest scores."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from costloop.core.errors import InputError
from costloop.core.periods import Month

__all__ = [
    "BANDS",
    "Backtest",
    "ForecastPoint",
    "IntervalSum",
    "ModelScore",
    "MonthForecast",
    "OriginScore",
    "ScopeForecast",
    "sum_variance",
    "variance_band",
]

CENT = Decimal("0.01")
Z80 = 1.2815515655446004
Z95 = 1.959963984540054

BANDS = ((Decimal("0.12"), "Run"), (Decimal("0.15"), "Walk"), (Decimal("0.20"), "Crawl"))
"""FinOps forecast-variance thresholds: the highest band a variance reaches."""


def variance_band(variance: Decimal | None) -> str:
    """The FinOps maturity band of a forecast variance (``below Crawl`` past 20 %)."""
    if variance is None:
        return "n/a"
    for limit, name in BANDS:
        if variance <= limit:
            return name
    return "below Crawl"


def sum_variance(noise_var: float, level_var: float, a: int, b: int) -> float:
    """Variance of the summed error of forecast days ``a``..``b`` (1 = the first day).

    Each day's error is a transient part (``noise_var``) plus the level shocks of every
    earlier forecast day (``level_var`` each), which persist: a shock on day ``i``
    counts once for every summed day after it.
    """
    m = b - a
    persistent = (a - 1) * (m + 1) ** 2 + m * (m + 1) * (2 * m + 1) / 6
    return (m + 1) * noise_var + persistent * level_var


def cents(value: float) -> Decimal:
    """A float amount as Decimal cents (half-even)."""
    return Decimal(repr(float(value))).quantize(CENT)


def precise(value: float) -> Decimal:
    """A float amount as Decimal to a millionth (for sums rounded afterwards)."""
    return Decimal(repr(float(value))).quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class ForecastPoint:
    """One forecast day: expected EffectiveCost and its 80 % and 95 % prediction intervals."""

    day: date
    mean: Decimal
    lo80: Decimal
    hi80: Decimal
    lo95: Decimal
    hi95: Decimal


@dataclass(frozen=True)
class IntervalSum:
    """Cost over a date range: actual days plus forecast days, with intervals of the sum.

    Attributes:
        actual: exact EffectiveCost of the range's days up to ``as_of``.
        mean: expected total of the range (``actual`` + forecast mean of the later days).
        lo80: lower 80 % bound of the total (the actual part carries no uncertainty).
        hi80: upper 80 % bound of the total.
        lo95: lower 95 % bound of the total.
        hi95: upper 95 % bound of the total.
    """

    actual: Decimal
    mean: Decimal
    lo80: Decimal
    hi80: Decimal
    lo95: Decimal
    hi95: Decimal


@dataclass(frozen=True)
class MonthForecast:
    """One calendar month: actual so far and the expected total with intervals.

    Attributes:
        month: the calendar month.
        actual: exact EffectiveCost of the month's days up to ``as_of``.
        mean: expected month total (equal to ``actual`` for a past month).
        lo80: lower 80 % bound of the month total.
        hi80: upper 80 % bound of the month total.
        lo95: lower 95 % bound of the month total.
        hi95: upper 95 % bound of the month total.
        is_partial: the month has both actual and forecast days (the current month).
        is_forecast: the month has forecast days (current or future month).
    """

    month: Month
    actual: Decimal
    mean: Decimal
    lo80: Decimal
    hi80: Decimal
    lo95: Decimal
    hi95: Decimal
    is_partial: bool
    is_forecast: bool


@dataclass(frozen=True)
class OriginScore:
    """One backtest origin: the month forecast from the day before it, against the actual."""

    origin: date
    actual: Decimal
    forecast: Decimal
    variance: Decimal | None
    mape: Decimal | None


@dataclass(frozen=True)
class ModelScore:
    """A candidate model's rolling-origin backtest.

    Attributes:
        model: model name (``auto-ets``, ``auto-theta``, ``seasonal-naive``, ...).
        variance: mean FinOps forecast variance ``|actual − forecast| / forecast`` of the
            month totals at the 1-month horizon, over the origins.
        mape: mean absolute percentage error of the daily values over the origins.
        origins: the score of each origin, oldest first.
        error_scale: robust standard deviation of the relative month errors (median
            absolute error / 0.6745); it sets the width of the intervals of sums (None
            with fewer than three origins).
    """

    model: str
    variance: Decimal | None
    mape: Decimal | None
    origins: list[OriginScore]
    error_scale: float | None = None

    @property
    def band(self) -> str:
        """FinOps maturity band of the variance (Run ≤ 12 %, Walk ≤ 15 %, Crawl ≤ 20 %)."""
        return variance_band(self.variance)


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin backtest of every candidate model of one scope.

    Attributes:
        origins: month starts the backtest forecast from (the day before is the last
            day of history each time).
        scores: one score per candidate model, in the order they were tried.
        winner: the model with the lowest monthly variance (ties go to the simpler one).
    """

    origins: list[date]
    scores: list[ModelScore]
    winner: str

    def score(self, model: str) -> ModelScore | None:
        """The score of one model, or None when it was not a candidate."""
        return next((s for s in self.scores if s.model == model), None)


@dataclass(frozen=True)
class ScopeForecast:
    """Daily forecast of one scope's EffectiveCost in one currency.

    Attributes:
        scope: the filters on ``allocated_charges`` (empty: everything).
        currency: billing currency of every amount.
        as_of: last day of history; the forecast starts the day after.
        history: exact daily EffectiveCost (no Purchase rows) from the first day with
            data to ``as_of``; days without charges are zero.
        daily: forecast days after ``as_of``, each with its intervals.
        model: the model that produced ``daily``.
        fallback: why a fallback replaced the statistical models, or None.
        backtest: the rolling-origin backtest that chose ``model``, or None when it was
            skipped or the history was too short for any origin.
        notes: other things the reader should know (dropped incomplete days, charges
            forecast as monthly amounts, ...).
        noise_var: variance of one day's transient error (for sums over days).
        level_var: variance added per day by level changes that persist (for sums).
        precise_means: the daily means before rounding to cents; sums use them, so a
            month of a $0.27-a-day resource is not off by the rounding of every day.
        z80: multiplier of the sum's standard deviation for the 80 % interval.
        z95: multiplier for the 95 % interval (Student t when calibrated on a backtest).
        floor_zero: costs in the history never went negative, so bounds stop at zero.
    """

    scope: dict[str, str]
    currency: str
    as_of: date
    history: list[tuple[date, Decimal]]
    daily: list[ForecastPoint]
    model: str
    fallback: str | None
    backtest: Backtest | None
    notes: list[str] = field(default_factory=list)
    noise_var: float = field(default=0.0, repr=False)
    level_var: float = field(default=0.0, repr=False)
    precise_means: list[Decimal] = field(default_factory=list, repr=False)
    z80: float = field(default=Z80, repr=False)
    z95: float = field(default=Z95, repr=False)
    floor_zero: bool = field(default=True, repr=False)

    @property
    def horizon_end(self) -> date:
        """The last forecast day."""
        return self.daily[-1].day if self.daily else self.as_of

    def total_between(self, start: date, end: date) -> IntervalSum:
        """Cost of the days ``start``..``end`` (both included): actual then forecast.

        Days up to ``as_of`` count at their exact actual cost; later days at the forecast
        mean (summed before rounding, then rounded to cents). The interval is that of
        the sum of the forecast days: the model's error growth split into a transient
        daily part and a persistent level part, sized by the backtest's month errors
        (see docs/forecasts.md), not the sum of the daily bounds.

        Raises:
            InputError: ``end`` is before ``start`` or after the forecast horizon.
        """
        if end < start:
            raise InputError(f"range end {end} is before its start {start}")
        if end > self.horizon_end:
            raise InputError(
                f"range end {end} is past the forecast horizon ({self.horizon_end}); "
                "ask for a longer horizon"
            )
        actual = sum((v for d, v in self.history if start <= d <= end), Decimal(0))
        first = max(start, self.as_of + timedelta(days=1))
        if first > end:
            return IntervalSum(actual, actual, actual, actual, actual, actual)
        a = (first - self.as_of).days
        b = (end - self.as_of).days
        if self.precise_means:
            ahead = sum(self.precise_means[a - 1 : b], Decimal(0)).quantize(CENT)
        else:
            ahead = sum((p.mean for p in self.daily[a - 1 : b]), Decimal(0))
        mean = actual + ahead
        sd = math.sqrt(sum_variance(self.noise_var, self.level_var, a, b))
        w80, w95 = cents(self.z80 * sd), cents(self.z95 * sd)
        floor = actual if self.floor_zero else None

        def low(x: Decimal) -> Decimal:
            return x if floor is None else max(x, floor)

        return IntervalSum(actual, mean, low(mean - w80), mean + w80, low(mean - w95), mean + w95)

    def monthly(self) -> list[MonthForecast]:
        """History and forecast by calendar month, oldest first.

        A month the forecast covers only in part (past the horizon) is left out.
        """
        if not self.history:
            return []
        out: list[MonthForecast] = []
        month = Month.of(self.history[0][0])
        last = Month.of(self.horizon_end)
        while month <= last:
            start, end = month.start.date(), month.end.date() - timedelta(days=1)
            if end > self.horizon_end:
                break
            s = self.total_between(max(start, self.history[0][0]), end)
            out.append(
                MonthForecast(
                    month,
                    s.actual,
                    s.mean,
                    s.lo80,
                    s.hi80,
                    s.lo95,
                    s.hi95,
                    is_partial=start <= self.as_of < end,
                    is_forecast=end > self.as_of,
                )
            )
            month = month.next()
        return out
