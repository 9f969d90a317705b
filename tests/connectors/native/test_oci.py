"""The OCI cost report mapping on tiny hand-written tables (no files, no CLI)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from tests.connectors.native.conftest import Convert, run_conversion

from costloop.connectors.native import Header, detect_format, get_format
from costloop.core.errors import InputError

FMT = "oci-cost-report"
TENANCY = "ocid1.tenancy.oc1..aaaaaaaadsyhydp66mjpsohqocfcgzaabtrit47ex2igzu2j6lhuadrrglca"
HEADER = (
    "lineItem/referenceNo",
    "lineItem/tenantId",
    "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd",
    "product/service",
    "product/resource",
    "product/compartmentId",
    "product/compartmentName",
    "product/region",
    "product/availabilityDomain",
    "product/resourceId",
    "usage/billedQuantity",
    "usage/billedQuantityOverage",
    "cost/subscriptionId",
    "cost/productSku",
    "product/Description",
    "cost/unitPrice",
    "cost/unitPriceOverage",
    "cost/myCost",
    "cost/myCostOverage",
    "cost/currencyCode",
    "cost/billingUnitReadable",
    "cost/skuUnitDescription",
    "cost/overageFlag",
    "lineItem/isCorrection",
    "lineItem/backreferenceNo",
    "tags/Oracle-Tags.CreatedBy",
    "tags/free-form-tag",
)
BASE: dict[str, str | None] = {
    "lineItem/referenceNo": "7108a1f83bdbad70487bf0cf99cbe260",
    "lineItem/tenantId": TENANCY,
    "lineItem/intervalUsageStart": "2023-11-13T10:00Z",
    "lineItem/intervalUsageEnd": "2023-11-13T11:00:00Z",
    "product/service": "DATABASE",
    "product/resource": "PIC_ADB_OCPU",
    "product/compartmentId": "ocid1.compartment.oc1..aaaaaaaa5r2",
    "product/compartmentName": "platformpm2022",
    "product/region": "us-sanjose-1",
    "product/availabilityDomain": "sj-1",
    "product/resourceId": "ocid1.autonomousdatabase.oc1.us-sanjose-1.anzwuljr33abj3qa",
    "usage/billedQuantity": "0.083333333333000000",
    "usage/billedQuantityOverage": None,
    "cost/subscriptionId": "20209880",
    "cost/productSku": "B92911",
    "product/Description": "Oracle APEX Application Development",
    "cost/unitPrice": "0.147171330000000000",
    "cost/unitPriceOverage": None,
    "cost/myCost": "0.012264277499950943",
    "cost/myCostOverage": None,
    "cost/currencyCode": "USD",
    "cost/billingUnitReadable": "1 NONE HOURS INSTANCE",
    "cost/skuUnitDescription": "Hours",
    "cost/overageFlag": "false",
    "lineItem/isCorrection": "false",
    "lineItem/backreferenceNo": None,
    "tags/Oracle-Tags.CreatedBy": "default/phil.newman@oracle.com",
    "tags/free-form-tag": None,
}


def rows_of(
    *overrides: Mapping[str, str | None], header: Sequence[str] = HEADER
) -> list[list[str | None]]:
    """Native rows: BASE with each override applied, in ``header`` order."""
    return [[{**BASE, **o}.get(c) for c in header] for o in overrides]


def one(convert: Convert, **override: str | None) -> dict[str, Any]:
    (row,) = convert(FMT, HEADER, rows_of(override))
    return row


def test_cost_report_row_maps_every_column(convert: Convert) -> None:
    row = one(convert)
    assert (row["BillingAccountId"], row["BillingAccountType"]) == (TENANCY, "Tenancy")
    assert (row["SubAccountId"], row["SubAccountName"], row["SubAccountType"]) == (
        "ocid1.compartment.oc1..aaaaaaaa5r2",
        "platformpm2022",
        "Compartment",
    )
    assert str(row["BillingPeriodStart"]) == "2023-11-01 00:00:00"
    assert str(row["BillingPeriodEnd"]) == "2023-12-01 00:00:00"
    # OCI writes the start without seconds and the end with them.
    assert str(row["ChargePeriodStart"]) == "2023-11-13 10:00:00"
    assert str(row["ChargePeriodEnd"]) == "2023-11-13 11:00:00"
    assert (row["ChargeCategory"], row["ChargeClass"], row["ChargeFrequency"]) == (
        "Usage",
        None,
        "Usage-Based",
    )
    for col in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        assert row[col] == Decimal("0.012264277499950943")
    assert row["ContractedUnitPrice"] == Decimal("0.14717133")
    assert row["ListUnitPrice"] is None
    assert (row["PricingQuantity"], row["PricingUnit"]) == (Decimal("0.083333333333"), "Hours")
    assert (row["ConsumedQuantity"], row["ConsumedUnit"]) == (Decimal("0.083333333333"), "Hours")
    assert row["PricingCategory"] == "Standard"
    assert (row["ServiceName"], row["ServiceCategory"], row["ServiceSubcategory"]) == (
        "DATABASE",
        "Databases",
        "Relational Databases",
    )
    assert (row["SkuId"], row["SkuMeter"], row["ChargeDescription"]) == (
        "B92911",
        "PIC_ADB_OCPU",
        "Oracle APEX Application Development",
    )
    assert (row["ResourceId"], row["ResourceType"]) == (
        "ocid1.autonomousdatabase.oc1.us-sanjose-1.anzwuljr33abj3qa",
        "autonomousdatabase",
    )
    assert (row["RegionId"], row["RegionName"], row["AvailabilityZone"]) == (
        "us-sanjose-1",
        "us-sanjose-1",
        "sj-1",
    )
    assert (row["ProviderName"], row["PublisherName"], row["InvoiceIssuerName"]) == (
        "Oracle",
        "Oracle",
        "Oracle",
    )
    assert (row["x_SubscriptionId"], row["x_ReferenceNo"], row["x_OverageFlag"]) == (
        "20209880",
        "7108a1f83bdbad70487bf0cf99cbe260",
        "false",
    )
    assert json.loads(row["Tags"]) == {"Oracle-Tags.CreatedBy": "default/phil.newman@oracle.com"}


def test_correction_lines(convert: Convert) -> None:
    row = one(
        convert,
        **{
            "lineItem/isCorrection": "true",
            "lineItem/backreferenceNo": "17053",
            "cost/myCost": "-0.012264277499950943",
        },
    )
    assert (row["ChargeCategory"], row["ChargeClass"]) == ("Usage", "Correction")
    assert (row["BilledCost"], row["x_BackReferenceNo"]) == (
        Decimal("-0.012264277499950943"),
        "17053",
    )


def test_overage_columns_are_kept(convert: Convert) -> None:
    row = one(
        convert,
        **{
            "cost/overageFlag": "Y",
            "cost/myCostOverage": "0.000040641000",
            "cost/unitPriceOverage": "2.139000000000",
            "usage/billedQuantityOverage": "0.000019000000",
        },
    )
    assert (row["x_OverageFlag"], row["x_MyCostOverage"], row["x_UnitPriceOverage"]) == (
        "Y",
        "0.000040641000",
        "2.139000000000",
    )
    assert row["BilledCost"] == Decimal("0.012264277499950943")  # myCost includes overage


def test_tags_keep_namespace_and_casing_and_skip_blank_cells(convert: Convert) -> None:
    row = one(convert, **{"tags/free-form-tag": "qa"})
    assert json.loads(row["Tags"]) == {
        "Oracle-Tags.CreatedBy": "default/phil.newman@oracle.com",
        "free-form-tag": "qa",
    }
    assert row["x_TagsNormalized"]["oracle-tags.createdby"] == "default/phil.newman@oracle.com"
    assert one(convert, **{"tags/Oracle-Tags.CreatedBy": None})["Tags"] is None


def test_blank_currency_takes_the_tenancys_currency(convert: Convert) -> None:
    out = convert(
        FMT,
        HEADER,
        rows_of(
            {"cost/currencyCode": None, "cost/myCost": "0"},
            {"cost/currencyCode": "GBP"},
        ),
    )
    assert [r["BillingCurrency"] for r in out] == ["GBP", "GBP"]


def test_blank_currency_everywhere_is_an_error() -> None:
    with pytest.raises(duckdb.Error) as err:
        run_conversion(FMT, HEADER, rows_of({"cost/currencyCode": None}))
    assert "row 1 column cost/currencyCode: is blank" in str(err.value)


def test_tiny_costs_in_exponent_notation_are_rounded(convert: Convert) -> None:
    assert one(convert, **{"cost/myCost": "2.323760000E-9"})["BilledCost"] == Decimal(
        "0.00000000232376"
    )
    # 1.23456789015E-9 has 20 decimal places: rounded half up to the warehouse's 18.
    assert one(convert, **{"cost/myCost": "1.23456789055E-9"})["BilledCost"] == Decimal(
        "0.000000001234567891"
    )
    assert one(convert, **{"cost/myCost": "4E-20"})["BilledCost"] == 0


def test_blank_cost_is_zero_and_the_line_is_kept(convert: Convert) -> None:
    row = one(convert, **{"cost/myCost": None, "cost/unitPrice": None})
    assert (row["BilledCost"], row["ContractedUnitPrice"]) == (0, None)


@pytest.mark.parametrize(
    ("service", "category"),
    [
        ("TELEMETRY", ("Management and Governance", "Observability")),
        ("block_storage", ("Storage", "Block Storage")),
        ("ORACLE_STREAMING_SERVICE", ("Integration", "Messaging")),
        ("SOMETHING_NEW", ("Other", "Other (Other)")),
    ],
)
def test_service_categories(convert: Convert, service: str, category: tuple[str, str]) -> None:
    row = one(convert, **{"product/service": service})
    assert (row["ServiceName"], (row["ServiceCategory"], row["ServiceSubcategory"])) == (
        service,
        category,
    )


def test_resource_type_only_from_ocids(convert: Convert) -> None:
    assert one(convert, **{"product/resourceId": "bucket-20220"})["ResourceType"] is None


@pytest.mark.parametrize(
    ("native", "focus"),
    [
        ("10K Requests", "10000 Requests"),
        ("1M API Calls", "1000000 API Calls"),
        ("Million Datapoints", "1000000 Datapoints"),
        ("GB Months", "GB-Months"),
        ("OCPU Hours", "OCPU-Hours"),
        ("Hours", "Hours"),
        ("GB Of Data Transferred", "GB Of Data Transferred"),
    ],
)
def test_units_in_focus_unit_format(convert: Convert, native: str, focus: str) -> None:
    row = one(convert, **{"cost/skuUnitDescription": native})
    assert (row["PricingUnit"], row["ConsumedUnit"]) == (focus, focus)


def test_report_without_optional_columns(convert: Convert) -> None:
    header = (
        "lineItem/tenantId",
        "lineItem/intervalUsageStart",
        "lineItem/intervalUsageEnd",
        "product/service",
        "cost/myCost",
        "cost/currencyCode",
    )
    (row,) = convert(FMT, header, rows_of({}, header=header))
    assert row["BilledCost"] == Decimal("0.012264277499950943")
    for col in ("SubAccountId", "SkuId", "Tags", "PricingQuantity", "PricingUnit", "RegionId"):
        assert row[col] is None


def test_usage_report_is_refused_with_a_clear_message() -> None:
    header = [
        "lineItem/referenceNo",
        "lineItem/tenantId",
        "lineItem/intervalUsageStart",
        "lineItem/intervalUsageEnd",
        "product/service",
        "product/resource",
        "usage/consumedQuantity",
        "usage/billedQuantity",
        "usage/consumedQuantityUnits",
    ]
    found = detect_format(header, "reports_usage-csv_0001.csv")
    assert found is not None and found.name == FMT
    with pytest.raises(InputError) as err:
        found.convert(Header(header, "reports_usage-csv_0001.csv", found.key))
    text = str(err.value)
    assert "OCI usage report" in text and "no costs" in text and "cost report" in text


def test_missing_columns_are_named() -> None:
    fmt = get_format(FMT)
    header = [c for c in HEADER if c not in ("cost/currencyCode", "lineItem/intervalUsageEnd")]
    with pytest.raises(InputError) as err:
        fmt.convert(Header(header, "cost.csv", fmt.key))
    assert "missing column(s) lineItem/intervalUsageEnd; cost/currencyCode" in str(err.value)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("cost/myCost", "0,0123"),
        ("usage/billedQuantity", "n/a"),
        ("cost/unitPrice", "$0.14"),
        ("lineItem/intervalUsageStart", "13/11/2023 10:00"),
    ],
)
def test_bad_values_name_the_native_column_and_row(column: str, value: str) -> None:
    with pytest.raises(duckdb.Error) as err:
        run_conversion(FMT, HEADER, rows_of({}, {}, {column: value}))
    assert f"row 3 column {column}:" in str(err.value)


def test_detection() -> None:
    found = detect_format(list(HEADER), "cost.csv")
    assert found is not None and found.name == FMT
    cur = ["bill/PayerAccountId", "lineItem/UnblendedCost", "lineItem/LineItemType"]
    found = detect_format(cur, "cur.csv")
    assert found is None or found.name != FMT


def test_native_totals_equal_focus_totals() -> None:
    rows = rows_of(
        {},
        {"cost/myCost": "1.5", "lineItem/intervalUsageStart": "2023-12-01T00:00Z"},
        {"cost/myCost": "-0.5", "lineItem/isCorrection": "true"},
        {"lineItem/tenantId": "ocid1.tenancy.oc1..other", "cost/myCost": "2"},
    )
    conversion, out, totals = run_conversion(FMT, HEADER, rows)
    assert {m.focus for m in conversion.measures} == {
        "BilledCost",
        "EffectiveCost",
        "ListCost",
        "ContractedCost",
    }
    for (native, focus), total in totals.items():
        assert native == "cost/myCost"
        assert sum(r[focus] for r in out) == total == Decimal("3.012264277499950943")
