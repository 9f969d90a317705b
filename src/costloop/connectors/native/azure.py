"""Azure cost details (EA, MCA, pay-as-you-go; actual or amortized; legacy v1) → FOCUS 1.2.

One mapping serves every layout of Cost Management's cost details export: PascalCase
(EA), camelCase (MCA, CSP), the legacy v1 usage details (``SubscriptionGuid``,
``PreTaxCost``, ``UsageDateTime``) and localized headers that carry the English name
in parentheses (``Kategorie der Verbrauchseinheit (MeterCategory)``). Names are matched
ignoring case and punctuation. The mapping follows Microsoft's "Convert Cost Management
data to FOCUS" guide (finops-toolkit ``docs-mslearn/focus/convert.md``) and the column
conventions of Azure's own FOCUS export, so bills loaded from either agree:

* **BillingAccountId** is the ARM id of the invoiced scope, as in Azure's FOCUS export.
  EA: ``/providers/Microsoft.Billing/billingAccounts/<enrollment>``. MCA (billing account
  id not numeric, distinct billing profile): ``…/billingAccounts/<account>/
  billingProfiles/<profile>`` — an MCA invoice, currency and billing period belong to
  the billing profile. BillingAccountName is the EA account / MCA profile name. Files
  without billing account columns (v1 pay-as-you-go, CSP customer exports) are billed
  per subscription: ``/subscriptions/<id>``, BillingAccountType ``Subscription``. The raw
  ids stay in ``x_BillingAccountId``/``x_BillingProfileId``/``x_SubscriptionId``.
* **SubAccountId** = ``/subscriptions/<SubscriptionId>``, SubAccountName the subscription name.
* **BillingPeriodStart/End** from BillingPeriodStartDate/EndDate; the end date Azure
  writes is the last day (inclusive) and gets one day added, unless it is already the
  exclusive bound (same day of month as the start). Where the export has no or empty
  period columns the period is the calendar month of the charge date.
* **ChargePeriodStart/End** = [Date, Date + 1 day): cost details rows are daily.
  Dates in US ``MM/DD/YYYY``, ISO and German ``DD.MM.YYYY`` layouts.
* **BilledCost / EffectiveCost** from CostInBillingCurrency (``Cost`` in older EA files,
  ``PreTaxCost`` in v1), per row, for both dataset views:
  commitment-covered usage (ChargeType Usage, PricingModel Reservation/SavingsPlan) and
  ``UnusedReservation``/``UnusedSavingsPlan`` rows have BilledCost 0 and EffectiveCost =
  cost; commitment purchases and refunds have BilledCost = cost and EffectiveCost 0;
  every other row has both = cost. In an *actual cost* file covered usage costs 0 and
  there are no unused rows, so Σ cost = Σ BilledCost; in an *amortized* file there are no
  commitment purchases, so Σ cost = Σ EffectiveCost. Neither file alone gives both: the
  amortized EffectiveCost of covered usage is only in the amortized file, the billed
  commitment purchases only in the actual file. Load one view per billing account and
  period (amortized, or better Azure's FOCUS export, which carries both).
* **ChargeCategory** from ChargeType: Usage and Unused* → Usage (Unused* with
  CommitmentDiscountStatus ``Unused``), Purchase → Purchase, Refund → Purchase with
  ChargeClass ``Correction``, Tax, Credit; anything else (RoundingAdjustment, …) →
  Adjustment. v1 files have only usage. **ChargeFrequency** from Frequency.
* **PricingCategory** from PricingModel: OnDemand → Standard, Spot → Dynamic,
  Reservation/SavingsPlan → Committed on usage rows; purchases are Standard.
* **CommitmentDiscount*** from BenefitId/BenefitName (else ReservationId/Name): type
  Reservation (``/microsoft.capacity/``, category Usage) or Savings Plan
  (``/microsoft.billingbenefits/``, category Spend); status Used/Unused on usage rows.
  Purchase and unused rows carry the commitment id as ResourceId and its ARM type as
  ResourceType (``Microsoft.Capacity/reservationOrders/reservations``).
* **Prices and quantities.** Azure's unit prices are per UnitOfMeasure (e.g. per
  ``10K`` operations) and ``Quantity`` counts those units: cost = Quantity ×
  EffectivePrice. So PricingQuantity = Quantity and PricingUnit is the unit of measure
  in FOCUS form from ``PricingUnits.csv`` (``10K`` → ``10000 Units``, ``1 Hour`` →
  ``Hours``); ConsumedQuantity = Quantity × block size in the distinct unit (usage
  rows). Microsoft's guide divides Quantity by the block size instead, which breaks
  ListCost = ListUnitPrice × PricingQuantity by that factor.
  ListUnitPrice = PayGPrice (× ExchangeRatePricingToBilling for MCA), or UnitPrice where
  PayGPrice is missing or 0 (EA files often carry 0); ListCost = PaygCostInBillingCurrency
  where present, else ListUnitPrice × Quantity, else the row cost. ContractedUnitPrice =
  UnitPrice (× exchange rate); ContractedCost = ContractedUnitPrice × Quantity, else
  ListCost. Products are exact to 18 decimal places.
* **Region** from ResourceLocation/Location via ``Regions.csv`` (unknown: RegionName as
  given, RegionId null). **ServiceName/Category/Subcategory** via ``Services.csv`` by
  (ConsumedService, resource type from ResourceType or the ResourceId), else by the
  resource type or the ConsumedService alone where the table is unambiguous (a category
  shared by all of a ConsumedService's services still counts); ServiceName falls back to
  MeterCategory (the portal's service name), the category to ``Other``. A ServiceName
  the table knows always takes the table's category and subcategory for that name (so a
  MeterCategory fallback such as ``Virtual Network`` under ``Microsoft.Compute`` is
  Networking, as under ``Microsoft.Network``): FOCUS wants one ServiceCategory per
  ServiceName.
* **Tags**: Azure writes JSON object text, sometimes without the outer braces, which
  are added. An object with unique keys is kept as written (keys differing only in case
  are distinct); when a key repeats the object is rebuilt with its first value. Text
  that is still not an object is refused, naming the row.
* SkuId = ProductId (MCA) else MeterId; SkuPriceId = MeterId; SkuMeter = MeterName.
  ProviderName ``Microsoft``; PublisherName the row's PublisherName (Marketplace
  vendor) else ``Microsoft``; InvoiceIssuerName PartnerName (CSP) else ``Microsoft``.
* PricingCurrency stays null (prices are converted to the billing currency);
  ``x_PricingCurrency``, ``x_ExchangeRate`` and about 30 other ``x_`` columns keep the
  Azure-only fields (``x_MeterCategory``, ``x_ResourceGroupName``, ``x_CostCenter``, …).

Reconciled measures: the cost column on an actual-cost basis (covered and unused rows
0) ↔ BilledCost, on an amortized basis (commitment purchases and refunds 0) ↔
EffectiveCost, and the list cost ↔ ListCost. Every native row becomes exactly one FOCUS
row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib.resources import files

from costloop.connectors.native.base import SOURCE, Conversion, Header, Measure, NativeFormat
from costloop.connectors.sql import fail, ident, lit
from costloop.core.focus import ALLOWED_VALUES, MONEY_SQL_TYPE, SERVICE_SUBCATEGORIES

__all__ = ["AZURE_COST_DETAILS", "FORMATS"]

_M = MONEY_SQL_TYPE
_ZERO = f"CAST(0 AS {_M})"
_NAME = "azure-cost-details"

_COST = ("CostInBillingCurrency", "Cost", "PreTaxCost")
_DATE = ("Date", "UsageDateTime", "UsageDate")
_SUBSCRIPTION = ("SubscriptionId", "SubscriptionGuid")
_CURRENCY = ("BillingCurrencyCode", "BillingCurrency", "Currency")
_QUANTITY = ("Quantity", "UsageQuantity", "ConsumedQuantity")
_UNIT_PRICE = ("UnitPrice", "ResourceRate")
_RESOURCE = ("ResourceId", "InstanceId", "InstanceName")
_DATE_LAYOUTS = ("%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y")
_ARM_ACCOUNT = "/providers/Microsoft.Billing/billingAccounts/"
_SUBCATEGORY_FIXES = {"Quantum": "Quantum Compute", "Data Transfer": "Data Migration"}
_MARKS = (
    "MeterCategory",
    "MeterSubCategory",
    "MeterId",
    "MeterName",
    "ConsumedService",
    "ResourceLocation",
    "UnitOfMeasure",
    "ChargeType",
    "PricingModel",
    "PayGPrice",
    "EffectivePrice",
    "ResourceRate",
    "BenefitId",
    "ReservationId",
)

# ``x_`` column → the native column(s) it carries as text.
_PASSTHROUGH: dict[str, tuple[str, ...]] = {
    "x_AccountName": ("AccountName",),
    "x_AccountOwnerId": ("AccountOwnerId",),
    "x_BillingAccountId": ("BillingAccountId",),
    "x_BillingAccountName": ("BillingAccountName",),
    "x_BillingProfileId": ("BillingProfileId",),
    "x_BillingProfileName": ("BillingProfileName",),
    "x_InvoiceSectionId": ("InvoiceSectionId",),
    "x_InvoiceSectionName": ("InvoiceSectionName", "InvoiceSection", "DepartmentName"),
    "x_CostCenter": ("CostCenter",),
    "x_CostAllocationRuleName": ("CostAllocationRuleName",),
    "x_SubscriptionId": _SUBSCRIPTION,
    "x_ConsumedService": ("ConsumedService",),
    "x_MeterId": ("MeterId",),
    "x_MeterCategory": ("MeterCategory",),
    "x_MeterSubCategory": ("MeterSubCategory",),
    "x_MeterName": ("MeterName",),
    "x_MeterRegion": ("MeterRegion",),
    "x_ServiceFamily": ("ServiceFamily",),
    "x_PublisherType": ("PublisherType",),
    "x_PartNumber": ("PartNumber",),
    "x_OfferId": ("OfferId",),
    "x_PlanName": ("PlanName",),
    "x_ProductOrderId": ("ProductOrderId",),
    "x_ProductOrderName": ("ProductOrderName",),
    "x_Term": ("Term",),
    "x_ChargeType": ("ChargeType",),
    "x_PricingModel": ("PricingModel",),
    "x_ReservationId": ("ReservationId",),
    "x_EffectiveUnitPrice": ("EffectivePrice",),
    "x_PricingCurrency": ("PricingCurrency",),
    "x_ExchangeRate": ("ExchangeRatePricingToBilling", "ExchangeRate"),
    "x_CostInUsd": ("CostInUsd",),
    "x_CustomerName": ("CustomerName",),
    "x_CustomerTenantId": ("CustomerTenantId",),
    "x_ResellerName": ("ResellerName",),
    "x_IsAzureCreditEligible": ("IsAzureCreditEligible",),
    "x_AdditionalInfo": ("AdditionalInfo",),
}


def _key(name: str) -> str:
    """Column key: the English name in a localized header's parentheses, loosely."""
    m = re.fullmatch(r".*\(([^()]+)\)\s*", name)
    return re.sub(r"[^a-z0-9]", "", (m.group(1) if m else name).lower())


