"""Golden tests of the Azure cost details mapping on tiny hand-written exports."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.connectors.native.conftest import run_conversion

from costloop.connectors.native import Header, detect_format, get_format
from costloop.connectors.native.azure import _lookups, _mul
from costloop.core.errors import InputError
from costloop.core.focus import ALLOWED_VALUES, SERVICE_SUBCATEGORIES

FMT = "azure-cost-details"
D = Decimal

# An EA actual/amortized cost details export (PascalCase, as downloaded from the portal).
EA = (
    "BillingAccountId",
    "BillingAccountName",
    "BillingPeriodStartDate",
    "BillingPeriodEndDate",
    "BillingProfileId",
    "BillingProfileName",
    "SubscriptionId",
    "SubscriptionName",
    "Date",
    "ProductName",
    "MeterId",
    "MeterCategory",
    "MeterSubCategory",
    "MeterName",
    "Quantity",
    "EffectivePrice",
    "CostInBillingCurrency",
    "UnitPrice",
    "PayGPrice",
    "BillingCurrencyCode",
    "ResourceLocation",
    "ConsumedService",
    "ResourceId",
    "ResourceName",
    "ResourceGroup",
    "Tags",
    "UnitOfMeasure",
    "ReservationId",
    "ReservationName",
    "PublisherType",
    "PublisherName",
    "ChargeType",
    "Frequency",
    "PricingModel",
    "BenefitId",
    "BenefitName",
    "CostCenter",
)
SUB = "1caaa5a3-2b66-438e-8ab4-bce37d518c5d"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-1"
RI = (
    "/providers/Microsoft.Capacity/reservationOrders/a965d46f-aedf-4176-8ff1-2617943b8960"
    "/reservations/f39d1c73-af74-4308-9083-fbf5efab37d1"
)
SP = (
    "/providers/Microsoft.BillingBenefits/savingsPlanOrders/802a9e8b-e860-4d5f-b63b-"
    "c5bdf7ee2446/savingsPlans/09ff8291-64ac-45fb-afed-b9b39dbd88d7"
)
USAGE: dict[str, str | None] = {
    "BillingAccountId": "8611537",
    "BillingAccountName": "Trey Research",
    "BillingPeriodStartDate": "09/01/2023",
    "BillingPeriodEndDate": "09/30/2023",
    "BillingProfileId": "8611537",
    "BillingProfileName": "Trey Research",
    "SubscriptionId": SUB,
    "SubscriptionName": "Research",
    "Date": "09/04/2023",
    "ProductName": "Virtual Machines D2 v3 - US South Central",
    "MeterId": "ec8c7b49-9790-4261-b46f-293dabb53fd9",
    "MeterCategory": "Virtual Machines",
    "MeterSubCategory": "Dv3/DSv3 Series",
    "MeterName": "D2 v3/D2s v3",
    "Quantity": "24",
    "EffectivePrice": "0.11",
    "CostInBillingCurrency": "2.64",
    "UnitPrice": "0.11",
    "PayGPrice": "0.12",
    "BillingCurrencyCode": "USD",
    "ResourceLocation": "SouthCentralUS",
    "ConsumedService": "Microsoft.Compute",
    "ResourceId": VM,
    "ResourceName": "web-1",
    "ResourceGroup": "rg-web",
    "Tags": '{"env":"prod","team":"web"}',
    "UnitOfMeasure": "1 Hour",
    "ReservationId": None,
    "ReservationName": None,
    "PublisherType": "Azure",
    "PublisherName": "Microsoft",
    "ChargeType": "Usage",
    "Frequency": "UsageBased",
    "PricingModel": "OnDemand",
    "BenefitId": None,
    "BenefitName": None,
    "CostCenter": "cc-42",
}
RI_USAGE = {
    "PricingModel": "Reservation",
    "ReservationId": "f39d1c73-af74-4308-9083-fbf5efab37d1",
    "ReservationName": "VM_RI_2023",
    "BenefitId": RI,
    "BenefitName": "VM_RI_2023",
    "PayGPrice": "0",
    "UnitPrice": "0.146",
    "Quantity": "8",
}
RI_PURCHASE = {
    "ChargeType": "Purchase",
    "Frequency": "Recurring",
    "PricingModel": "Reservation",
    "ConsumedService": "Microsoft.Capacity",
    "ResourceId": None,
    "ResourceName": None,
    "ResourceGroup": None,
    "Tags": None,
    "ProductName": "Reserved VM Instance, Standard_D2s_v3, US South Central, 1 Year",
    "Quantity": "1",
    "EffectivePrice": "3.25",
    "CostInBillingCurrency": "3.25",
    "UnitPrice": "3.25",
    "PayGPrice": "0",
    "ReservationId": "a965d46f-aedf-4176-8ff1-2617943b8960",
    "ReservationName": "VM_RI_2023",
    "BenefitId": RI,
    "BenefitName": "VM_RI_2023",
}


def ea(**over: str | None) -> list[str | None]:
    """One EA row: an on-demand VM day unless overridden."""
    unknown = set(over) - set(EA)
    assert not unknown, unknown
    values = {**USAGE, **over}
    return [values[c] for c in EA]


def convert(
    rows: list[list[str | None]], header: tuple[str, ...] = EA
) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """FOCUS rows and native totals keyed by FOCUS column."""
    _, out, totals = run_conversion(FMT, header, rows)
    return out, {focus: total for (_, focus), total in totals.items()}


def pick(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    return {c: row[c] for c in columns}


COSTS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
COMMITMENT = (
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountType",
    "CommitmentDiscountCategory",
    "CommitmentDiscountStatus",
)


def test_on_demand_usage_maps_every_column() -> None:
    (row,), totals = convert([ea()])
    assert pick(row, *(k for k in row if not k.startswith("x_Source"))) == {
        "AvailabilityZone": None,
        "BilledCost": D("2.64"),
        "BillingAccountId": "/providers/Microsoft.Billing/billingAccounts/8611537",
        "BillingAccountName": "Trey Research",
        "BillingAccountType": "Billing Account",
        "BillingCurrency": "USD",
        "BillingPeriodEnd": datetime(2023, 10, 1),
        "BillingPeriodStart": datetime(2023, 9, 1),
        "CapacityReservationId": None,
        "CapacityReservationStatus": None,
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": "Virtual Machines D2 v3 - US South Central",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": datetime(2023, 9, 5),
        "ChargePeriodStart": datetime(2023, 9, 4),
        "CommitmentDiscountCategory": None,
        "CommitmentDiscountId": None,
        "CommitmentDiscountName": None,
        "CommitmentDiscountQuantity": None,
        "CommitmentDiscountStatus": None,
        "CommitmentDiscountType": None,
        "CommitmentDiscountUnit": None,
        "ConsumedQuantity": D(24),
        "ConsumedUnit": "Hours",
        "ContractedCost": D("2.64"),
        "ContractedUnitPrice": D("0.11"),
        "EffectiveCost": D("2.64"),
        "InvoiceId": None,
        "InvoiceIssuerName": "Microsoft",
        "ListCost": D("2.88"),
        "ListUnitPrice": D("0.12"),
        "PricingCategory": "Standard",
        "PricingCurrency": None,
        "PricingCurrencyContractedUnitPrice": None,
        "PricingCurrencyEffectiveCost": None,
        "PricingCurrencyListUnitPrice": None,
        "PricingQuantity": D(24),
        "PricingUnit": "Hours",
        "ProviderName": "Microsoft",
        "PublisherName": "Microsoft",
        "RegionId": "southcentralus",
        "RegionName": "South Central US",
        "ResourceId": VM,
        "ResourceName": "web-1",
        "ResourceType": "Microsoft.Compute/virtualMachines",
        "ServiceCategory": "Compute",
        "ServiceName": "Virtual Machines",
        "ServiceSubcategory": "Virtual Machines",
        "SkuId": "ec8c7b49-9790-4261-b46f-293dabb53fd9",
        "SkuMeter": "D2 v3/D2s v3",
        "SkuPriceDetails": None,
        "SkuPriceId": "ec8c7b49-9790-4261-b46f-293dabb53fd9",
        "SubAccountId": f"/subscriptions/{SUB}",
        "SubAccountName": "Research",
        "SubAccountType": "Subscription",
        "Tags": '{"env":"prod","team":"web"}',
        "AllocatedMethodDetails": None,
        "AllocatedMethodId": None,
        "AllocatedResourceId": None,
        "AllocatedResourceName": None,
        "AllocatedTags": None,
        "ContractApplied": None,
        "HostProviderName": None,
        "ServiceProviderName": None,
        "x_FocusVersion": "1.2",
        "x_TagsNormalized": {"env": "prod", "team": "web"},
        "x_ResourceGroupName": "rg-web",
        "x_PricingUnitDescription": "1 Hour",
        "x_PricingBlockSize": "1",
        "x_AccountName": None,
        "x_AccountOwnerId": None,
        "x_BillingAccountId": "8611537",
        "x_BillingAccountName": "Trey Research",
        "x_BillingProfileId": "8611537",
        "x_BillingProfileName": "Trey Research",
        "x_InvoiceSectionId": None,
        "x_InvoiceSectionName": None,
        "x_CostCenter": "cc-42",
        "x_CostAllocationRuleName": None,
        "x_SubscriptionId": SUB,
        "x_ConsumedService": "Microsoft.Compute",
        "x_MeterId": "ec8c7b49-9790-4261-b46f-293dabb53fd9",
        "x_MeterCategory": "Virtual Machines",
        "x_MeterSubCategory": "Dv3/DSv3 Series",
        "x_MeterName": "D2 v3/D2s v3",
        "x_MeterRegion": None,
        "x_ServiceFamily": None,
        "x_PublisherType": "Azure",
        "x_PartNumber": None,
        "x_OfferId": None,
        "x_PlanName": None,
        "x_ProductOrderId": None,
        "x_ProductOrderName": None,
        "x_Term": None,
        "x_ChargeType": "Usage",
        "x_PricingModel": "OnDemand",
        "x_ReservationId": None,
        "x_EffectiveUnitPrice": "0.11",
        "x_PricingCurrency": None,
        "x_ExchangeRate": None,
        "x_CostInUsd": None,
        "x_CustomerName": None,
        "x_CustomerTenantId": None,
        "x_ResellerName": None,
        "x_IsAzureCreditEligible": None,
        "x_AdditionalInfo": None,
    }
    assert totals == {
        "BilledCost": D("2.64"),
        "EffectiveCost": D("2.64"),
        "ListCost": D("2.88"),
    }


def test_reservation_purchase_is_billed_not_amortized() -> None:
    (row,), totals = convert([ea(**RI_PURCHASE)])
    assert pick(row, "ChargeCategory", "ChargeClass", "ChargeFrequency", "PricingCategory") == {
        "ChargeCategory": "Purchase",
        "ChargeClass": None,
        "ChargeFrequency": "Recurring",
        "PricingCategory": "Standard",
    }
    assert pick(row, *COSTS) == {
        "BilledCost": D("3.25"),
        "EffectiveCost": D(0),
        "ListCost": D("3.25"),  # PayGPrice 0: UnitPrice × Quantity
        "ContractedCost": D("3.25"),
    }
    assert pick(row, *COMMITMENT, "ResourceId", "ResourceName", "ResourceType") == {
        "CommitmentDiscountId": RI,
        "CommitmentDiscountName": "VM_RI_2023",
        "CommitmentDiscountType": "Reservation",
        "CommitmentDiscountCategory": "Usage",
        "CommitmentDiscountStatus": None,
        "ResourceId": RI,
        "ResourceName": "VM_RI_2023",
        "ResourceType": "Microsoft.Capacity/reservationOrders/reservations",
    }
    assert pick(row, "ServiceName", "ServiceCategory", "ServiceSubcategory") == {
        "ServiceName": "Azure Reservations",
        "ServiceCategory": "Management and Governance",
        "ServiceSubcategory": "Cost Management",
    }
    assert row["ConsumedQuantity"] is None
    assert totals["BilledCost"] == D("3.25") and totals["EffectiveCost"] == D(0)


def test_reservation_usage_in_actual_and_amortized_views() -> None:
    """The same covered VM day: 0 in the actual view, its amortized share in the other."""
    (actual,), actual_totals = convert(
        [ea(**RI_USAGE, CostInBillingCurrency="0", EffectivePrice="0")]
    )
    (amortized,), amortized_totals = convert(
        [ea(**RI_USAGE, CostInBillingCurrency="0.493152", EffectivePrice="0.061644")]
    )
    common = {
        "ChargeCategory": "Usage",
        "PricingCategory": "Committed",
        "CommitmentDiscountId": RI,
        "CommitmentDiscountName": "VM_RI_2023",
        "CommitmentDiscountType": "Reservation",
        "CommitmentDiscountCategory": "Usage",
        "CommitmentDiscountStatus": "Used",
        "ResourceId": VM,
        "ListCost": D("1.168"),  # on-demand equivalent: UnitPrice × Quantity
        "ContractedCost": D("1.168"),
        "ConsumedQuantity": D(8),
        "BilledCost": D(0),
    }
    columns = (*common, "EffectiveCost")
    assert pick(actual, *columns) == {**common, "EffectiveCost": D(0)}
    assert pick(amortized, *columns) == {**common, "EffectiveCost": D("0.493152")}
    # Σ cost equals BilledCost in the actual view, EffectiveCost in the amortized view.
    assert actual_totals["BilledCost"] == D(0)
    assert amortized_totals["EffectiveCost"] == D("0.493152")
    assert amortized_totals["BilledCost"] == D(0)


def test_actual_file_total_equals_billed_amortized_file_total_equals_effective() -> None:
    actual_rows = [
        ea(),
        ea(**RI_PURCHASE),
        ea(**RI_USAGE, CostInBillingCurrency="0", EffectivePrice="0"),
    ]
    amortized_rows = [
        ea(),
        ea(**RI_USAGE, CostInBillingCurrency="0.493152", EffectivePrice="0.061644"),
        ea(
            **RI_USAGE | {"Quantity": "16"},
            ChargeType="UnusedReservation",
            CostInBillingCurrency="2.756848",
            ResourceId=None,
        ),
    ]
    _, actual = convert(actual_rows)
    _, amortized = convert(amortized_rows)
    assert actual["BilledCost"] == D("2.64") + D("3.25")
    assert actual["EffectiveCost"] == D("2.64")  # the purchase is amortized elsewhere
    assert amortized["EffectiveCost"] == D("2.64") + D("0.493152") + D("2.756848")
    assert amortized["BilledCost"] == D("2.64")  # the purchase is billed elsewhere


def test_unused_reservation_is_committed_usage_with_status_unused() -> None:
    (row,), _ = convert(
        [
            ea(
                **RI_USAGE | {"Quantity": "16"},
                ChargeType="UnusedReservation",
                CostInBillingCurrency="2.756848",
                ResourceId=None,
                ResourceName=None,
                ConsumedService="Microsoft.Capacity",
            )
        ]
    )
    assert pick(row, "ChargeCategory", "PricingCategory", *COMMITMENT, "ResourceId") == {
        "ChargeCategory": "Usage",
        "PricingCategory": "Committed",
        "CommitmentDiscountId": RI,
        "CommitmentDiscountName": "VM_RI_2023",
        "CommitmentDiscountType": "Reservation",
        "CommitmentDiscountCategory": "Usage",
        "CommitmentDiscountStatus": "Unused",
        "ResourceId": RI,
    }
    assert pick(row, "BilledCost", "EffectiveCost", "ConsumedQuantity", "ConsumedUnit") == {
        "BilledCost": D(0),
        "EffectiveCost": D("2.756848"),
        "ConsumedQuantity": None,
        "ConsumedUnit": None,
    }


def test_savings_plan_usage_and_unused_savings_plan() -> None:
    sp = {
        "PricingModel": "SavingsPlan",
        "BenefitId": SP,
        "BenefitName": "Compute SP",
        "PayGPrice": "0.0416",
        "UnitPrice": "0.0416",
    }
    used, unused = convert(
        [
            ea(**sp, Quantity="0.32085564", CostInBillingCurrency="0.006000000468"),
            ea(
                **sp,
                ChargeType="UnusedSavingsPlan",
                Quantity="1",
                CostInBillingCurrency="0.5",
                ResourceId=None,
                ConsumedService="Microsoft.BillingBenefits",
            ),
        ]
    )[0]
    assert pick(used, *COMMITMENT, "PricingCategory", "BilledCost", "EffectiveCost") == {
        "CommitmentDiscountId": SP,
        "CommitmentDiscountName": "Compute SP",
        "CommitmentDiscountType": "Savings Plan",
        "CommitmentDiscountCategory": "Spend",
        "CommitmentDiscountStatus": "Used",
        "PricingCategory": "Committed",
        "BilledCost": D(0),
        "EffectiveCost": D("0.006000000468"),
    }
    assert used["ListCost"] == D("0.013347594624")  # 0.0416 × 0.32085564, exact
    assert pick(
        unused, "CommitmentDiscountStatus", "CommitmentDiscountType", "ResourceId", "ResourceType"
    ) == {
        "CommitmentDiscountStatus": "Unused",
        "CommitmentDiscountType": "Savings Plan",
        "ResourceId": SP,
        "ResourceType": "Microsoft.BillingBenefits/savingsPlanOrders/savingsPlans",
    }
    assert unused["ServiceName"] == "Azure Savings Plan for Compute"


def test_reservation_refund_is_a_purchase_correction() -> None:
    refund = RI_PURCHASE | {
        "ChargeType": "Refund",
        "Frequency": "OneTime",
        "CostInBillingCurrency": "-120",
        "UnitPrice": "120",
        "Quantity": "-1",
    }
    (row,), totals = convert([ea(**refund)])
    assert pick(row, "ChargeCategory", "ChargeClass", "ChargeFrequency", *COSTS) == {
        "ChargeCategory": "Purchase",
        "ChargeClass": "Correction",
        "ChargeFrequency": "One-Time",
        "BilledCost": D(-120),
        "EffectiveCost": D(0),
        "ListCost": D(-120),
        "ContractedCost": D(-120),
    }
    assert row["CommitmentDiscountId"] == RI and row["ResourceId"] == RI
    assert totals == {"BilledCost": D(-120), "EffectiveCost": D(0), "ListCost": D(-120)}


def test_tax_rows_carry_no_sku_or_pricing() -> None:
    (row,), _ = convert(
        [
            ea(
                ChargeType="Tax",
                Frequency="OneTime",
                PricingModel=None,
                CostInBillingCurrency="1.90",
                Quantity=None,
                UnitPrice=None,
                PayGPrice=None,
                EffectivePrice=None,
                UnitOfMeasure=None,
                ResourceId=None,
                ResourceName=None,
                ConsumedService=None,
                MeterCategory=None,
                ProductName="Tax",
            )
        ]
    )
    assert pick(row, "ChargeCategory", "PricingCategory", *COSTS) == {
        "ChargeCategory": "Tax",
        "PricingCategory": None,
        "BilledCost": D("1.90"),
        "EffectiveCost": D("1.90"),
        "ListCost": D("1.90"),
        "ContractedCost": D("1.90"),
    }
    nulls = ("SkuId", "SkuPriceId", "SkuMeter", "PricingQuantity", "PricingUnit")
    assert pick(row, *nulls, "ListUnitPrice", "ContractedUnitPrice") == dict.fromkeys(
        (*nulls, "ListUnitPrice", "ContractedUnitPrice")
    )
    assert (row["ServiceName"], row["ServiceCategory"]) == ("Microsoft Azure", "Other")


def test_marketplace_charge_keeps_the_vendor_as_publisher() -> None:
    (row,), _ = convert(
        [
            ea(
                PublisherType="Marketplace",
                PublisherName="Canonical",
                ConsumedService="Microsoft.SaaS",
                ResourceId=f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                "Microsoft.SaaS/resources/ubuntu-pro",
                MeterCategory="SaaS",
                ChargeType="Purchase",
                Frequency="Recurring",
                PricingModel=None,
                CostInBillingCurrency="30",
                Quantity="1",
                UnitPrice="30",
                PayGPrice="30",
                UnitOfMeasure="1 /Month",
            )
        ]
    )
    assert pick(
        row, "PublisherName", "ProviderName", "InvoiceIssuerName", "ServiceName", *COSTS
    ) == {
        "PublisherName": "Canonical",
        "ProviderName": "Microsoft",
        "InvoiceIssuerName": "Microsoft",
        "ServiceName": "Azure Marketplace",
        "BilledCost": D(30),
        "EffectiveCost": D(30),  # not a commitment: nothing to amortize
        "ListCost": D(30),
        "ContractedCost": D(30),
    }
    assert (row["ChargeCategory"], row["PricingCategory"], row["x_PublisherType"]) == (
        "Purchase",
        "Standard",
        "Marketplace",
    )
    assert row["CommitmentDiscountId"] is None


def test_spot_usage_is_dynamic() -> None:
    (row,), _ = convert([ea(PricingModel="Spot", MeterName="D2 v3 Spot")])
    assert row["PricingCategory"] == "Dynamic"


MCA = (
    "invoiceId",
    "billingAccountId",
    "billingAccountName",
    "billingProfileId",
    "billingProfileName",
    "billingPeriodStartDate",
    "billingPeriodEndDate",
    "date",
    "subscriptionId",
    "subscriptionName",
    "meterId",
    "meterCategory",
    "meterName",
    "ProductId",
    "product",
    "consumedService",
    "resourceGroupName",
    "ResourceId",
    "resourceLocation",
    "location",
    "quantity",
    "unitOfMeasure",
    "effectivePrice",
    "unitPrice",
    "payGPrice",
    "chargeType",
    "billingCurrency",
    "pricingCurrency",
    "exchangeRatePricingToBilling",
    "costInBillingCurrency",
    "paygCostInBillingCurrency",
    "tags",
    "pricingModel",
    "partnerName",
)
MCA_ACCOUNT = "3c100a8a-215e-5a7e-24b2-61aa86945012:7e5f8a00-2e4d-4a5c-9d8e-0b1c2d3e4f50_2019-05-31"


def test_mca_camel_case_bills_the_billing_profile_in_billing_currency() -> None:
    storage = (
        f"/subscriptions/{SUB}/resourceGroups/RG1/providers/"
        "Microsoft.Storage/storageAccounts/exports"
    )
    (row,), totals = convert(
        [
            [
                "G123456789",
                MCA_ACCOUNT,
                "Contoso",
                "NF5V-BI6B-BG7-PGB",
                "Contoso EUR profile",
                "2023-08-01",
                "2023-08-31",
                "2023-08-14",
                SUB,
                "Dev/Test",
                "469a7d8f-36f1-4a99-a884-6eb97643be2c",
                "Storage",
                "Hot RA-GRS Data Stored",
                "DZH318Z0BNZJ005D",
                "Blob Storage - Hot RA-GRS - US East",
                "Microsoft.Storage",
                "RG1",
                storage,
                "eastus",
                "US East",
                "10",
                "1 GB/Month",
                "0.0589",
                "0.0589",
                "0.0589",
                "Usage",
                "EUR",
                "USD",
                "0.9",
                "0.5301",
                "0.5301",
                '"env": "dev"',
                "OnDemand",
                None,
            ]
        ],
        MCA,
    )
    assert pick(
        row,
        "BillingAccountId",
        "BillingAccountName",
        "BillingAccountType",
        "BillingCurrency",
        "InvoiceId",
        "SkuId",
        "SkuPriceId",
        "ChargeDescription",
        "BillingPeriodEnd",
        "ListUnitPrice",
        "ContractedUnitPrice",
        *COSTS,
        "Tags",
        "x_ResourceGroupName",
        "x_PricingCurrency",
        "x_ExchangeRate",
        "x_BillingAccountId",
    ) == {
        "BillingAccountId": f"/providers/Microsoft.Billing/billingAccounts/{MCA_ACCOUNT}"
        "/billingProfiles/NF5V-BI6B-BG7-PGB",
        "BillingAccountName": "Contoso EUR profile",
        "BillingAccountType": "Billing Profile",
        "BillingCurrency": "EUR",
        "InvoiceId": "G123456789",
        "SkuId": "DZH318Z0BNZJ005D",
        "SkuPriceId": "469a7d8f-36f1-4a99-a884-6eb97643be2c",
        "ChargeDescription": "Blob Storage - Hot RA-GRS - US East",
        "BillingPeriodEnd": datetime(2023, 9, 1),
        "ListUnitPrice": D("0.05301"),  # USD price × exchange rate
        "ContractedUnitPrice": D("0.05301"),
        "BilledCost": D("0.5301"),
        "EffectiveCost": D("0.5301"),
        "ListCost": D("0.5301"),  # paygCostInBillingCurrency
        "ContractedCost": D("0.5301"),
        "Tags": '{"env": "dev"}',
        "x_ResourceGroupName": "RG1",
        "x_PricingCurrency": "USD",
        "x_ExchangeRate": "0.9",
        "x_BillingAccountId": MCA_ACCOUNT,
    }
    assert totals["ListCost"] == D("0.5301")


def test_csp_export_without_billing_account_is_billed_per_subscription() -> None:
    header = ("SubscriptionId", "Date", "MeterCategory", "costInBillingCurrency", "Currency")
    (row,), _ = convert([[SUB, "2023-08-14", "Storage", "1.5", "USD"]], header)
    assert pick(
        row, "BillingAccountId", "BillingAccountType", "BillingPeriodStart", "BillingPeriodEnd"
    ) == {
        "BillingAccountId": f"/subscriptions/{SUB}",
        "BillingAccountType": "Subscription",
        "BillingPeriodStart": datetime(2023, 8, 1),
        "BillingPeriodEnd": datetime(2023, 9, 1),
    }


GERMAN = (
    "Abonnement-GUID (SubscriptionGuid)",
    "Ressourcengruppe (ResourceGroup)",
    "Ressourcenstandort (ResourceLocation)",
    "UsageDateTime (UsageDateTime)",
    "Kategorie der Verbrauchseinheit (MeterCategory)",
    "ID der Verbrauchseinheit (MeterId)",
    "Name der Verbrauchseinheit (MeterName)",
    "UsageQuantity (UsageQuantity)",
    "Ressourcensatz (ResourceRate)",
    "PreTaxCost (PreTaxCost)",
    "Genutzter Dienst (ConsumedService)",
    "ResourceType (ResourceType)",
    "InstanceId (InstanceId)",
    "Tags (Tags)",
    "Currency",
    "Maßeinheit (UnitOfMeasure)",
)


def test_german_v1_headers_read_the_english_name_in_parentheses() -> None:
    lb = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/k8s"
    row_in = [
        SUB,
        "rg",
        "US East",
        "02.02.2021",
        "Load Balancer",
        "27827eb0-7f60-4928-940b-f5fe15e7a4cb",
        "Included LB Rules and Outbound Rules",
        "3",
        "0.025",
        "0.075",
        "Microsoft.Network",
        "Microsoft.Network/loadBalancers",
        lb,
        None,
        "EUR",
        "100 Hours",
    ]
    header = Header(list(GERMAN), "de.csv", get_format(FMT).key)
    assert get_format(FMT).score(header) > 0
    (row,), totals = convert([row_in], GERMAN)
    assert pick(
        row,
        "BillingAccountId",
        "BillingAccountType",
        "BillingCurrency",
        "BillingPeriodStart",
        "ChargePeriodStart",
        "ChargeCategory",
        "ChargeDescription",
        "RegionId",
        "ServiceName",
        "ServiceCategory",
        "ResourceType",
        "PricingUnit",
        "PricingQuantity",
        "ConsumedQuantity",
        "ConsumedUnit",
        *COSTS,
    ) == {
        "BillingAccountId": f"/subscriptions/{SUB}",
        "BillingAccountType": "Subscription",
        "BillingCurrency": "EUR",
        "BillingPeriodStart": datetime(2021, 2, 1),
        "ChargePeriodStart": datetime(2021, 2, 2),
        "ChargeCategory": "Usage",
        "ChargeDescription": "Load Balancer - Included LB Rules and Outbound Rules",
        "RegionId": "eastus",
        "ServiceName": "Load Balancer",
        "ServiceCategory": "Networking",
        "ResourceType": "Microsoft.Network/loadBalancers",
        "PricingUnit": "100 Hours",
        "PricingQuantity": D(3),
        "ConsumedQuantity": D(300),
        "ConsumedUnit": "Hours",
        "BilledCost": D("0.075"),
        "EffectiveCost": D("0.075"),
        "ListCost": D("0.075"),
        "ContractedCost": D("0.075"),
    }
    assert totals["BilledCost"] == D("0.075")


@pytest.mark.parametrize(
    ("start", "end", "date", "period"),
    [
        ("09/01/2023", "09/30/2023", "9/2/2023", (datetime(2023, 9, 1), datetime(2023, 10, 1))),
        ("2023-09-01", "2023-09-30", "2023-09-02", (datetime(2023, 9, 1), datetime(2023, 10, 1))),
        # already exclusive
        ("2023-09-01", "2023-10-01", "2023-09-02", (datetime(2023, 9, 1), datetime(2023, 10, 1))),
        # end of day written out
        (
            "2023-09-01T00:00:00Z",
            "2023-09-30T23:59:59Z",
            "2023-09-02T00:00:00Z",
            (datetime(2023, 9, 1), datetime(2023, 10, 1)),
        ),
        # anniversary billing (pay-as-you-go)
        ("08/15/2023", "09/14/2023", "08/20/2023", (datetime(2023, 8, 15), datetime(2023, 9, 15))),
        # no period in the row: the calendar month of the charge
        (None, None, "02/28/2024", (datetime(2024, 2, 1), datetime(2024, 3, 1))),
    ],
)
def test_dates_us_and_iso_layouts_and_exclusive_period_end(
    start: str | None, end: str | None, date: str, period: tuple[datetime, datetime]
) -> None:
    (row,), _ = convert([ea(BillingPeriodStartDate=start, BillingPeriodEndDate=end, Date=date)])
    assert (row["BillingPeriodStart"], row["BillingPeriodEnd"]) == period
    assert row["ChargePeriodEnd"] - row["ChargePeriodStart"] == datetime(2000, 1, 2) - datetime(
        2000, 1, 1
    )


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ('{"env":"prod"}', {"env": "prod"}),
        ('"env": "prod", "team": "web"', {"env": "prod", "team": "web"}),
        # opencost MissingBrackets.csv: the AKS tags exactly as Azure wrote them
        (
            '"resourceNameSuffix":"12345678","aksEngineVersion":"aks-release-v0.47.0-1-aks",'
            '"creationSource":"aks-aks-nodepool1-12345678-vmss"',
            {
                "resourceNameSuffix": "12345678",
                "aksEngineVersion": "aks-release-v0.47.0-1-aks",
                "creationSource": "aks-aks-nodepool1-12345678-vmss",
            },
        ),
        # keys that differ only in case or spacing are distinct keys
        ('{"Env":"prod","env":"dev"," env":"x"}', {"Env": "prod", "env": "dev", " env": "x"}),
        # a repeated key keeps its first value
        ('{"env":"prod","env":"dev"}', {"env": "prod"}),
        # kept as written when keys are unique (the warehouse reads values as text)
        ('{"n": 5, "empty": null}', {"n": 5, "empty": None}),
        ("{}", None),
        (None, None),
    ],
)
def test_tags_become_json_objects_with_unique_keys(
    tags: str | None, expected: dict[str, Any] | None
) -> None:
    (row,), _ = convert([ea(Tags=tags)])
    assert (None if row["Tags"] is None else json.loads(row["Tags"])) == expected
    if expected is not None:  # the warehouse accepts it: x_TagsNormalized is derived
        assert row["x_TagsNormalized"]


def test_tags_that_are_not_an_object_name_the_row() -> None:
    with pytest.raises(duckdb.Error, match=r"row 2 column Tags: is not a JSON object of tags"):
        convert([ea(), ea(Tags="env=prod")])


def test_unknown_location_and_unit_are_kept_as_given() -> None:
    (row,), _ = convert([ea(ResourceLocation="Mars North", UnitOfMeasure="7 Widgets")])
    assert pick(row, "RegionId", "RegionName", "PricingUnit", "ConsumedUnit") == {
        "RegionId": None,
        "RegionName": "Mars North",
        "PricingUnit": "7 Widgets",
        "ConsumedUnit": "7 Widgets",
    }
    assert row["x_PricingBlockSize"] is None


def test_block_priced_meter_keeps_cost_equal_to_price_times_quantity() -> None:
    """10K operations: Quantity counts blocks of 10,000; prices are per block."""
    (row,), _ = convert(
        [
            ea(
                UnitOfMeasure="10K",
                Quantity="0.0004",
                UnitPrice="0.1",
                PayGPrice="0.1",
                EffectivePrice="0.1",
                CostInBillingCurrency="0.00004",
            )
        ]
    )
    assert pick(row, "PricingQuantity", "PricingUnit", "ConsumedQuantity", "ConsumedUnit") == {
        "PricingQuantity": D("0.0004"),
        "PricingUnit": "10000 Units",
        "ConsumedQuantity": D(4),
        "ConsumedUnit": "Units",
    }
    assert row["ListCost"] == row["ListUnitPrice"] * row["PricingQuantity"] == D("0.00004")


def test_nested_resource_type_finds_the_service() -> None:
    db = f"/subscriptions/{SUB}/resourceGroups/data/providers/Microsoft.Sql/servers/s1/databases/d1"
    (row,), _ = convert([ea(ResourceId=db, ResourceName=None, ConsumedService="Microsoft.Sql")])
    assert pick(row, "ResourceType", "ResourceName", "ServiceName", "ServiceCategory") == {
        "ResourceType": "Microsoft.Sql/servers/databases",
        "ResourceName": "d1",
        "ServiceName": "Azure SQL Database",
        "ServiceCategory": "Databases",
    }


def test_unknown_service_falls_back_to_meter_category() -> None:
    (row,), _ = convert(
        [ea(ConsumedService="Contoso.Widgets", ResourceId=None, MeterCategory="Widgets")]
    )
    assert pick(row, "ServiceName", "ServiceCategory", "ServiceSubcategory") == {
        "ServiceName": "Widgets",
        "ServiceCategory": "Other",
        "ServiceSubcategory": "Other (Other)",
    }


def test_a_known_service_name_always_has_its_own_category() -> None:
    """FOCUS: one ServiceCategory per ServiceName, whichever way the name was found."""
    rows, _ = convert(
        [
            # Unknown ConsumedService: the name comes from MeterCategory.
            ea(ConsumedService="Contoso.Widgets", ResourceId=None),
            # Microsoft.Compute has many services (name unknown, category Compute): a
            # bandwidth meter's MeterCategory names Virtual Network, a Networking service.
            ea(
                ConsumedService="microsoft.compute",
                ResourceId=None,
                MeterCategory="Virtual Network",
            ),
            ea(
                ConsumedService="Microsoft.Network",
                ResourceId=None,
                MeterCategory="Virtual Network",
            ),
        ]
    )
    assert [pick(r, "ServiceName", "ServiceCategory", "ServiceSubcategory") for r in rows] == [
        {
            "ServiceName": "Virtual Machines",
            "ServiceCategory": "Compute",
            "ServiceSubcategory": "Virtual Machines",
        },
        *[
            {
                "ServiceName": "Virtual Network",
                "ServiceCategory": "Networking",
                "ServiceSubcategory": "Network Infrastructure",
            }
        ]
        * 2,
    ]


def test_empty_billing_account_names_the_row() -> None:
    with pytest.raises(duckdb.Error, match=r"row 1 column BillingAccountId: is empty"):
        convert([ea(BillingAccountId=None, BillingProfileId=None)])


def test_missing_columns_are_named() -> None:
    header = ("SubscriptionId", "UsageDateTime", "MeterCategory", "costinbillingcurrency")
    with pytest.raises(InputError, match=r"missing column\(s\) BillingCurrencyCode or "):
        run_conversion(FMT, header, [])


def test_large_amounts_multiply_exactly() -> None:
    (row,), _ = convert(
        [
            ea(
                Quantity="744.123456789012345678",
                UnitPrice="123456.987654321",
                PayGPrice="123456.987654321",
                CostInBillingCurrency="91867227.42",
            )
        ]
    )
    exact = D("744.123456789012345678") * D("123456.987654321")
    assert row["ListCost"] == exact.quantize(D("1e-18"))


def test_mul_rounds_once_and_handles_signs() -> None:
    con = duckdb.connect()
    for a, b in [("-2.5", "3.25"), ("0.123456789012345678", "-0.987654321098765432"), ("99", "0")]:
        sql = _mul(f"CAST('{a}' AS DECIMAL(38, 18))", f"CAST('{b}' AS DECIMAL(38, 18))")
        got = con.execute(f"SELECT {sql}").fetchone()
        assert got is not None
        assert got[0] == (D(a) * D(b)).quantize(D("1e-18"))


AWS = [
    "identity/LineItemId",
    "bill/PayerAccountId",
    "lineItem/UnblendedCost",
    "lineItem/LineItemType",
]
GCP = ["billing_account_id", "service.id", "service.description", "sku.id", "cost", "currency"]
OCI = ["lineItem/referenceNo", "product/service", "cost/myCost", "cost/subscriptionId"]
FOCUS = ["BilledCost", "BillingAccountId", "ChargePeriodStart", "x_SkuMeterCategory"]


@pytest.mark.parametrize(
    "header",
    [
        ["SubscriptionGuid", "UsageDateTime", "MeterCategory", "PreTaxCost", "Currency"],
        ["subscriptionId", "date", "meterCategory", "costInBillingCurrency", "billingCurrency"],
        ["SubscriptionId", "Date", "ConsumedService", "Cost", "BillingCurrency"],
        list(GERMAN),
    ],
)
def test_detects_azure_layouts(header: list[str]) -> None:
    fmt = detect_format(header, "x.csv")
    assert fmt is not None and fmt.name == FMT


@pytest.mark.parametrize("header", [AWS, GCP, OCI, FOCUS])
def test_does_not_claim_other_formats(header: list[str]) -> None:
    fmt = get_format(FMT)
    assert fmt.score(Header(header, "x.csv", fmt.key)) == 0


def test_does_not_claim_any_other_fixture() -> None:
    """The other providers' real samples and the FOCUS sample score 0."""
    fixtures = Path(__file__).parents[2] / "fixtures"
    files = [
        p
        for p in sorted(fixtures.rglob("*.csv*"))
        if "azure" not in p.parts and p.suffix in (".csv", ".gz")
    ]
    assert files
    fmt = get_format(FMT)
    for path in files:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig").split("\n", 1)[0])))
        assert fmt.score(Header(header, str(path), fmt.key)) == 0, path


def test_mapping_tables_use_focus_vocabulary() -> None:
    tables = dict(_lookups())
    con = duckdb.connect()
    for name in ("azure_svc_pair", "azure_svc_type", "azure_svc_cs", "azure_svc_name"):
        for cat, sub in con.execute(f"SELECT DISTINCT cat, sub FROM ({tables[name]})").fetchall():
            assert cat in ALLOWED_VALUES["ServiceCategory"]
            assert SERVICE_SUBCATEGORIES[sub] == cat
    quantum = con.execute(
        f"SELECT sub FROM ({tables['azure_svc_pair']}) WHERE cs = 'microsoft.quantum'"
    ).fetchone()
    assert quantum == ("Quantum Compute",)
