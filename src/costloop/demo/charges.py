"""FOCUS rows in blocks: one block = rows sharing every descriptive column."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from costloop.demo.company import ACCOUNTS, PROVIDERS
from costloop.demo.model import SERVICES, Calendar, Meter, Resource, unit_price
from costloop.demo.usage import Line

__all__ = [
    "SCALE",
    "Block",
    "base_attrs",
    "contracted_price",
    "sku_id",
    "to_units",
    "usage_block",
]

I64 = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SCALE = 10
"""Every FOCUS decimal is held as an integer count of 10**-SCALE (dollars or units)."""

# Azure bills this Enterprise Agreement at a negotiated discount off list.
_NEGOTIATED = {"azure": Decimal("0.06")}
_REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "eastus": "East US", "us-central1": "Iowa"}
_SKU_METERS = {
    "hours": "Compute Usage",
    "storage": "Storage",
    "get": "Requests",
    "put": "Requests",
    "requests": "Requests",
    "duration": "Compute Duration",
    "transfer": "Data Transfer",
    "egress": "Data Transfer",
    "bytes": "Data Processing",
    "ingest": "Log Ingestion",
    "lcu": "Load Balancer Capacity Units",
    "analysis": "Query Analysis",
}
_ACCOUNTS = {a.id: a for a in ACCOUNTS}


@dataclass
class Block:
    """Rows with identical string columns and per-row days and amounts.

    Attributes:
        provider: provider slug (which billing file the rows go to).
        attrs: FOCUS string columns (None = null); InvoiceId and dates are added on write.
        day: ChargePeriodStart as a day index.
        end_day: ChargePeriodEnd (exclusive) as a day index.
        month: BillingPeriod as a month index of the calendar.
        values: FOCUS decimal columns in units of 10**-SCALE; absent = null.
    """

    provider: str
    attrs: dict[str, str | None]
    day: I64
    end_day: I64
    month: I64
    values: dict[str, I64] = field(default_factory=dict)


def to_units(value: Decimal) -> int:
    """A Decimal as an integer count of 10**-SCALE; refuses to round."""
    scaled = value.scaleb(SCALE)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {SCALE} decimal places")
    return int(scaled)


def contracted_price(provider: str, price: Decimal, qty_places: int) -> Decimal:
    """Negotiated unit price, rounded so that price x quantity stays within SCALE places."""
    discount = _NEGOTIATED.get(provider)
    if discount is None:
        return price
    return (price * (1 - discount)).quantize(Decimal(1).scaleb(-min(6, SCALE - qty_places)))


def sku_id(*parts: str) -> str:
    """A stable SKU-like id (16 base32 characters)."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return base64.b32encode(digest[:10]).decode()


def _tags_json(tags: Mapping[str, str]) -> str | None:
    return json.dumps(dict(tags), separators=(",", ":")) if tags else None


def base_attrs(res: Resource, meter: Meter, size: str | None) -> dict[str, str | None]:
    """String columns of an on-demand usage row of a resource meter."""
    info = PROVIDERS[res.provider]
    service = SERVICES[meter.service]
    acct = _ACCOUNTS[res.account]
    usage_type = meter.usage_type.format(size=size)
    sku = sku_id(res.provider, service.name, usage_type, res.region)
    price = unit_price(meter, size)
    return {
        "AvailabilityZone": res.az,
        "BillingAccountId": info.billing_account_id,
        "BillingAccountName": info.billing_account_name,
        "BillingAccountType": info.billing_account_type,
        "BillingCurrency": "USD",
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": meter.description.format(size=size, price=f"{price.normalize():f}"),
        "ChargeFrequency": "Usage-Based",
        "ConsumedUnit": meter.unit,
        "InvoiceIssuerName": info.issuer,
        "PricingCategory": "Standard",
        "PricingCurrency": "USD",
        "PricingUnit": meter.unit,
        "ProviderName": info.name,
        "PublisherName": info.name,
        "RegionId": res.region,
        "RegionName": _REGION_NAMES[res.region],
        "ResourceId": res.rid or None,
        "ResourceName": res.name if res.rid else None,
        "ResourceType": res.rtype or None,
        "ServiceCategory": service.category,
        "ServiceName": service.name,
        "ServiceSubcategory": service.subcategory,
        "SkuId": sku,
        "SkuMeter": _SKU_METERS.get(meter.key, meter.key.title()),
        "SkuPriceDetails": json.dumps({"x_UsageType": usage_type}, separators=(",", ":")),
        "SkuPriceId": f"{sku}.{'ONDEMAND' if res.provider == 'aws' else 'PAYG'}",
        "SubAccountId": res.account,
        "SubAccountName": acct.name,
        "SubAccountType": info.sub_account_type,
        "Tags": _tags_json(res.tags),
    }


def usage_block(
    line: Line,
    cal: Calendar,
    days: I64,
    qty: I64,
    size: str | None,
    *,
    effective: I64 | None = None,
    commitment: Mapping[str, str | None] | None = None,
    commitment_qty: I64 | None = None,
) -> Block:
    """Usage rows of a line on ``days``: on demand, or covered by a commitment.

    Covered rows (``effective`` given) bill 0 and carry the commitment's amortized
    share as EffectiveCost; ListCost stays the on-demand equivalent.
    """
    res, meter = line.resource, line.meter
    price = unit_price(meter, size)
    contracted = contracted_price(res.provider, price, meter.qty_places)
    to_qty = 10 ** (SCALE - meter.qty_places)
    list_unit = to_units(price) // 10**meter.qty_places
    contracted_unit = to_units(contracted) // 10**meter.qty_places
    attrs = base_attrs(res, meter, size)
    values = {
        "PricingQuantity": qty * to_qty,
        "ConsumedQuantity": qty * to_qty,
        "ListUnitPrice": np.full(len(days), to_units(price), dtype=np.int64),
        "ContractedUnitPrice": np.full(len(days), to_units(contracted), dtype=np.int64),
        "ListCost": qty * list_unit,
        "ContractedCost": qty * contracted_unit,
    }
    if effective is None:
        values["BilledCost"] = values["ContractedCost"]
        values["EffectiveCost"] = values["ContractedCost"]
    else:
        values["BilledCost"] = np.zeros(len(days), dtype=np.int64)
        values["EffectiveCost"] = effective
        if commitment is None or commitment_qty is None:
            raise ValueError("covered usage needs its commitment and commitment quantity")
        attrs.update(commitment)
        attrs["PricingCategory"] = "Committed"
        usage_type = meter.usage_type.format(size=size)
        name, kind = commitment["CommitmentDiscountName"], commitment["CommitmentDiscountType"]
        attrs["ChargeDescription"] = f"{usage_type} covered by {name}"
        attrs["SkuPriceId"] = f"{attrs['SkuId']}.{str(kind).replace(' ', '')}"
        values["CommitmentDiscountQuantity"] = commitment_qty
    return Block(res.provider, attrs, days, days + 1, cal.month_of[days], values)
