"""The Google Cloud billing export mapping on tiny hand-written tables (no files, no CLI)."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib.resources import files
from typing import Any

import duckdb
import pytest
from tests.connectors.native.conftest import Convert, run_conversion

from costloop.connectors.native import Header, detect_format, get_format
from costloop.core.errors import InputError
from costloop.core.focus import ALLOWED_VALUES

FMT = "gcp-billing-export"
HEADER = (
    "billing_account_id",
    "service.id",
    "service.description",
    "sku.id",
    "sku.description",
    "usage_start_time",
    "usage_end_time",
    "project.id",
    "project.name",
    "project.labels",
    "labels",
    "system_labels",
    "location.location",
    "location.region",
    "location.zone",
    "cost",
    "currency",
    "usage.amount",
    "usage.unit",
    "usage.amount_in_pricing_units",
    "usage.pricing_unit",
    "credits",
    "invoice.month",
    "cost_type",
)
BASE: dict[str, str | None] = {
    "billing_account_id": "018984-D0AAA4-940B88",
    "service.id": "6F81-5844-456A",
    "service.description": "Compute Engine",
    "sku.id": "CF4E-A0C7-E3BF",
    "sku.description": "E2 Instance Core running in Americas",
    "usage_start_time": "2024-03-05 10:00:00+00:00",
    "usage_end_time": "2024-03-05 11:00:00+00:00",
    "project.id": "cloud-billing-292519",
    "project.name": "cm_example",
    "project.labels": "[]",
    "labels": "[]",
    "system_labels": "[]",
    "location.location": "us-central1-a",
    "location.region": "us-central1",
    "location.zone": "us-central1-a",
    "cost": "1.5",
    "currency": "USD",
    "usage.amount": "7200.0",
    "usage.unit": "seconds",
    "usage.amount_in_pricing_units": "2.0",
    "usage.pricing_unit": "hour",
    "credits": "[]",
    "invoice.month": "202403",
    "cost_type": "regular",
}


def rows_of(
    *overrides: Mapping[str, str | None], header: Sequence[str] = HEADER
) -> list[list[str | None]]:
    """Native rows: BASE with each override applied, in ``header`` order."""
    return [[{**BASE, **o}.get(c) for c in header] for o in overrides]


def credit(kind: str | None, amount: str, name: str = "a credit", **extra: Any) -> dict[str, Any]:
    """A BigQuery credit record (the amount as BigQuery writes a FLOAT64: a JSON number)."""
    out: dict[str, Any] = {"name": name, "amount": float(amount), "id": f"{name}-id"}
    if kind is not None:
        out["type"] = kind
    return {**out, **extra}


def credits(*items: dict[str, Any]) -> str:
    """JSON text of a ``credits`` cell."""
    return json.dumps(list(items))


def one(convert: Convert, **override: str | None) -> list[dict[str, Any]]:
    """FOCUS rows of one native row (the charge first, then its Credit rows)."""
    out = convert(FMT, HEADER, rows_of(override))
    return sorted(out, key=lambda r: (r["ChargeCategory"] == "Credit", str(r["BilledCost"])))


IN_ROW = (
    "COMMITTED_USAGE_DISCOUNT",
    "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
    "FEE_UTILIZATION_OFFSET",
    "SUSTAINED_USAGE_DISCOUNT",
    "FREE_TIER",
    "SUBSCRIPTION_BENEFIT",
    "RESELLER_MARGIN",
)


def test_usage_row_maps_every_column(convert: Convert) -> None:
    (row,) = one(convert)
    assert row["BillingAccountId"] == "018984-D0AAA4-940B88"
    assert (row["SubAccountId"], row["SubAccountName"], row["SubAccountType"]) == (
        "cloud-billing-292519",
        "cm_example",
        "Project",
    )
    assert str(row["BillingPeriodStart"]) == "2024-03-01 00:00:00"
    assert str(row["BillingPeriodEnd"]) == "2024-04-01 00:00:00"
    assert str(row["ChargePeriodStart"]) == "2024-03-05 10:00:00"
    assert str(row["ChargePeriodEnd"]) == "2024-03-05 11:00:00"
    assert (row["ChargeCategory"], row["ChargeClass"], row["ChargeFrequency"]) == (
        "Usage",
        None,
        "Usage-Based",
    )
    for col in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        assert row[col] == Decimal("1.5")
    assert (row["PricingQuantity"], row["PricingUnit"]) == (Decimal(2), "Hours")
    assert (row["ConsumedQuantity"], row["ConsumedUnit"]) == (Decimal(7200), "Seconds")
    assert row["PricingCategory"] == "Standard"
    assert (row["RegionId"], row["RegionName"], row["AvailabilityZone"]) == (
        "us-central1",
        "Iowa",
        "us-central1-a",
    )
    assert (row["ServiceName"], row["ServiceCategory"], row["ServiceSubcategory"]) == (
        "Compute Engine",
        "Compute",
        "Virtual Machines",
    )
    assert (row["SkuId"], row["ChargeDescription"]) == (
        "CF4E-A0C7-E3BF",
        "E2 Instance Core running in Americas",
    )
    assert (row["ProviderName"], row["PublisherName"], row["InvoiceIssuerName"]) == (
        "Google Cloud",
        "Google Cloud",
        "Google Cloud",
    )
    assert (row["x_ServiceId"], row["x_CostType"], row["x_InvoiceMonth"]) == (
        "6F81-5844-456A",
        "regular",
        "202403",
    )
    assert row["Tags"] is None and row["x_Credits"] is None and row["x_SourceRow"] == 1


@pytest.mark.parametrize(
    ("native", "focus"),
    [
        ("gibibyte hour", "GiB-Hours"),
        ("gibibyte month", "GiB-Months"),
        ("byte-seconds", "B-Seconds"),
        ("bytes", "B"),
        ("tebibyte", "TiB"),
        ("hour", "Hours"),
        ("requests", "Requests"),
        ("count", "Count"),
        ("GiB", "GiB"),  # already FOCUS: kept (not read as gibibit)
        ("api calls", "api calls"),  # not a unit over time: kept
    ],
)
def test_units_in_focus_unit_format(convert: Convert, native: str, focus: str) -> None:
    (row,) = one(convert, **{"usage.unit": native, "usage.pricing_unit": native})
    assert (row["PricingUnit"], row["ConsumedUnit"]) == (focus, focus)


@pytest.mark.parametrize("kind", IN_ROW)
def test_discount_credits_are_applied_in_row(convert: Convert, kind: str) -> None:
    """FOCUS discount handling: a discount on this charge is in its row, not a negation row."""
    (row,) = one(convert, credits=credits(credit(kind, "-0.4", "Discount: CPU")))
    assert row["BilledCost"] == row["EffectiveCost"] == Decimal("1.1")
    assert row["ListCost"] == row["ContractedCost"] == Decimal("1.5")
    assert json.loads(row["x_Credits"])[0]["type"] == kind
    committed = kind in ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")
    assert row["PricingCategory"] == ("Committed" if committed else "Standard")
    assert row["CommitmentDiscountStatus"] == ("Used" if committed else None)
    if committed:
        assert row["CommitmentDiscountId"] == "Discount: CPU-id"
        assert row["CommitmentDiscountName"] == "Discount: CPU"
        assert row["CommitmentDiscountCategory"] == (
            "Usage" if kind == "COMMITTED_USAGE_DISCOUNT" else "Spend"
        )


@pytest.mark.parametrize("kind", ["PROMOTION", "DISCOUNT", "CREDIT_TYPE_UNSPECIFIED", "NEW_TYPE"])
def test_after_the_fact_credits_are_credit_rows(convert: Convert, kind: str) -> None:
    usage, row = one(
        convert,
        labels="[{'key': 'env', 'value': 'prod'}]",
        credits=credits(credit(kind, "-0.25", "Free trial", full_name="Free trial credit")),
    )
    assert usage["BilledCost"] == usage["EffectiveCost"] == Decimal("1.5")
    assert (row["ChargeCategory"], row["ChargeFrequency"], row["ChargeClass"]) == (
        "Credit",
        "One-Time",
        None,
    )
    for col in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        assert row[col] == Decimal("-0.25")
    assert row["ChargeDescription"] == f"Free trial credit ({kind})"
    assert (row["x_CreditType"], row["x_CreditName"], row["x_CreditId"]) == (
        kind,
        "Free trial credit",
        "Free trial-id",
    )
    # The credit stays with the charge it came from, for allocation.
    assert row["x_SourceRow"] == usage["x_SourceRow"] == 1
    assert (row["SubAccountId"], row["ServiceName"], row["SkuId"], row["Tags"]) == (
        "cloud-billing-292519",
        "Compute Engine",
        "CF4E-A0C7-E3BF",
        '{"env":"prod"}',
    )
    for col in ("PricingQuantity", "ConsumedQuantity", "PricingCategory", "x_Credits"):
        assert row[col] is None


def test_several_credits_on_one_charge(convert: Convert) -> None:
    usage, *rest = one(
        convert,
        credits=credits(
            credit("SUSTAINED_USAGE_DISCOUNT", "-0.3"),
            credit("PROMOTION", "-0.2", "promo"),
            credit("FREE_TIER", "-0.1"),
            credit("DISCOUNT", "-0.05", "spend"),
        ),
    )
    assert usage["BilledCost"] == Decimal("1.1")
    assert sorted(r["BilledCost"] for r in rest) == [Decimal("-0.2"), Decimal("-0.05")]
    assert sum(r["BilledCost"] for r in [usage, *rest]) == Decimal("0.85")


@pytest.mark.parametrize(
    ("name", "in_row"),
    [
        ("Sustained Usage Discount", True),
        ("Committed Usage Discount: CPU", True),
        ("Free Tier", True),
        ("FreeTrial:Credit-000000-B0BBA4-940A77", False),
    ],
)
def test_credits_without_a_type_are_typed_by_name(
    convert: Convert, name: str, in_row: bool
) -> None:
    out = one(convert, credits=credits(credit(None, "-0.5", name)))
    assert len(out) == (1 if in_row else 2)
    assert out[0]["BilledCost"] == (Decimal(1) if in_row else Decimal("1.5"))


def test_python_literal_credits_as_written_by_pandas(convert: Convert) -> None:
    """koku's CSVs hold str(list_of_dicts): single quotes, None."""
    literal = (
        "[{'name': 'FreeTrial:Credit-000000-B0BBA4-940A77', 'amount': -5e-06, 'full_name': "
        "None, 'id': 'FreeTrial:Credit-000000-B0BBA4-940A77', 'type': 'PROMOTION'}]"
    )
    usage, row = one(convert, cost="5e-06", credits=literal)
    assert usage["BilledCost"] == Decimal("0.000005")
    assert row["BilledCost"] == Decimal("-0.000005")
    assert row["ChargeDescription"] == "FreeTrial:Credit-000000-B0BBA4-940A77 (PROMOTION)"


