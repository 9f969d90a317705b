"""Shared warehouse reads for detectors: current inventory, metric summaries, findings."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from costloop.core.findings import Change, Finding
from costloop.core.money import quantize
from costloop.detectors.base import Detector, DetectorContext, TableReader

__all__ = [
    "MetricSummary",
    "Resource",
    "current_resources",
    "first_present",
    "make_finding",
    "metric_summaries",
    "parse_tags",
]

_CURRENT_INVENTORY = """
WITH seen AS (
    SELECT * FROM inventory WHERE snapshot_time <= ?
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY resource_id ORDER BY snapshot_time DESC) AS _rank
    FROM seen
),
account_latest AS (
    SELECT provider, account_id, max(snapshot_time) AS latest FROM seen GROUP BY ALL
)
SELECT r.* EXCLUDE (_rank)
FROM ranked AS r
JOIN account_latest AS a
  ON r.provider IS NOT DISTINCT FROM a.provider
 AND r.account_id IS NOT DISTINCT FROM a.account_id
WHERE r._rank = 1 AND r.resource_type = ? AND r.snapshot_time >= a.latest - INTERVAL 1 DAY
ORDER BY r.resource_id
"""

_METRICS = """
SELECT resource_id, metric, statistic,
       count(DISTINCT date_trunc('day', ts)) AS days,
       max(value) AS peak,
       quantile_cont(value, 0.99) AS p99
FROM utilization
WHERE list_contains(?, resource_id) AND ts >= ? AND ts < ?
GROUP BY ALL
"""


@dataclass(frozen=True)
class Resource:
    """A resource as in its latest inventory snapshot (see ``current_resources``)."""

    resource_id: str
    resource_type: str
    provider: str
    account_id: str
    region: str
    resource_name: str | None
    size: str | None
    size_gib: Decimal | None
    state: str | None
    attached_to: str | None
    created_at: datetime | None
    last_used_at: datetime | None
    tags: Mapping[str, str]
    iac_address: str | None
    iac_file: str | None


@dataclass(frozen=True)
class MetricSummary:
    """Daily values of one (resource, metric, statistic) over a window."""

    days: int
    peak: float
    p99: float


def parse_tags(raw: object) -> dict[str, str]:
    """Inventory tags JSON to a dict with lower-cased keys; anything else is no tags."""
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k).lower(): "" if v is None else str(v) for k, v in data.items()}


def current_resources(reader: TableReader, resource_type: str, now: datetime) -> list[Resource]:
    """Resources of ``resource_type`` as in their latest snapshot taken at or before ``now``.

    A resource missing from its account's latest snapshot (by more than a day) is taken to
    be gone and left out, so a deleted resource is not reported from an old snapshot.
    """
    rows = reader.query(_CURRENT_INVENTORY, [now, resource_type]).to_pylist()
    return [
        Resource(
            resource_id=row["resource_id"],
            resource_type=row["resource_type"],
            provider=row["provider"] or "",
            account_id=row["account_id"] or "",
            region=row["region"] or "",
            resource_name=row["resource_name"],
            size=row["size"],
            size_gib=row["size_gib"],
            state=row["state"],
            attached_to=row["attached_to"] or None,
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
            tags=parse_tags(row["tags"]),
            iac_address=row["iac_address"],
            iac_file=row["iac_file"],
        )
        for row in rows
    ]


def metric_summaries(
    reader: TableReader, resource_ids: Sequence[str], since: datetime, until: datetime
) -> dict[tuple[str, str, str], MetricSummary]:
    """Summaries keyed by (resource_id, metric, statistic) of rows in ``[since, until)``."""
    if not resource_ids:
        return {}
    rows = reader.query(_METRICS, [list(resource_ids), since, until]).to_pylist()
    return {
        (row["resource_id"], row["metric"], row["statistic"]): MetricSummary(
            days=int(row["days"]), peak=float(row["peak"]), p99=float(row["p99"])
        )
        for row in rows
        if row["peak"] is not None
    }


def first_present(
    summaries: Mapping[tuple[str, str, str], MetricSummary],
    resource_id: str,
    metric: str,
    statistics: Iterable[str],
) -> tuple[str, MetricSummary] | None:
    """The summary of the first of ``statistics`` that has rows, with its name."""
    for statistic in statistics:
        found = summaries.get((resource_id, metric, statistic))
        if found is not None:
            return statistic, found
    return None


def make_finding(
    detector: Detector,
    ctx: DetectorContext,
    resource: Resource,
    *,
    title: str,
    monthly_savings: Decimal,
    currency: str,
    evidence: Mapping[str, str],
    change: Change | None,
) -> Finding:
    """A finding on ``resource`` with the resource's fields and the run's parameters."""
    return Finding(
        detector=detector.name,
        code=detector.code,
        resource_id=resource.resource_id,
        title=title,
        monthly_savings=quantize(monthly_savings),
        currency=currency,
        provider=resource.provider,
        account_id=resource.account_id,
        region=resource.region,
        resource_type=resource.resource_type,
        evidence=dict(evidence),
        change=change,
        tags=dict(resource.tags),
        iac_address=resource.iac_address,
        iac_file=resource.iac_file,
        parameters=ctx.parameter_strings(),
    )
