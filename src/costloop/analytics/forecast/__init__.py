"""Cost forecasts per scope: statsforecast models chosen by rolling-origin backtest.

``forecast_scope(engine, {"team": "checkout"})`` returns a ``ScopeForecast`` with the
exact daily history, daily forecast points with 80 % and 95 % intervals, the winning
model and its backtested monthly variance and MAPE; ``total_between`` and ``monthly``
add actuals and forecast over any range. docs/forecasts.md explains the method.
"""

from __future__ import annotations

from costloop.analytics.forecast.models import CANDIDATES, MODEL_NAMES
from costloop.analytics.forecast.result import (
    BANDS,
    Backtest,
    ForecastPoint,
    IntervalSum,
    ModelScore,
    MonthForecast,
    OriginScore,
    ScopeForecast,
    variance_band,
)
from costloop.analytics.forecast.scope import forecast_scope
from costloop.analytics.forecast.series import scope_columns

__all__ = [
    "BANDS",
    "CANDIDATES",
    "MODEL_NAMES",
    "Backtest",
    "ForecastPoint",
    "IntervalSum",
    "ModelScore",
    "MonthForecast",
    "OriginScore",
    "ScopeForecast",
    "forecast_scope",
    "scope_columns",
    "variance_band",
]
