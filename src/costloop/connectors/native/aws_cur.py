"""AWS Cost and Usage Report (legacy CUR, Athena/Parquet snake_case, CUR 2.0) → FOCUS 1.2.

One mapping serves the three layouts: column names are matched ignoring case and
punctuation, so ``lineItem/UnblendedCost`` (legacy), ``line_item_unblended_cost``
(Athena, CUR 2.0) and ``savingsPlan/SavingsPlanARN`` / ``savings_plan_savings_plan_a_r_n``
are the same column. CUR 2.0's ``product``, ``resource_tags`` and ``cost_category`` map
columns arrive as JSON text (CSV) or as maps (Parquet, read as JSON).

The mapping follows ``reference/cur_to_focus.md`` (the FinOps Foundation converter's
cost formulas, corrected to FOCUS ≥ 1.0 categories):

* **BilledCost** = ``lineItem/NetUnblendedCost`` when the export has Net columns (EDP,
  private pricing), else ``lineItem/UnblendedCost``.
* **EffectiveCost** by line item type: covered usage → ``savingsPlan/SavingsPlanEffectiveCost``
  or ``reservation/EffectiveCost``; commitment fees → 0 on the purchase row; everything
  else = BilledCost (the AWS amortized-cost formula, Net variants when present).
* **Savings Plan negation** is merged into the covered usage: covered rows are billed 0
  and negation rows are not emitted. Whatever the negations and covered rows of one
  (account, period, usage account, plan) do not cancel — e.g. a pair split across two
  files of a load, or a report without negation lines — is kept as one "Savings Plan
  coverage residual" row, so no cent is lost.
* **Recurring commitment fees** (``RIFee``, ``SavingsPlanRecurringFee``) become a Purchase
  row (billed, EffectiveCost 0) plus a synthesized Usage row with CommitmentDiscountStatus
  ``Unused``, BilledCost 0 and EffectiveCost = the unused amortized commitment
  (``UnusedAmortizedUpfrontFeeForBillingPeriod + UnusedRecurringFee``, or
  ``TotalCommitmentToDate − UsedCommitment``). Upfront fees are One-Time Purchases.
* **Credit** → Credit; **Refund** → the category of what is refunded (Tax when it
  carries a tax type, else Usage); both are ChargeClass ``Correction`` when their
  usage period precedes the billing period. **Tax** → Tax. Discount lines (EDP,
  bundled, private rate, RI volume, distributor) are kept as Credit rows.
* **ListCost** = ``pricing/publicOnDemandCost`` (the on-demand equivalent, also on
  covered usage); where AWS gives none: ``publicOnDemandRate × UsageAmount`` for usage
  (rate read at 12 and amount at 6 decimal places, so the product cannot overflow),
  BilledCost for fees, taxes and credits, 0 on synthesized Unused rows.
* **ContractedCost** = the cost at the account's own rates before commitments:
  UnblendedCost (Net when present) on usage and SP-covered usage, ListCost on
  RI-covered usage (whose unblended cost is 0), BilledCost elsewhere; 0 on Unused rows.
* **Tags** from ``resourceTags/user:KEY`` (original casing) → ``KEY`` and
  ``resourceTags/aws:KEY`` → ``aws:KEY``; CUR 2.0's normalized ``user_key`` → ``key``.
* ServiceCategory/Subcategory from the mapping tables in ``costloop/data/connectors/aws``.
* PricingUnit/ConsumedUnit: ``pricing/unit`` with AWS's time abbreviations written as
  FOCUS UnitFormat asks (``Hrs`` → ``Hours``, ``GB-Mo`` → ``GB-Months``).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib.resources import files

from costloop.connectors.native.base import SOURCE, Conversion, Header, Measure, NativeFormat
from costloop.connectors.sql import ROW, ident, lit
from costloop.core.focus import MONEY_SQL_TYPE, SERVICE_SUBCATEGORIES

__all__ = ["AWS_CUR", "FORMATS"]

_M = MONEY_SQL_TYPE
_ZERO = f"CAST(0 AS {_M})"
_COVERED = ("DiscountedUsage", "SavingsPlanCoveredUsage")
_USAGE = ("Usage", *_COVERED)
_DISCOUNTS = (
    "EdpDiscount",
    "BundledDiscount",
    "PrivateRateDiscount",
    "RiVolumeDiscount",
    "DistributorDiscount",
    "SppDiscount",
)


@lru_cache(maxsize=1)
def _categories() -> dict[str, tuple[str, str]]:
    """Product code → (ServiceCategory, ServiceSubcategory)."""
    base = files("costloop") / "data" / "connectors" / "aws"
    out: dict[str, tuple[str, str]] = {}
    with (base / "aws_category_mapping.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            category = row["ServiceCategory"].strip()
            out[row["product_code"].strip()] = (category, f"Other ({category})")
    with (base / "aws_service_subcategories.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["product_code"].strip()] = (row["ServiceCategory"], row["ServiceSubcategory"])
    for category, sub in out.values():
        if SERVICE_SUBCATEGORIES.get(sub) != category:
            raise ValueError(f"AWS mapping table: {sub!r} is not a subcategory of {category!r}")
    return out


def _in(src: str, values: tuple[str, ...]) -> str:
    return f"{src} IN ({', '.join(lit(v) for v in values)})"


def _score(h: Header) -> int:
    if h.has("lineItem/UnblendedCost") and h.has("lineItem/LineItemType"):
        return 100
    return 0


_TAG_PREFIXES = ("resourcetags/", "resource_tags_")


def _tag_key(column: str) -> str | None:
    """FOCUS tag key of a legacy or Athena tag column (None: not a tag column)."""
    low = column.lower()
    for prefix in _TAG_PREFIXES:
        if low.startswith(prefix):
            rest = column[len(prefix) :]
            for user in ("user:", "user_"):
                if rest.lower().startswith(user):
                    return rest[len(user) :]
            for aws in ("aws:", "aws_"):
                if rest.lower().startswith(aws):
                    return "aws:" + rest[len(aws) :]
            return rest
    return None


def _json_object(entries: list[tuple[str, str]]) -> str:
    """SQL: a JSON object of (key, value SQL) pairs without the null values (NULL if none)."""
    items = ", ".join(f"{{'key': {lit(k)}, 'value': {v}}}" for k, v in entries)
    kept = f"list_filter([{items}], e -> e.value IS NOT NULL)"
    return (
        f"CASE WHEN length({kept}) > 0 THEN CAST(to_json(map_from_entries({kept})) AS VARCHAR) END"
    )


def _tags(h: Header) -> str:
    """SQL: the row's tags as a JSON object text (NULL when it has none)."""
    entries = [
        (key, f"nullif(trim(c{i}), '')")
        for i, name in enumerate(h.columns)
        if (key := _tag_key(name)) is not None
    ]
    if entries:
        return _json_object(entries)
    i = h.index("resource_tags")
    if i is None:
        return "CAST(NULL AS VARCHAR)"
    # CUR 2.0: a map whose keys are normalized to user_<key> / aws_<key>.
    raw = f"nullif(trim(c{i}), '')"
    entries_sql = (
        f"list_filter(list_transform(map_entries(CAST(CAST({raw} AS JSON) "
        f"AS MAP(VARCHAR, VARCHAR))), e -> {{'key': CASE "
        f"WHEN starts_with(e.key, 'user_') THEN e.key[6:] "
        f"WHEN starts_with(e.key, 'aws_') THEN 'aws:' || e.key[5:] ELSE e.key END, "
        f"'value': e.value}}), e -> e.value IS NOT NULL AND e.value <> '')"
    )
    return (
        f"CASE WHEN {raw} IS NOT NULL AND json_valid({raw}) AND length({entries_sql}) > 0 "
        f"THEN CAST(to_json(map_from_entries({entries_sql})) AS VARCHAR) END"
    )


