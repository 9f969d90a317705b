"""The estate manifest (``estate.json``) and the changes a simulation applies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from costloop.core.errors import InputError
from costloop.core.periods import Month, parse_month
from costloop.demo.company import ACCOUNTS, CloudAccount

__all__ = ["MANIFEST_NAME", "AppliedChange", "EstateManifest"]

MANIFEST_NAME = "estate.json"
_FORMAT = 1


@dataclass(frozen=True)
class AppliedChange:
    """A change made to a resource, effective from a day (UTC).

    Attributes:
        resource_id: the resource's id as in the inventory and the bill.
        action: ``delete`` (its charges stop) or ``set`` (an attribute changes).
        attribute: for ``set``: what changes size: ``instance_type``, ``instance_class``,
            ``volume_type``, ``type`` or ``size`` (all mean the resource's priced size).
        new_value: for ``set``: the new value, e.g. ``m5.xlarge`` or ``gp3``.
        effective: first day the change applies.
    """

    resource_id: str
    action: str
    attribute: str | None
    new_value: str | None
    effective: date

    def __post_init__(self) -> None:
        if self.action not in ("delete", "set"):
            raise InputError(f"unknown action {self.action!r}: expected 'delete' or 'set'")
        if self.action == "set" and (not self.attribute or not self.new_value):
            raise InputError(f"'set' on {self.resource_id} needs an attribute and a new value")


@dataclass(frozen=True)
class EstateManifest:
    """What ``generate_estate`` wrote, with paths under ``out``.

    ``to_json`` stores the paths relative to ``out`` so that two estates generated
    with the same seed are byte-identical wherever they live. ``kubernetes_file`` is
    the OpenCost allocation JSON of the shared EKS cluster (None for an estate written
    before the demo had one).
    """

    out: Path
    seed: int
    months: int
    start_month: Month
    end_month: Month
    company: str
    accounts: tuple[CloudAccount, ...]
    billing_files: tuple[Path, ...]
    billing_rows: int
    inventory_file: Path
    utilization_file: Path
    business_file: Path
    org_file: Path
    labels_file: Path
    infra_repo: Path
    kubernetes_file: Path | None = None
    allocation_file: Path | None = None

    def to_json(self) -> str:
        """The manifest as JSON text (paths relative to ``out``)."""

        def rel(p: Path) -> str:
            return p.relative_to(self.out).as_posix()

        doc = {
            "format": _FORMAT,
            "generator": "costloop.demo",
            "company": self.company,
            "seed": self.seed,
            "months": self.months,
            "start_month": str(self.start_month),
            "end_month": str(self.end_month),
            "accounts": [a.to_dict() for a in self.accounts],
            "billing_files": [rel(p) for p in self.billing_files],
            "billing_rows": self.billing_rows,
            "inventory_file": rel(self.inventory_file),
            "utilization_file": rel(self.utilization_file),
            "business_file": rel(self.business_file),
            "org_file": rel(self.org_file),
            "labels_file": rel(self.labels_file),
            "infra_repo": rel(self.infra_repo),
            "kubernetes_file": None if self.kubernetes_file is None else rel(self.kubernetes_file),
            "allocation_file": None if self.allocation_file is None else rel(self.allocation_file),
        }
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def read(cls, estate_dir: Path) -> EstateManifest:
        """Load ``estate.json`` from an estate directory."""
        path = estate_dir / MANIFEST_NAME
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"not a demo estate: {exc}", file=str(path)) from exc
        if doc.get("format") != _FORMAT:
            raise InputError(f"unsupported estate format {doc.get('format')!r}", file=str(path))
        by_id = {a.id: a for a in ACCOUNTS}
        return cls(
            out=estate_dir,
            seed=int(doc["seed"]),
            months=int(doc["months"]),
            start_month=parse_month(doc["start_month"]),
            end_month=parse_month(doc["end_month"]),
            company=str(doc["company"]),
            accounts=tuple(by_id[a["id"]] for a in doc["accounts"] if a["id"] in by_id),
            billing_files=tuple(estate_dir / p for p in doc["billing_files"]),
            billing_rows=int(doc["billing_rows"]),
            inventory_file=estate_dir / doc["inventory_file"],
            utilization_file=estate_dir / doc["utilization_file"],
            business_file=estate_dir / doc["business_file"],
            org_file=estate_dir / doc["org_file"],
            labels_file=estate_dir / doc["labels_file"],
            infra_repo=estate_dir / doc["infra_repo"],
            kubernetes_file=(
                estate_dir / doc["kubernetes_file"] if doc.get("kubernetes_file") else None
            ),
            allocation_file=(
                estate_dir / doc["allocation_file"] if doc.get("allocation_file") else None
            ),
        )
