"""Render the team report as Markdown (for chat and e-mail) or a self-contained HTML page."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from costloop.core.errors import CostloopError
from costloop.core.money import ZERO, format_money
from costloop.core.org import Org
from costloop.core.periods import Month
from costloop.report.charts import stacked_bar_chart
from costloop.report.render import (
    atomic_write_text,
    change_text,
    label,
    markdown_table,
    template_environment,
)
from costloop.report.team import Costs, Ranked, TeamReport, known_teams, team_report
from costloop.warehouse.engine import Engine

__all__ = [
    "TEAM_FORMATS",
    "render_team",
    "team_file_name",
    "team_html",
    "team_markdown",
    "write_team_reports",
]

TEAM_FORMATS = ("html", "md")
"""Formats of the team report."""

_MEASURES = (("Billed", "billed"), ("Effective", "effective"), ("List", "list_cost"))


def _pct(share: Decimal | None) -> str:
    return "" if share is None else f"{share * 100:.1f}%"


def _measure(costs: Costs | None, attr: str) -> Decimal | None:
    return None if costs is None else Decimal(getattr(costs, attr))


def _change(now: Decimal, before: Decimal | None) -> str:
    pct = None if before is None or before == 0 else (now - before) / abs(before) * 100
    return change_text(now, before, pct)


def _trend_title(report: TeamReport) -> str:
    n = len(report.trend_months)
    return "Trend, this month only" if n == 1 else f"Trend, last {n} months"


def _headline_rows(report: TeamReport) -> list[list[str]]:
    """Rows of the headline table: measure, this month, last month, change."""
    rows = []
    many = len(report.currencies) > 1
    for currency in report.currencies:
        now = report.current.get(currency, Costs())
        before = report.previous_costs(currency)
        for name, attr in _MEASURES:
            value = _measure(now, attr) or ZERO
            prev = _measure(before, attr)
            rows.append(
                [
                    f"{name} ({currency})" if many else name,
                    format_money(value, currency),
                    "n/a" if prev is None else format_money(prev, currency),
                    _change(value, prev),
                ]
            )
    return rows


def _ranked_rows(items: Sequence[Ranked], with_detail: bool) -> list[list[str]]:
    return [
        [
            label(r.name) + (f" ({r.detail})" if with_detail and r.detail else ""),
            format_money(r.cost, r.currency),
            _pct(r.share),
        ]
        for r in items
    ]


def _shared_lines(report: TeamReport) -> list[str]:
    if not report.shared:
        return ["No cost from shared-cost pools this month."]
    lines = []
    for currency in report.currencies:
        pools = [p for p in report.shared if p.currency == currency]
        if not pools:
            continue
        total = report.shared_total.get(currency, ZERO)
        parts = ", ".join(f"{p.pool} ({p.method}) {format_money(p.cost, currency)}" for p in pools)
        lines.append(
            f"Shared costs: {format_money(total, currency)} "
            f"({_pct(report.shared_share(currency)) or 'n/a'} of effective) from {parts}."
        )
    return lines


def team_markdown(report: TeamReport) -> str:
    """Short Markdown: headline table, trend, top services/accounts/resources, shared cost."""
    prev = str(report.month.previous())
    out = [f"**{report.team}: cloud cost {report.month}**"]
    who = [f"Owner: {report.owner}" if report.owner else "", report.channel]
    if any(who):
        out.append(" · ".join(w for w in who if w))
    out.append("")
    if not report.current:
        out += [f"No cost allocated to {report.team} in {report.month}.", ""]
    if not report.currencies:
        return "\n".join(out).rstrip() + "\n"
    out.append(
        markdown_table(
            ["Cost", str(report.month), prev, "Change"],
            _headline_rows(report),
            [False, True, True, True],
        )
    )
    out += ["", *_shared_lines(report), ""]
    many = len(report.currencies) > 1
    trend_rows = [
        [str(m), *([c] if many else []), format_money(v.billed, c), format_money(v.effective, c)]
        for c in report.currencies
        for m, v in zip(report.trend_months, report.trend[c], strict=True)
    ]
    out += [
        f"**{_trend_title(report)}**",
        "",
        markdown_table(
            ["Month", *(["Currency"] if many else []), "Billed", "Effective"],
            trend_rows,
            [False, *([False] if many else []), True, True],
        ),
        "",
    ]
    for title, items, head, detail in (
        ("Top services", report.services, "Service", False),
        ("Top accounts", report.accounts, "Account", True),
        ("Top resources", report.resources, "Resource", True),
    ):
        if not items:
            continue
        out += [
            f"**{title}** (effective cost)",
            "",
            markdown_table(
                [head, "Cost", "Share"], _ranked_rows(items, detail), [False, True, True]
            ),
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


def team_html(report: TeamReport, *, generated_at: datetime | None = None) -> str:
    """A self-contained HTML page with a 6-month stacked chart by service, no scripts."""
    labels = [str(m) for m in report.trend_months]
    charts = [
        stacked_bar_chart(
            labels,
            series,
            title=f"Effective cost per month by service ({currency})",
            currency=currency,
        )
        for currency, series in sorted(report.trend_by_service.items())
    ]
    env = template_environment()
    env.filters["pct"] = _pct
    return env.get_template("team.html.j2").render(
        r=report,
        trend_title=_trend_title(report),
        previous_month=str(report.month.previous()),
        headline=_headline_rows(report),
        shared_lines=_shared_lines(report),
        charts=charts,
        sections=[
            ("Top services", "Service", _ranked_rows(report.services, False)),
            ("Top accounts", "Account", _ranked_rows(report.accounts, True)),
            ("Top resources", "Resource", _ranked_rows(report.resources, True)),
        ],
        generated_at=(generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )


def render_team(report: TeamReport, fmt: str) -> str:
    """The report in ``html`` or ``md``."""
    return team_html(report) if fmt == "html" else team_markdown(report)


def team_file_name(team: str, fmt: str) -> str:
    """File name of a team's report: ``team-<name>.<fmt>`` with unsafe characters replaced."""
    return f"team-{re.sub(r'[^A-Za-z0-9._-]+', '_', team)}.{fmt}"


def write_team_reports(
    engine: Engine, org: Org, month: Month | None, fmt: str, out_dir: Path
) -> list[Path]:
    """Write one report per known team (org file plus teams with cost) into ``out_dir``."""
    written = []
    names: dict[str, str] = {}
    for team in known_teams(engine, org):
        name = team_file_name(team, fmt)
        if name in names:
            raise CostloopError(
                f"teams {names[name]!r} and {team!r} map to the same file name {name}"
            )
        names[name] = team
        report = team_report(engine, org, team, month)
        written.append(atomic_write_text(out_dir / name, render_team(report, fmt)))
    return written
