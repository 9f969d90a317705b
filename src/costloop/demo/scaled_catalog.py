"""Synthetic resource meters ("templates") that the scaled generator draws rows from."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from costloop.core.periods import Month
from costloop.demo.company import PROVIDERS, TEAMS
from costloop.demo.focusfile import FOCUS_12

__all__ = ["Templates", "build_templates"]

I64 = npt.NDArray[np.int64]

# provider, service, category, subcategory, resource type, unit, prices ($, <= 6 places),
# typical daily quantity, fixed (24 h), id prefix
_SERVICES = (
    (
        "aws",
        "Amazon Elastic Compute Cloud",
        "Compute",
        "Virtual Machines",
        "Virtual Machine",
        "Hours",
        ("0.0416", "0.096", "0.192", "0.384", "0.17", "0.34", "0.252", "0.504"),
        24.0,
        True,
        "i-0",
    ),
    (
        "aws",
        "Amazon Elastic Block Store",
        "Storage",
        "Block Storage",
        "Volume",
        "GB-Months",
        ("0.08", "0.1", "0.125"),
        6.0,
        False,
        "vol-0",
    ),
    (
        "aws",
        "Amazon Simple Storage Service",
        "Storage",
        "Object Storage",
        "Bucket",
        "GB-Months",
        ("0.023", "0.0125", "0.004"),
        400.0,
        False,
        "stride-bucket-",
    ),
    (
        "aws",
        "Amazon Relational Database Service",
        "Databases",
        "Relational Databases",
        "Database Instance",
        "Hours",
        ("0.072", "0.178", "0.25", "0.5"),
        24.0,
        True,
        "db-",
    ),
    (
        "aws",
        "AWS Lambda",
        "Compute",
        "Serverless Compute",
        "Function",
        "GB-Seconds",
        ("0.000016",),
        90000.0,
        False,
        "fn-",
    ),
    (
        "aws",
        "Amazon CloudWatch",
        "Management and Governance",
        "Observability",
        "Log Group",
        "GB",
        ("0.5",),
        8.0,
        False,
        "lg-",
    ),
    (
        "aws",
        "AWS Data Transfer",
        "Networking",
        "Network Connectivity",
        "Virtual Machine",
        "GB",
        ("0.09", "0.02", "0.01"),
        60.0,
        False,
        "i-0",
    ),
    (
        "azure",
        "Virtual Machines",
        "Compute",
        "Virtual Machines",
        "Virtual Machine",
        "Hours",
        ("0.096", "0.192", "0.384"),
        24.0,
        True,
        "vm-",
    ),
    (
        "azure",
        "Storage Accounts",
        "Storage",
        "Storage Platforms",
        "Storage Account",
        "GB-Months",
        ("0.0184", "0.01"),
        300.0,
        False,
        "st",
    ),
    (
        "gcp",
        "Compute Engine",
        "Compute",
        "Virtual Machines",
        "Virtual Machine",
        "Hours",
        ("0.067011", "0.194236"),
        24.0,
        True,
        "gce-",
    ),
    (
        "gcp",
        "BigQuery",
        "Databases",
        "Data Warehouses",
        "Dataset",
        "TiB",
        ("6.25",),
        0.8,
        False,
        "ds_",
    ),
)
_BILLING = (("aws", 3, 12), ("azure", 2, 6), ("gcp", 1, 8))  # provider, accounts, subs each
_TAG_KEYS = ("team", "team", "team", "Team", "TEAM", "owner-team")


@dataclass
class Templates:
    """Column texts and numeric parameters of every template, plus the calendar."""

    count: int
    weights: npt.NDArray[np.float64]
    text: dict[str, list[str]]
    months: list[Month]
    month_first: I64
    month_days: I64
    period_text: pa.Array
    day_text: pa.Array
    invoice_text: pa.Array
    account: I64
    typical: npt.NDArray[np.float64]
    fixed: npt.NDArray[np.bool_]
    list_price: I64
    contracted_price: I64
    commit_rate: I64
    committed: npt.NDArray[np.bool_]


def _csv(value: str) -> str:
    if any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _money(micros: int) -> str:
    whole, frac = divmod(micros, 10**6)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def _accounts(rng: np.random.Generator) -> list[tuple[str, str, str, str]]:
    """(provider, billing account id, sub-account id, sub-account name)."""
    out = []
    for provider, n_accounts, n_subs in _BILLING:
        for a in range(n_accounts):
            billing = f"{rng.integers(10**11, 10**12)}" if provider == "aws" else f"BA-{a:04d}"
            for s in range(n_subs):
                sub = f"{rng.integers(10**11, 10**12)}" if provider == "aws" else f"sub-{a}-{s:02d}"
                out.append((provider, billing, sub, f"{provider}-{a}-{s:02d}"))
    return out


def build_templates(seed: int, start: Month, months: int, rows: int) -> Templates:
    """Draw the template catalogue: more rows, more distinct resources."""
    rng = np.random.default_rng([seed, 99])
    count = int(min(max(rows // 400, 300), 60_000))
    accounts = _accounts(rng)
    billing_ids = sorted({(a[0], a[1]) for a in accounts})
    text: dict[str, list[str]] = {name: [] for name in FOCUS_12}
    params: dict[str, list[float | int | bool]] = {
        k: [] for k in ("account", "typical", "fixed", "list", "contracted", "rate", "committed")
    }
    teams = [t.name for t in TEAMS]
    for k in range(count):
        svc = _SERVICES[int(rng.integers(len(_SERVICES)))]
        provider, name, cat, sub, rtype, unit, prices, typical, fixed, prefix = svc
        candidates = [a for a in accounts if a[0] == provider]
        acct = candidates[int(rng.integers(len(candidates)))]
        info = PROVIDERS[provider]
        price = round(float(prices[int(rng.integers(len(prices)))]) * 10**6)
        committed = bool(fixed and provider == "aws" and rng.random() < 0.35)
        contracted = price * 94 // 100 if provider == "azure" else price
        rid = f"{prefix}{rng.integers(16**15):015x}"
        tags: dict[str, str] = {}
        if rng.random() > 0.25:
            tags[_TAG_KEYS[int(rng.integers(len(_TAG_KEYS)))]] = teams[int(rng.integers(6))]
            tags["env"] = ("prod", "staging", "dev")[int(rng.integers(3))]
        row = {
            "AvailabilityZone": "",
            "BillingAccountId": acct[1],
            "BillingAccountName": f"{info.billing_account_name} {acct[1][-4:]}",
            "BillingAccountType": info.billing_account_type,
            "BillingCurrency": "USD",
            "CapacityReservationId": "",
            "CapacityReservationStatus": "",
            "ChargeCategory": "Usage",
            "ChargeClass": "",
            "ChargeDescription": _csv(f"{name} usage, {unit} at ${_money(price)}"),
            "ChargeFrequency": "Usage-Based",
            "CommitmentDiscountCategory": "Usage" if committed else "",
            "CommitmentDiscountId": f"ri-{acct[2]}-{price}" if committed else "",
            "CommitmentDiscountName": "Reserved capacity" if committed else "",
            "CommitmentDiscountStatus": "Used" if committed else "",
            "CommitmentDiscountType": "Reserved Instance" if committed else "",
            "CommitmentDiscountUnit": "Hours" if committed else "",
            "ConsumedUnit": unit,
            "ContractedUnitPrice": _money(contracted),
            "InvoiceIssuerName": _csv(info.issuer),
            "ListUnitPrice": _money(price),
            "PricingCategory": "Committed" if committed else "Standard",
            "PricingCurrency": "USD",
            "PricingCurrencyContractedUnitPrice": _money(contracted),
            "PricingCurrencyListUnitPrice": _money(price),
            "PricingUnit": unit,
            "ProviderName": info.name,
            "PublisherName": info.name,
            "RegionId": "us-east-1",
            "RegionName": "US East (N. Virginia)",
            "ResourceId": rid,
            "ResourceName": f"{rtype.lower().replace(' ', '-')}-{k}",
            "ResourceType": rtype,
            "ServiceCategory": cat,
            "ServiceName": name,
            "ServiceSubcategory": sub,
            "SkuId": f"SKU{zlib.crc32(f'{name}/{price}'.encode()):010d}",
            "SkuMeter": unit,
            "SkuPriceDetails": "",
            "SkuPriceId": f"P{k:08d}",
            "SubAccountId": acct[2],
            "SubAccountName": acct[3],
            "SubAccountType": info.sub_account_type,
            "Tags": _csv(json.dumps(tags, separators=(",", ":"))) if tags else "",
        }
        for column in text:
            text[column].append(row.get(column, ""))
        params["account"].append(billing_ids.index((acct[0], acct[1])))
        params["typical"].append(typical * 10**4)
        params["fixed"].append(fixed)
        params["list"].append(price)
        params["contracted"].append(contracted)
        params["rate"].append(price * 7 // 10)
        params["committed"].append(committed)
    weights = rng.lognormal(0.0, 1.0, count)
    month_list = [start]
    for _ in range(months - 1):
        month_list.append(month_list[-1].next())
    first_day = start.start.date()
    days_total = (month_list[-1].end.date() - first_day).days
    day_stamps = [first_day + timedelta(days=i) for i in range(days_total + 1)]
    return Templates(
        count=count,
        weights=weights / weights.sum(),
        text=text,
        months=month_list,
        month_first=np.array([(m.start.date() - first_day).days for m in month_list]),
        month_days=np.array([(m.end - m.start).days for m in month_list]),
        period_text=pa.array([f"{m.next()}-01T00:00:00Z,{m}-01T00:00:00Z" for m in month_list]),
        day_text=pa.array(
            [
                f"{b.isoformat()}T00:00:00Z,{a.isoformat()}T00:00:00Z"
                for a, b in pairwise(day_stamps)
            ]
        ),
        invoice_text=pa.array([f"INV-{b[1]}-{m}" for b in billing_ids for m in month_list]),
        account=np.array(params["account"], dtype=np.int64),
        typical=np.array(params["typical"], dtype=np.float64),
        fixed=np.array(params["fixed"], dtype=np.bool_),
        list_price=np.array(params["list"], dtype=np.int64),
        contracted_price=np.array(params["contracted"], dtype=np.int64),
        commit_rate=np.array(params["rate"], dtype=np.int64),
        committed=np.array(params["committed"], dtype=np.bool_),
    )
