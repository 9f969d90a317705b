"""Monthly cost of a resource: the billed run-rate first, the list price as fallback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from costloop.core.errors import NotFoundError
from costloop.core.money import to_decimal
from costloop.detectors.base import TableReader
from costloop.detectors.resources import Resource
from costloop.pricing.catalog import HOURS_PER_MONTH, PricingCatalog

__all__ = [
    "BILLING_WINDOW_DAYS",
    "MonthlyCost",
    "billed_costs",
    "instance_list_cost",
    "number_text",
    "volume_list_cost",
]

BILLING_WINDOW_DAYS = 30
"""Days of charges, ending at ``now``, used for a resource's billed monthly run-rate."""

_BILLED = """
SELECT "ResourceId" AS resource_id,
       sum("EffectiveCost") AS cost,
       min("ChargePeriodStart") AS first_start,
       max(least("ChargePeriodEnd", ?)) AS last_end,
       min("BillingCurrency") AS currency
FROM charges
WHERE list_contains(?, "ResourceId")
  AND "ChargePeriodStart" >= ? AND "ChargePeriodStart" < ?
  AND "ChargeCategory" = 'Usage'
GROUP BY "ResourceId"
"""


@dataclass(frozen=True)
class MonthlyCost:
    """What a resource costs per month, and where the figure comes from.

    Attributes:
        amount: cost per ``HOURS_PER_MONTH`` hours (unrounded).
        currency: ISO 4217 code.
        source: human description for the finding's evidence.
    """

    amount: Decimal
    currency: str
    source: str


def number_text(value: Decimal) -> str:
    """Decimal as plain text without trailing zeros: ``500.000`` -> ``500``."""
    return format(value.normalize(), "f")


def billed_costs(
    reader: TableReader, resource_ids: Sequence[str], now: datetime, default_currency: str
) -> dict[str, MonthlyCost]:
    """Monthly run-rate of each resource's usage charges over the last 30 days.

    The run-rate is the billed ``EffectiveCost`` divided by the hours from the first charge
    start to the last charge end (cut at ``now``), times ``HOURS_PER_MONTH``; a resource
    billed for only part of the window is not under-estimated.
    """
    if not resource_ids:
        return {}
    since = now - timedelta(days=BILLING_WINDOW_DAYS)
    rows = reader.query(_BILLED, [now, list(resource_ids), since, now]).to_pylist()
    source = f"billing: EffectiveCost of the last {BILLING_WINDOW_DAYS} days"
    result: dict[str, MonthlyCost] = {}
    for row in rows:
        span = row["last_end"] - row["first_start"]
        hours = Decimal(int(span.total_seconds())) / 3600
        if hours <= 0:
            continue
        result[row["resource_id"]] = MonthlyCost(
            amount=to_decimal(row["cost"]) * HOURS_PER_MONTH / hours,
            currency=row["currency"] or default_currency,
            source=source,
        )
    return result


def instance_list_cost(catalog: PricingCatalog, instance: Resource) -> MonthlyCost | None:
    """Catalog on-demand hourly price times 730 h; None when the type is not listed."""
    try:
        spec = catalog.instance(instance.size or "", instance.region)
    except NotFoundError:
        return None
    if spec.hourly_price is None:
        return None
    source = f"catalog: {spec.instance_type} {spec.hourly_price} {catalog.currency}/h x 730 h"
    return MonthlyCost(spec.hourly_price * HOURS_PER_MONTH, catalog.currency, source)


def volume_list_cost(catalog: PricingCatalog, volume: Resource) -> MonthlyCost | None:
    """Catalog price per GB-month times the size; None when type or size is unknown."""
    if volume.size is None or volume.size_gib is None:
        return None
    try:
        price = catalog.unit_price("ebs", volume.size, volume.region)
    except NotFoundError:
        return None
    source = (
        f"catalog: {volume.size} list price {price.price} {catalog.currency}/GB-month"
        f" ({price.region}) x {number_text(volume.size_gib)} GiB"
    )
    return MonthlyCost(price.price * volume.size_gib, catalog.currency, source)