def test_tax_row(convert: Convert) -> None:
    (row,) = one(convert, cost_type="tax", cost="0.104", **{"sku.description": "Tax"})
    assert (row["ChargeCategory"], row["ChargeFrequency"]) == ("Tax", "Recurring")
    assert row["BilledCost"] == Decimal("0.104")
    for col in ("SkuId", "PricingQuantity", "PricingUnit", "ConsumedQuantity", "PricingCategory"):
        assert row[col] is None


CORRECTION_HEADER = (*HEADER, "adjustment_info.id", "adjustment_info.type", "adjustment_info.mode")


@pytest.mark.parametrize(
    ("start", "kind", "mode", "cost_type", "category", "klass"),
    [
        # A usage correction billed in March for February usage corrects an invoiced month.
        (
            "2024-02-14 10:00:00+00:00",
            "USAGE_CORRECTION",
            "COMPLETE_NEGATION",
            "adjustment",
            "Usage",
            "Correction",
        ),
        ("2024-02-14 10:00:00+00:00", None, "PARTIAL_CORRECTION", "regular", "Usage", "Correction"),
        # Within the month being invoiced it is no FOCUS correction.
        (
            "2024-03-04 10:00:00+00:00",
            "PRICE_CORRECTION",
            "PARTIAL_CORRECTION",
            "adjustment",
            "Usage",
            None,
        ),
        (
            "2024-02-14 10:00:00+00:00",
            "GOODWILL",
            "MANUAL_ADJUSTMENT",
            "adjustment",
            "Credit",
            None,
        ),
        (
            "2024-03-01 08:00:00+00:00",
            "SLA_VIOLATION",
            "MANUAL_ADJUSTMENT",
            "adjustment",
            "Credit",
            None,
        ),
        (
            "2024-03-01 08:00:00+00:00",
            "GENERAL_ADJUSTMENT",
            "MANUAL_ADJUSTMENT",
            "adjustment",
            "Adjustment",
            None,
        ),
        ("2024-03-01 08:00:00+00:00", None, None, "adjustment", "Adjustment", None),
        ("2024-03-01 08:00:00+00:00", None, None, "rounding_error", "Adjustment", None),
    ],
)
def test_adjustments_and_corrections(
    convert: Convert,
    start: str,
    kind: str | None,
    mode: str | None,
    cost_type: str,
    category: str,
    klass: str | None,
) -> None:
    override = {
        "usage_start_time": start,
        "usage_end_time": start.replace(":00:00+", ":59:59+"),
        "cost": "-0.5",
        "cost_type": cost_type,
        "adjustment_info.id": "4f7b0f8a" if kind or mode else None,
        "adjustment_info.type": kind,
        "adjustment_info.mode": mode,
    }
    (row,) = convert(FMT, CORRECTION_HEADER, rows_of(override, header=CORRECTION_HEADER))
    assert (row["ChargeCategory"], row["ChargeClass"]) == (category, klass)
    assert row["BilledCost"] == Decimal("-0.5")
    assert row["x_AdjustmentType"] == kind