def _rows(name: str) -> list[dict[str, str]]:
    path = files("costloop") / "data" / "connectors" / "azure" / name
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def _values(name: str, columns: tuple[str, ...], rows: Iterable[tuple[str | int, ...]]) -> str:
    """A CTE body listing ``rows`` (strings and integers) as a table."""
    body = ", ".join(
        "(" + ", ".join(str(v) if isinstance(v, int) else lit(v) for v in row) + ")" for row in rows
    )
    return f"SELECT * FROM (VALUES {body}) AS {name}({', '.join(columns)})"


Service = tuple[str, str, str]
"""(ServiceName, ServiceCategory, ServiceSubcategory); an empty name means "use MeterCategory"."""


def _service(row: Mapping[str, str]) -> Service:
    category = row["ServiceCategory"].strip()
    if category not in ALLOWED_VALUES["ServiceCategory"]:
        category = "Other"
    sub = row["ServiceSubcategory"].strip()
    sub = _SUBCATEGORY_FIXES.get(sub, sub)
    if SERVICE_SUBCATEGORIES.get(sub) != category:
        sub = f"Other ({category})"
    return row["ServiceName"].strip(), category, sub


def _agreed(services: list[Service]) -> Service:
    """What several services of one key have in common (name only when all agree)."""
    names = {s[0] for s in services}
    cats = {s[1] for s in services}
    subs = {s[2] for s in services}
    if len(cats) > 1:
        return "", "Other", "Other (Other)"
    cat = cats.pop()
    return (
        names.pop() if len(names) == 1 else "",
        cat,
        subs.pop() if len(subs) == 1 else f"Other ({cat})",
    )


