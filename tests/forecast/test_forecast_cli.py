"""``costloop forecast``: JSON shape, table, and exit code 2 on bad options."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_json_has_history_forecast_and_backtest(cli_main: Cli, estate: Path) -> None:
    done = cli_main("forecast", "--scope", "team=shop", "--horizon", "3m", "--json", "-w", estate)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["scope"] == {"team": "shop"} and data["currency"] == "USD"
    assert data["as_of"] == "2026-09-30" and data["horizon_end"] == "2026-12-31"
    assert data["fallback"] is None and data["model"] == data["backtest"]["winner"]
    kinds = [(m["month"], m["kind"]) for m in data["months"]]
    assert kinds == [
        ("2026-04", "actual"),
        ("2026-05", "actual"),
        ("2026-06", "actual"),
        ("2026-07", "actual"),
        ("2026-08", "actual"),
        ("2026-09", "actual"),
        ("2026-10", "forecast"),
        ("2026-11", "forecast"),
        ("2026-12", "forecast"),
    ]
    october = data["months"][6]
    assert Decimal(october["lo95"]) < Decimal(october["lo80"]) < Decimal(october["mean"])
    assert Decimal(october["mean"]) < Decimal(october["hi80"]) < Decimal(october["hi95"])
    assert data["months"][0]["lo80"] is None  # a past month has no interval
    assert len(data["daily"]) == 92 and data["daily"][0]["day"] == "2026-10-01"
    assert all(isinstance(p["mean"], str) for p in data["daily"])
    models = {m["model"]: m for m in data["backtest"]["models"]}
    assert set(models) == {"seasonal-naive", "auto-theta", "auto-ets"}
    win = models[data["model"]]
    assert float(win["variance"]) < 0.05 and win["band"] == "Run"
    assert [o["origin"] for o in win["origins"]] == [str(date(2026, m, 1)) for m in range(4, 10)]


def test_table_names_the_fallback(cli_main: Cli, estate: Path) -> None:
    done = cli_main(
        "forecast", "--scope", "team=newbie", "--horizon", "14d", "--grain", "day", "-w", estate
    )
    assert done.returncode == 0, done.stderr
    assert "Model: seasonal-naive" in done.stdout
    assert "Fallback: only 20 days of history" in done.stdout
    assert "Backtest: none" in done.stdout
    assert done.stdout.count("forecast") >= 14 and "2026-10-14" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "teem=shop"], "unknown scope column 'teem'; use one of: team, "),
        (["--scope", "team"], "--scope: expected COLUMN=VALUE, got 'team'"),
        (["--scope", "team=a", "--scope", "team=b"], "column 'team' is given twice"),
        (["--horizon", "3y"], "--horizon: expected months like 3m or days like 90d"),
        (["--horizon", "0m"], "--horizon: '0m' is out of range"),
        (["--grain", "week"], "--grain: expected month or day"),
        (["--as-of", "yesterday"], "--as-of expects a date as YYYY-MM-DD"),
        (["--scope", "team=blip"], "only 5 days of history for team=blip"),
        (["--scope", "team=euro"], "several currencies (EUR, USD)"),
    ],
)
def test_bad_options_exit_2(cli_main: Cli, estate: Path, args: list[str], message: str) -> None:
    done = cli_main("forecast", *args, "-w", estate)
    assert done.returncode == 2
    assert message in " ".join(done.stderr.split())


def test_empty_workspace_says_there_is_nothing_to_forecast(
    cli_main: Cli, workspace: Path, tmp_path: Path
) -> None:
    done = cli_main("forecast", "-w", workspace)
    assert done.returncode == 2
    assert "no charges for the whole estate" in done.stderr
    out = tmp_path / "r.html"
    assert cli_main("report", "html", "--out", out, "-w", workspace).returncode == 0
    assert "No forecast: no charges for the whole estate." in out.read_text(encoding="utf-8")