def test_commitment_fee_is_a_recurring_purchase(convert: Convert) -> None:
    header = (*HEADER, "subscription.instance_id")
    fee = {
        "sku.description": "Commitment - dollar based v1: GCE for 1 year",
        "subscription.instance_id": "769c55ea-c50f-4258-bcf5-04b6688fa5fa",
        "credits": credits(credit("FEE_UTILIZATION_OFFSET", "-1.2")),
    }
    (row,) = convert(FMT, header, rows_of(fee, header=header))
    assert (row["ChargeCategory"], row["ChargeFrequency"], row["PricingCategory"]) == (
        "Purchase",
        "Recurring",
        "Standard",
    )
    assert (
        row["CommitmentDiscountId"] == row["ResourceId"] == "769c55ea-c50f-4258-bcf5-04b6688fa5fa"
    )
    assert row["CommitmentDiscountCategory"] == "Spend"
    assert row["CommitmentDiscountStatus"] is None
    assert row["BilledCost"] == Decimal("0.3")


def test_spot_vm_is_dynamic_pricing(convert: Convert) -> None:
    (row,) = one(
        convert, **{"sku.description": "Spot Preemptible E2 Instance Core running in Americas"}
    )
    assert row["PricingCategory"] == "Dynamic"


def test_tags_from_labels_system_labels_and_resource_manager_tags(convert: Convert) -> None:
    header = (*HEADER, "tags")
    row = {
        "labels": json.dumps(
            [{"key": "env", "value": "prod"}, {"key": "goog-k8s-cluster-name", "value": "shop"}]
        ),
        "system_labels": "[{'key': 'compute.googleapis.com/machine_spec', 'value': 'e2-medium'}]",
        "project.labels": "[{'key': 'team', 'value': 'platform'}, {'key': 'team', 'value': 'x'}]",
        "tags": json.dumps(
            [
                {
                    "key": "cost_center",
                    "value": "apps",
                    "inherited": True,
                    "namespace": "821092389413",
                }
            ]
        ),
    }
    (out,) = convert(FMT, header, rows_of(row, header=header))
    assert json.loads(out["Tags"]) == {
        "env": "prod",
        "goog-k8s-cluster-name": "shop",
        "compute.googleapis.com/machine_spec": "e2-medium",
        "821092389413/cost_center": "apps",
    }
    # Project labels are not resource tags; the first of two equal keys wins.
    assert json.loads(out["x_ProjectLabels"]) == {"team": "platform"}
    assert out["x_TagsNormalized"]["goog-k8s-cluster-name"] == "shop"


