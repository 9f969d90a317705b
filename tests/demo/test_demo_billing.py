"""The demo bill is FOCUS 1.2 shaped, exact, and carries commitments, credits and tax."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from decimal import Decimal

from demo_helpers import TEAM_KEYS, read_csv, tags

from costloop.core.focus import ALLOWED_VALUES, COLUMNS, MONEY_COLUMNS, DataType
from costloop.demo import EstateManifest

FOCUS_12 = [c.name for c in COLUMNS if c.since != "1.3"]
DECIMALS = [c.name for c in COLUMNS if c.dtype is DataType.DECIMAL and c.since != "1.3"]
DATETIMES = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"]
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d{1,10})?$")


def test_one_file_per_provider_and_month_with_the_focus_12_header(estate: EstateManifest) -> None:
    names = sorted(p.relative_to(estate.out).as_posix() for p in estate.billing_files)
    expected = sorted(
        f"billing/{provider}/{month}.csv"
        for provider in ("aws", "azure", "gcp")
        for month in ("2026-08", "2026-09", "2026-10")
    )
    assert names == expected
    for path in estate.billing_files:
        header = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert header.split(",") == FOCUS_12


def test_datetimes_money_and_mandatory_costs(billing: list[dict[str, str]]) -> None:
    assert len(billing) > 20_000
    for row in billing:
        for name in DATETIMES:
            assert STAMP.match(row[name]), (name, row[name])
        for name in MONEY_COLUMNS:
            assert row[name] != "", (name, row)
        for name in DECIMALS:
            if row[name]:
                assert PLAIN_DECIMAL.match(row[name]), (name, row[name])
                Decimal(row[name])
        assert row["ChargeCategory"] in ALLOWED_VALUES["ChargeCategory"]
        assert row["ServiceCategory"] in ALLOWED_VALUES["ServiceCategory"]
        assert row["BillingPeriodStart"] <= row["ChargePeriodStart"] or row["ChargeClass"]


def test_unit_prices_times_quantity_equal_costs(billing: list[dict[str, str]]) -> None:
    checked = 0
    for row in billing:
        if row["ListUnitPrice"] and row["PricingQuantity"] and not row["ChargeClass"]:
            qty = Decimal(row["PricingQuantity"])
            assert Decimal(row["ListUnitPrice"]) * qty == Decimal(row["ListCost"])
            assert Decimal(row["ContractedUnitPrice"]) * qty == Decimal(row["ContractedCost"])
            checked += 1
    assert checked > 0.9 * len(billing)


def test_ec2_list_prices_are_the_public_on_demand_prices(billing: list[dict[str, str]]) -> None:
    prices: dict[str, set[Decimal]] = defaultdict(set)
    for row in billing:
        usage = json.loads(row["SkuPriceDetails"] or "{}").get("x_UsageType", "")
        if usage.startswith("BoxUsage:"):
            prices[usage.removeprefix("BoxUsage:")].add(Decimal(row["ListUnitPrice"]))
    # ec2instances.info, Linux on-demand us-east-1; covered rows keep the on-demand price.
    assert prices["m5.2xlarge"] == {Decimal("0.384")}
    assert prices["m5.xlarge"] == {Decimal("0.192")}
    assert prices["r5.2xlarge"] == {Decimal("0.504")}


def test_each_commitment_amortizes_exactly_its_purchases_per_month(
    billing: list[dict[str, str]],
) -> None:
    bought: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    used: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in billing:
        cid = row["CommitmentDiscountId"]
        if not cid:
            continue
        key = (cid, row["BillingPeriodStart"])
        if row["ChargeCategory"] == "Purchase":
            assert row["ChargeFrequency"] == "Recurring"
            assert Decimal(row["EffectiveCost"]) == 0
            assert row["ResourceId"] == cid
            bought[key] += Decimal(row["BilledCost"])
        else:
            assert row["ChargeCategory"] == "Usage"
            assert row["PricingCategory"] == "Committed"
            assert Decimal(row["BilledCost"]) == 0
            status = row["CommitmentDiscountStatus"]
            if status == "Unused":
                assert row["ResourceId"] == cid and row["ConsumedQuantity"] == ""
            used[(*key, status)] += Decimal(row["EffectiveCost"])
    assert {c for c, _ in bought} == {c for c, _, _ in used} and len({c for c, _ in bought}) == 2
    for key, total in bought.items():
        assert used[(*key, "Used")] + used[(*key, "Unused")] == total
    categories = {r["CommitmentDiscountCategory"] for r in billing if r["CommitmentDiscountId"]}
    assert categories == {"Spend", "Usage"}
    # The reservation outlived one of the databases it was bought for.
    assert any(status == "Unused" for (_, _, status) in used)


def test_credits_tax_and_a_correction(billing: list[dict[str, str]]) -> None:
    by_category = defaultdict(list)
    for row in billing:
        by_category[row["ChargeCategory"]].append(row)
    assert by_category["Credit"]
    assert all(Decimal(r["BilledCost"]) < 0 for r in by_category["Credit"])
    taxes = by_category["Tax"]
    assert {r["ProviderName"] for r in taxes} == {"AWS", "Microsoft", "Google Cloud"}
    for r in taxes:
        assert r["PricingQuantity"] == "" and r["ListUnitPrice"] == "" and r["SkuId"] == ""
        assert r["ChargePeriodStart"] == r["BillingPeriodStart"]
        assert r["ChargePeriodEnd"] == r["BillingPeriodEnd"]
    corrections = [r for r in billing if r["ChargeClass"] == "Correction"]
    assert len(corrections) == 1
    refund = corrections[0]
    assert refund["ChargePeriodStart"] < refund["BillingPeriodStart"]
    assert Decimal(refund["BilledCost"]) < 0


def test_invoice_per_billing_account_and_month(estate: EstateManifest) -> None:
    for path in estate.billing_files:
        rows = read_csv(path)
        assert len({(r["BillingAccountId"], r["InvoiceId"]) for r in rows}) == 1
        assert rows[0]["InvoiceId"].endswith(path.stem)


def test_about_a_quarter_of_the_cost_has_no_team_tag(billing: list[dict[str, str]]) -> None:
    total = untagged = Decimal(0)
    keys: set[str] = set()
    values: set[str] = set()
    for row in billing:
        cost = Decimal(row["EffectiveCost"])
        t = tags(row)
        found = TEAM_KEYS & set(t)
        keys |= found
        values |= {str(t[k]) for k in found}
        total += cost
        untagged += cost if not found else 0
    assert Decimal("0.15") <= untagged / total <= Decimal("0.35")
    assert keys == TEAM_KEYS
    assert {"checkout", "Checkout", "check-out", "chekout"} <= values