@lru_cache(maxsize=1)
def _lookups() -> tuple[tuple[str, str], ...]:
    """The mapping tables as CTEs: regions, pricing units and four service keys.

    Services are looked up by (ConsumedService, resource type), resource type,
    ConsumedService, and by ServiceName (the category and subcategory of a name).
    """
    regions = {
        r["OriginalValue"].strip().lower(): (r["RegionId"].strip(), r["RegionName"].strip())
        for r in _rows("Regions.csv")
    }
    units: dict[str, tuple[int, str]] = {}
    for r in _rows("PricingUnits.csv"):
        units.setdefault(
            r["UnitOfMeasure"].strip().lower(),
            (int(r["PricingBlockSize"]), r["DistinctUnits"].strip()),
        )
    pairs: dict[tuple[str, str], Service] = {}
    by_type: dict[str, list[Service]] = {}
    by_consumed: dict[str, list[Service]] = {}
    by_name: dict[str, list[Service]] = {}
    for r in _rows("Services.csv"):
        service = _service(r)
        if service[0]:
            by_name.setdefault(service[0].lower(), []).append(service)
        cs, rt = r["ConsumedService"].strip().lower(), r["ResourceType"].strip().lower()
        if cs and rt:
            pairs.setdefault((cs, rt), service)
        if rt:
            by_type.setdefault(rt, []).append(service)
        if cs:
            by_consumed.setdefault(cs, []).append(service)
    svc = ("name", "cat", "sub")
    return (
        ("azure_regions", _values("r", ("k", "id", "name"), ((k, *v) for k, v in regions.items()))),
        ("azure_units", _values("u", ("k", "block", "unit"), ((k, *v) for k, v in units.items()))),
        (
            "azure_svc_pair",
            _values("p", ("cs", "rt", *svc), ((*k, *v) for k, v in pairs.items())),
        ),
        (
            "azure_svc_type",
            _values(
                "t",
                ("rt", *svc),
                ((k, *v[0]) for k, v in by_type.items() if len(set(v)) == 1),
            ),
        ),
        (
            "azure_svc_cs",
            _values("c", ("cs", *svc), ((k, *_agreed(v)) for k, v in by_consumed.items())),
        ),
        (
            "azure_svc_name",
            _values("n", ("k", "cat", "sub"), ((k, *_agreed(v)[1:]) for k, v in by_name.items())),
        ),
    )