def test_labels_with_quotes_and_empty_values(convert: Convert) -> None:
    (row,) = one(
        convert,
        labels=str(
            [
                {"key": "owner", "value": "o'brien"},
                {"key": "note", "value": 'say "hi"'},
                {"key": "empty", "value": ""},
            ]
        ),
    )
    assert json.loads(row["Tags"]) == {"owner": "o'brien", "note": 'say "hi"', "empty": ""}


def test_minimal_export_without_optional_columns(convert: Convert) -> None:
    header = (
        "billing_account_id",
        "service.description",
        "usage_start_time",
        "usage_end_time",
        "cost",
        "currency",
        "invoice.month",
    )
    (row,) = convert(FMT, header, rows_of({}, header=header))
    assert (row["BilledCost"], row["ListCost"], row["ChargeCategory"]) == (Decimal("1.5"),) * 2 + (
        "Usage",
    )
    for col in ("SubAccountId", "SkuId", "RegionId", "RegionName", "Tags", "PricingQuantity"):
        assert row[col] is None


def test_struct_columns_as_parquet_delivers_them(convert: Convert) -> None:
    """Parquet map/struct/list columns arrive as JSON text of the whole struct."""
    header = (
        "billing_account_id",
        "service",
        "sku",
        "usage_start_time",
        "usage_end_time",
        "project",
        "location",
        "cost",
        "currency",
        "usage",
        "credits",
        "invoice",
        "cost_type",
    )
    native = {
        "billing_account_id": "018984-D0AAA4-940B88",
        "service": json.dumps({"id": "95FF-2EF5-5EA1", "description": "Cloud Storage"}),
        "sku": json.dumps({"id": "E5F0-6A5D-7BAD", "description": "Standard Storage US"}),
        "usage_start_time": "2024-03-05 00:00:00",
        "usage_end_time": "2024-03-05 01:00:00",
        "project": json.dumps({"id": "p1", "name": "P one", "labels": [], "number": "42"}),
        "location": json.dumps(
            {"location": "europe-west1", "region": "europe-west1", "zone": None}
        ),
        "cost": "0.25",
        "currency": "EUR",
        "usage": json.dumps(
            {
                "amount": 1.5e12,
                "unit": "byte-seconds",
                "amount_in_pricing_units": 0.0006,
                "pricing_unit": "gibibyte month",
            }
        ),
        "credits": '[{"name":"Free Tier","amount":-0.05,"type":"FREE_TIER"}]',
        "invoice": json.dumps({"month": "202403"}),
        "cost_type": "regular",
    }
    (row,) = convert(FMT, header, [[native[c] for c in header]])
    assert (row["ServiceName"], row["ServiceSubcategory"], row["SkuId"]) == (
        "Cloud Storage",
        "Object Storage",
        "E5F0-6A5D-7BAD",
    )
    assert (row["SubAccountId"], row["RegionName"], row["BillingCurrency"]) == (
        "p1",
        "Belgium",
        "EUR",
    )
    assert row["BilledCost"] == Decimal("0.2")
    assert row["PricingQuantity"] == Decimal("0.0006")


