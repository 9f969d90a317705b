"""``costloop demo``: build the demo estate and run the whole loop on it, end to end.

Steps: generate the estate → create the workspace → ingest billing, inventory,
utilization and business metrics → allocate → discover → approve the top
IaC-backed opportunities and open pull requests against the estate's Terraform
repository → simulate the month after the change → ingest and allocate it →
verify realized savings → detect cost anomalies and record them as events →
check the budgets → write the HTML report (with the forecast).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from costloop.allocation import AllocationResult, allocate
from costloop.analytics.anomalies import Detection, detect
from costloop.analytics.anomaly_store import record
from costloop.analytics.anomaly_view import RecordResult
from costloop.analytics.budgets import evaluate
from costloop.connectors.files import discover as discover_files
from costloop.core.budgets import BudgetStatus
from costloop.core.errors import ConfigError
from costloop.core.findings import ChangeAction
from costloop.demo import AppliedChange, generate_estate, simulate_next_month
from costloop.demo.budgets import render_budgets_yaml
from costloop.feedback import VerifyOutcome
from costloop.operate.execute import PullRequestOutcome, pull_request
from costloop.operate.loop import DiscoverResult, discover, verify
from costloop.opportunities.model import OpportunityView
from costloop.opportunities.store import list_opportunities, transition
from costloop.opportunities.workflow import Status
from costloop.report.html import ReportData, collect, write_report
from costloop.warehouse.datasets_load import load_dataset
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import IngestResult, ingest_focus
from costloop.warehouse.k8s_load import load_k8s_allocation
from costloop.workspace import Workspace

__all__ = ["DemoRun", "run_demo"]

ESTATE = "estate"
ACTOR = "demo"


@dataclass
class DemoRun:
    """Everything the demo did, for the summary."""

    workspace: Workspace
    estate: Path
    ingests: list[IngestResult] = field(default_factory=list)
    allocation: list[AllocationResult] = field(default_factory=list)
    discovery: DiscoverResult | None = None
    pull_requests: list[PullRequestOutcome] = field(default_factory=list)
    verifications: list[VerifyOutcome] = field(default_factory=list)
    detection: Detection | None = None
    anomalies: RecordResult | None = None
    budgets: list[BudgetStatus] = field(default_factory=list)
    report_data: ReportData | None = None
    report: Path | None = None


def _fresh(root: Path) -> None:
    if not root.exists():
        return
    if (root / ESTATE / "estate.json").exists():
        shutil.rmtree(root)
        return
    if any(root.iterdir()):
        raise ConfigError(
            f"{root} exists and is not a costloop demo workspace; choose an empty folder"
        )


def _pick(opps: list[OpportunityView]) -> list[OpportunityView]:
    """The highest-priority IaC-backed opportunity of each kind of change."""
    chosen: dict[str, OpportunityView] = {}
    for o in opps:
        if o.change is None or not o.iac_address or not o.iac_file:
            continue
        chosen.setdefault(o.change.action.value, o)
    return list(chosen.values())


def run_demo(
    root: Path,
    *,
    seed: int = 7,
    months: int = 12,
    step: Callable[[str], None] = lambda _: None,
) -> DemoRun:
    """Build the estate in ``root`` and run the whole loop (see the module docstring)."""
    _fresh(root)
    step("Generating the demo estate (Stride Sneakers)")
    manifest = generate_estate(root / ESTATE, seed=seed, months=months)
    ws = Workspace.init(root)
    shutil.copyfile(manifest.org_file, ws.org_file)
    if manifest.allocation_file is not None:
        shutil.copyfile(manifest.allocation_file, ws.allocation_file)
    (ws.root / ws.config.str_("budgets.file")).write_text(
        render_budgets_yaml(), encoding="utf-8", newline="\n"
    )
    run = DemoRun(ws, root / ESTATE)

    step("Ingesting billing (FOCUS 1.2), inventory, utilization and business metrics")
    for provider_dir in sorted((root / ESTATE / "billing").iterdir()):
        run.ingests.append(ingest_focus(ws.lake, [provider_dir], source=provider_dir.name))
    for path in (manifest.inventory_file, manifest.utilization_file, manifest.business_file):
        item = discover_files([path])[0]
        kind = {"inventory": "inventory", "metrics": "utilization", "business": "business_metrics"}[
            path.parent.name
        ]
        load_dataset(ws.lake, item, kind)
    if manifest.kubernetes_file is not None:
        load_k8s_allocation(ws.lake, manifest.kubernetes_file)

    step("Allocating cost to teams")
    with open_engine(ws.lake, read_only=False) as engine:
        run.allocation = allocate(engine, ws.allocation)

    step("Discovering waste")
    run.discovery = discover(ws)

    step("Approving the top opportunities and opening pull requests")
    effective = manifest.end_month.end + timedelta(days=1)
    changes = []
    for opp in _pick(list_opportunities(ws.state, Status.OPEN)):
        transition(ws.state, opp.id, Status.APPROVED, actor=ACTOR, note="approved by the demo")
        outcome = pull_request(
            ws, opp.id, manifest.infra_repo, apply=True, actor=ACTOR, executed_at=effective
        )
        run.pull_requests.append(outcome)
        transition(
            ws.state, opp.id, Status.DONE, actor=ACTOR, note="merged and applied (simulated)"
        )
        assert opp.change is not None
        changes.append(
            AppliedChange(
                resource_id=opp.resource_id,
                action="delete" if opp.change.action is ChangeAction.DELETE else "set",
                attribute=opp.change.attribute,
                new_value=opp.change.new_value,
                effective=effective.date(),
            )
        )

    step("Simulating the month after the change and ingesting it")
    simulate_next_month(root / ESTATE, changes)
    next_month = manifest.end_month.next()
    for provider_dir in sorted((root / ESTATE / "billing").iterdir()):
        files = sorted(provider_dir.glob(f"{next_month}*.csv"))
        if files:
            run.ingests.append(ingest_focus(ws.lake, files, source=provider_dir.name))
    with open_engine(ws.lake, read_only=False) as engine:
        run.allocation += allocate(engine, ws.allocation, [next_month.start])

    step("Verifying realized savings")
    run.verifications = verify(ws, now=next_month.end)

    step("Detecting cost anomalies")
    with open_engine(ws.lake) as engine:
        run.detection = detect(ws, engine)
    run.anomalies = record(ws.state, ws.org, run.detection.anomalies, actor=ACTOR)

    step("Forecasting and checking the budgets")
    with open_engine(ws.lake) as engine:
        run.budgets = evaluate(
            engine, ws.budgets, min_history_days=ws.config.int_("forecast.min_history_days")
        )
    run.report_data = collect(ws)

    step("Writing the HTML report")
    run.report = write_report(ws, data=run.report_data)
    return run


def projected_total(run: DemoRun) -> Decimal:
    """Monthly savings projected by all findings."""
    if run.discovery is None:
        return Decimal(0)
    return sum((f.monthly_savings for f in run.discovery.findings), Decimal(0))
