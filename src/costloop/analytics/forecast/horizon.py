"""How far to forecast and which months to show: shared by the CLI, the API and the page.

``3m`` means the current month and three whole months after it; ``90d`` ninety days
after the last day of data. A forecast's month table shows the last six complete
months of history, then the current and forecast months.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from costloop.analytics.forecast.result import MonthForecast, ScopeForecast
from costloop.core.errors import InputError
from costloop.core.periods import Month

__all__ = [
    "HISTORY_MONTHS",
    "MAX_DAYS",
    "MAX_MONTHS",
    "Horizon",
    "month_record",
    "parse_horizon",
    "parse_scope",
    "shown_months",
]

_HORIZON = re.compile(r"^\s*(\d{1,4})\s*([md])\s*$", re.IGNORECASE)
MAX_MONTHS = 24
MAX_DAYS = 730
HISTORY_MONTHS = 6
"""Complete months of history a forecast's month table shows."""


@dataclass(frozen=True)
class Horizon:
    """A forecast horizon: a number of whole months after the current one, or of days."""

    count: int
    unit: str  # "m" or "d"

    @property
    def model_days(self) -> int:
        """Days to ask the model for: enough for any month count from any day."""
        return self.count if self.unit == "d" else 31 * (self.count + 1)

    def days_after(self, as_of: date) -> int:
        """Forecast days needed after ``as_of`` to cover the horizon."""
        if self.unit == "d":
            return self.count
        return (self.end(as_of) - as_of).days

    def end(self, as_of: date) -> date:
        """The last day the horizon covers."""
        if self.unit == "d":
            return as_of + timedelta(days=self.count)
        month = Month.of(as_of)
        for _ in range(self.count):
            month = month.next()
        return month.end.date() - timedelta(days=1)


def parse_horizon(text: str, option: str = "--horizon") -> Horizon:
    """Parse ``3m`` (months after the current one) or ``90d`` (days).

    Raises:
        InputError: anything else, or out of range (``option`` names the input).
    """
    m = _HORIZON.match(text)
    if not m:
        raise InputError(f"{option}: expected months like 3m or days like 90d, got {text!r}")
    count, unit = int(m.group(1)), m.group(2).lower()
    limit = MAX_MONTHS if unit == "m" else MAX_DAYS
    if not 1 <= count <= limit:
        raise InputError(f"{option}: {text!r} is out of range (1..{limit}{unit})")
    return Horizon(count, unit)


def parse_scope(items: list[str], option: str = "--scope", separators: str = "=") -> dict[str, str]:
    """Parse ``COLUMN=VALUE`` items (or another of ``separators``) into a scope.

    Raises:
        InputError: an item without a separator, an empty column, or a column given twice.
    """
    scope: dict[str, str] = {}
    for item in items:
        sep = next((s for s in separators if s in item), separators[0])
        column, found, value = item.partition(sep)
        column = column.strip()
        if not found or not column:
            raise InputError(f"{option}: expected COLUMN{separators[0]}VALUE, got {item!r}")
        if column in scope:
            raise InputError(f"{option}: column {column!r} is given twice", column=column)
        scope[column] = value.strip()
    return scope


def shown_months(f: ScopeForecast, end: date) -> list[MonthForecast]:
    """The last complete history months, the current month and the months to ``end``."""
    months = [m for m in f.monthly() if m.month.end.date() - timedelta(days=1) <= end]
    past = [m for m in months if not m.is_forecast]
    if past and f.history[0][0].day != 1:
        past = past[1:]  # the history starts mid-month: that total is not a month's cost
    return past[-HISTORY_MONTHS:] + [m for m in months if m.is_forecast]


def month_record(m: MonthForecast) -> dict[str, Any]:
    """One month of a forecast as plain values (the JSON shape of the CLI and API)."""
    kind = "partial" if m.is_partial else ("forecast" if m.is_forecast else "actual")
    row: dict[str, Any] = {"month": str(m.month), "kind": kind, "actual": m.actual}
    if m.is_forecast:
        row.update(mean=m.mean, lo80=m.lo80, hi80=m.hi80, lo95=m.lo95, hi95=m.hi95)
    else:
        row.update(mean=m.actual, lo80=None, hi80=None, lo95=None, hi95=None)
    return row