@pytest.mark.parametrize(
    ("service", "category", "subcategory"),
    [
        ("Stackdriver Logging", "Management and Governance", "Observability"),
        ("BigQuery", "Databases", "Data Warehouses"),
        ("Cloud Vision API", "AI and Machine Learning", "Machine Learning"),
        ("Directions API", "Integration", "Other (Integration)"),  # only in focus_converters' table
        ("A service nobody mapped", "Other", "Other (Other)"),
    ],
)
def test_service_categories(
    convert: Convert, service: str, category: str, subcategory: str
) -> None:
    (row,) = one(convert, **{"service.description": service})
    assert (row["ServiceCategory"], row["ServiceSubcategory"]) == (category, subcategory)


def test_unknown_region_keeps_its_id_and_multi_regions_have_none(convert: Convert) -> None:
    (row,) = one(convert, **{"location.region": "mars-north1"})
    assert (row["RegionId"], row["RegionName"]) == ("mars-north1", "mars-north1")
    (row,) = one(
        convert, **{"location.location": "us", "location.region": None, "location.zone": None}
    )
    assert (row["RegionId"], row["RegionName"], row["x_Location"]) == (None, None, "us")


def test_third_party_marketplace_publisher(convert: Convert) -> None:
    header = (*HEADER, "transaction_type", "seller_name")
    row = {"transaction_type": "THIRD_PARTY_RESELLER", "seller_name": "Elasticsearch B.V."}
    (out,) = convert(FMT, header, rows_of(row, header=header))
    assert (out["PublisherName"], out["ProviderName"]) == ("Elasticsearch B.V.", "Google Cloud")


def test_list_and_contracted_cost_from_newer_columns(convert: Convert) -> None:
    header = (
        *HEADER,
        "cost_at_list",
        "cost_at_effective_price_default",
        "price.list_price",
        "price.effective_price",
        "price.effective_price_default",
    )
    row = {
        "cost": "1.2",
        "cost_at_list": "2.0",
        "cost_at_effective_price_default": "1.6",
        "price.list_price": "1.0",
        "price.effective_price": "0.6",
        "price.effective_price_default": "0.8",
        "credits": credits(credit("PROMOTION", "-0.2")),
    }
    usage, promo = sorted(
        convert(FMT, header, rows_of(row, header=header)),
        key=lambda r: r["ChargeCategory"] == "Credit",
    )
    assert (usage["BilledCost"], usage["ListCost"], usage["ContractedCost"]) == (
        Decimal("1.2"),
        Decimal(2),
        Decimal("1.6"),
    )
    assert (usage["ListUnitPrice"], usage["ContractedUnitPrice"]) == (Decimal(1), Decimal("0.8"))
    assert promo["ListCost"] == promo["ContractedCost"] == Decimal("-0.2")


