"""Oracle Cloud Infrastructure cost reports (the OCI proprietary CSV) → FOCUS 1.2.

OCI writes a cost report every few hours into its usage-report bucket
(``reports/cost-csv/*.csv.gz``); the columns are ``lineItem/*``, ``product/*``,
``usage/*``, ``cost/*`` and one ``tags/<namespace>.<key>`` column per tag. Usage reports
(``reports/usage-csv``, retired by Oracle in 2025) carry quantities but no cost and are
refused with a message pointing to the cost report.

Mapping decisions (see ``docs/connectors.md``, "Oracle Cloud (OCI)"):

* **Accounts.** BillingAccountId = ``lineItem/tenantId`` (the tenancy; type Tenancy),
  SubAccountId/Name = ``product/compartmentId``/``product/compartmentName`` (type
  Compartment). The subscription (``cost/subscriptionId``) is kept as ``x_SubscriptionId``:
  it is not always filled (internal tenancies) nor written the same way (the koku sample
  has ``015649487`` and ``15649487``), so it would split one tenancy's month into several
  load slices. Oracle's own FOCUS report differs: subscription → BillingAccountId,
  tenancy → SubAccountId.
* **Periods.** The report has no invoice or billing-period column: BillingPeriodStart is
  the first of the month of ``lineItem/intervalUsageStart`` (UTC), as in Oracle's FOCUS
  report; ChargePeriod = ``intervalUsageStart`` .. ``intervalUsageEnd`` (OCI writes both
  ``2023-11-13T07:00Z`` and ``2023-11-13T08:00:00Z``).
* **Costs.** ``cost/myCost`` (= ``usage/billedQuantity`` × ``cost/unitPrice``, overage
  included) is BilledCost and EffectiveCost, as in Oracle's FOCUS report: Universal
  Credits are drawn down, not invoiced per line, and there are no credit or tax lines.
  The report has no list price, so ListCost = ContractedCost = ``cost/myCost`` and
  ListUnitPrice stays empty (ContractedUnitPrice = ``cost/unitPrice``); ``cost/myCostOverage``
  and ``cost/unitPriceOverage`` are kept as ``x_`` columns. Costs with more than 18
  decimals (e.g. ``2.32376E-9``) are rounded half up to 18 places, in the FOCUS columns
  and in the native totals alike. A blank ``cost/currencyCode`` (OCI leaves it blank on
  some zero-cost lines) takes the currency of the tenancy's other lines in the file.
* **Charges.** Every line is Usage, Usage-Based, PricingCategory Standard; lines with
  ``lineItem/isCorrection`` true are ChargeClass Correction (the corrected line's
  ``referenceNo`` is in ``x_BackReferenceNo``).
* **Product.** ServiceName = ``product/service`` (OCI's code, e.g. ``COMPUTE``, as Oracle's
  FOCUS report writes it), its category from ``costloop/data/connectors/oci``;
  ChargeDescription = ``product/Description``; SkuId = ``cost/productSku`` (the part
  number, e.g. ``B92911``); SkuMeter = ``product/resource`` when present; ResourceId =
  ``product/resourceId`` and ResourceType its OCID type (``instance``, ``bootvolume``…);
  RegionId = RegionName = ``product/region``; AvailabilityZone =
  ``product/availabilityDomain``. Quantities: ``usage/billedQuantity`` in
  ``cost/skuUnitDescription`` (else ``cost/billingUnitReadable``), written in FOCUS
  UnitFormat: multipliers as numbers (``10K Requests`` → ``10000 Requests``, ``Million
  Datapoints`` → ``1000000 Datapoints``), units over time hyphenated (``GB Months`` →
  ``GB-Months``).
* **Tags**: ``tags/Oracle-Tags.CreatedBy`` → ``Oracle-Tags.CreatedBy`` (defined tags keep
  their namespace, free-form tags have none), original casing, blank cells omitted.
* ProviderName, PublisherName and InvoiceIssuerName are ``Oracle``, the names Oracle's
  own FOCUS report uses.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib.resources import files

from costloop.connectors.native.base import SOURCE, Conversion, Header, Measure, NativeFormat
from costloop.connectors.sql import ROW, decimal_expr, fail, ident, lit
from costloop.core.errors import InputError
from costloop.core.focus import MONEY_SQL_TYPE, SERVICE_SUBCATEGORIES

__all__ = ["FORMATS", "OCI_COST_REPORT"]

_M = MONEY_SQL_TYPE
_ZERO = f"CAST(0 AS {_M})"
_ORACLE = "Oracle"
_TIME_FORMATS = ("%Y-%m-%dT%H:%MZ",)
_TAG_PREFIX = "tags/"


@lru_cache(maxsize=1)
def _categories() -> dict[str, tuple[str, str]]:
    """``product/service`` code → (ServiceCategory, ServiceSubcategory)."""
    path = files("costloop") / "data" / "connectors" / "oci" / "oci_service_categories.csv"
    out: dict[str, tuple[str, str]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["service"].strip().upper()] = (
                row["ServiceCategory"],
                row["ServiceSubcategory"],
            )
    for category, sub in out.values():
        if SERVICE_SUBCATEGORIES.get(sub) != category:
            raise ValueError(f"OCI mapping table: {sub!r} is not a subcategory of {category!r}")
    return out


def _case_map(src: str, mapping: dict[str, str], default: str) -> str:
    arms = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in sorted(mapping.items()))
    return f"CASE {src} {arms} ELSE {lit(default)} END"


_TIME_UNITS = "Years|Months|Days|Hours|Minutes|Seconds"


def _unit(src: str) -> str:
    """SQL: an OCI unit description in FOCUS UnitFormat.

    A leading multiplier becomes a number (``10K Requests`` → ``10000 Requests``, ``1M
    API Calls`` → ``1000000 API Calls``, ``Million Datapoints`` → ``1000000
    Datapoints``) and a unit over time is hyphenated (``GB Months`` → ``GB-Months``,
    ``OCPU Hours`` → ``OCPU-Hours``); anything else is kept as written.
    """
    steps = (
        (r"^([0-9]+) ?K\s+", r"\1000 "),
        (r"^([0-9]+) ?M\s+", r"\1000000 "),
        (r"^(?i:thousand)\s+", "1000 "),
        (r"^(?i:million)\s+", "1000000 "),
        (r"^(?i:billion)\s+", "1000000000 "),
        (rf"^([A-Za-z][A-Za-z0-9]*) ({_TIME_UNITS})$", r"\1-\2"),
    )
    out = src
    for pattern, replacement in steps:
        out = f"regexp_replace({out}, {lit(pattern)}, {lit(replacement)})"
    return out


def _score(h: Header) -> int:
    if h.has("lineItem/tenantId") and h.has("lineItem/intervalUsageStart"):
        return 100 if h.has("product/service") else 50
    return 0


def _tags(h: Header) -> str:
    """SQL: the ``tags/*`` columns as a JSON object text (NULL when the row has none)."""
    entries = [
        (name[len(_TAG_PREFIX) :], f"nullif(trim(c{i}), '')")
        for i, name in enumerate(h.columns)
        if name.lower().startswith(_TAG_PREFIX) and len(name) > len(_TAG_PREFIX)
    ]
    if not entries:
        return "CAST(NULL AS VARCHAR)"
    items = ", ".join(f"{{'key': {lit(k)}, 'value': {v}}}" for k, v in entries)
    kept = f"list_filter([{items}], e -> e.value IS NOT NULL)"
    return (
        f"CASE WHEN length({kept}) > 0 THEN CAST(to_json(map_from_entries({kept})) AS VARCHAR) END"
    )


def _refuse_usage_report(h: Header) -> None:
    """Raise for an OCI usage report (quantities only), which cannot be costed.

    Raises:
        InputError: the file has ``usage/consumedQuantity`` but no ``cost/myCost``.
    """
    if not h.has("cost/myCost") and h.has("usage/consumedQuantity", "usage/billedQuantity"):
        raise InputError(
            "this is an OCI usage report: it holds usage quantities but no costs "
            "(no cost/myCost column), so it cannot be loaded as a bill; ingest the OCI "
            "cost report of the same period instead (reports/cost-csv/ in the usage-report "
            "bucket, or Billing & Cost Management → Cost and Usage Reports → cost reports)",
            file=h.file,
            column="cost/myCost",
        )


def _convert(h: Header) -> Conversion:
    _refuse_usage_report(h)
    h.require(
        "OCI cost report",
        ["lineItem/tenantId"],
        ["lineItem/intervalUsageStart"],
        ["lineItem/intervalUsageEnd"],
        ["product/service"],
        ["cost/myCost"],
        ["cost/currencyCode"],
    )
    tenant = h.text("lineItem/tenantId")
    start = h.ts("lineItem/intervalUsageStart", formats=_TIME_FORMATS)
    period = f"CAST(date_trunc('month', {start}) AS TIMESTAMP)"
    cost_col = h.name("cost/myCost") or "cost/myCost"
    cost = f"coalesce({decimal_expr(h.text('cost/myCost'), cost_col, round_excess=True)}, {_ZERO})"

    def num(name: str) -> str:
        return decimal_expr(h.text(name), h.name(name) or name, round_excess=True)

    text = {
        "tenant": tenant,
        "currency": h.text("cost/currencyCode"),
        "service": h.text("product/service"),
        "description": h.text("product/Description", "product/description"),
        "resource_id": h.text("product/resourceId"),
        "quantity_unit": _unit(
            f"coalesce({h.text('cost/skuUnitDescription')}, {h.text('cost/billingUnitReadable')})"
        ),
    }
    rows_cte = (
        f"SELECT {ROW}, "
        + ", ".join(f"{expr} AS {name}" for name, expr in text.items())
        + f", {start} AS cps, {h.ts('lineItem/intervalUsageEnd', formats=_TIME_FORMATS)} AS cpe"
        f", {cost} AS cost, {num('usage/billedQuantity')} AS quantity"
        f", {num('cost/unitPrice')} AS unit_price"
        f", max({h.text('cost/currencyCode')}) OVER (PARTITION BY {tenant}) AS tenant_currency"
        f", * EXCLUDE ({ROW}) FROM {SOURCE}"
    )
    is_correction = (
        f"coalesce(lower({h.text('lineItem/isCorrection')}) IN ('true', 't', 'y', 'yes', '1'), "
        "false)"
    )
    blank_currency = fail(
        h.name("cost/currencyCode") or "cost/currencyCode",
        "is blank and no other line of the tenancy names the currency:",
        "coalesce(tenant, '?')",
    )
    categories = _categories()
    service_key = "upper(coalesce(service, ''))"
    main: dict[str, str] = {
        "BillingAccountId": "tenant",
        "BillingAccountType": "'Tenancy'",
        "SubAccountId": h.text("product/compartmentId"),
        "SubAccountName": h.text("product/compartmentName"),
        "SubAccountType": (
            f"CASE WHEN {h.text('product/compartmentId')} IS NOT NULL THEN 'Compartment' END"
        ),
        "BillingCurrency": f"coalesce(currency, tenant_currency, {blank_currency})",
        "BillingPeriodStart": "CAST(date_trunc('month', cps) AS TIMESTAMP)",
        "BillingPeriodEnd": "CAST(date_trunc('month', cps) AS TIMESTAMP) + INTERVAL 1 MONTH",
        "ChargePeriodStart": "cps",
        "ChargePeriodEnd": "cpe",
        "ChargeCategory": "'Usage'",
        "ChargeClass": f"CASE WHEN {is_correction} THEN 'Correction' END",
        "ChargeFrequency": "'Usage-Based'",
        "ChargeDescription": "description",
        "BilledCost": "cost",
        "EffectiveCost": "cost",
        "ListCost": "cost",
        "ContractedCost": "cost",
        "ContractedUnitPrice": "unit_price",
        "PricingQuantity": "quantity",
        "PricingUnit": "CASE WHEN quantity IS NOT NULL THEN quantity_unit END",
        "ConsumedQuantity": "quantity",
        "ConsumedUnit": "CASE WHEN quantity IS NOT NULL THEN quantity_unit END",
        "PricingCategory": "'Standard'",
        "ResourceId": "resource_id",
        "ResourceType": r"nullif(regexp_extract(resource_id, '^ocid1\.([a-z0-9_-]+)\.', 1), '')",
        "RegionId": h.text("product/region"),
        "RegionName": h.text("product/region"),
        "AvailabilityZone": h.text("product/availabilityDomain"),
        "ServiceName": f"coalesce(service, description, {lit(_ORACLE)})",
        "ServiceCategory": _case_map(
            service_key, {k: v[0] for k, v in categories.items()}, "Other"
        ),
        "ServiceSubcategory": _case_map(
            service_key, {k: v[1] for k, v in categories.items()}, "Other (Other)"
        ),
        "SkuId": h.text("cost/productSku"),
        "SkuMeter": h.text("product/resource"),
        "InvoiceIssuerName": lit(_ORACLE),
        "ProviderName": lit(_ORACLE),
        "PublisherName": lit(_ORACLE),
        "Tags": _tags(h),
        "x_ReferenceNo": h.text("lineItem/referenceNo"),
        "x_BackReferenceNo": h.text("lineItem/backreferenceNo"),
        "x_SubscriptionId": h.text("cost/subscriptionId"),
        "x_MyCost": h.text("cost/myCost"),
        "x_MyCostOverage": h.text("cost/myCostOverage"),
        "x_UnitPriceOverage": h.text("cost/unitPriceOverage"),
        "x_BilledQuantityOverage": h.text("usage/billedQuantityOverage"),
        "x_OverageFlag": h.text("cost/overageFlag"),
        "x_BillingUnitReadable": h.text("cost/billingUnitReadable"),
        "x_AttributedCost": h.text("cost/attributedCost"),
        "x_AttributedUsage": h.text("usage/attributedUsage"),
    }
    query = (
        f"SELECT {ROW}, "
        + ", ".join(f"{expr} AS {ident(name)}" for name, expr in main.items())
        + " FROM oci_rows"
    )
    measures = tuple(
        Measure(cost_col, cost, column)
        for column in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
    )
    notes = (
        "ListCost = ContractedCost = cost/myCost: OCI cost reports carry no list price",
        "BillingAccountId = lineItem/tenantId (tenancy), SubAccountId = product/compartmentId",
        "OCI writes a cost report every few hours: load all of a month's files together, "
        "since a load replaces the tenancy's whole month",
    )
    return Conversion(
        format="oci-cost-report",
        query=query,
        columns=tuple(main),
        account=tenant,
        period=period,
        measures=measures,
        notes=notes,
        ctes=(("oci_rows", rows_cte),),
    )


OCI_COST_REPORT = NativeFormat(
    name="oci-cost-report",
    provider="Oracle Cloud Infrastructure",
    title="OCI cost report (proprietary CSV from the usage-report bucket)",
    detected_from="lineItem/tenantId, lineItem/intervalUsageStart and product/service",
    options="cost reports only: a usage report (no cost/* columns) is refused; "
    "tags/<namespace>.<key> columns become Tags",
    score=_score,
    convert=_convert,
)

FORMATS = (OCI_COST_REPORT,)