def _mul(a: str, b: str) -> str:
    """SQL: a × b of two DECIMAL(38, 18) values, rounded once to 18 decimal places.

    A plain product is typed DECIMAL(38, 36) and overflows from 100 on, so the
    integer parts are multiplied separately (exact) and only the product of the two
    fractions is rounded.
    """
    ai, bi = f"CAST(trunc({a}) AS DECIMAL(38, 0))", f"CAST(trunc({b}) AS DECIMAL(38, 0))"
    af, bf = f"({a} - trunc({a}))", f"({b} - trunc({b}))"
    return f"({a} * {bi} + {ai} * {bf} + CAST({af} * {bf} AS {_M}))"


def _score(h: Header) -> int:
    if h.has("BilledCost") and h.has("ChargePeriodStart"):
        return 0  # a FOCUS export (Azure's own carries x_ columns named like these)
    if not (
        h.has(*_COST, "CostInUsd")
        and h.has(*_SUBSCRIPTION)
        and h.has("MeterCategory", "ConsumedService", "MeterId")
    ):
        return 0
    return 50 + h.count(_MARKS)


class _Natives:
    """Per-row native values as SQL, over the source or over the parsed CTE's columns."""

    def __init__(self, sql: Mapping[str, str]) -> None:
        self.s = sql

    def __getattr__(self, name: str) -> str:
        return self.s[name]

    def billed(self) -> str:
        return f"CASE WHEN {self.covered} OR {self.unused} THEN {_ZERO} ELSE {self.cost} END"

    def effective(self) -> str:
        return f"CASE WHEN {self.cpurchase} THEN {_ZERO} ELSE {self.cost} END"

    def in_billing(self, price: str) -> str:
        return price if self.rate == "NULL" else _mul(price, f"coalesce({self.rate}, 1)")

    def list_unit(self) -> str:
        return (
            f"CASE WHEN {self.payg} IS NOT NULL AND ({self.payg} <> 0 OR "
            f"coalesce({self.unit}, 0) = 0) THEN {self.in_billing(self.payg)} "
            f"WHEN {self.unit} IS NOT NULL THEN {self.in_billing(self.unit)} END"
        )

    def list_cost(self, list_unit: str) -> str:
        return (
            f"coalesce({self.payg_cost}, CASE WHEN {list_unit} IS NOT NULL AND "
            f"{self.qty} IS NOT NULL THEN {_mul(list_unit, self.qty)} END, {self.cost})"
        )

    def contracted_unit(self) -> str:
        return f"CASE WHEN {self.unit} IS NOT NULL THEN {self.in_billing(self.unit)} END"

    def contracted_cost(self, contracted_unit: str, list_cost: str) -> str:
        return (
            f"coalesce(CASE WHEN {contracted_unit} IS NOT NULL AND {self.qty} IS NOT NULL "
            f"THEN {_mul(contracted_unit, self.qty)} END, {list_cost})"
        )


def _natives(h: Header) -> dict[str, str]:
    """SQL over the source for the native values the formulas use."""
    ct = f"lower(regexp_replace(coalesce({h.text('ChargeType')}, 'Usage'), '[^A-Za-z]', '', 'g'))"
    pm = f"lower(regexp_replace(coalesce({h.text('PricingModel')}, ''), '[^A-Za-z]', '', 'g'))"
    rid, bid = h.text("ReservationId"), h.text("BenefitId")
    consumed = f"lower(coalesce({h.text('ConsumedService')}, ''))"
    commit = (
        f"({pm} IN ('reservation', 'savingsplan') OR "
        f"({pm} = '' AND ({rid} IS NOT NULL OR {bid} IS NOT NULL)))"
    )
    return {
        "cost": h.dec0(*_COST),
        "qty": h.dec(*_QUANTITY),
        "unit": h.dec(*_UNIT_PRICE),
        "payg": h.dec("PayGPrice"),
        "payg_cost": h.dec("PaygCostInBillingCurrency"),
        "rate": h.dec("ExchangeRatePricingToBilling", "ExchangeRate")
        if h.has("ExchangeRatePricingToBilling", "ExchangeRate")
        else "NULL",
        "ct": ct,
        "pm": pm,
        "covered": f"({ct} = 'usage' AND {commit})",
        "unused": f"({ct} IN ('unusedreservation', 'unusedsavingsplan'))",
        "cpurchase": (
            f"({ct} IN ('purchase', 'refund') AND ({commit} OR "
            f"{consumed} IN ('microsoft.capacity', 'microsoft.billingbenefits')))"
        ),
    }