def test_amounts_are_rounded_to_18_decimals_half_up(convert: Convert) -> None:
    (row,) = one(
        convert,
        cost="0.1234567890123456785",
        credits=credits(credit("SUSTAINED_USAGE_DISCOUNT", "-3e-21")),
        **{"usage.amount_in_pricing_units": "2.3198314011096954e-05"},
    )
    assert row["BilledCost"] == Decimal("0.123456789012345679")
    assert row["PricingQuantity"] == Decimal("0.000023198314011097")


def test_invoice_month_missing_falls_back_to_the_usage_month(convert: Convert) -> None:
    (row,) = one(convert, **{"invoice.month": None})
    assert str(row["BillingPeriodStart"]) == "2024-03-01 00:00:00"


@pytest.mark.parametrize(
    ("column", "value", "named"),
    [
        ("cost", "12,5", "column cost: cannot parse as a decimal number"),
        (
            "credits",
            '[{"name": "x", "amount": "1,5", "type": "PROMOTION"}]',
            "column credits.amount",
        ),
        ("usage.amount", "lots", "column usage.amount"),
        ("usage_start_time", "yesterday", "column usage_start_time"),
        ("labels", "not a list", "column labels: is not a JSON array"),
        ("invoice.month", "March", "column invoice.month"),
    ],
)
def test_bad_values_name_the_native_column_and_row(column: str, value: str, named: str) -> None:
    rows = rows_of({}, {column: value})
    with pytest.raises(duckdb.Error) as err:
        run_conversion(FMT, HEADER, rows)
    assert f"row 2 {named}" in str(err.value)


def test_missing_columns_are_named() -> None:
    fmt = get_format(FMT)
    header = [c for c in HEADER if c not in ("currency", "usage_end_time")]
    with pytest.raises(InputError) as err:
        fmt.convert(Header(header, "bill.csv", fmt.key))
    assert "missing column(s) currency; usage_end_time" in str(err.value)


@pytest.mark.parametrize(
    "header",
    [
        HEADER,
        tuple(c.replace(".", "_") for c in HEADER),  # a flattened query's column names
        ("billing_account_id", "service", "sku", "usage_start_time", "cost", "credits"),
    ],
)
def test_detected_from_each_layout(header: Sequence[str]) -> None:
    found = detect_format(list(header), "bill.csv")
    assert found is not None and found.name == FMT


def test_not_detected_on_focus_or_other_bills() -> None:
    focus = ["BillingAccountId", "BilledCost", "ChargePeriodStart", "ServiceName"]
    assert detect_format(focus, "focus.csv") is None
    cur = ["bill/PayerAccountId", "lineItem/UnblendedCost", "lineItem/UsageStartDate"]
    found = detect_format(cur, "cur.csv")
    assert found is None or found.name != FMT


def test_native_totals_equal_focus_totals() -> None:
    rows = rows_of(
        {"credits": credits(credit("SUSTAINED_USAGE_DISCOUNT", "-0.3"), credit("PROMOTION", "-1"))},
        {"cost": "0.2", "credits": credits(credit("DISCOUNT", "-0.02"))},
        {"cost_type": "tax", "cost": "0.07"},
        {"invoice.month": "202402", "usage_start_time": "2024-02-29 23:00:00+00:00"},
    )
    conversion, out, totals = run_conversion(FMT, HEADER, rows)
    assert [m.focus for m in conversion.measures] == [
        "BilledCost",
        "EffectiveCost",
        "ListCost",
        "ContractedCost",
    ]
    for (_, focus), native in totals.items():
        assert sum(r[focus] for r in out) == native
    # cost + every credit, as Google's invoice-total query sums it.
    assert totals[("cost + credits.amount", "BilledCost")] == Decimal("1.5") - Decimal(
        "1.3"
    ) + Decimal("0.2") - Decimal("0.02") + Decimal("0.07") + Decimal("1.5")


def test_mapping_tables_use_focus_12_categories() -> None:
    base = files("costloop") / "data" / "connectors" / "gcp" / "gcp_category_mapping.csv"
    with base.open(encoding="utf-8") as f:
        categories = {row["ServiceCategory"] for row in csv.DictReader(f)}
    assert categories <= set(ALLOWED_VALUES["ServiceCategory"])
