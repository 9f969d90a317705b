"""A Compute Savings Plan and an RDS reservation, applied day by day to the usage."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from costloop.demo.charges import SCALE, Block, sku_id, to_units, usage_block
from costloop.demo.company import ACCOUNTS, PROVIDERS
from costloop.demo.model import SERVICES, Calendar
from costloop.demo.prices import RDS_RI_RATE, sp_rate
from costloop.demo.usage import Line

__all__ = ["RI", "SP", "Commitment", "apply_commitments"]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Commitment:
    """A no-upfront commitment billed as a daily recurring purchase."""

    id: str
    name: str
    type: str  # CommitmentDiscountType
    category: str  # Spend | Usage
    unit: str  # CommitmentDiscountUnit
    account: str  # purchasing SubAccountId
    service: str  # key of SERVICES for the purchase rows
    hourly: Decimal  # Spend: $ per hour; Usage: the reserved rate per instance-hour
    count: int = 1  # Usage: number of reserved instances
    size: str | None = None  # Usage: the reserved DB instance class

    def columns(self) -> dict[str, str | None]:
        """The commitment columns of its purchase and usage rows."""
        return {
            "CommitmentDiscountCategory": self.category,
            "CommitmentDiscountId": self.id,
            "CommitmentDiscountName": self.name,
            "CommitmentDiscountType": self.type,
            "CommitmentDiscountUnit": self.unit,
        }


SP = Commitment(
    "arn:aws:savingsplans::536475869723:savingsplan/7b1c2d3e-4f50-4a6b-9c8d-0e1f2a3b4c5d",
    "Compute Savings Plan - 3 year No Upfront",
    "Savings Plan",
    "Spend",
    "USD",
    "536475869723",
    "sp",
    Decimal("8.90"),
)
RI = Commitment(
    "arn:aws:rds:us-east-1:210987654321:ri:stride-db-r5-large-ri",
    "RDS Reserved Instance db.r5.large x3 - 1 year No Upfront",
    "Reserved Instance",
    "Usage",
    "Hours",
    "210987654321",
    "rds",
    RDS_RI_RATE["db.r5.large"],
    count=3,
    size="db.r5.large",
)


def _rows(c: Commitment, label: str) -> dict[str, str | None]:
    info = PROVIDERS["aws"]
    service = SERVICES[c.service]
    acct = next(a for a in ACCOUNTS if a.id == c.account)
    sku = sku_id("aws", c.type, c.name)
    return {
        "BillingAccountId": info.billing_account_id,
        "BillingAccountName": info.billing_account_name,
        "BillingAccountType": info.billing_account_type,
        "BillingCurrency": "USD",
        "ChargeDescription": label,
        "InvoiceIssuerName": info.issuer,
        "PricingCurrency": "USD",
        "PricingUnit": "Hours",
        "ProviderName": info.name,
        "PublisherName": info.name,
        "RegionId": "us-east-1",
        "RegionName": "US East (N. Virginia)",
        "ResourceId": c.id,
        "ResourceName": c.name,
        "ResourceType": c.type,
        "ServiceCategory": service.category,
        "ServiceName": service.name,
        "ServiceSubcategory": service.subcategory,
        "SkuId": sku,
        "SkuMeter": "Commitment",
        "SkuPriceId": f"{sku}.NOUPFRONT",
        "SubAccountId": acct.id,
        "SubAccountName": acct.name,
        "SubAccountType": info.sub_account_type,
        **c.columns(),
    }


def _const(n: int, value: int) -> I64:
    return np.full(n, value, dtype=np.int64)


def _purchase_and_unused(c: Commitment, cal: Calendar, unused: I64) -> list[Block]:
    """The daily recurring fee, and an Unused row on days the usage did not consume it all."""
    days = np.arange(cal.n, dtype=np.int64)
    n, hours, per_hour = cal.n, c.count * 24, to_units(c.hourly)
    fee = per_hour * hours
    buy = _rows(c, f"{c.name}: recurring fee for {hours} commitment hours")
    buy.update(ChargeCategory="Purchase", ChargeFrequency="Recurring", PricingCategory="Standard")
    quantity = _const(n, hours * 10**SCALE)
    values = {
        "BilledCost": _const(n, fee),
        "EffectiveCost": _const(n, 0),
        "ListCost": _const(n, fee),
        "ContractedCost": _const(n, fee),
        "ListUnitPrice": _const(n, per_hour),
        "ContractedUnitPrice": _const(n, per_hour),
        "PricingQuantity": quantity,
        "CommitmentDiscountQuantity": _const(n, fee) if c.category == "Spend" else quantity,
    }
    blocks = [Block("aws", buy, days, days + 1, cal.month_of, values)]
    d = np.nonzero(unused > 0)[0]
    if len(d):
        left = _rows(c, f"{c.name}: unused commitment")
        left.update(
            ChargeCategory="Usage",
            ChargeFrequency="Usage-Based",
            PricingCategory="Committed",
            CommitmentDiscountStatus="Unused",
        )
        amount = unused[d]
        # Commitment-hours left unused, to 6 places (the amount divided by the hourly fee).
        idle_hours = amount // (per_hour // 10**6) * 10**4
        zeros = _const(len(d), 0)
        values = {
            "BilledCost": zeros,
            "EffectiveCost": amount,
            "ListCost": zeros,
            "ContractedCost": zeros,
            "ListUnitPrice": zeros,
            "ContractedUnitPrice": zeros,
            "PricingQuantity": idle_hours,
            "CommitmentDiscountQuantity": amount if c.category == "Spend" else idle_hours,
        }
        blocks.append(Block("aws", left, d, d + 1, cal.month_of[d], values))
    return blocks


def _split(cost: I64, capacity: I64, unit: I64, qty: I64) -> tuple[I64, I64]:
    """Covered quantity and covered amount per (line, day), lines in priority order.

    Lines are covered in order until the day's capacity runs out; the line that
    crosses it is covered in part and absorbs the remainder, so the covered amounts
    of a day add up to exactly min(capacity, total cost).
    """
    cum = np.cumsum(cost, axis=0)
    prev = cum - cost
    full = cum <= capacity
    partial = (prev < capacity) & ~full
    part_qty = np.where(partial, (capacity - prev) // np.maximum(unit, 1), 0)
    covered_qty = np.where(full, qty, part_qty)
    covered = np.where(full, cost, np.where(partial & (part_qty > 0), capacity - prev, 0))
    return covered_qty, covered


def _apply(
    c: Commitment, cal: Calendar, eligible: list[tuple[Line, I64]]
) -> tuple[list[Block], I64]:
    """Blocks of the eligible lines (covered and on-demand parts) and the unused amount."""
    qty = np.array([q for _, q in eligible], dtype=np.int64).reshape(-1, cal.n)
    unit = np.zeros_like(qty)
    for i, (line, _) in enumerate(eligible):
        for code, size in enumerate(line.size_names):
            if size is not None:
                rate = sp_rate(size) if c.category == "Spend" else c.hourly
                unit[i, line.sizes == code] = to_units(rate) // 10**line.meter.qty_places
    hour_units = 10**4  # hours lines carry 4 decimal places
    if c.category == "Spend":
        capacity = np.full(cal.n, to_units(c.hourly) * 24, dtype=np.int64)
        covered_qty, covered = _split(unit * qty, capacity, unit, qty)
        unused = capacity - covered.sum(axis=0)
    else:
        capacity = np.full(cal.n, c.count * 24 * hour_units, dtype=np.int64)
        covered_qty, _ = _split(qty, capacity, np.ones_like(qty), qty)
        covered = covered_qty * unit
        unused = (capacity - covered_qty.sum(axis=0)) * (to_units(c.hourly) // hour_units)
    blocks: list[Block] = []
    status = {**c.columns(), "CommitmentDiscountStatus": "Used"}
    for i, (line, _) in enumerate(eligible):
        rest = line.qty - covered_qty[i]
        for code, size in enumerate(line.size_names):
            on_size = line.sizes == code
            d = np.nonzero(on_size & (covered_qty[i] > 0))[0]
            if len(d):
                amount = covered[i][d]
                blocks.append(
                    usage_block(
                        line,
                        cal,
                        d,
                        covered_qty[i][d],
                        size,
                        effective=amount,
                        commitment=status,
                        commitment_qty=(
                            amount if c.category == "Spend" else covered_qty[i][d] * 10**6
                        ),
                    )
                )
            d = np.nonzero(on_size & (rest > 0))[0]
            if len(d):
                blocks.append(usage_block(line, cal, d, rest[d], size))
    return blocks, unused


def apply_commitments(lines: list[Line], cal: Calendar) -> tuple[list[Block], set[int]]:
    """Blocks of the commitments and of the usage lines they apply to.

    Returns the blocks and the indexes of the lines they replace.
    """
    blocks: list[Block] = []
    consumed: set[int] = set()
    for c, service in ((SP, "ec2"), (RI, "rds")):
        eligible: list[tuple[Line, I64]] = []
        for idx, line in enumerate(lines):
            if line.resource.provider != "aws" or line.meter.service != service:
                continue
            if line.meter.key != "hours":
                continue
            qty = line.qty
            if c.size is not None:
                fits = np.array([s == c.size for s in line.size_names])[line.sizes]
                qty = np.where(fits, qty, 0)
            eligible.append((line, qty))
            consumed.add(idx)
        eligible.sort(key=lambda e: e[0].resource.rid)
        used_blocks, unused = _apply(c, cal, eligible)
        blocks += used_blocks + _purchase_and_unused(c, cal, unused)
    return blocks, consumed
