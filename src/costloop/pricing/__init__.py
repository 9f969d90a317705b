"""Offline price catalogs: EC2 instance types, EBS volumes and Elastic IPs."""

from __future__ import annotations

from costloop.pricing.catalog import (
    HOURS_PER_MONTH,
    REFERENCE_REGION,
    InstanceSpec,
    PricingCatalog,
    UnitPrice,
)

__all__ = ["HOURS_PER_MONTH", "REFERENCE_REGION", "InstanceSpec", "PricingCatalog", "UnitPrice"]
