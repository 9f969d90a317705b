"""The AWS CUR → FOCUS 1.2 mapping on tiny hand-written reports (one case per row kind)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from costloop.connectors.native import get_format
from costloop.connectors.native.base import Header
from costloop.core.errors import InputError
from costloop.core.focus import SERVICE_SUBCATEGORIES

from .conftest import run_conversion

D = Decimal
PAYER = "111122223333"
SP = "arn:aws:savingsplans::111122223333:savingsplan/sp-1"
RI = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/ri-1"

LEGACY = [
    "identity/LineItemId",
    "bill/InvoiceId",
    "bill/InvoicingEntity",
    "bill/BillingEntity",
    "bill/BillType",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedRate",
    "lineItem/UnblendedCost",
    "lineItem/LineItemDescription",
    "lineItem/TaxType",
    "lineItem/LegalEntity",
    "product/ProductName",
    "product/regionCode",
    "product/location",
    "product/sku",
    "pricing/RateCode",
    "pricing/publicOnDemandCost",
    "pricing/publicOnDemandRate",
    "pricing/term",
    "pricing/unit",
    "reservation/ReservationARN",
    "reservation/EffectiveCost",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee",
    "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment",
    "resourceTags/user:CostCenter",
    "resourceTags/user:env",
    "resourceTags/aws:createdBy",
    "costCategory/Team",
]


def row(**values: str) -> dict[str, str]:
    """A CUR line with defaults for one November 2023 hour of EC2."""
    base = {
        "identity/LineItemId": "li",
        "bill/InvoiceId": "INV-1",
        "bill/InvoicingEntity": "Amazon Web Services, Inc.",
        "bill/BillingEntity": "AWS",
        "bill/BillType": "Anniversary",
        "bill/PayerAccountId": PAYER,
        "bill/BillingPeriodStartDate": "2023-11-01T00:00:00Z",
        "bill/BillingPeriodEndDate": "2023-12-01T00:00:00Z",
        "lineItem/UsageAccountId": "444455556666",
        "lineItem/LineItemType": "Usage",
        "lineItem/UsageStartDate": "2023-11-05T10:00:00Z",
        "lineItem/UsageEndDate": "2023-11-05T11:00:00Z",
        "lineItem/ProductCode": "AmazonEC2",
        "lineItem/UsageType": "BoxUsage:m5.large",
        "lineItem/Operation": "RunInstances",
        "lineItem/ResourceId": "i-0abc",
        "lineItem/UsageAmount": "1",
        "lineItem/CurrencyCode": "USD",
        "lineItem/UnblendedRate": "0.096",
        "lineItem/UnblendedCost": "0.096",
        "lineItem/LineItemDescription": "m5.large hour",
        "lineItem/LegalEntity": "Amazon Web Services, Inc.",
        "product/ProductName": "Amazon Elastic Compute Cloud",
        "product/regionCode": "us-east-1",
        "product/location": "US East (N. Virginia)",
        "product/sku": "SKU1",
        "pricing/RateCode": "SKU1.JRTCKXETXF.6YS6EN2CT7",
        "pricing/publicOnDemandCost": "0.096",
        "pricing/publicOnDemandRate": "0.096",
        "pricing/term": "OnDemand",
        "pricing/unit": "Hrs",
    }
    base.update(values)
    return base


def convert(lines: Sequence[dict[str, str]], header: Sequence[str] = LEGACY) -> Any:
    rows = [[line.get(c) or None for c in header] for line in lines]
    return run_conversion("aws-cur", header, rows, file="cur.csv")


def by_type(out: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["x_LineItemType"]: r for r in out}


def test_usage_row_maps_every_mandatory_column() -> None:
    _, out, _ = convert(
        [row(**{"resourceTags/user:CostCenter": "CC-7", "resourceTags/aws:createdBy": "me"})]
    )
    (r,) = out
    assert r["BillingAccountId"] == PAYER and r["SubAccountId"] == "444455556666"
    assert r["BillingPeriodStart"] == datetime(2023, 11, 1)
    assert r["BillingPeriodEnd"] == datetime(2023, 12, 1)
    assert r["ChargePeriodStart"] == datetime(2023, 11, 5, 10)
    assert (r["ChargeCategory"], r["ChargeFrequency"], r["PricingCategory"]) == (
        "Usage",
        "Usage-Based",
        "Standard",
    )
    assert r["BilledCost"] == r["EffectiveCost"] == r["ListCost"] == r["ContractedCost"]
    assert r["BilledCost"] == D("0.096")
    assert (r["PricingQuantity"], r["PricingUnit"]) == (D(1), "Hours")
    assert (r["ServiceName"], r["ServiceCategory"], r["ServiceSubcategory"]) == (
        "Amazon Elastic Compute Cloud",
        "Compute",
        "Virtual Machines",
    )
    assert (r["RegionId"], r["RegionName"]) == ("us-east-1", "US East (N. Virginia)")
    assert json.loads(r["Tags"]) == {"CostCenter": "CC-7", "aws:createdBy": "me"}
    assert r["x_TagsNormalized"] == {"costcenter": "CC-7", "aws:createdby": "me"}
    assert r["ProviderName"] == r["PublisherName"] == "AWS"
    assert r["InvoiceIssuerName"] == "Amazon Web Services, Inc."
    assert r["x_SourceRow"] == 1 and r["x_UsageType"] == "BoxUsage:m5.large"


def test_savings_plan_negation_merges_into_covered_usage() -> None:
    covered = row(
        **{
            "lineItem/LineItemType": "SavingsPlanCoveredUsage",
            "lineItem/UnblendedCost": "0.096",
            "savingsPlan/SavingsPlanARN": SP,
            "savingsPlan/SavingsPlanEffectiveCost": "0.062",
        }
    )
    negation = row(
        **{
            "lineItem/LineItemType": "SavingsPlanNegation",
            "lineItem/UnblendedCost": "-0.096",
            "pricing/publicOnDemandCost": "",
            "savingsPlan/SavingsPlanARN": SP,
        }
    )
    _, out, totals = convert([covered, negation])
    assert [r["x_LineItemType"] for r in out] == ["SavingsPlanCoveredUsage"]
    (r,) = out
    assert r["BilledCost"] == 0 and r["EffectiveCost"] == D("0.062")
    assert r["ListCost"] == D("0.096") and r["ContractedCost"] == D("0.096")
    assert (r["PricingCategory"], r["CommitmentDiscountStatus"]) == ("Committed", "Used")
    assert (r["CommitmentDiscountId"], r["CommitmentDiscountType"]) == (SP, "Savings Plan")
    assert r["CommitmentDiscountCategory"] == "Spend"
    assert totals[("lineItem/UnblendedCost", "BilledCost")] == 0


def test_unpaired_covered_usage_keeps_its_cost_in_a_residual_row() -> None:
    covered = row(
        **{
            "lineItem/LineItemType": "SavingsPlanCoveredUsage",
            "savingsPlan/SavingsPlanARN": SP,
            "savingsPlan/SavingsPlanEffectiveCost": "0.062",
        }
    )
    _, out, totals = convert([covered])
    kinds = by_type(out)
    assert set(kinds) == {"SavingsPlanCoveredUsage", "SavingsPlanCoverageResidual"}
    residual = kinds["SavingsPlanCoverageResidual"]
    assert residual["BilledCost"] == D("0.096") and residual["EffectiveCost"] == 0
    assert residual["CommitmentDiscountId"] == SP and residual["x_SourceRow"] == 1
    assert sum(r["BilledCost"] for r in out) == totals[("lineItem/UnblendedCost", "BilledCost")]


def test_recurring_fees_split_into_purchase_and_unused_rows() -> None:
    sp_fee = row(
        **{
            "lineItem/LineItemType": "SavingsPlanRecurringFee",
            "lineItem/UnblendedCost": "10.00",
            "lineItem/ResourceId": "",
            "pricing/publicOnDemandCost": "",
            "savingsPlan/SavingsPlanARN": SP,
            "savingsPlan/TotalCommitmentToDate": "10.00",
            "savingsPlan/UsedCommitment": "7.25",
        }
    )
    ri_fee = row(
        **{
            "lineItem/LineItemType": "RIFee",
            "lineItem/UnblendedCost": "30.00",
            "pricing/publicOnDemandCost": "",
            "reservation/ReservationARN": RI,
            "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "1.50",
            "reservation/UnusedRecurringFee": "2.25",
        }
    )
    _, out, totals = convert([sp_fee, ri_fee])
    kinds = by_type(out)
    purchase = kinds["SavingsPlanRecurringFee"]
    assert (purchase["ChargeCategory"], purchase["ChargeFrequency"]) == ("Purchase", "Recurring")
    assert purchase["BilledCost"] == D(10) and purchase["EffectiveCost"] == 0
    assert purchase["ResourceId"] == SP and purchase["CommitmentDiscountStatus"] is None
    unused = kinds["SavingsPlanRecurringFee/Unused"]
    assert (unused["ChargeCategory"], unused["CommitmentDiscountStatus"]) == ("Usage", "Unused")
    assert unused["BilledCost"] == 0 and unused["EffectiveCost"] == D("2.75")
    assert unused["x_SourceRow"] == purchase["x_SourceRow"] == 1
    assert kinds["RIFee/Unused"]["EffectiveCost"] == D("3.75")
    assert kinds["RIFee/Unused"]["CommitmentDiscountCategory"] == "Usage"
    assert sum(r["EffectiveCost"] for r in out) == D("6.50")
    assert totals[("amortized cost (AWS formula)", "EffectiveCost")] == D("6.50")
    assert sum(r["BilledCost"] for r in out) == D(40)


def test_ri_covered_usage_and_upfront_fee() -> None:
    used = row(
        **{
            "lineItem/LineItemType": "DiscountedUsage",
            "lineItem/UnblendedCost": "0",
            "reservation/ReservationARN": RI,
            "reservation/EffectiveCost": "0.058",
        }
    )
    upfront = row(
        **{
            "lineItem/LineItemType": "Fee",
            "bill/BillType": "Purchase",
            "lineItem/UnblendedCost": "500",
            "pricing/publicOnDemandCost": "",
            "reservation/ReservationARN": RI,
        }
    )
    _, out, _ = convert([used, upfront])
    kinds = by_type(out)
    u = kinds["DiscountedUsage"]
    assert u["BilledCost"] == 0 and u["EffectiveCost"] == D("0.058")
    assert u["ListCost"] == D("0.096") and u["ContractedCost"] == D("0.096")
    assert (u["CommitmentDiscountType"], u["CommitmentDiscountStatus"]) == (
        "Reserved Instance",
        "Used",
    )
    fee = kinds["Fee"]
    assert (fee["ChargeCategory"], fee["ChargeFrequency"]) == ("Purchase", "One-Time")
    assert fee["BilledCost"] == D(500) and fee["EffectiveCost"] == 0


@pytest.mark.parametrize(
    ("kind", "start", "tax", "category", "klass"),
    [
        ("Tax", "2023-11-01T00:00:00Z", "VAT", "Tax", None),
        ("Credit", "2023-11-01T00:00:00Z", None, "Credit", None),
        ("Refund", "2023-10-03T00:00:00Z", None, "Usage", "Correction"),
        ("Refund", "2023-10-01T00:00:00Z", "VAT", "Tax", "Correction"),
        ("EdpDiscount", "2023-11-05T10:00:00Z", None, "Credit", None),
    ],
)
def test_adjustment_rows(
    kind: str, start: str, tax: str | None, category: str, klass: str | None
) -> None:
    line = row(
        **{
            "lineItem/LineItemType": kind,
            "lineItem/UsageStartDate": start,
            "lineItem/UsageEndDate": "2023-12-01T00:00:00Z",
            "lineItem/UnblendedCost": "-4.20" if kind != "Tax" else "4.20",
            "lineItem/TaxType": tax or "",
            "pricing/publicOnDemandCost": "",
            "pricing/publicOnDemandRate": "",
            "lineItem/UsageAmount": "",
        }
    )
    _, (r,), _ = convert([line])
    assert (r["ChargeCategory"], r["ChargeClass"]) == (category, klass)
    assert r["BilledCost"] == r["EffectiveCost"] == r["ListCost"] == r["ContractedCost"]
    assert r["PricingQuantity"] is None and r["PricingUnit"] is None
    if category in ("Tax", "Credit"):
        assert r["PricingCategory"] is None


def test_net_columns_drive_billed_and_effective_cost() -> None:
    header = [*LEGACY, "lineItem/NetUnblendedCost", "reservation/NetEffectiveCost"]
    lines = [
        row(**{"lineItem/NetUnblendedCost": "0.086"}),
        row(
            **{
                "lineItem/LineItemType": "DiscountedUsage",
                "lineItem/UnblendedCost": "0",
                "lineItem/NetUnblendedCost": "0",
                "reservation/ReservationARN": RI,
                "reservation/EffectiveCost": "0.058",
                "reservation/NetEffectiveCost": "0.052",
            }
        ),
    ]
    conversion, out, totals = convert(lines, header)
    assert [r["BilledCost"] for r in out] == [D("0.086"), 0]
    assert [r["EffectiveCost"] for r in out] == [D("0.086"), D("0.052")]
    assert out[0]["ListCost"] == D("0.096")
    assert totals[("lineItem/NetUnblendedCost", "BilledCost")] == D("0.086")
    assert any("Net columns" in n for n in conversion.notes)


def test_spot_usage_is_dynamic_pricing() -> None:
    _, (r,), _ = convert([row(**{"lineItem/UsageType": "SpotUsage:m5.large"})])
    assert r["PricingCategory"] == "Dynamic"


def test_snake_case_and_cur2_map_columns() -> None:
    header = [
        "bill_payer_account_id",
        "bill_payer_account_name",
        "bill_billing_period_start_date",
        "bill_billing_period_end_date",
        "line_item_usage_account_id",
        "line_item_usage_account_name",
        "line_item_line_item_type",
        "line_item_usage_start_date",
        "line_item_usage_end_date",
        "line_item_product_code",
        "line_item_currency_code",
        "line_item_unblended_cost",
        "line_item_usage_amount",
        "pricing_public_on_demand_cost",
        "pricing_unit",
        "product",
        "product_region_code",
        "resource_tags",
        "cost_category",
        "savings_plan_savings_plan_a_r_n",
        "savings_plan_savings_plan_effective_cost",
    ]
    product = json.dumps({"product_name": "AWS Lambda", "location": "EU (Ireland)"})
    tags = json.dumps({"user_cost_center": "cc-1", "aws_created_by": "x", "user_empty": ""})
    rows = [
        [
            PAYER,
            "Payer",
            "2024-03-01 00:00:00",
            "2024-04-01 00:00:00",
            "444455556666",
            "prod",
            "SavingsPlanCoveredUsage",
            "2024-03-02 00:00:00",
            "2024-03-02 01:00:00",
            "AWSLambda",
            "EUR",
            "0.50",
            "1000",
            "0.50",
            "Lambda-GB-Second",
            product,
            "eu-west-1",
            tags,
            json.dumps({"team": "payments"}),
            SP,
            "0.40",
        ]
    ]
    _, out, _ = run_conversion("aws-cur", header, rows)
    r = by_type(out)["SavingsPlanCoveredUsage"]
    assert (r["ServiceName"], r["ServiceSubcategory"]) == ("AWS Lambda", "Serverless Compute")
    assert (r["RegionId"], r["RegionName"]) == ("eu-west-1", "EU (Ireland)")
    assert json.loads(r["Tags"]) == {"cost_center": "cc-1", "aws:created_by": "x"}
    assert json.loads(r["x_CostCategories"]) == {"team": "payments"}
    assert (r["BillingAccountName"], r["SubAccountName"]) == ("Payer", "prod")
    assert r["CommitmentDiscountId"] == SP and r["EffectiveCost"] == D("0.40")
    assert r["BillingCurrency"] == "EUR"


def test_bad_number_names_the_native_column_and_row() -> None:
    import duckdb

    with pytest.raises(duckdb.Error, match=r"row 2 column lineItem/UnblendedCost"):
        convert([row(), row(**{"lineItem/UnblendedCost": "12,5"})])


def test_missing_columns_are_all_named() -> None:
    fmt = get_format("aws-cur")
    header = [c for c in LEGACY if c not in ("bill/PayerAccountId", "lineItem/CurrencyCode")]
    with pytest.raises(InputError, match=r"bill/PayerAccountId; lineItem/CurrencyCode"):
        fmt.convert(Header(header, "cur.csv", fmt.key))


def test_detection_claims_cur_layouts_only() -> None:
    fmt = get_format("aws-cur")
    assert fmt.score(Header(LEGACY, "f", fmt.key)) > 0
    snake = ["line_item_unblended_cost", "line_item_line_item_type"]
    assert fmt.score(Header(snake, "f", fmt.key)) > 0
    assert fmt.score(Header(["BilledCost", "ChargePeriodStart"], "f", fmt.key)) == 0


def test_category_tables_are_consistent_with_focus() -> None:
    from costloop.connectors.native.aws_cur import _categories

    for category, sub in _categories().values():
        assert SERVICE_SUBCATEGORIES[sub] == category