def _account(h: Header) -> tuple[str, str, str, list[str]]:
    """SQL for BillingAccountId, BillingAccountName, BillingAccountType; notes."""
    sub = h.text(*_SUBSCRIPTION)
    if not h.has("BillingAccountId", "BillingProfileId"):
        column = h.name(*_SUBSCRIPTION) or _SUBSCRIPTION[0]
        empty = fail(column, "is empty:", "'every row needs the billed subscription'")
        return (
            f"CASE WHEN {sub} IS NULL THEN {empty} WHEN starts_with({sub}, '/') THEN {sub} "
            f"ELSE '/subscriptions/' || {sub} END",
            h.text("SubscriptionName"),
            "'Subscription'",
            [
                "no billing account columns: billed per subscription (BillingAccountId "
                "/subscriptions/<id>)"
            ],
        )
    acct, prof = h.text("BillingAccountId"), h.text("BillingProfileId")
    mca = (
        f"({prof} IS NOT NULL AND {acct} IS NOT NULL AND {prof} <> {acct} "
        f"AND NOT regexp_full_match({acct}, '[0-9]+'))"
    )
    either = f"coalesce({acct}, {prof})"
    column = h.name("BillingAccountId", "BillingProfileId") or "BillingAccountId"
    empty = fail(column, "is empty:", "'every row needs the invoiced billing account'")
    account = (
        f"CASE WHEN {mca} THEN {lit(_ARM_ACCOUNT)} || {acct} || '/billingProfiles/' || {prof} "
        f"WHEN {either} IS NULL THEN {empty} WHEN starts_with({either}, '/') THEN {either} "
        f"ELSE {lit(_ARM_ACCOUNT)} || {either} END"
    )
    name = (
        f"CASE WHEN {mca} THEN coalesce({h.text('BillingProfileName')}, "
        f"{h.text('BillingAccountName')}) ELSE {h.text('BillingAccountName')} END"
    )
    kind = f"CASE WHEN {mca} THEN 'Billing Profile' ELSE 'Billing Account' END"
    return account, name, kind, []


def _periods(h: Header) -> tuple[str, str, str, list[str]]:
    """SQL for ChargePeriodStart, BillingPeriodStart, BillingPeriodEnd; notes."""
    cps = h.ts(*_DATE, formats=_DATE_LAYOUTS)
    start = h.ts("BillingPeriodStartDate", formats=_DATE_LAYOUTS)
    end = h.ts("BillingPeriodEndDate", formats=_DATE_LAYOUTS)
    bps = f"coalesce({start}, date_trunc('month', {cps}))"
    bpe = (
        f"CASE WHEN {start} IS NULL OR {end} IS NULL THEN {bps} + INTERVAL 1 MONTH "
        f"WHEN {end} > date_trunc('day', {end}) THEN date_trunc('day', {end}) + INTERVAL 1 DAY "
        f"WHEN day({end}) = day({start}) AND {end} > {start} THEN {end} "
        f"ELSE {end} + INTERVAL 1 DAY END"
    )
    notes = []
    if not h.has("BillingPeriodStartDate"):
        notes.append("no billing period columns: the billing period is the calendar month")
    return cps, bps, bpe, notes


def _tags(h: Header) -> str:
    """SQL: the row's tags as a JSON object text with unique keys (NULL when none)."""
    i = h.index("Tags")
    if i is None:
        return "CAST(NULL AS VARCHAR)"
    raw = f"nullif(trim(c{i}), '')"
    j = f"CASE WHEN starts_with({raw}, '{{') THEN {raw} ELSE '{{' || {raw} || '}}' END"
    keys = f"json_keys({j})"
    # Rebuilt only when a key repeats (the first value wins); otherwise kept as written.
    entries = (
        f"list_transform(list_filter(list_zip({keys}, json_extract_string({j}, '$.*')), "
        f"(e, n) -> list_position({keys}, e[1]) = n), e -> {{'key': e[1], 'value': e[2]}})"
    )
    bad = fail(h.columns[i], "is not a JSON object of tags:", f"'\"' || {raw} || '\"'")
    return (
        f"CASE WHEN {raw} IS NULL THEN NULL "
        f"WHEN NOT json_valid({j}) THEN {bad} WHEN json_type({j}) <> 'OBJECT' THEN {bad} "
        f"WHEN length({keys}) = 0 THEN NULL "
        f"WHEN length({keys}) = length(list_distinct({keys})) THEN {j} "
        f"ELSE CAST(to_json(map_from_entries({entries})) AS VARCHAR) END"
    )