def _cost_categories(h: Header) -> str:
    """SQL: cost categories as JSON object text (``x_CostCategories``)."""
    entries = [
        (name.split("/", 1)[1], f"nullif(trim(c{i}), '')")
        for i, name in enumerate(h.columns)
        if name.lower().startswith("costcategory/")
    ]
    if entries:
        return _json_object(entries)
    i = h.index("cost_category")
    if i is None:
        return "CAST(NULL AS VARCHAR)"
    raw = f"nullif(trim(c{i}), '')"
    return f"CASE WHEN {raw} NOT IN ('{{}}', 'null') THEN {raw} END"


def _product(h: Header, legacy: str, key: str) -> str:
    """SQL text of a product attribute: its own column, else CUR 2.0's ``product`` map."""
    if h.has(legacy):
        return h.text(legacy)
    i = h.index("product")
    if i is None:
        return "CAST(NULL AS VARCHAR)"
    return f"nullif(json_extract_string(nullif(trim(c{i}), ''), {lit('$.' + key)}), '')"


def _typed(h: Header, has_net: bool) -> dict[str, str]:
    """The native columns the mapping uses, each trimmed and parsed once per row.

    Commitment columns are parsed only on the line item types that use them, so
    unrelated junk in them (some exports reuse columns) does not stop a load.
    """
    raw_lt = f"coalesce({h.text('lineItem/LineItemType')}, '')"

    def only(types: tuple[str, ...], expr: str) -> str:
        return f"CASE WHEN {_in(raw_lt, types)} THEN {expr} END"

    def net_or(gross: str, net: str) -> str:
        return h.dec(net) if has_net and h.has(net) else h.dec(gross)

    region = (
        h.text("product/region")
        if h.has("product/region")
        else _product(h, "product/region", "region")
    )
    return {
        "lt": raw_lt,
        "payer": h.text("bill/PayerAccountId"),
        "payer_name": h.text("bill/PayerAccountName"),
        "account": h.text("lineItem/UsageAccountId"),
        "account_name": h.text("lineItem/UsageAccountName"),
        "currency": h.text("lineItem/CurrencyCode"),
        "bps": h.ts("bill/BillingPeriodStartDate"),
        "bpe": h.ts("bill/BillingPeriodEndDate"),
        "cps": h.ts("lineItem/UsageStartDate"),
        "cpe": h.ts("lineItem/UsageEndDate"),
        "bill_type": f"lower(coalesce({h.text('bill/BillType')}, ''))",
        "description": h.text("lineItem/LineItemDescription"),
        "unblended": h.dec0("lineItem/UnblendedCost"),
        # Without Net columns BilledCost is the unblended cost (aliased in cur_base).
        **({"billed": h.dec0("lineItem/NetUnblendedCost")} if has_net else {}),
        "rate": h.dec("lineItem/NetUnblendedRate" if has_net else "lineItem/UnblendedRate"),
        "amount": h.dec("lineItem/UsageAmount"),
        "od_cost": h.dec("pricing/publicOnDemandCost"),
        "od_rate": h.dec("pricing/publicOnDemandRate"),
        # AWS abbreviations to FOCUS UnitFormat ("Hrs" → "Hours", "GB-Mo" → "GB-Months").
        "unit": (
            "regexp_replace(regexp_replace(regexp_replace(regexp_replace("
            f"{h.text('pricing/unit')}, '^(Hrs|Hr)$', 'Hours'), '-(Mo|Mos|Month)$', '-Months'), "
            "'-(Hrs|Hr|Hour)$', '-Hours'), '-(Second|Sec)$', '-Seconds')"
        ),
        "term": f"lower(coalesce({h.text('pricing/term')}, ''))",
        "usage_type": h.text("lineItem/UsageType"),
        "operation": h.text("lineItem/Operation"),
        "tax_type": h.text("lineItem/TaxType"),
        "billing_entity": f"lower(coalesce({h.text('bill/BillingEntity')}, ''))",
        "legal_entity": h.text("lineItem/LegalEntity"),
        "product_code": f"coalesce({h.text('lineItem/ProductCode')}, '')",
        "product_name": _product(h, "product/ProductName", "product_name"),
        "service_label": _product(h, "product/servicename", "servicename"),
        "service_code": _product(h, "product/servicecode", "servicecode"),
        "region": f"coalesce({_product(h, 'product/regionCode', 'region_code')}, {region})",
        "location": _product(h, "product/location", "location"),
        "az": h.text("lineItem/AvailabilityZone"),
        "sku": _product(h, "product/sku", "sku"),
        "rate_code": f"coalesce({h.text('pricing/RateCode')}, {h.text('pricing/RateId')})",
        "invoice": h.text("bill/InvoiceId"),
        "issuer": h.text("bill/InvoicingEntity"),
        "resource": h.text("lineItem/ResourceId"),
        "line_item_id": h.text("identity/LineItemId"),
        "sp_arn": h.text("savingsPlan/SavingsPlanARN"),
        "ri_arn": h.text("reservation/ReservationARN"),
        "sp_effective": only(
            ("SavingsPlanCoveredUsage",),
            net_or(
                "savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/NetSavingsPlanEffectiveCost"
            ),
        ),
        "sp_unused": only(
            ("SavingsPlanRecurringFee",),
            f"({h.dec0('savingsPlan/TotalCommitmentToDate')} - "
            f"{h.dec0('savingsPlan/UsedCommitment')})",
        ),
        "ri_effective": only(
            ("DiscountedUsage",),
            net_or("reservation/EffectiveCost", "reservation/NetEffectiveCost"),
        ),
        "ri_unused": only(
            ("RIFee",),
            f"(coalesce({net_or('reservation/UnusedAmortizedUpfrontFeeForBillingPeriod', 'reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod')}, 0) + "  # noqa: E501
            f"coalesce({net_or('reservation/UnusedRecurringFee', 'reservation/NetUnusedRecurringFee')}, 0))",  # noqa: E501
        ),
        "tags": _tags(h),
        "cost_categories": _cost_categories(h),
    }


