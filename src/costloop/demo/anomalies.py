"""Planted cost anomalies: where they are, how big, and their labels file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from costloop.demo.company import PROVIDERS
from costloop.demo.model import SERVICES, Calendar, Resource

__all__ = ["ANOMALIES", "AnomalySpec", "labels_json", "window"]


@dataclass(frozen=True)
class AnomalySpec:
    """An injected deviation on one meter of one resource.

    Attributes:
        id: stable label id.
        kind: ``spike`` (a few days) or ``level-shift`` (lasts to the end of the data).
        resource: name of the affected resource.
        meter: key of the affected meter.
        at: start as a fraction of the billing window.
        days: duration of a spike; None for a level shift.
        extra_daily_cost: list cost added per day.
        team: team that caused it.
        description: what happened, as a post-mortem would say.
    """

    id: str
    kind: str
    resource: str
    meter: str
    at: float
    days: int | None
    extra_daily_cost: Decimal
    team: str
    description: str


ANOMALIES: tuple[AnomalySpec, ...] = (
    AnomalySpec(
        "nat-backfill-spike",
        "spike",
        "nat-data-a",
        "bytes",
        0.35,
        3,
        Decimal("450"),
        "data-platform",
        "A backfill job read S3 through the NAT gateway instead of the S3 gateway endpoint.",
    ),
    AnomalySpec(
        "product-images-replication",
        "level-shift",
        "stride-product-images",
        "put",
        0.45,
        None,
        Decimal("35"),
        "catalog",
        "Cross-region replication of product images started writing every object twice.",
    ),
    AnomalySpec(
        "checkout-debug-logging",
        "spike",
        "/stride/checkout-api",
        "ingest",
        0.55,
        4,
        Decimal("250"),
        "checkout",
        "DEBUG logging left on after an incident in checkout-api.",
    ),
    AnomalySpec(
        "bigquery-unpartitioned-dashboard",
        "level-shift",
        "analytics",
        "analysis",
        0.62,
        None,
        Decimal("40"),
        "data-platform",
        "A new dashboard scans an unpartitioned events table every 15 minutes.",
    ),
    AnomalySpec(
        "thumbnailer-retry-storm",
        "spike",
        "catalog-image-thumbnailer",
        "duration",
        0.72,
        2,
        Decimal("320"),
        "catalog",
        "A malformed image put the thumbnailer Lambda into a retry loop.",
    ),
    AnomalySpec(
        "campaign-egress-spike",
        "spike",
        "stridemktassets",
        "egress",
        0.83,
        5,
        Decimal("200"),
        "marketing-web",
        "A sneaker-drop campaign served full-size videos straight from blob storage.",
    ),
)


def window(spec: AnomalySpec, cal: Calendar) -> tuple[int, int]:
    """Half-open day-index range of an anomaly (a level shift runs to the horizon end)."""
    start = int(spec.at * cal.n_window)
    return start, cal.n if spec.days is None else start + spec.days


def labels_json(cal: Calendar, resources: list[Resource]) -> str:
    """The labels file: one object per anomaly; ``end`` is exclusive."""
    by_name = {r.name: r for r in resources}
    out = []
    for spec in ANOMALIES:
        res = by_name[spec.resource]
        meter = next(m for m in res.meters if m.key == spec.meter)
        start, end = window(spec, cal)
        end = min(end, cal.n_window)
        out.append(
            {
                "id": spec.id,
                "kind": spec.kind,
                "start": cal.days[start].isoformat(),
                "end": (cal.days[0].fromordinal(cal.days[0].toordinal() + end)).isoformat(),
                "scope": {
                    "ProviderName": PROVIDERS[res.provider].name,
                    "SubAccountId": res.account,
                    "ServiceName": SERVICES[meter.service].name,
                    "ResourceId": res.rid,
                },
                "team": spec.team,
                "extra_daily_cost": str(spec.extra_daily_cost),
                "description": spec.description,
            }
        )
    return json.dumps(out, indent=2) + "\n"
