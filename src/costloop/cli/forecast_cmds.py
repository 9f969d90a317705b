"""``costloop forecast``: history, forecast with 80 % / 95 % intervals, backtested error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer

from costloop.analytics.forecast import (
    CANDIDATES,
    ScopeForecast,
    forecast_scope,
)
from costloop.analytics.forecast.horizon import (
    month_record,
    parse_horizon,
    parse_scope,
    shown_months,
)
from costloop.cli.common import (
    WorkspaceOption,
    console,
    err_console,
    open_workspace,
    parse_day,
    percent,
    print_json,
    ratio_text,
    table,
)
from costloop.core.errors import InputError
from costloop.core.money import format_money
from costloop.core.periods import Month
from costloop.warehouse.engine import open_engine

__all__ = ["forecast_json", "register"]


def _scope_text(scope: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in scope.items()) or "everything"


def forecast_json(f: ScopeForecast, end: date) -> dict[str, Any]:
    """The machine shape of a forecast (money as Decimal; ``print_json`` makes text)."""
    bt = f.backtest
    return {
        "scope": f.scope,
        "currency": f.currency,
        "as_of": f.as_of,
        "horizon_end": end,
        "model": f.model,
        "fallback": f.fallback,
        "notes": f.notes,
        "months": [month_record(m) for m in shown_months(f, end)],
        "daily": [
            {
                "day": p.day,
                "mean": p.mean,
                "lo80": p.lo80,
                "hi80": p.hi80,
                "lo95": p.lo95,
                "hi95": p.hi95,
            }
            for p in f.daily
            if p.day <= end
        ],
        "backtest": None
        if bt is None
        else {
            "origins": bt.origins,
            "winner": bt.winner,
            "models": [
                {
                    "model": s.model,
                    "variance": ratio_text(s.variance),
                    "mape": ratio_text(s.mape),
                    "band": s.band,
                    "origins": [
                        {
                            "origin": o.origin,
                            "actual": o.actual,
                            "forecast": o.forecast,
                            "variance": ratio_text(o.variance),
                            "mape": ratio_text(o.mape),
                        }
                        for o in s.origins
                    ],
                }
                for s in bt.scores
            ],
        },
    }


def _span(lo: Decimal, hi: Decimal) -> str:
    """An interval in whole currency units (the table's money columns show cents)."""
    return f"{lo:,.0f} – {hi:,.0f}"


def _render(f: ScopeForecast, end: date, grain: str) -> None:
    def money(value: Decimal) -> str:
        return format_money(value, f.currency)

    title = f"Forecast of {_scope_text(f.scope)} ({f.currency}), history to {f.as_of}"
    rows: list[tuple[str, ...]] = []
    if grain == "month":
        for m in shown_months(f, end):
            if not m.is_forecast:
                rows.append((str(m.month), money(m.actual), "", "", "", "actual"))
                continue
            kind = "MTD + forecast" if m.is_partial else "forecast"
            rows.append(
                (
                    str(m.month),
                    money(m.actual) if m.is_partial else "",
                    money(m.mean),
                    _span(m.lo80, m.hi80),
                    _span(m.lo95, m.hi95),
                    kind,
                )
            )
        cols = ["Month", "$Actual", "$Expected", "$80% interval", "$95% interval", "Kind"]
        console.print(table(title, cols, rows))
    else:
        rows = [(str(d), money(v), "", "", "actual") for d, v in f.history[-7:]]
        rows += [
            (
                str(p.day),
                money(p.mean),
                _span(p.lo80, p.hi80),
                _span(p.lo95, p.hi95),
                "forecast",
            )
            for p in f.daily
            if p.day <= end
        ]
        cols = ["Day", "$Cost", "$80% interval", "$95% interval", "Kind"]
        console.print(table(title, cols, rows))
    _render_model(f)


def _render_model(f: ScopeForecast) -> None:
    bt = f.backtest
    console.print(f"Model: [bold]{f.model}[/]", highlight=False)
    if f.fallback:
        console.print(f"[yellow]Fallback:[/] {f.fallback}", highlight=False)
    for note in f.notes:
        console.print(f"Note: {note}", highlight=False)
    if bt is None:
        console.print("Backtest: none (the error of this forecast is not measured)")
        return
    first, last = Month.of(bt.origins[0]), Month.of(bt.origins[-1])
    rows = [
        (
            s.model + (" (chosen)" if s.model == bt.winner else ""),
            percent(s.variance),
            percent(s.mape),
            s.band,
        )
        for s in bt.scores
    ]
    console.print(
        table(
            f"Backtest: each month {first}..{last} forecast from the day before it",
            ["Model", "%Monthly variance", "%Daily MAPE", "FinOps band"],
            rows,
        )
    )
    console.print(
        "Variance = |actual − forecast| / forecast of the month total; bands: "
        "Run ≤ 12 %, Walk ≤ 15 %, Crawl ≤ 20 %.",
        highlight=False,
    )


def forecast(
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="COLUMN=VALUE filter on allocated charges (repeat to combine), "
            "e.g. team=checkout or ServiceName='AWS Lambda'.",
        ),
    ] = None,
    horizon: Annotated[
        str, typer.Option(help="How far ahead: months after the current one (3m) or days (90d).")
    ] = "3m",
    grain: Annotated[str, typer.Option(help="Table rows: month or day.")] = "month",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Last day of history YYYY-MM-DD (default: latest data)."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="Billing currency, when the scope has several.")
    ] = None,
    arima: Annotated[
        bool, typer.Option("--arima", help="Also backtest AutoARIMA (about 10 s more).")
    ] = False,
    no_backtest: Annotated[
        bool, typer.Option("--no-backtest", help="Skip the backtest; AutoETS forecasts.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Forecast daily and monthly cost with 80 % and 95 % intervals and its backtested error."""
    chosen = parse_scope(scope or [])
    span = parse_horizon(horizon)
    if grain not in ("month", "day"):
        raise InputError(f"--grain: expected month or day, got {grain!r}")
    day = parse_day(as_of, "--as-of")
    ws = open_workspace(workspace)
    # Enough days for any month count; the display stops at the horizon's end.
    days = span.model_days
    status = err_console.status("backtesting models…", spinner="dots")
    with open_engine(ws.lake) as engine, status:
        f = forecast_scope(
            engine,
            chosen,
            horizon_days=days,
            as_of=day,
            currency=currency,
            min_history_days=ws.config.int_("forecast.min_history_days"),
            backtest=not no_backtest,
            models=(*CANDIDATES, "auto-arima") if arima else None,
        )
    end = span.end(f.as_of)
    if as_json:
        print_json(forecast_json(f, end))
        return
    _render(f, end, grain)


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command()(forecast)
