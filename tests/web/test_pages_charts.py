"""The SVG charts the pages add: lines (money or percent) and actual-vs-expected bands."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from costloop.report.charts import band_chart, line_chart


def test_line_chart_breaks_at_missing_values_and_labels_exact_values() -> None:
    svg = line_chart(
        ["2026-09", "2026-10", "2026-11"],
        {"team": [Decimal("80.25"), None, Decimal("95")], "env": [Decimal("50")] * 3},
        title="Coverage",
        unit="%",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'aria-label="Coverage"' in svg
    assert "team 2026-09: 80.2%" in svg  # Decimal rounds half to even
    # The team line has a gap: two single points draw no polyline; env draws one.
    assert svg.count("<polyline") == 1
    assert "style=" not in svg


def test_line_chart_money_axis_and_escaping() -> None:
    svg = line_chart(["d1", "d2"], {"<b>": [Decimal("1234.5"), Decimal("10")]}, title="a&b")
    assert "&lt;b&gt; d1: $1,234.50" in svg and "<b>" not in svg
    assert 'aria-label="a&amp;b"' in svg


def test_band_chart_draws_actual_expected_and_range() -> None:
    start = date(2026, 11, 1)
    points = [
        (start + timedelta(days=i), Decimal(a), Decimal("30"), Decimal("25"), Decimal("35"))
        for i, a in enumerate(["31", "29", "90", "95"])
    ]
    svg = band_chart(points, title="Anomaly 3", currency="EUR")
    assert svg.count("<polygon") == 1 and svg.count("<polyline") == 2
    assert "2026-11-03: actual 90.00 EUR, expected 30.00 EUR" in svg
    assert "expected range" in svg
    assert band_chart([], title="none").endswith("</svg>")
