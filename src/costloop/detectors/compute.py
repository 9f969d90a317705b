"""Compute detectors: idle instances and instances larger than their load needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from costloop.core.errors import NotFoundError
from costloop.core.findings import Change, ChangeAction, Finding
from costloop.detectors.base import Detector, DetectorContext, Param, detectors
from costloop.detectors.costs import MonthlyCost, billed_costs, instance_list_cost
from costloop.detectors.resources import (
    MetricSummary,
    Resource,
    current_resources,
    first_present,
    make_finding,
    metric_summaries,
)
from costloop.detectors.sizing import Fit, choose_smaller

__all__ = ["IdleInstance", "Rightsizing"]

ENVIRONMENT_TAG_KEYS = ("environment", "env", "stage")
"""Tag keys (lower-cased) that name a resource's environment, first match wins."""

WINDOW_PARAMETERS = {
    "lookback_days": Param(int, 14, "Days of daily metrics to evaluate, ending now."),
    "min_days": Param(int, 7, "Skip instances with fewer days of metrics than this."),
}


@dataclass(frozen=True)
class _Usage:
    """Instances that are running now, with metric summaries over the lookback window."""

    instances: list[Resource]
    metrics: dict[tuple[str, str, str], MetricSummary]


def _running_usage(ctx: DetectorContext) -> _Usage:
    instances = [
        r
        for r in current_resources(ctx.reader, "instance", ctx.now)
        if (r.state or "").lower() == "running"
    ]
    since = ctx.now - timedelta(days=ctx.param("lookback_days", int))
    ids = [r.resource_id for r in instances]
    return _Usage(instances, metric_summaries(ctx.reader, ids, since, ctx.now))


def _environment(resource: Resource) -> str:
    for key in ENVIRONMENT_TAG_KEYS:
        if resource.tags.get(key):
            return resource.tags[key].lower()
    return ""


def _pct(value: float) -> str:
    return f"{value:.1f}"


@detectors.register("idle-instance")
class IdleInstance(Detector):
    """Running instances whose CPU stays near zero for the whole lookback window.

    Why it is waste:
        An instance is billed for every running hour at its full size. One whose
        busiest day still has a 95th-percentile CPU of a few percent does no useful
        work: a forgotten test box, a replaced service, a node left from an experiment.

    Evidence:
        The highest daily p95 CPU over ``lookback_days`` (all days must be below
        ``idle_cpu_p95``; the daily ``max`` statistic stands in when no p95 is
        recorded), the highest daily max CPU, the days observed, peak daily network
        in/out, the environment tag and the monthly cost: the billed run-rate of the
        last 30 days, else the catalog hourly price times 730 hours.

    Remediation:
        Ask the owner, then stop the instance or delete it. Outside production the
        proposed change deletes it from the IaC code; for ``prod_environments`` no
        change is proposed, as stopping a production host is the owner's decision.
        Attached volumes keep costing until they are deleted too.

    Example:
        ```yaml
        detectors:
          idle-instance:
            lookback_days: 30
            idle_cpu_p95: 2.5
            prod_environments: prod,production,live
        ```
    """

    name = "idle-instance"
    code = "CMP001"
    groups = ("compute", "core")
    parameters: ClassVar[Mapping[str, Param]] = {
        **WINDOW_PARAMETERS,
        "idle_cpu_p95": Param(float, 5.0, "Idle when every daily p95 CPU % is below this."),
        "prod_environments": Param(
            str, "prod,production", "Comma-separated environment tag values to never delete."
        ),
    }
    data_needs = ("inventory", "utilization", "charges")

    def run(self, ctx: DetectorContext) -> list[Finding]:
        """Report running instances whose daily p95 CPU never reaches the threshold."""
        usage = _running_usage(ctx)
        threshold = ctx.param("idle_cpu_p95", float)
        idle: list[tuple[Resource, str, MetricSummary]] = []
        for r in usage.instances:
            found = first_present(usage.metrics, r.resource_id, "cpu", ("p95", "max"))
            if found is None:
                continue
            statistic, cpu = found
            if cpu.days >= ctx.param("min_days", int) and cpu.peak < threshold:
                idle.append((r, statistic, cpu))
        billed = billed_costs(
            ctx.reader, [r.resource_id for r, _, _ in idle], ctx.now, ctx.currency
        )
        findings = []
        for r, statistic, cpu in idle:
            cost = billed.get(r.resource_id) or instance_list_cost(ctx.catalog, r)
            if cost is not None and cost.amount >= ctx.param("min_monthly_savings", Decimal):
                findings.append(self._finding(ctx, usage, r, statistic, cpu, cost))
        return findings

    def _finding(
        self,
        ctx: DetectorContext,
        usage: _Usage,
        r: Resource,
        statistic: str,
        cpu: MetricSummary,
        cost: MonthlyCost,
    ) -> Finding:
        prod = {e.strip().lower() for e in ctx.param("prod_environments", str).split(",")}
        env = _environment(r)
        evidence = {
            "instance_type": r.size or "",
            "cpu_p95_max": _pct(cpu.peak),
            "cpu_statistic": statistic,
            "cpu_max": self._peak(usage, r, "cpu", ("max",)),
            "days_observed": str(cpu.days),
            "network_in_peak_bytes": self._peak(usage, r, "network_in", ("max", "avg")),
            "network_out_peak_bytes": self._peak(usage, r, "network_out", ("max", "avg")),
            "environment": env or "unknown",
            "monthly_cost": f"{cost.amount:.2f}",
            "cost_source": cost.source,
        }
        name = f" ({r.resource_name})" if r.resource_name else ""
        return make_finding(
            self,
            ctx,
            r,
            title=f"Idle {r.size} instance {r.resource_id}{name}: "
            f"p95 CPU {_pct(cpu.peak)} % over {cpu.days} days",
            monthly_savings=cost.amount,
            currency=cost.currency,
            evidence=evidence,
            change=None if env in prod else Change(ChangeAction.DELETE),
        )

    @staticmethod
    def _peak(usage: _Usage, r: Resource, metric: str, statistics: tuple[str, ...]) -> str:
        found = first_present(usage.metrics, r.resource_id, metric, statistics)
        return "unknown" if found is None else f"{found[1].peak:.0f}"


