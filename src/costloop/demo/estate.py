"""Generate the Stride Sneakers estate, and simulate the month after applied changes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from costloop.core.errors import InputError, NotFoundError
from costloop.core.periods import Month
from costloop.demo.anomalies import labels_json
from costloop.demo.billing import build_blocks
from costloop.demo.business import write_business
from costloop.demo.company import (
    ACCOUNTS,
    COMPANY,
    render_allocation_yaml,
    render_org_yaml,
)
from costloop.demo.fleet_aws import aws_resources
from costloop.demo.fleet_other import azure_resources, gcp_resources
from costloop.demo.focusfile import write_billing
from costloop.demo.infra import write_infra_repo
from costloop.demo.inventory import write_inventory, write_utilization
from costloop.demo.kubernetes import write_kubernetes
from costloop.demo.manifest import MANIFEST_NAME, AppliedChange, EstateManifest
from costloop.demo.model import Calendar, Resource, unit_price
from costloop.demo.usage import Change, build_lines

__all__ = ["Progress", "estate_resources", "generate_estate", "simulate_next_month"]

Progress = Callable[[str, int, int], None]
_SIZE_ATTRIBUTES = ("instance_type", "instance_class", "volume_type", "type", "size")


def estate_resources() -> list[Resource]:
    """Every resource of the Stride estate (AWS, Azure, GCP), in a stable order."""
    return aws_resources() + azure_resources() + gcp_resources()


def _calendar(months: int, end_month: Month) -> Calendar:
    if months < 1:
        raise InputError(f"months must be at least 1, got {months}")
    start = end_month
    for _ in range(months - 1):
        start = start.previous()
    return Calendar(start, end_month)


def generate_estate(
    out: Path,
    *,
    seed: int = 7,
    months: int = 12,
    end_month: Month = Month(2026, 10),
    progress: Progress | None = None,
) -> EstateManifest:
    """Write the demo estate under ``out`` and return its manifest.

    The same arguments always produce byte-identical files (the infra repository's
    commit id included).

    Args:
        out: directory to write (created; its generated subfolders are replaced).
        seed: randomness of usage noise and utilization.
        months: number of billing months, ending with ``end_month``.
        end_month: the last billing month; the inventory snapshot is its end.
        progress: called as ``progress(step, done, total)`` after each step.
    """
    cal = _calendar(months, end_month)
    resources = estate_resources()
    steps = (
        "billing",
        "inventory",
        "utilization",
        "kubernetes",
        "business",
        "org",
        "labels",
        "infra",
    )

    def done(step: str) -> None:
        if progress is not None:
            progress(step, steps.index(step) + 1, len(steps))

    out.mkdir(parents=True, exist_ok=True)
    if (out / "billing").exists():
        shutil.rmtree(out / "billing")
    lines = build_lines(resources, cal, seed)
    blocks = build_blocks(lines, cal)
    billing_files, rows = write_billing(blocks, cal, out, range(months))
    done("billing")
    inventory = out / "inventory" / "inventory.csv"
    write_inventory(resources, cal, inventory)
    done("inventory")
    utilization = out / "metrics" / "utilization.csv"
    write_utilization(resources, cal, seed, utilization)
    done("utilization")
    kubernetes = out / "kubernetes" / "opencost-allocation.json"
    write_kubernetes(lines, cal, seed, kubernetes)
    done("kubernetes")
    business = out / "business" / "orders.csv"
    write_business(cal, seed, business)
    done("business")
    org = out / "org.yaml"
    org.write_text(render_org_yaml(), encoding="utf-8", newline="\n")
    allocation = out / "allocation.yaml"
    allocation.write_text(render_allocation_yaml(), encoding="utf-8", newline="\n")
    done("org")
    labels = out / "labels" / "anomalies.json"
    labels.parent.mkdir(parents=True, exist_ok=True)
    labels.write_text(labels_json(cal, resources), encoding="utf-8", newline="\n")
    done("labels")
    infra = write_infra_repo(resources, out / "infra", cal.snapshot - timedelta(hours=14))
    done("infra")
    manifest = EstateManifest(
        out=out,
        seed=seed,
        months=months,
        start_month=cal.start_month,
        end_month=end_month,
        company=COMPANY,
        accounts=ACCOUNTS,
        billing_files=tuple(billing_files),
        billing_rows=rows,
        inventory_file=inventory,
        utilization_file=utilization,
        kubernetes_file=kubernetes,
        business_file=business,
        org_file=org,
        allocation_file=allocation,
        labels_file=labels,
        infra_repo=infra,
    )
    (out / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8", newline="\n")
    return manifest


def _changes(
    changes: Sequence[AppliedChange], resources: Sequence[Resource], cal: Calendar
) -> dict[str, list[Change]]:
    by_id = {r.rid: r for r in resources if r.rid}
    out: dict[str, list[Change]] = {}
    for change in changes:
        res = by_id.get(change.resource_id)
        if res is None:
            raise NotFoundError(f"no resource {change.resource_id!r} in the demo estate")
        if change.action == "set":
            if change.attribute not in _SIZE_ATTRIBUTES:
                raise InputError(
                    f"cannot set {change.attribute!r}; supported: {', '.join(_SIZE_ATTRIBUTES)}"
                )
            sized = [m for m in res.meters if m.price_key is None]
            if not sized:
                raise InputError(f"{res.name} has no size to change")
            for meter in sized:
                try:
                    unit_price(meter, change.new_value)
                except KeyError:
                    raise InputError(
                        f"{change.new_value!r} is not a known size for {res.name}"
                    ) from None
        day = cal.day(change.effective)
        out.setdefault(res.rid, []).append(Change(day, change.action, change.new_value))
    return out


def simulate_next_month(estate_dir: Path, changes: Sequence[AppliedChange]) -> Path:
    """Bill the month after the estate's last one, with ``changes`` applied.

    The model is rebuilt from ``estate.json`` (same seed, same trends); each change
    applies from its effective day: ``delete`` stops the resource's charges, ``set``
    bills it at the new size's price. Writes ``billing/<provider>/<YYYY-MM>.csv`` for
    every provider and returns the ``billing`` directory.
    """
    manifest = EstateManifest.read(estate_dir)
    cal = _calendar(manifest.months, manifest.end_month)
    resources = estate_resources()
    plan = _changes(changes, resources, cal)
    blocks = build_blocks(build_lines(resources, cal, manifest.seed, plan), cal)
    write_billing(blocks, cal, estate_dir, [len(cal.months) - 1])
    return estate_dir / "billing"