def _convert(h: Header) -> Conversion:
    h.require(
        "AWS CUR",
        ["bill/PayerAccountId"],
        ["bill/BillingPeriodStartDate"],
        ["bill/BillingPeriodEndDate"],
        ["lineItem/UsageAccountId"],
        ["lineItem/LineItemType"],
        ["lineItem/UsageStartDate"],
        ["lineItem/UsageEndDate"],
        ["lineItem/CurrencyCode"],
        ["lineItem/UnblendedCost"],
    )
    has_net = h.has("lineItem/NetUnblendedCost")
    notes: list[str] = []
    if has_net:
        notes.append("Net columns present: BilledCost and EffectiveCost use the net amounts")
    if not h.has("pricing/publicOnDemandCost"):
        notes.append(
            "no pricing/publicOnDemandCost column: ListCost is rate × amount, or BilledCost"
        )
    typed = _typed(h, has_net)
    z = _ZERO
    # The AWS amortized-cost formula, per native row (reference/cur_to_focus.md §2).
    amortized = (
        f"CASE lt WHEN 'SavingsPlanCoveredUsage' THEN coalesce(sp_effective, {z}) "
        f"WHEN 'SavingsPlanRecurringFee' THEN coalesce(sp_unused, {z}) "
        f"WHEN 'SavingsPlanNegation' THEN {z} WHEN 'SavingsPlanUpfrontFee' THEN {z} "
        f"WHEN 'DiscountedUsage' THEN coalesce(ri_effective, {z}) "
        f"WHEN 'RIFee' THEN coalesce(ri_unused, {z}) "
        f"WHEN 'Fee' THEN CASE WHEN ri_arn IS NOT NULL THEN {z} ELSE billed END "
        f"ELSE billed END"
    )
    # A negation line has no list cost of its own: the covered usage carries it.
    list_cost = (
        f"coalesce(od_cost, CASE WHEN {_in('lt', _USAGE)} AND od_rate IS NOT NULL "
        f"AND amount IS NOT NULL THEN CAST(CAST(od_rate AS DECIMAL(38, 12)) * "
        f"CAST(amount AS DECIMAL(38, 6)) AS {_M}) "
        f"WHEN lt = 'SavingsPlanNegation' THEN {z} END, billed)"
    )
    is_usage = _in("lt", _USAGE)
    quantity_row = f"({is_usage} OR {_in('lt', _DISCOUNTS)})"
    fees = ("RIFee", "Fee", "SavingsPlanUpfrontFee", "SavingsPlanRecurringFee")
    recurring = ("RIFee", "SavingsPlanRecurringFee")
    category = (
        f"CASE WHEN {is_usage} THEN 'Usage' WHEN {_in('lt', fees)} THEN 'Purchase' "
        "WHEN lt = 'Tax' THEN 'Tax' "
        "WHEN lt = 'Refund' THEN CASE WHEN tax_type IS NOT NULL THEN 'Tax' ELSE 'Usage' END "
        f"WHEN lt = 'Credit' OR {_in('lt', _DISCOUNTS)} THEN 'Credit' ELSE 'Usage' END"
    )
    commitment_id = "coalesce(sp_arn, ri_arn)"
    cd_id = f"CASE WHEN {_in('lt', (*_COVERED, *fees))} THEN {commitment_id} END"
    focus: dict[str, str] = {
        "BillingAccountId": "payer",
        "BillingAccountName": "payer_name",
        "BillingAccountType": "'Payer Account'",
        "SubAccountId": "account",
        "SubAccountName": "account_name",
        "SubAccountType": "'Linked Account'",
        "BillingCurrency": "currency",
        "BillingPeriodStart": "bps",
        "BillingPeriodEnd": "bpe",
        "ChargePeriodStart": "cps",
        "ChargePeriodEnd": "cpe",
        "ChargeCategory": category,
        "ChargeClass": f"CASE WHEN {_in('lt', ('Refund', 'Credit'))} AND cps < bps "
        "THEN 'Correction' END",
        "ChargeFrequency": (
            f"CASE WHEN {_in('lt', recurring)} THEN 'Recurring' "
            f"WHEN {_in('lt', ('SavingsPlanUpfrontFee', 'Credit', 'Refund'))} THEN 'One-Time' "
            "WHEN lt = 'Fee' THEN CASE WHEN bill_type = 'anniversary' THEN 'Recurring' "
            "ELSE 'One-Time' END "
            "WHEN lt = 'Tax' THEN 'Recurring' ELSE 'Usage-Based' END"
        ),
        "ChargeDescription": "description",
        "BilledCost": f"CASE WHEN lt = 'SavingsPlanCoveredUsage' THEN {z} ELSE billed END",
        "EffectiveCost": f"CASE WHEN {_in('lt', recurring)} THEN {z} ELSE {amortized} END",
        "ListCost": list_cost,
        "ListUnitPrice": f"CASE WHEN {quantity_row} THEN od_rate END",
        "ContractedCost": (
            f"CASE WHEN lt = 'DiscountedUsage' THEN {list_cost} "
            f"WHEN {_in('lt', ('Usage', 'SavingsPlanCoveredUsage'))} THEN "
            f"{'billed' if has_net else 'unblended'} ELSE billed END"
        ),
        "ContractedUnitPrice": (
            f"CASE WHEN {_in('lt', ('Usage', 'SavingsPlanCoveredUsage'))} THEN rate "
            "WHEN lt = 'DiscountedUsage' THEN od_rate END"
        ),
        "PricingQuantity": f"CASE WHEN {quantity_row} THEN amount END",
        "PricingUnit": f"CASE WHEN {quantity_row} AND amount IS NOT NULL THEN unit END",
        "ConsumedQuantity": f"CASE WHEN {is_usage} THEN amount END",
        "ConsumedUnit": f"CASE WHEN {is_usage} AND amount IS NOT NULL THEN unit END",
        "PricingCategory": (
            f"CASE WHEN {_in('lt', _COVERED)} THEN 'Committed' "
            f"WHEN {is_usage} AND (term = 'spot' OR coalesce(usage_type, '') "
            "LIKE '%SpotUsage%') THEN 'Dynamic' "
            f"WHEN {is_usage} OR {_in('lt', fees)} THEN 'Standard' END"
        ),
        "CommitmentDiscountId": cd_id,
        "CommitmentDiscountType": f"CASE WHEN {cd_id} IS NULL THEN NULL "
        "WHEN sp_arn IS NOT NULL THEN 'Savings Plan' ELSE 'Reserved Instance' END",
        "CommitmentDiscountCategory": f"CASE WHEN {cd_id} IS NULL THEN NULL "
        "WHEN sp_arn IS NOT NULL THEN 'Spend' ELSE 'Usage' END",
        "CommitmentDiscountStatus": f"CASE WHEN {_in('lt', _COVERED)} THEN 'Used' END",
        "ResourceId": (
            f"CASE WHEN {_in('lt', ('RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee'))} "
            f"THEN coalesce({commitment_id}, resource) ELSE resource END"
        ),
        "RegionId": "region",
        "RegionName": "location",
        "AvailabilityZone": "az",
        "ServiceName": "coalesce(product_name, service_label, nullif(product_code, ''), 'AWS')",
        "ServiceCategory": "coalesce(cat.category, 'Other')",
        "ServiceSubcategory": "coalesce(cat.subcategory, 'Other (Other)')",
        "SkuId": "sku",
        "SkuPriceId": "rate_code",
        "InvoiceId": "invoice",
        "InvoiceIssuerName": "coalesce(issuer, 'AWS')",
        "ProviderName": "'AWS'",
        "PublisherName": "CASE WHEN billing_entity LIKE '%marketplace%' "
        "THEN coalesce(legal_entity, 'AWS Marketplace') ELSE 'AWS' END",
        "Tags": "tags",
        "x_UsageType": "usage_type",
        "x_Operation": "operation",
        "x_ServiceCode": "coalesce(service_code, nullif(product_code, ''))",
        "x_CostCategories": "cost_categories",
        "x_LineItemId": "line_item_id",
        "x_LineItemType": "nullif(lt, '')",
    }
    helpers = {
        "__lt": "lt",
        "__unused": "CASE lt WHEN 'RIFee' THEN ri_unused WHEN 'SavingsPlanRecurringFee' "
        "THEN sp_unused END",
        "__billed": "billed",
        "__list": list_cost,
        "__plan": "sp_arn",
    }
    columns = list(focus)
    categories = _categories()
    cat_values = ", ".join(
        f"({lit(code)}, {lit(cat)}, {lit(sub)})" for code, (cat, sub) in sorted(categories.items())
    )
    typed_cte = (
        f"SELECT {ROW}, "
        + ", ".join(f"{expr} AS {ident(name)}" for name, expr in typed.items())
        + f" FROM {SOURCE}"
    )
    rows_cte = (
        f"SELECT t.{ROW}, "
        + ", ".join(f"{expr} AS {ident(name)}" for name, expr in {**focus, **helpers}.items())
        + " FROM cur_base AS t LEFT JOIN (VALUES "
        + cat_values
        + ") AS cat(code, category, subcategory) ON cat.code = t.product_code"
    )
    select_cols = ", ".join(ident(c) for c in columns)
    main = f"SELECT {ROW}, {select_cols} FROM cur_rows WHERE __lt <> 'SavingsPlanNegation'"
    unused_over: dict[str, str] = {
        "ChargeCategory": "'Usage'",
        "ChargeClass": "CAST(NULL AS VARCHAR)",
        "ChargeFrequency": "'Usage-Based'",
        "ChargeDescription": (
            "'Unused ' || CASE WHEN __lt = 'RIFee' THEN 'reservation' ELSE 'Savings Plan' END"
            " || ' commitment (amortized) for the billing period'"
        ),
        "BilledCost": z,
        "EffectiveCost": "__unused",
        "ListCost": z,
        "ContractedCost": z,
        "ListUnitPrice": f"CAST(NULL AS {_M})",
        "ContractedUnitPrice": f"CAST(NULL AS {_M})",
        "PricingQuantity": f"CAST(NULL AS {_M})",
        "PricingUnit": "CAST(NULL AS VARCHAR)",
        "ConsumedQuantity": f"CAST(NULL AS {_M})",
        "ConsumedUnit": "CAST(NULL AS VARCHAR)",
        "PricingCategory": "'Committed'",
        "CommitmentDiscountStatus": "'Unused'",
        "x_LineItemType": "__lt || '/Unused'",
    }
    unused = (
        f"SELECT {ROW}, "
        + ", ".join(f"{unused_over.get(c, ident(c))} AS {ident(c)}" for c in columns)
        + " FROM cur_rows WHERE __unused IS NOT NULL AND __unused <> 0"
    )
    residual_keys = (
        "BillingAccountId",
        "BillingAccountName",
        "BillingAccountType",
        "SubAccountId",
        "SubAccountName",
        "SubAccountType",
        "BillingCurrency",
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "InvoiceId",
        "InvoiceIssuerName",
    )
    residual_over: dict[str, str] = {
        "ChargePeriodStart": "min(ChargePeriodStart)",
        "ChargePeriodEnd": "max(ChargePeriodEnd)",
        "ChargeCategory": "'Usage'",
        "ChargeFrequency": "'Usage-Based'",
        "ChargeDescription": (
            "'Savings Plan coverage residual: covered usage and negation lines that do not "
            "cancel in this file'"
        ),
        "BilledCost": "sum(__billed)",
        "EffectiveCost": z,
        "ListCost": f"coalesce(sum(__list) FILTER (WHERE __lt = 'SavingsPlanNegation'), {z})",
        "ContractedCost": "sum(__billed)",
        "PricingCategory": "'Committed'",
        "CommitmentDiscountId": "__plan",
        "CommitmentDiscountType": "CASE WHEN __plan IS NOT NULL THEN 'Savings Plan' END",
        "CommitmentDiscountCategory": "CASE WHEN __plan IS NOT NULL THEN 'Spend' END",
        "ResourceId": "__plan",
        "ServiceName": "'Savings Plans for AWS Compute usage'",
        "ServiceCategory": "'Compute'",
        "ServiceSubcategory": "'Other (Compute)'",
        "ProviderName": "'AWS'",
        "PublisherName": "'AWS'",
        "x_LineItemType": "'SavingsPlanCoverageResidual'",
    }

    def residual_item(c: str) -> str:
        if c in residual_over:
            return residual_over[c]
        return ident(c) if c in residual_keys else "NULL"

    residual = (
        f"SELECT min({ROW}) AS {ROW}, "
        + ", ".join(f"{residual_item(c)} AS {ident(c)}" for c in columns)
        + " FROM cur_rows WHERE __lt IN ('SavingsPlanCoveredUsage', 'SavingsPlanNegation') "
        f"GROUP BY {', '.join(ident(k) for k in (*residual_keys, '__plan'))} "
        "HAVING sum(__billed) <> 0 OR coalesce(sum(__list) FILTER "
        "(WHERE __lt = 'SavingsPlanNegation'), 0) <> 0"
    )
    measures = (
        Measure(
            "lineItem/NetUnblendedCost" if has_net else "lineItem/UnblendedCost",
            "billed",
            "BilledCost",
        ),
        Measure(
            "amortized cost (AWS formula" + (", net)" if has_net else ")"),
            amortized,
            "EffectiveCost",
        ),
        Measure("pricing/publicOnDemandCost (list cost)", list_cost, "ListCost"),
    )
    return Conversion(
        format="aws-cur",
        query=f"{main}\nUNION ALL\n{unused}\nUNION ALL\n{residual}",
        columns=tuple(columns),
        account="payer",
        period="bps",
        measures=measures,
        notes=tuple(notes),
        ctes=(
            ("cur_typed", typed_cte),
            (
                "cur_base",
                "SELECT *" + ("" if has_net else ", unblended AS billed") + " FROM cur_typed",
            ),
            ("cur_rows", rows_cte),
        ),
        totals_from="cur_base",
        staged="cur_typed",
    )


AWS_CUR = NativeFormat(
    name="aws-cur",
    provider="AWS",
    title="AWS Cost and Usage Report: legacy CUR, Athena/Parquet snake_case, CUR 2.0",
    detected_from="lineItem/UnblendedCost and lineItem/LineItemType "
    "(or line_item_unblended_cost and line_item_line_item_type)",
    options="Net columns (lineItem/NetUnblendedCost, ...) are used for BilledCost when "
    "present; CUR 2.0 product/resource_tags/cost_category maps as JSON text or Parquet maps",
    score=_score,
    convert=_convert,
)

FORMATS = (AWS_CUR,)