@detectors.register("rightsizing")
class Rightsizing(Detector):
    """Running instances whose peak load fits a smaller size of the same family.

    Why it is waste:
        An instance sized for a load it never sees pays for idle vCPUs and memory.
        Within one family and architecture, each size down halves both, and the
        price with them, with no change to the software.

    Evidence:
        The 99th percentile of the daily p99 CPU and memory (the daily ``max``
        stands in when no p99 is recorded) over ``lookback_days``, the days
        observed, the current and proposed type with their vCPUs, memory and hourly
        list prices, the projected peaks on the new size (observed peak times the
        ratio of vCPUs, or of memory) and a performance risk: ``low`` below 75 % of
        ``headroom``, ``medium`` below 90 %, else ``high`` (at least ``medium`` when
        memory is not measured). The smallest size whose projected peaks stay below
        ``headroom`` is proposed. Savings are the list price difference times 730 h.

    Remediation:
        Change the instance type in the IaC code (the proposed change) and roll it
        out through the normal deployment; watch the metrics afterwards. When
        ``idle-instance`` runs too and reports the same instance, only its finding
        is kept (``superseded_by``): an idle instance is removed, not resized.

    Example:
        ```yaml
        detectors:
          rightsizing:
            headroom: 0.6
            lookback_days: 30
            require_memory: false
        ```
    """

    name = "rightsizing"
    code = "CMP002"
    groups = ("compute", "core")
    parameters: ClassVar[Mapping[str, Param]] = {
        **WINDOW_PARAMETERS,
        "headroom": Param(float, 0.7, "Projected peak CPU and memory must stay below this."),
        "require_memory": Param(
            bool, True, "Skip instances without memory metrics (else size on CPU only)."
        ),
    }
    data_needs = ("inventory", "utilization")
    superseded_by = ("idle-instance",)

    def run(self, ctx: DetectorContext) -> list[Finding]:
        """Report instances for which a smaller size of the family fits with headroom."""
        usage = _running_usage(ctx)
        findings = []
        for r in usage.instances:
            cpu = first_present(usage.metrics, r.resource_id, "cpu", ("p99", "max"))
            mem = first_present(usage.metrics, r.resource_id, "memory", ("p99", "max"))
            if cpu is None or (mem is None and ctx.param("require_memory", bool)):
                continue
            days = min(cpu[1].days, mem[1].days) if mem is not None else cpu[1].days
            if days < ctx.param("min_days", int):
                continue
            try:
                current = ctx.catalog.instance(r.size or "", r.region)
                smaller = ctx.catalog.smaller_sizes(current.instance_type, r.region)
            except NotFoundError:
                continue
            fit = choose_smaller(
                current,
                smaller,
                cpu_peak=cpu[1].p99,
                memory_peak=mem[1].p99 if mem is not None else None,
                headroom=ctx.param("headroom", float),
            )
            if fit is None or fit.monthly_savings < ctx.param("min_monthly_savings", Decimal):
                continue
            findings.append(self._finding(ctx, r, fit, days))
        return findings

    def _finding(self, ctx: DetectorContext, r: Resource, fit: Fit, days: int) -> Finding:
        old, new = fit.current, fit.candidate
        memory = "not measured" if fit.memory_peak is None else _pct(fit.memory_peak)
        projected_memory = (
            "not measured" if fit.projected_memory is None else _pct(fit.projected_memory)
        )
        evidence = {
            "cpu_p99": _pct(fit.cpu_peak),
            "memory_p99": memory,
            "days_observed": str(days),
            "current_type": old.instance_type,
            "current_vcpu": str(old.vcpu),
            "current_memory_gib": str(old.memory_gib),
            "current_hourly": str(old.hourly_price),
            "candidate_type": new.instance_type,
            "candidate_vcpu": str(new.vcpu),
            "candidate_memory_gib": str(new.memory_gib),
            "candidate_hourly": str(new.hourly_price),
            "projected_cpu_peak": _pct(fit.projected_cpu),
            "projected_memory_peak": projected_memory,
            "performance_risk": fit.risk,
        }
        name = f" ({r.resource_name})" if r.resource_name else ""
        memory_title = "not measured" if fit.memory_peak is None else f"{memory} %"
        return make_finding(
            self,
            ctx,
            r,
            title=f"Rightsize {old.instance_type} instance {r.resource_id}{name} to "
            f"{new.instance_type}: p99 CPU {_pct(fit.cpu_peak)} %, memory {memory_title}",
            monthly_savings=fit.monthly_savings,
            currency=ctx.catalog.currency,
            evidence=evidence,
            change=Change(
                ChangeAction.SET,
                attribute="instance_type",
                old_value=old.instance_type,
                new_value=new.instance_type,
            ),
        )
