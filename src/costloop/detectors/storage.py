"""Storage detectors: block volumes that cost money without being used."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from costloop.core.findings import Change, ChangeAction, Finding
from costloop.detectors.base import Detector, DetectorContext, Param, detectors
from costloop.detectors.costs import MonthlyCost, billed_costs, number_text, volume_list_cost
from costloop.detectors.resources import Resource, current_resources, make_finding

__all__ = ["UnattachedVolume"]


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else "unknown"


@detectors.register("unattached-volume")
class UnattachedVolume(Detector):
    """Block volumes that are not attached to any instance.

    Why it is waste:
        A volume in state ``available`` is billed for every provisioned GB-month
        (and, for io1/io2, every provisioned IOPS) whether or not anything reads it.
        Volumes are left behind when an instance is terminated without
        delete-on-termination, or when a restore or migration is never cleaned up.

    Evidence:
        The state, size, volume type, creation date and the last time the volume
        was attached or used (``last_used_at``, else ``created_at``), the days since
        then, and the monthly cost: the billed ``EffectiveCost`` run-rate of the last
        30 days when the volume has charges, else the list price per GB-month times
        its size (``cost_source`` says which).

    Remediation:
        Confirm with the owner that the data is not needed, take a snapshot if it
        may be (far cheaper per GB), then delete the volume; the proposed change
        removes it from the IaC code. Volumes without a known detach date count as
        unattached for as long as the inventory shows them ``available``.

    Example:
        ```yaml
        detectors:
          unattached-volume:
            min_days_unattached: 14
            min_monthly_savings: 10
        ```
    """

    name = "unattached-volume"
    code = "STG001"
    groups = ("storage", "core")
    parameters: ClassVar[Mapping[str, Param]] = {
        "min_days_unattached": Param(
            int, 7, "Report only volumes unattached for at least this many days."
        ),
    }
    data_needs = ("inventory", "charges")

    def run(self, ctx: DetectorContext) -> list[Finding]:
        """Report available volumes with no attachment, priced by billing or catalog."""
        min_days = ctx.param("min_days_unattached", int)
        min_savings = ctx.param("min_monthly_savings", Decimal)
        volumes = [
            v
            for v in current_resources(ctx.reader, "volume", ctx.now)
            if (v.state or "").lower() == "available" and not v.attached_to
        ]
        billed = billed_costs(ctx.reader, [v.resource_id for v in volumes], ctx.now, ctx.currency)
        findings = []
        for volume in volumes:
            since = volume.last_used_at or volume.created_at
            days = (ctx.now - since).days if since is not None else None
            if days is not None and days < min_days:
                continue
            cost = billed.get(volume.resource_id) or volume_list_cost(ctx.catalog, volume)
            if cost is not None and cost.amount >= min_savings:
                findings.append(self._finding(ctx, volume, days, cost))
        return findings

    def _finding(
        self,
        ctx: DetectorContext,
        volume: Resource,
        days: int | None,
        cost: MonthlyCost,
    ) -> Finding:
        size = number_text(volume.size_gib) if volume.size_gib is not None else "?"
        volume_type = volume.size or "unknown-type"
        since = f"unattached {days} days" if days is not None else "unattached"
        detail = ", ".join(x for x in (volume.resource_name, since) if x)
        evidence = {
            "state": volume.state or "",
            "size_gib": size,
            "volume_type": volume_type,
            "created_at": _date(volume.created_at),
            "last_used_at": _date(volume.last_used_at),
            "days_unattached": str(days) if days is not None else "unknown",
            "monthly_cost": f"{cost.amount:.2f}",
            "cost_source": cost.source,
        }
        return make_finding(
            self,
            ctx,
            volume,
            title=f"Unattached {size} GiB {volume_type} volume {volume.resource_id} ({detail})",
            monthly_savings=cost.amount,
            currency=cost.currency,
            evidence=evidence,
            change=Change(ChangeAction.DELETE),
        )