def _resource_type(rid: str) -> str:
    """SQL: the ARM resource type of a resource id (``Microsoft.Sql/servers/databases``)."""
    parts = f"string_split(regexp_extract({rid}, '(?i)^.*/providers/(.+)$', 1), '/')"
    return (
        f"CASE WHEN len({parts}) >= 2 THEN {parts}[1] || '/' || "
        f"array_to_string(list_filter({parts}[2:], (x, n) -> n % 2 = 1), '/') END"
    )


def _convert(h: Header) -> Conversion:
    h.require("Azure cost details", _COST, _DATE, _SUBSCRIPTION, _CURRENCY)
    account, account_name, account_type, notes = _account(h)
    cps, bps, bpe, period_notes = _periods(h)
    notes += period_notes
    if h.has("PreTaxCost") and not h.has("CostInBillingCurrency", "Cost"):
        notes.append("legacy v1 usage details (PreTaxCost): every row is usage")
    notes.append(
        "an actual-cost file's total equals BilledCost, an amortized file's EffectiveCost; "
        "load one view per billing period"
    )
    raw = _natives(h)
    sub = h.text(*_SUBSCRIPTION)
    rid = f"coalesce({', '.join(h.text(n) for n in _RESOURCE)})"
    rtype = f"coalesce({h.text('ResourceType')}, {_resource_type(rid)})"
    # Stage 1: parse every native value once (helper columns start with __).
    parsed: dict[str, str] = {f"__{k}": v for k, v in raw.items() if v != "NULL"}
    parsed |= {
        "__cps": cps,
        "__bps": bps,
        "__bpe": bpe,
        "__account": account,
        "__account_name": account_name,
        "__account_type": account_type,
        "__sub": sub,
        "__sub_name": h.text("SubscriptionName"),
        "__currency": h.text(*_CURRENCY),
        "__rid": rid,
        "__rtype": rtype,
        "__resource_name": h.text("ResourceName"),
        "__rg": h.text("ResourceGroup", "ResourceGroupName"),
        "__cs": f"lower(trim({h.text('ConsumedService')}))",
        "__loc": f"coalesce({h.text('ResourceLocation')}, {h.text('Location')})",
        "__az": h.text("AvailabilityZone"),
        "__uom": h.text("UnitOfMeasure"),
        "__bid": h.text("BenefitId"),
        "__resid": h.text("ReservationId"),
        "__cdname": f"coalesce({h.text('BenefitName')}, {h.text('ReservationName')})",
        "__frequency": f"lower(regexp_replace({h.text('Frequency')}, '[^A-Za-z]', '', 'g'))",
        "__product": h.text("ProductName", "Product"),
        "__product_id": h.text("ProductId"),
        "__meter": h.text("MeterName"),
        "__metercat": f"nullif({h.text('MeterCategory')}, 'Unassigned')",
        "__invoice": h.text("InvoiceId"),
        "__partner": h.text("PartnerName"),
        "__publisher": h.text("PublisherName"),
        "__publisher_type": f"lower({h.text('PublisherType')})",
        "__tags": _tags(h),
        **{f"__{x}": h.text(*names) for x, names in _PASSTHROUGH.items()},
    }
    src = _Natives({k: f"s.__{k}" if raw[k] != "NULL" else "NULL" for k in raw})
    category = (
        "CASE s.__ct WHEN 'usage' THEN 'Usage' WHEN 'unusedreservation' THEN 'Usage' "
        "WHEN 'unusedsavingsplan' THEN 'Usage' WHEN 'purchase' THEN 'Purchase' "
        "WHEN 'refund' THEN 'Purchase' WHEN 'tax' THEN 'Tax' WHEN 'credit' THEN 'Credit' "
        "ELSE 'Adjustment' END"
    )
    is_tax = "s.__ct = 'tax'"
    has_cd = "(s.__covered OR s.__unused OR s.__cpurchase)"
    cd_id = f"CASE WHEN {has_cd} THEN coalesce(s.__bid, s.__resid) END"
    cd_type = (
        f"CASE WHEN {cd_id} IS NULL THEN NULL "
        "WHEN lower(s.__bid) LIKE '%/microsoft.capacity/%' THEN 'Reservation' "
        "WHEN lower(s.__bid) LIKE '%/microsoft.billingbenefits/%' THEN 'Savings Plan' "
        "WHEN s.__pm = 'savingsplan' OR s.__ct = 'unusedsavingsplan' THEN 'Savings Plan' "
        "ELSE 'Reservation' END"
    )
    commitment_row = f"((s.__cpurchase OR s.__unused) AND {cd_id} IS NOT NULL)"
    list_unit = src.list_unit()
    contracted_unit = src.contracted_unit()
    list_cost = src.list_cost(list_unit)
    is_usage = "(s.__ct = 'usage' AND s.__qty IS NOT NULL)"
    unit_name = (
        "CASE WHEN s.__uom IS NULL THEN NULL WHEN u.unit IS NULL THEN s.__uom "
        "WHEN u.block = 1 THEN u.unit ELSE CAST(u.block AS VARCHAR) || ' ' || u.unit END"
    )
    service_name = (
        "coalesce(nullif(p.name, ''), nullif(t.name, ''), nullif(c.name, ''), s.__metercat, "
        "s.__x_ConsumedService, CASE WHEN s.__publisher_type = 'marketplace' "
        "THEN 'Azure Marketplace' END, 'Microsoft Azure')"
    )
    last_segment = "nullif(regexp_extract(s.__rid, '([^/]+)/*$', 1), '')"
    focus: dict[str, str] = {
        "BillingAccountId": "s.__account",
        "BillingAccountName": "s.__account_name",
        "BillingAccountType": "s.__account_type",
        "SubAccountId": (
            "CASE WHEN starts_with(s.__sub, '/') THEN s.__sub ELSE '/subscriptions/' || s.__sub END"
        ),
        "SubAccountName": "s.__sub_name",
        "SubAccountType": "CASE WHEN s.__sub IS NOT NULL THEN 'Subscription' END",
        "BillingCurrency": "s.__currency",
        "BillingPeriodStart": "s.__bps",
        "BillingPeriodEnd": "s.__bpe",
        "ChargePeriodStart": "s.__cps",
        "ChargePeriodEnd": "s.__cps + INTERVAL 1 DAY",
        "ChargeCategory": category,
        "ChargeClass": "CASE WHEN s.__ct = 'refund' THEN 'Correction' END",
        "ChargeFrequency": (
            "CASE s.__frequency WHEN 'onetime' THEN 'One-Time' WHEN 'recurring' THEN "
            "'Recurring' WHEN 'usagebased' THEN 'Usage-Based' ELSE CASE WHEN s.__ct IN "
            "('usage', 'unusedreservation', 'unusedsavingsplan') THEN 'Usage-Based' "
            "ELSE 'One-Time' END END"
        ),
        "ChargeDescription": (
            "coalesce(s.__product, nullif(concat_ws(' - ', s.__x_MeterCategory, "
            "s.__x_MeterSubCategory, s.__meter), ''))"
        ),
        "BilledCost": src.billed(),
        "EffectiveCost": src.effective(),
        "ListCost": list_cost,
        "ListUnitPrice": f"CASE WHEN NOT {is_tax} THEN {list_unit} END",
        "ContractedCost": src.contracted_cost(contracted_unit, list_cost),
        "ContractedUnitPrice": f"CASE WHEN NOT {is_tax} THEN {contracted_unit} END",
        "PricingQuantity": f"CASE WHEN NOT {is_tax} THEN s.__qty END",
        "PricingUnit": f"CASE WHEN NOT {is_tax} AND s.__qty IS NOT NULL THEN {unit_name} END",
        "ConsumedQuantity": (
            f"CASE WHEN {is_usage} THEN s.__qty * CAST(coalesce(u.block, 1) AS DECIMAL(38, 0)) END"
        ),
        "ConsumedUnit": f"CASE WHEN {is_usage} THEN coalesce(u.unit, s.__uom) END",
        "PricingCategory": (
            f"CASE WHEN {category} = 'Usage' THEN CASE WHEN s.__covered OR s.__unused "
            "THEN 'Committed' WHEN s.__pm = 'spot' OR (s.__pm = '' AND lower(s.__meter) "
            "LIKE '%spot%') THEN 'Dynamic' ELSE 'Standard' END "
            f"WHEN {category} = 'Purchase' THEN 'Standard' END"
        ),
        "CommitmentDiscountId": cd_id,
        "CommitmentDiscountName": f"CASE WHEN {cd_id} IS NOT NULL THEN s.__cdname END",
        "CommitmentDiscountType": cd_type,
        "CommitmentDiscountCategory": (
            f"CASE {cd_type} WHEN 'Reservation' THEN 'Usage' WHEN 'Savings Plan' THEN 'Spend' END"
        ),
        "CommitmentDiscountStatus": (
            f"CASE WHEN {cd_id} IS NOT NULL AND {category} = 'Usage' THEN "
            "CASE WHEN s.__unused THEN 'Unused' ELSE 'Used' END END"
        ),
        "ResourceId": f"CASE WHEN {commitment_row} THEN {cd_id} ELSE s.__rid END",
        "ResourceName": (
            f"CASE WHEN {commitment_row} THEN s.__cdname ELSE coalesce(s.__resource_name, "
            f"CASE WHEN starts_with(s.__rid, '/') THEN {last_segment} END) END"
        ),
        # A commitment row's resource is the commitment: its ARM type (FOCUS: ResourceType
        # MUST NOT be null when ResourceId is not null).
        "ResourceType": (
            f"CASE WHEN {commitment_row} THEN {_resource_type(cd_id)} ELSE s.__rtype END"
        ),
        "RegionId": "r.id",
        "RegionName": "coalesce(r.name, s.__loc)",
        "AvailabilityZone": "s.__az",
        "ServiceName": service_name,
        "ServiceCategory": "coalesce(n.cat, p.cat, t.cat, c.cat, 'Other')",
        "ServiceSubcategory": "coalesce(n.sub, p.sub, t.sub, c.sub, 'Other (Other)')",
        "SkuId": f"CASE WHEN NOT {is_tax} THEN coalesce(s.__product_id, s.__x_MeterId) END",
        "SkuPriceId": f"CASE WHEN NOT {is_tax} THEN coalesce(s.__x_MeterId, s.__product_id) END",
        "SkuMeter": f"CASE WHEN NOT {is_tax} THEN s.__meter END",
        "InvoiceId": "s.__invoice",
        "InvoiceIssuerName": "coalesce(s.__partner, 'Microsoft')",
        "ProviderName": "'Microsoft'",
        "PublisherName": "coalesce(s.__publisher, 'Microsoft')",
        "Tags": "s.__tags",
        "x_ResourceGroupName": (
            "coalesce(s.__rg, nullif(regexp_extract(s.__rid, '(?i)/resourcegroups/([^/]+)', "
            "1), ''))"
        ),
        "x_PricingUnitDescription": "s.__uom",
        "x_PricingBlockSize": "CAST(u.block AS VARCHAR)",
        **{x: f"s.__{x}" for x in _PASSTHROUGH},
    }
    stage1 = (
        f"SELECT __row, {', '.join(f'{e} AS {ident(n)}' for n, e in parsed.items())} FROM {SOURCE}"
    )
    query = (
        f"SELECT s.__row, {', '.join(f'{e} AS {ident(n)}' for n, e in focus.items())} "
        "FROM azure_src AS s "
        "LEFT JOIN azure_regions AS r ON r.k = lower(trim(s.__loc)) "
        "LEFT JOIN azure_units AS u ON u.k = lower(trim(s.__uom)) "
        "LEFT JOIN azure_svc_pair AS p ON p.cs = s.__cs AND p.rt = lower(s.__rtype) "
        "LEFT JOIN azure_svc_type AS t ON t.rt = lower(s.__rtype) "
        "LEFT JOIN azure_svc_cs AS c ON c.cs = s.__cs "
        f"LEFT JOIN azure_svc_name AS n ON n.k = lower({service_name})"
    )
    native = _Natives(raw)
    cost_name = h.name(*_COST) or _COST[0]
    measures = [
        Measure(f"{cost_name}, actual-cost basis", native.billed(), "BilledCost"),
        Measure(f"{cost_name}, amortized basis", native.effective(), "EffectiveCost"),
        Measure(_list_measure_name(h), native.list_cost(native.list_unit()), "ListCost"),
    ]
    return Conversion(
        format=_NAME,
        query=query,
        columns=tuple(focus),
        account=account,
        period=bps,
        measures=tuple(measures),
        notes=tuple(notes),
        ctes=(("azure_src", stage1), *_lookups()),
    )


