"""Findings: what a detector returns, with evidence, savings and a proposed change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

__all__ = ["Change", "ChangeAction", "Finding"]


class ChangeAction(StrEnum):
    """What an infrastructure change does to a resource."""

    DELETE = "delete"  # remove the resource
    SET = "set"  # set one attribute to a new value


@dataclass(frozen=True)
class Change:
    """A concrete, reviewable infrastructure change for a finding.

    Attributes:
        action: delete the resource or set one attribute.
        attribute: attribute to set (e.g. ``instance_type``); None for delete.
        old_value: current value, as evidence and for a safe edit.
        new_value: value to set; None for delete.
    """

    action: ChangeAction
    attribute: str | None = None
    old_value: str | None = None
    new_value: str | None = None

    def describe(self) -> str:
        """One-line human description."""
        if self.action is ChangeAction.DELETE:
            return "delete the resource"
        return f"change {self.attribute} from {self.old_value} to {self.new_value}"


@dataclass(frozen=True)
class Finding:
    """One piece of waste found by a detector on one resource.

    Attributes:
        detector: registered detector name (kebab-case), e.g. ``unattached-volume``.
        code: short stable code, e.g. ``STG001``.
        resource_id: provider resource id, as in FOCUS ``ResourceId``.
        title: one-line summary for lists.
        monthly_savings: estimated savings per month in ``currency`` (exact Decimal).
        currency: ISO 4217 code.
        provider, account_id, region, resource_type: where the resource lives.
        evidence: facts that justify the finding (metric values, dates, prices).
        change: the proposed change, when one can be expressed as IaC.
        tags: the resource's normalized tags (owner routing).
        iac_address, iac_file: Terraform address and file, when known.
        parameters: the detector parameters used (part of the fingerprint).
    """

    detector: str
    code: str
    resource_id: str
    title: str
    monthly_savings: Decimal
    currency: str = "USD"
    provider: str = ""
    account_id: str = ""
    region: str = ""
    resource_type: str = ""
    evidence: Mapping[str, str] = field(default_factory=dict)
    change: Change | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    iac_address: str | None = None
    iac_file: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Stable id of (detector, resource, parameters): re-runs update, not duplicate."""
        payload = json.dumps(
            [self.detector, self.resource_id, sorted(self.parameters.items())],
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
