"""The estate's bill: usage, commitments, credits, tax and a refund, as FOCUS blocks."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import numpy.typing as npt

from costloop.demo.charges import SCALE, Block, base_attrs, to_units, usage_block
from costloop.demo.commitments import apply_commitments
from costloop.demo.company import ACCOUNTS, PROVIDERS
from costloop.demo.model import Calendar
from costloop.demo.usage import Line

__all__ = ["build_blocks"]

I64 = npt.NDArray[np.int64]

_CREDIT = Decimal("-1500.00")  # promotional credit per month, first months of the window
_CREDIT_MONTHS = 4
_REFUND = Decimal("-184.20")  # S3 storage overbilled, refunded the month after


def _usage(lines: Sequence[Line], cal: Calendar, skip: set[int]) -> list[Block]:
    blocks = []
    for idx, line in enumerate(lines):
        if idx in skip:
            continue
        for code, size in enumerate(line.size_names):
            d = np.nonzero((line.sizes == code) & (line.qty > 0))[0]
            if len(d):
                blocks.append(usage_block(line, cal, d, line.qty[d], size))
    return blocks


def _one(
    cal: Calendar,
    provider: str,
    attrs: dict[str, str | None],
    month: int,
    day: int,
    end_day: int,
    amount: int,
) -> Block:
    a = np.array([amount], dtype=np.int64)
    values = {k: a for k in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")}
    return Block(
        provider,
        attrs,
        np.array([day], dtype=np.int64),
        np.array([end_day], dtype=np.int64),
        np.array([month], dtype=np.int64),
        values,
    )


def _non_usage(
    template: dict[str, str | None], category: str, frequency: str, description: str
) -> dict[str, str | None]:
    keep = (
        "BillingAccountId",
        "BillingAccountName",
        "BillingAccountType",
        "BillingCurrency",
        "InvoiceIssuerName",
        "ProviderName",
        "PublisherName",
        "ServiceCategory",
        "ServiceName",
        "ServiceSubcategory",
        "SubAccountId",
        "SubAccountName",
        "SubAccountType",
    )
    attrs: dict[str, str | None] = {k: template[k] for k in keep}
    attrs.update(
        ChargeCategory=category,
        ChargeFrequency=frequency,
        ChargeDescription=description,
        PricingCurrency="USD",
    )
    return attrs


def _credits_and_refund(lines: Sequence[Line], cal: Calendar) -> list[Block]:
    out = []
    ec2 = next(ln for ln in lines if ln.meter.service == "ec2" and ln.resource.provider == "aws")
    credit = _non_usage(
        base_attrs(ec2.resource, ec2.meter, ec2.resource.size),
        "Credit",
        "One-Time",
        "AWS Activate promotional credit applied to Amazon EC2",
    )
    prod = next(a for a in ACCOUNTS if a.name == "sneakers-prod")
    credit.update(SubAccountId=prod.id, SubAccountName=prod.name)
    n_window_months = len(cal.months) - 1
    for m in range(min(_CREDIT_MONTHS, n_window_months)):
        start, end = cal.month_days(m)
        out.append(_one(cal, "aws", dict(credit), m, start, end, to_units(_CREDIT)))
    if n_window_months >= 2:
        # A refund billed in a later period for a day of the previous one: a Correction.
        month = max(1, n_window_months // 2)
        day = cal.month_days(month - 1)[0] + 9
        bucket = next(ln for ln in lines if ln.resource.name == "stride-product-images")
        attrs = base_attrs(bucket.resource, bucket.meter, None)
        for key in ("PricingUnit", "SkuId", "SkuPriceId", "SkuPriceDetails", "SkuMeter"):
            attrs[key] = None
        attrs.update(
            ChargeClass="Correction",
            ChargeFrequency="One-Time",
            ConsumedUnit=None,
            ChargeDescription="Refund: S3 storage overbilled on "
            f"{cal.days[day].isoformat()} (case 1742-0930)",
        )
        out.append(_one(cal, "aws", attrs, month, day, day + 1, to_units(_REFUND)))
    return out


def _taxes(blocks: Sequence[Block], cal: Calendar) -> list[Block]:
    """Monthly tax per provider, sub-account and service on the billed usage and purchases."""
    n_months = len(cal.months)
    base: dict[tuple[str, str, str], I64] = {}
    template: dict[tuple[str, str, str], dict[str, str | None]] = {}
    for b in blocks:
        if b.attrs.get("ChargeCategory") not in ("Usage", "Purchase") or b.attrs.get("ChargeClass"):
            continue
        key = (b.provider, str(b.attrs["SubAccountId"]), str(b.attrs["ServiceName"]))
        acc = base.setdefault(key, np.zeros(n_months, dtype=np.int64))
        np.add.at(acc, b.month, b.values["BilledCost"])
        template.setdefault(key, b.attrs)
    out = []
    for key in sorted(base):
        provider = key[0]
        rate = Decimal(PROVIDERS[provider].tax_rate)
        attrs = _non_usage(template[key], "Tax", "Recurring", f"Sales tax ({rate * 100:.0f}%)")
        for m in range(n_months):
            total = Decimal(int(base[key][m])).scaleb(-SCALE)
            tax = (total * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            if tax:
                start, end = cal.month_days(m)
                out.append(_one(cal, provider, dict(attrs), m, start, end, to_units(tax)))
    return out


def build_blocks(lines: Sequence[Line], cal: Calendar) -> list[Block]:
    """Every block of the bill over the horizon (window plus the simulated month)."""
    commitment_blocks, consumed = apply_commitments(list(lines), cal)
    blocks = _usage(lines, cal, consumed) + commitment_blocks
    blocks += _credits_and_refund(lines, cal)
    return blocks + _taxes(blocks, cal)
