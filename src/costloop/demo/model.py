"""The estate model: resources, their billed meters, services and the calendar."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from costloop.core.periods import Month
from costloop.demo.prices import AZURE_VM, EC2, GCE, RATES, RDS

__all__ = [
    "SERVICES",
    "Calendar",
    "Meter",
    "Pattern",
    "Resource",
    "Service",
    "hex_id",
    "unit_price",
]


class Pattern(StrEnum):
    """How a meter's daily quantity evolves."""

    HOURS = "hours"  # 24 hours a day while the resource exists
    BURST = "burst"  # autoscaled hours: base share of the day x traffic, capped at 24
    STORAGE = "storage"  # GB-months: base GiB (growing) / days in the month
    TRAFFIC = "traffic"  # base per day x traffic (growth, weekend dip, noise)


@dataclass(frozen=True)
class Service:
    """FOCUS service identity."""

    name: str
    category: str
    subcategory: str


SERVICES: Mapping[str, Service] = {
    "ec2": Service("Amazon Elastic Compute Cloud", "Compute", "Virtual Machines"),
    "ebs": Service("Amazon Elastic Block Store", "Storage", "Block Storage"),
    "snapshot": Service("Amazon Elastic Block Store", "Storage", "Backup Storage"),
    "s3": Service("Amazon Simple Storage Service", "Storage", "Object Storage"),
    "rds": Service("Amazon Relational Database Service", "Databases", "Relational Databases"),
    "eks": Service("Amazon Elastic Kubernetes Service", "Compute", "Containers"),
    "vpc": Service("Amazon Virtual Private Cloud", "Networking", "Network Infrastructure"),
    "dt": Service("AWS Data Transfer", "Networking", "Network Connectivity"),
    "logs": Service("Amazon CloudWatch", "Management and Governance", "Observability"),
    "lambda": Service("AWS Lambda", "Compute", "Serverless Compute"),
    "elb": Service("Elastic Load Balancing", "Networking", "Application Networking"),
    "sp": Service("Savings Plans for AWS Compute usage", "Compute", "Virtual Machines"),
    "azure_vm": Service("Virtual Machines", "Compute", "Virtual Machines"),
    "azure_disk": Service("Managed Disks", "Storage", "Block Storage"),
    "azure_storage": Service("Storage Accounts", "Storage", "Storage Platforms"),
    "azure_bw": Service("Bandwidth", "Networking", "Network Connectivity"),
    "gce": Service("Compute Engine", "Compute", "Virtual Machines"),
    "gcp_pd": Service("Compute Engine", "Compute", "Virtual Machines"),
    "gcs": Service("Cloud Storage", "Storage", "Object Storage"),
    "bq": Service("BigQuery", "Databases", "Data Warehouses"),
}


@dataclass(frozen=True)
class Meter:
    """One billed line of a resource, e.g. instance hours or volume GB-months.

    Attributes:
        key: stable name within the resource (``hours``, ``storage``, ``requests``...).
        service: key of ``SERVICES``.
        usage_type: provider usage type; ``{size}`` is replaced by the resource size.
        unit: FOCUS PricingUnit.
        pattern: how the daily quantity evolves.
        base: daily quantity at the end of the window (BURST: share of the day).
        price_key: key of ``prices.RATES``; None prices by the resource size.
        qty_places: decimal places of PricingQuantity.
        growth: monthly growth of the base (compound).
        weekend: weekend dip as a fraction (0.25 = 25 % less on Saturday and Sunday).
        noise: sigma of the day-to-day multiplicative noise.
        description: ChargeDescription template (``{size}``, ``{price}``).
    """

    key: str
    service: str
    usage_type: str
    unit: str
    pattern: Pattern
    base: float
    price_key: str | None
    qty_places: int
    description: str
    growth: float = 0.0
    weekend: float = 0.0
    noise: float = 0.0


@dataclass(frozen=True)
class Resource:
    """A cloud resource with its inventory facts and billed meters.

    ``created_days_ago`` counts days before the snapshot (the end of the window);
    ``resizes`` lists (days ago, new size) changes already in the estate's history.
    """

    rid: str
    name: str
    provider: str  # provider slug
    account: str  # SubAccountId
    region: str
    az: str | None
    kind: str  # inventory resource_type
    rtype: str  # FOCUS ResourceType
    size: str | None
    team: str
    env: str
    tags: Mapping[str, str]
    meters: tuple[Meter, ...]
    created_days_ago: int = 400
    size_gib: Decimal | None = None
    state: str = "running"
    attached_to: str | None = None
    last_used_days_ago: int | None = 0
    iac_address: str | None = None
    iac_file: str | None = None
    resizes: tuple[tuple[int, str], ...] = ()
    profile: str = "normal"
    waste: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


def hex_id(prefix: str, name: str, length: int = 17) -> str:
    """A stable AWS-style id, e.g. ``i-0`` + 16 hex digits, derived from a name."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{prefix}-0{digest[: length - 1]}"


def unit_price(meter: Meter, size: str | None) -> Decimal:
    """The list price per PricingUnit of a meter for a resource size."""
    if meter.price_key is not None:
        return RATES[meter.price_key]
    if size is None:
        raise ValueError(f"meter {meter.key} is priced by size but the resource has none")
    if meter.service == "ebs":
        return RATES[f"ebs.{size}"]
    table = {"ec2": EC2, "rds": RDS, "azure_vm": AZURE_VM, "gce": GCE}[meter.service]
    return table[size].hourly


class Calendar:
    """The days of the model: the estate's window plus one month to simulate."""

    def __init__(self, start: Month, end: Month) -> None:
        self.start_month = start
        self.end_month = end
        self.months: list[Month] = []
        m = start
        while m <= end.next():
            self.months.append(m)
            m = m.next()
        first = start.start.date()
        self.first_day = first
        horizon_end = end.next().end.date()
        self.n_window = (end.end.date() - first).days
        self.n = (horizon_end - first).days
        self.days = [first + timedelta(days=i) for i in range(self.n)]
        self.weekday: npt.NDArray[np.int64] = np.array([d.weekday() for d in self.days])
        index = {m: i for i, m in enumerate(self.months)}
        self.month_of: npt.NDArray[np.int64] = np.array([index[Month.of(d)] for d in self.days])
        dim = np.bincount(self.month_of, minlength=len(self.months))
        self.days_in_month: npt.NDArray[np.int64] = dim[self.month_of]
        self.month_first_day: list[int] = [
            int(np.argmax(self.month_of == i)) for i in index.values()
        ]
        self.snapshot = datetime.combine(end.end.date(), datetime.min.time())
        self.stamps = [f"{d.isoformat()}T00:00:00Z" for d in (*self.days, horizon_end)]
        # Months before the snapshot, as a fraction: growth is anchored at the snapshot.
        self.months_to_end: npt.NDArray[np.float64] = (
            np.arange(self.n, dtype=np.float64) - self.n_window
        ) / 30.44

    def day(self, value: date) -> int:
        """Index of a day (may fall outside the horizon)."""
        return (value - self.first_day).days

    def month_days(self, month_index: int) -> tuple[int, int]:
        """Half-open day-index range of a month of the horizon."""
        start = self.month_first_day[month_index]
        end = (
            self.month_first_day[month_index + 1] if month_index + 1 < len(self.months) else self.n
        )
        return start, end