def _list_measure_name(h: Header) -> str:
    """The list cost measure as the file knows it."""
    if h.has("PaygCostInBillingCurrency"):
        return str(h.name("PaygCostInBillingCurrency"))
    if h.has("PayGPrice"):
        return f"{h.name('PayGPrice')} × {h.name(*_QUANTITY)}"
    if h.has(*_UNIT_PRICE):
        return f"{h.name(*_UNIT_PRICE)} × {h.name(*_QUANTITY)}"
    return f"{h.name(*_COST)} (no price columns)"


AZURE_COST_DETAILS = NativeFormat(
    name=_NAME,
    provider="Microsoft Azure",
    title="Azure Cost Management cost details: EA, MCA, pay-as-you-go; actual or amortized",
    detected_from="a cost column (CostInBillingCurrency, Cost or PreTaxCost), SubscriptionId "
    "or SubscriptionGuid, and MeterCategory, ConsumedService or MeterId (any casing; "
    "localized headers with the English name in parentheses)",
    options="actual and amortized views both load (load one per billing period); legacy v1 "
    "usage details (PreTaxCost) load per subscription and calendar month. Azure's FOCUS "
    "export loads as FOCUS.",
    score=_score,
    convert=_convert,
    key=_key,
)

FORMATS = (AZURE_COST_DETAILS,)
