"""``costloop demo``: the whole loop on the demo estate; ``demo generate`` writes the estate."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from costloop.allocation.coverage import coverage_report, latest_coverage
from costloop.analytics.showback import showback, spend_by
from costloop.cli.common import WorkspaceOption, console, percent, table
from costloop.core.money import format_money
from costloop.core.periods import Month, parse_month
from costloop.opportunities.store import list_opportunities
from costloop.warehouse.engine import open_engine

if TYPE_CHECKING:
    from costloop.operate.demo import DemoRun

__all__ = ["register"]

demo_app = typer.Typer(help="The demo estate (a sneaker shop on AWS, Azure and GCP).")


def _summary(run: DemoRun, seconds: float) -> None:
    from costloop.operate.demo import projected_total

    ws = run.workspace
    with open_engine(ws.lake) as engine:
        providers = spend_by(engine, "ProviderName")
        teams = showback(engine)
    by_provider: dict[str, Decimal] = defaultdict(Decimal)
    for r in providers:
        by_provider[str(r["key"])] += r["effective"] or Decimal(0)
    console.rule("[bold]Spend")
    rows = sum(i.rows for i in run.ingests)
    console.print(
        table(
            f"Effective cost by provider ({rows:,} billing rows, reconciled to the cent)",
            ["provider", "$effective cost"],
            [[k, format_money(v)] for k, v in sorted(by_provider.items(), key=lambda kv: -kv[1])],
        )
    )
    history = run.allocation[:-1] if len(run.allocation) > 1 else run.allocation
    last = history[-1] if history else None
    if last is not None:
        with open_engine(ws.lake) as engine:
            report = coverage_report(engine, ws.allocation, Month.of(last.period), limit=0)
        team = latest_coverage(report, "team")
        rules = team.by_source if team is not None else {}
        total = sum(rules.values(), Decimal(0)) or Decimal(1)
        share = {k: v / total * 100 for k, v in rules.items()}
        others = ", ".join(
            f"{d} {percent(c.coverage)}"
            for d in report.dimensions[1:]
            if (c := latest_coverage(report, d)) is not None
        )
        console.print(
            f"Allocation coverage {last.period:%Y-%m}: team [bold]{percent(last.coverage)}[/] "
            f"of effective cost ({share.get('tag', 0):.1f}% by tag, "
            f"{share.get('account', 0):.1f}% by account, "
            f"{share.get('inherited', 0):.1f}% inherited from the parent resource, "
            f"{share.get('shared', 0):.1f}% split by shared-cost pools, "
            f"{share.get('unallocated', 0):.1f}% unallocated)" + (f"; {others}." if others else ".")
        )
        latest = [r for r in teams if r.period.start == last.period]
        console.print(
            table(
                f"Top teams, {last.period:%Y-%m}",
                ["team", "$billed", "$effective"],
                [
                    [r.team, format_money(r.billed_cost), format_money(r.effective_cost)]
                    for r in latest[:8]
                ],
            )
        )
    _inform(run)
    console.rule("[bold]Optimize")
    if run.discovery is not None:
        console.print(
            table(
                f"Findings: {len(run.discovery.findings)}, projected "
                f"{format_money(projected_total(run))}/month",
                ["code", "resource", "finding", "$monthly"],
                [
                    [f.code, f.resource_id, f.title, format_money(f.monthly_savings)]
                    for f in run.discovery.findings[:12]
                ],
            )
        )
    by_owner: dict[str, list[Decimal]] = defaultdict(list)
    for o in list_opportunities(ws.state):
        by_owner[o.owner_team].append(o.monthly_savings)
    console.print(
        table(
            "Opportunities by owner",
            ["owner", "#count", "$monthly savings"],
            [
                [k, len(v), format_money(sum(v, Decimal(0)))]
                for k, v in sorted(by_owner.items(), key=lambda kv: -sum(kv[1], Decimal(0)))
            ],
        )
    )
    for pr in run.pull_requests:
        if pr.applied is not None:
            console.print(
                f"Pull request: branch [bold]{pr.applied.branch}[/] "
                f"({pr.applied.commit_sha[:10]}) in {run.estate / 'infra'}; "
                f"body {pr.applied.body_path}"
            )
    console.rule("[bold]Feed back")
    console.print(
        table(
            "Realized savings in the month after the change",
            ["#id", "resource", "$projected/mo", "$realized/mo", "status"],
            [
                [
                    v.opportunity.id,
                    v.opportunity.resource_id,
                    format_money(v.projected_monthly),
                    format_money(v.realized_monthly),
                    v.status,
                ]
                for v in run.verifications
            ],
        )
    )
    console.rule("[bold]Where to look")
    console.print(f"HTML report   {run.report}")
    exe = "costloop" if shutil.which("costloop") else os.path.relpath(sys.argv[0])
    console.print(
        f"Web app       {exe} serve -w {ws.root}   then http://127.0.0.1:8000 "
        "(first start creates user admin; set COSTLOOP_ADMIN_PASSWORD to choose its password)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"Workspace     {ws.root}")
    console.print(
        f"Try           {exe} report showback --by team,env -w {ws.root}\n"
        f"              {exe} report coverage -w {ws.root}\n"
        f"              {exe} report team --team checkout --format html --out checkout.html "
        f"-w {ws.root}\n"
        f"              {exe} report unit-cost --metric orders --by product -w {ws.root}\n"
        f"              {exe} kpis -w {ws.root}\n"
        f"              {exe} anomalies -w {ws.root}\n"
        f"              {exe} forecast --scope team=checkout -w {ws.root}\n"
        f"              {exe} budgets -w {ws.root}\n"
        f"              {exe} opportunities -w {ws.root}\n"
        f'              {exe} sql -w {ws.root} "SELECT ServiceName, sum(EffectiveCost) '
        f'FROM charges GROUP BY 1 ORDER BY 2 DESC LIMIT 10"',
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"Demo estate   {run.estate}  (FOCUS files, inventory, Terraform repo)")
    console.print(f"Done in {seconds:.0f} s.")


def _inform(run: DemoRun) -> None:
    """Anomalies found, the forecast and the budgets."""
    console.rule("[bold]Anomalies, forecast, budgets")
    detection, recorded = run.detection, run.anomalies
    if detection is not None and recorded is not None:
        console.print(
            table(
                f"Cost anomalies: {len(recorded.anomalies)} events from "
                f"{detection.series_count:,} daily series ({recorded.new} new)",
                ["#id", "scope", "window", "kind", "$impact", "owner"],
                [
                    [
                        v.id,
                        ", ".join(f"{k}={val}" for k, val in v.scope.items()) or "all",
                        f"{v.start} … {v.end}",
                        v.kind,
                        format_money(v.impact, v.currency),
                        v.owner_team,
                    ]
                    for v in recorded.anomalies
                ],
            )
        )
    section = run.report_data.forecast if run.report_data is not None else None
    overall = section.overall if section is not None else None
    if overall is not None:
        ahead = [m for m in overall.monthly() if m.is_forecast]
        score = overall.backtest.score(overall.model) if overall.backtest else None
        if ahead:
            m = ahead[0]
            error = (
                f"backtested monthly variance {score.variance * 100:.1f}% ({score.band})"
                if score is not None and score.variance is not None
                else "no backtest"
            )
            console.print(
                f"Forecast {m.month}: [bold]{format_money(m.mean, overall.currency)}[/] "
                f"(80%: {format_money(m.lo80, overall.currency)} – "
                f"{format_money(m.hi80, overall.currency)}), model {overall.model}, {error}."
            )
    if run.budgets:
        console.print(
            table(
                f"Budgets as of {run.budgets[0].as_of}",
                ["budget", "period", "$amount", "$actual", "$forecast", "status"],
                [
                    [
                        b.budget.name,
                        str(b.period),
                        format_money(b.budget.amount, b.budget.currency),
                        format_money(b.actual, b.budget.currency),
                        ""
                        if b.forecast is None
                        else format_money(b.forecast.mean, b.budget.currency),
                        b.status,
                    ]
                    for b in run.budgets
                ],
            )
        )


@demo_app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    seed: Annotated[int, typer.Option(help="Random seed of the estate.")] = 7,
    months: Annotated[int, typer.Option(help="Months of billing history.")] = 12,
) -> None:
    """Build the demo estate in a fresh workspace and run the whole FinOps loop on it."""
    if ctx.invoked_subcommand is not None:
        return
    from costloop.operate.demo import run_demo

    root = (workspace or Path("demo-workspace")).resolve()
    started = time.monotonic()
    with console.status("Starting") as status:

        def step(text: str) -> None:
            console.print(f"[green]•[/] {text}")
            status.update(text)

        run = run_demo(root, seed=seed, months=months, step=step)
    _summary(run, time.monotonic() - started)


@demo_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="Output folder (or file with --scale).")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    months: Annotated[int, typer.Option(help="Months of billing.")] = 12,
    end: Annotated[str | None, typer.Option(help="Last billing month YYYY-MM.")] = None,
    scale: Annotated[
        int | None, typer.Option(help="Write one FOCUS CSV of about this many rows instead.")
    ] = None,
) -> None:
    """Write the deterministic demo estate (or, with --scale, a large FOCUS CSV)."""
    from costloop.demo import generate_estate, generate_scaled

    end_month = None if end is None else parse_month(end)
    if scale is not None:
        target = out if out.suffix == ".csv" else out / "focus-scaled.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        if end_month is None:
            rows = generate_scaled(target, rows=scale, seed=seed, months=months)
        else:
            rows = generate_scaled(
                target, rows=scale, seed=seed, months=months, end_month=end_month
            )
        console.print(f"Wrote {rows:,} rows to {target} in {time.monotonic() - started:.1f} s")
        return
    if end_month is None:
        manifest = generate_estate(out, seed=seed, months=months)
    else:
        manifest = generate_estate(out, seed=seed, months=months, end_month=end_month)
    console.print(f"Demo estate written to [bold]{manifest.out}[/]")
    console.print(manifest.to_json(), markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.add_typer(demo_app, name="demo")
