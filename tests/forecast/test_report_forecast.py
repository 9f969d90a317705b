"""The HTML report's forecast section: an inline SVG interval chart and a row per team."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from costloop.report.charts import interval_chart

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_report_has_forecast_chart_and_team_rows(
    cli_main: Cli, estate: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    done = cli_main("report", "html", "--out", out, "-w", estate)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    section = html[html.index("<h2>Forecast</h2>") : html.index("<h2>Allocation coverage</h2>")]
    chart = re.search(r'<svg[^>]*class="chart interval-chart".*?</svg>', section, re.S)
    assert chart is not None
    svg = chart.group(0)
    for part in ('class="band95"', 'class="band80"', 'class="forecast-line"', "history-line"):
        assert part in svg
    assert "<script" not in html and "http://cdn" not in html and "https://" not in html
    # The estate is billed in USD and EUR: the chart is the USD spend, and says so.
    assert "Note: in USD only; also billed in EUR." in section
    rows = re.findall(r"<tr><td>([\w-]+)</td>(.*?)</tr>", section, re.S)
    by_team = {team: body for team, body in rows}
    assert "Forecast 2026-10" in section
    assert "Run" in by_team["shop"] and "%" in by_team["shop"]
    assert "only 20 days of history" in by_team["newbie"]
    assert "no forecast: only 5 days of history for team=blip" in by_team["blip"]


def test_interval_chart_bands_nest_and_follow_the_data() -> None:
    start = date(2026, 1, 1)
    history = [(start + timedelta(days=i), Decimal(100 + i)) for i in range(40)]
    forecast = [
        (
            start + timedelta(days=40 + i),
            Decimal(140),
            Decimal(130 - i),
            Decimal(150 + i),
            Decimal(120 - 2 * i),
            Decimal(160 + 2 * i),
        )
        for i in range(20)
    ]
    svg = interval_chart(history, forecast, title="Daily cost", currency="EUR")

    def ys(cls: str) -> list[float]:
        points = re.search(rf'points="([^"]+)"[^>]*class="{cls}"', svg)
        assert points is not None
        return [float(p.split(",")[1]) for p in points.group(1).split()]

    outer, inner = ys("band95"), ys("band80")
    assert min(outer) < min(inner) and max(outer) > max(inner)  # 95 % wraps 80 %
    assert len(ys("history-line")) == 40 and len(ys("forecast-line")) == 20
    assert "2026-02" in svg and "EUR" in svg and "Daily cost" in svg
