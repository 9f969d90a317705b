"""Remediation plans: the exact change an owner is asked to make, in one sentence.

Example: "change instance_type from m5.2xlarge to m5.xlarge in
`terraform/prod/compute.tf` resource `aws_instance.checkout_api`, est. $140.16/month,
p99 CPU 22% over 30 days".

The evidence clause comes from the finding's evidence: ``summary`` verbatim when a
detector provides it; otherwise the known keys below, in this order; otherwise the
first three evidence entries as ``key value``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from costloop.core.findings import ChangeAction, Finding
from costloop.core.money import format_money

__all__ = ["EVIDENCE_PHRASES", "evidence_summary", "plan_text"]


def _pct(label: str) -> Callable[[str], str]:
    return lambda v: f"{label} {v}%"


# Evidence key → phrase. Percentages are given in percent (22 means 22 %).
EVIDENCE_PHRASES: Mapping[str, Callable[[str], str]] = {
    "cpu_p99": _pct("p99 CPU"),
    "cpu_p95": _pct("p95 CPU"),
    "cpu_max": _pct("max CPU"),
    "cpu_avg": _pct("average CPU"),
    "mem_p99": _pct("p99 memory"),
    "memory_p99": _pct("p99 memory"),
    "network_p99": lambda v: f"p99 network {v}",
    "connections_max": lambda v: f"max {v} connections",
    "requests_total": lambda v: f"{v} requests",
    "unattached_days": lambda v: f"unattached for {v} days",
    "idle_days": lambda v: f"idle for {v} days",
    "age_days": lambda v: f"{v} days old",
    "size_gib": lambda v: f"{v} GiB",
    "lookback_days": lambda v: f"over {v} days",
}


def evidence_summary(evidence: Mapping[str, str]) -> str:
    """A short human clause for the evidence (rules in the module docstring)."""
    summary = evidence.get("summary", "").strip()
    if summary:
        return summary
    known = [phrase(evidence[k]) for k, phrase in EVIDENCE_PHRASES.items() if k in evidence]
    if known:
        head = [p for p in known if not p.startswith("over ")]
        tail = [p for p in known if p.startswith("over ")]
        return " ".join(filter(None, [", ".join(head), *tail]))
    return ", ".join(f"{k} {v}" for k, v in list(evidence.items())[:3])


def _target(finding: Finding) -> str:
    """The resource as owners know it: Terraform address, else type, id and scope."""
    if finding.iac_address:
        return f"resource `{finding.iac_address}`"
    scope = "/".join(p for p in (finding.account_id, finding.region) if p)
    kind = f"{finding.resource_type} " if finding.resource_type else ""
    return f"{kind}`{finding.resource_id}`" + (f" ({scope})" if scope else "")


def plan_text(finding: Finding) -> str:
    """The concrete remediation plan of a finding, as one sentence."""
    change = finding.change
    target = _target(finding)
    file = f"`{finding.iac_file}`" if finding.iac_address and finding.iac_file else ""
    manual = "" if finding.iac_address else ", by hand: no Terraform address is known"
    if change is None:
        action = f"review {target}" + (f" in {file}" if file else "") + f": {finding.title}"
    elif change.action is ChangeAction.DELETE:
        action = f"delete {target}" + (f" from {file}" if file else "") + manual
    else:
        action = f"change {change.attribute} from {change.old_value} to {change.new_value}"
        action += (f" in {file} {target}" if file else f" on {target}") + manual
    parts = [action, f"est. {format_money(finding.monthly_savings, finding.currency)}/month"]
    clause = evidence_summary(finding.evidence)
    if clause:
        parts.append(clause)
    return ", ".join(parts)
