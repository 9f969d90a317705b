"""Forecast quality on the demo estate: backtested monthly variance per team and overall.

For the overall scope and every team, :func:`costloop.analytics.forecast.forecast_scope`
backtests the candidate models (seasonal naive, AutoTheta, AutoETS; AutoARIMA too with
``--arima``) from the month starts of the last six months, each forecasting the whole
month from the day before it, and keeps the model with the lowest mean FinOps forecast
variance ``|actual − forecast| / forecast``. The table shows, per scope, the winner, its
variance and daily MAPE, the FinOps band, every candidate's variance, and the wall time;
the target (issue 5) is an overall variance ≤ 12 % (the Run band).

Without ``--workspace`` it builds the demo first (``costloop demo --months 13``, about a
minute). Usage::

    .venv/bin/python benchmarks/forecast_quality.py --workspace demo-workspace
    .venv/bin/python benchmarks/forecast_quality.py --seed 11          # another estate
    .venv/bin/python benchmarks/forecast_quality.py --workspace DIR --arima --json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TARGET = Decimal("0.12")


def _build_demo(root: Path, seed: int, months: int) -> Path:
    exe = Path(sys.executable).parent / "costloop"
    ws = root / "ws"
    done = subprocess.run(
        [str(exe), "demo", "--workspace", str(ws), "--seed", str(seed), "--months", str(months)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"costloop demo failed:\n{done.stdout}\n{done.stderr}")
    return ws


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def measure(workspace: Path, arima: bool) -> dict[str, Any]:
    """Forecast every scope of the workspace; return the figures."""
    from costloop.analytics.forecast import CANDIDATES, forecast_scope
    from costloop.warehouse.engine import open_engine
    from costloop.workspace import Workspace

    ws = Workspace.open(workspace)
    models = (*CANDIDATES, "auto-arima") if arima else CANDIDATES
    min_history = ws.config.int_("forecast.min_history_days")
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with open_engine(ws.lake) as engine:
        t = engine.table("allocated_charges")
        teams = sorted(r["team"] for r in engine.rows(t.select("team").distinct()))
        scopes: list[dict[str, str]] = [{}] + [{"team": team} for team in teams]
        for scope in scopes:
            t0 = time.perf_counter()
            f = forecast_scope(
                engine, scope, horizon_days=31, min_history_days=min_history, models=models
            )
            seconds = time.perf_counter() - t0
            bt = f.backtest
            win = bt.score(f.model) if bt else None
            rows.append(
                {
                    "scope": ", ".join(f"{k}={v}" for k, v in scope.items()) or "overall",
                    "model": f.model,
                    "fallback": f.fallback,
                    "variance": None if win is None else win.variance,
                    "mape": None if win is None else win.mape,
                    "band": "n/a" if win is None else win.band,
                    "candidates": {} if bt is None else {s.model: s.variance for s in bt.scores},
                    "origins": [] if bt is None else [str(o) for o in bt.origins],
                    "seconds": round(seconds, 2),
                }
            )
    return {
        "workspace": str(workspace),
        "models": list(models),
        "scopes": rows,
        "wall_seconds": round(time.perf_counter() - started, 2),
    }


def _print(result: dict[str, Any]) -> None:
    console = Console()
    models = result["models"]
    table = Table(title=f"Backtested forecast quality — {result['workspace']}")
    for name in ("scope", "winner", "variance", "daily MAPE", "band", *models, "time"):
        table.add_column(name, justify="left" if name in ("scope", "winner", "band") else "right")
    for r in result["scopes"]:
        table.add_row(
            r["scope"],
            r["model"] + (" (fallback)" if r["fallback"] else ""),
            _pct(r["variance"]),
            _pct(r["mape"]),
            r["band"],
            *(_pct(r["candidates"].get(m)) for m in models),
            f"{r['seconds']:.1f} s",
        )
    console.print(table)
    overall = result["scopes"][0]["variance"]
    verdict = "met" if overall is not None and overall <= TARGET else "MISSED"
    origins = result["scopes"][0]["origins"]
    span = f"{origins[0]}..{origins[-1]}" if origins else "none"
    console.print(
        f"Origins {span}; overall variance {_pct(overall)} (target ≤ 12 %: {verdict}); "
        f"wall time for {len(result['scopes'])} scopes {result['wall_seconds']:.1f} s"
    )


def main() -> None:
    """Parse arguments, build or open the workspace, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="an allocated workspace (else the demo)")
    parser.add_argument("--seed", type=int, default=7, help="demo seed when building it")
    parser.add_argument("--months", type=int, default=13, help="demo months when building it")
    parser.add_argument("--arima", action="store_true", help="also backtest AutoARIMA")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="costloop-forecast-") as tmp:
        workspace = args.workspace or _build_demo(Path(tmp), args.seed, args.months)
        result = measure(workspace, args.arima)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        _print(result)


if __name__ == "__main__":
    main()
