"""Write small, valid FOCUS 1.2 CSV files from a few fields per row."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from costloop.core.focus import FOCUS_12_COLUMNS
from costloop.core.periods import Month

__all__ = ["charge", "write_focus_csv"]

_FMT = "%Y-%m-%dT%H:%M:%SZ"


def charge(
    day: datetime,
    cost: Decimal | str,
    *,
    account: str = "111111111111",
    billing_account: str = "999999999999",
    service: str = "Amazon Elastic Compute Cloud",
    category: str = "Compute",
    resource_id: str | None = "i-0001",
    tags: Mapping[str, str] | None = None,
    effective: Decimal | str | None = None,
    charge_category: str = "Usage",
    provider: str = "AWS",
    **extra: str,
) -> dict[str, str]:
    """One daily usage charge with every mandatory FOCUS 1.2 column filled."""
    month = Month.of(day)
    billed = Decimal(cost)
    eff = billed if effective is None else Decimal(effective)
    row = {
        "BilledCost": str(billed),
        "EffectiveCost": str(eff),
        "ListCost": str(billed),
        "ContractedCost": str(billed),
        "BillingAccountId": billing_account,
        "BillingAccountName": "payer",
        "BillingCurrency": "USD",
        "BillingPeriodStart": month.start.strftime(_FMT),
        "BillingPeriodEnd": month.end.strftime(_FMT),
        "ChargePeriodStart": day.strftime(_FMT),
        "ChargePeriodEnd": (day + timedelta(days=1)).strftime(_FMT),
        "ChargeCategory": charge_category,
        "ChargeClass": "",
        "ChargeDescription": f"{service} usage",
        "ChargeFrequency": "Usage-Based",
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "PricingQuantity": "24",
        "PricingUnit": "Hours",
        "ProviderName": provider,
        "PublisherName": provider,
        "ServiceCategory": category,
        "ServiceName": service,
        "SubAccountId": account,
        "SubAccountName": f"acct-{account[-4:]}",
        "ResourceId": resource_id or "",
        "RegionId": "us-east-1",
        "Tags": json.dumps(dict(tags)) if tags else "",
    }
    row.update(extra)
    return row


def write_focus_csv(path: Path, rows: Iterable[Mapping[str, str]]) -> Path:
    """Write rows (missing columns empty) as a FOCUS 1.2 CSV with the full header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in FOCUS_12_COLUMNS]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=names, restval="", extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path
