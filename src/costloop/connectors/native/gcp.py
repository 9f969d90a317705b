"""Google Cloud Billing export to BigQuery (standard and detailed usage cost) → FOCUS 1.2.

One mapping serves every way the BigQuery table leaves BigQuery: Parquet (``service``,
``credits``, ``labels`` … arrive as JSON text of the struct or list), JSON lines (nested
objects flattened to dotted names such as ``service.description``; arrays as JSON text)
and flattened CSV (dotted or ``service_description``-style names; arrays as JSON, or as
the Python literals ``[{'key': 'k', 'value': 'v'}]`` a pandas dump writes, as in the
koku samples). A field is read from its dotted column, else from its struct column.

Mapping decisions (see ``docs/connectors.md``, "Google Cloud"):

* **Accounts and periods.** BillingAccountId = ``billing_account_id``; SubAccountId/Name =
  ``project.id``/``project.name`` (type ``Project``). BillingPeriodStart = 00:00 UTC on the
  first day of ``invoice.month`` (YYYYMM), End = the next month. Google closes invoice
  months in US/Pacific time, so usage of the last hours of a month (in UTC) and late
  usage can lie outside that period; such rows are kept (the FOCUS validation notes
  them). ChargePeriod = ``usage_start_time`` .. ``usage_end_time``.
* **Costs and credits.** ``cost`` is the cost before credits; ``credits`` is a list of
  negative amounts with a type. FOCUS's discount handling asks for discounts to be
  applied in the row they pertain to (never negated in a separate row) and for price or
  cost reductions awarded after the fact to be Credit rows. So credits that reduce the
  price of this very charge — ``SUSTAINED_USAGE_DISCOUNT``, ``COMMITTED_USAGE_DISCOUNT``,
  ``COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE``, ``FEE_UTILIZATION_OFFSET``, ``FREE_TIER``,
  ``SUBSCRIPTION_BENEFIT``, ``RESELLER_MARGIN`` — are applied in-row:
  BilledCost = EffectiveCost = ``cost`` + those credits. ``PROMOTION`` credits (Google:
  "a form of payment"), ``DISCOUNT`` (earned after a contractual spending threshold —
  the spec's own example of an after-the-fact reduction) and credits of any other or
  unknown type become one **Credit** row each (ChargeFrequency One-Time; its four cost
  columns = the amount; the charge's project, service, SKU, resource and tags kept for
  allocation; ``x_CreditType``/``x_CreditName``/``x_CreditId``). Credits without a type
  (exports before September 2020) are typed by name (``Sustained Usage Discount…``,
  ``Committed Usage Discount…``, ``Free Tier…``). Σ BilledCost = Σ EffectiveCost =
  Σ (``cost`` + all credits) per billing account and invoice month, as Google's own
  invoice-total query computes it.
* **ListCost** = ``cost_at_list`` (list price, exported since June 2023), else ``cost``;
  **ContractedCost** = ``cost_at_effective_price_default`` (negotiated price before
  commitments, since July 2025), else ``cost``; on Credit rows both are the amount.
  Unit prices come from ``price.list_price`` and ``price.effective_price_default``
  (else ``price.effective_price``) when the export has them.
* **ChargeCategory** from ``cost_type``: regular → Usage (Purchase for commitment fees,
  whose SKU description starts with "Commitment"), tax → Tax, rounding_error →
  Adjustment, adjustment → Adjustment, except usage and price corrections (by
  ``adjustment_info.type``/``mode``), which keep the category of what they correct, and
  goodwill and SLA credits, which are Credit. ChargeClass is Correction for corrections
  whose usage precedes the invoice month they are billed in.
* **Commitments.** A row with a committed-use credit is PricingCategory Committed with
  CommitmentDiscountStatus Used, Category Usage (resource-based) or Spend (spend-based),
  CommitmentDiscountId = ``subscription.instance_id`` or else the credit's id. Google
  does not link commitment fees to the usage they cover, so fees are not amortized:
  EffectiveCost = BilledCost on every row. Preemptible/Spot SKUs are Dynamic.
* **Tags** = ``labels`` (unprefixed, ``goog-…`` keys as Google writes them) +
  ``system_labels`` (already prefixed, e.g. ``compute.googleapis.com/machine_spec``) +
  resource-manager ``tags`` as ``<namespace>/<key>``; ``project.labels`` go to
  ``x_ProjectLabels``.
* **Units** (``usage.pricing_unit`` → PricingUnit, ``usage.unit`` → ConsumedUnit) in FOCUS
  UnitFormat: ``gibibyte month`` → ``GiB-Months``, ``byte-seconds`` → ``B-Seconds``,
  ``hour`` → ``Hours``, ``requests`` → ``Requests``.
* Location: RegionId = ``location.region``, RegionName from Google's region names,
  AvailabilityZone = ``location.zone``. ServiceName = ``service.description``, its
  category from the tables in ``costloop/data/connectors/gcp``. ResourceId/Name =
  ``resource.global_name``/``resource.name`` (detailed export). ProviderName and
  InvoiceIssuerName are Google Cloud; PublisherName is the seller for third-party
  (Marketplace) transactions.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib.resources import files

from costloop.connectors.native.base import SOURCE, Conversion, Header, Measure, NativeFormat
from costloop.connectors.sql import ROW, datetime_expr, decimal_expr, fail, ident, lit
from costloop.core.focus import MONEY_SQL_TYPE, SERVICE_SUBCATEGORIES

__all__ = ["FORMATS", "GCP_BILLING_EXPORT", "IN_ROW_CREDIT_TYPES"]

_M = MONEY_SQL_TYPE
_ZERO = f"CAST(0 AS {_M})"
_NULL_M = f"CAST(NULL AS {_M})"
_NULL_S = "CAST(NULL AS VARCHAR)"
_PROVIDER = "Google Cloud"

IN_ROW_CREDIT_TYPES = (
    "COMMITTED_USAGE_DISCOUNT",
    "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
    "FEE_UTILIZATION_OFFSET",
    "SUSTAINED_USAGE_DISCOUNT",
    "FREE_TIER",
    "SUBSCRIPTION_BENEFIT",
    "RESELLER_MARGIN",
)
"""Credit types applied in the charge's own row; every other credit is a Credit row."""

_CUD_TYPES = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")
_CORRECTION_TYPES = ("USAGE_CORRECTION", "PRICE_CORRECTION", "METADATA_CORRECTION")
_CORRECTION_MODES = (
    "PARTIAL_CORRECTION",
    "COMPLETE_NEGATION",
    "COMPLETE_NEGATION_WITH_REMONETIZATION",
)
_CREDIT_ADJUSTMENTS = ("GOODWILL", "SALES_BASED_GOODWILL", "SLA_VIOLATION")

# A Python literal (str(list_of_dicts), as pandas writes nested BigQuery rows to CSV)
# tokenized: quoted strings, names (None/True/False), numbers and punctuation.
_PY_TOKEN = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[A-Za-z_]+|-?[0-9][0-9.eE+-]*|[\[\]{}:,]"""


def _data(name: str) -> list[dict[str, str]]:
    with (files("costloop") / "data" / "connectors" / "gcp" / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def _categories() -> dict[str, tuple[str, str]]:
    """``service.description`` → (ServiceCategory, ServiceSubcategory)."""
    out: dict[str, tuple[str, str]] = {}
    for row in _data("gcp_category_mapping.csv"):
        category = row["ServiceCategory"].strip()
        out[row["ConsumedService"].strip()] = (category, f"Other ({category})")
    for row in _data("gcp_service_subcategories.csv"):
        out[row["service"].strip()] = (row["ServiceCategory"], row["ServiceSubcategory"])
    for category, sub in out.values():
        if SERVICE_SUBCATEGORIES.get(sub) != category:
            raise ValueError(f"GCP mapping table: {sub!r} is not a subcategory of {category!r}")
    return out


@lru_cache(maxsize=1)
def _regions() -> dict[str, str]:
    """Region id → region name."""
    return {row["region"]: row["name"] for row in _data("gcp_regions.csv")}


def _case_map(src: str, mapping: dict[str, str], default: str) -> str:
    arms = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in sorted(mapping.items()))
    return f"CASE {src} {arms} ELSE {default} END"


def _in(src: str, values: tuple[str, ...]) -> str:
    return f"{src} IN ({', '.join(lit(v) for v in values)})"


# Google's unit words (``usage.unit``, ``usage.pricing_unit``) in FOCUS UnitFormat.
_DATA_SIZES = {
    "bit": "b",
    "byte": "B",
    "kilobyte": "KB",
    "megabyte": "MB",
    "gigabyte": "GB",
    "terabyte": "TB",
    "petabyte": "PB",
    "kibibyte": "KiB",
    "mebibyte": "MiB",
    "gibibyte": "GiB",
    "tebibyte": "TiB",
    "pebibyte": "PiB",
}
_TIMES = {w: w.capitalize() + "s" for w in ("second", "minute", "hour", "day", "month", "year")}


def _unit(src: str) -> str:
    """SQL: a Google unit in FOCUS UnitFormat (NULL stays NULL).

    Google writes units in lower case. Data sizes take their symbol and time units the
    plural (``gibibyte`` → ``GiB``, ``bytes`` → ``B``, ``hour`` → ``Hours``), a size or
    count over time is hyphenated (``gibibyte month`` → ``GiB-Months``, ``byte-seconds``
    → ``B-Seconds``), other single words are capitalized (``requests`` → ``Requests``);
    anything else (other casing, digits, more words) is kept as written.
    """
    words = f"string_split(regexp_replace({src}, '[ -]+', ' ', 'g'), ' ')"
    sizes = {**_DATA_SIZES, **{k + "s": v for k, v in _DATA_SIZES.items()}}
    times = {**_TIMES, **{k + "s": v for k, v in _TIMES.items()}}
    w1, w2 = f"{words}[1]", f"{words}[2]"

    def word(w: str) -> str:
        return f"coalesce({_case_map(w, sizes, 'NULL')}, upper({w}[1]) || {w}[2:])"

    return (
        f"CASE WHEN NOT regexp_full_match({src}, '[a-z]+([ -][a-z]+)?') THEN {src} "
        f"WHEN len({words}) = 1 THEN coalesce({_case_map(w1, times, 'NULL')}, {word(w1)}) "
        f"WHEN {_case_map(w2, times, 'NULL')} IS NOT NULL "
        f"THEN {word(w1)} || '-' || {_case_map(w2, times, 'NULL')} "
        f"ELSE {src} END"
    )


def number_expr(src: str, column: str) -> str:
    """DECIMAL(38, 18) of VARCHAR ``src``, rounded to 18 places.

    BigQuery writes FLOAT64 amounts with more decimals than the warehouse keeps; they
    are rounded the same way in the FOCUS columns and in the native totals they
    reconcile with (:func:`costloop.connectors.sql.decimal_expr`). Text that is not a
    number raises ``row N column COLUMN: ...``.
    """
    return decimal_expr(src, column, round_excess=True)


def _py_to_json(src: str) -> str:
    """SQL: JSON text of a Python list/dict literal (``'`` strings, None, True, False)."""
    unquote = (
        "'\"' || replace(replace(replace(t[2:-2], '\\''', ''''), '\\\"', '\"'), '\"', '\\\"')"
        " || '\"'"
    )
    return (
        f"array_to_string(list_transform(regexp_extract_all({src}, {lit(_PY_TOKEN)}), "
        f"t -> CASE WHEN t[1] = '''' THEN {unquote} WHEN t = 'None' THEN 'null' "
        f"WHEN t = 'True' THEN 'true' WHEN t = 'False' THEN 'false' ELSE t END), '')"
    )


def _json_text(src: str) -> str:
    """SQL: ``src`` when it is JSON, else its Python literal as JSON (may be invalid)."""
    return f"CASE WHEN {src} IS NULL OR json_valid({src}) THEN {src} ELSE {_py_to_json(src)} END"


def _credit_type(type_sql: str, name_sql: str) -> str:
    """SQL: a credit's type; credits without one (before Sept. 2020) are typed by name."""
    return (
        f"CASE WHEN nullif(trim({type_sql}), '') IS NOT NULL THEN upper(trim({type_sql})) "
        f"WHEN {name_sql} ILIKE 'Sustained Us% Discount%' THEN 'SUSTAINED_USAGE_DISCOUNT' "
        f"WHEN {name_sql} ILIKE 'Committed Us% Discount%' THEN 'COMMITTED_USAGE_DISCOUNT' "
        f"WHEN {name_sql} ILIKE 'Free Tier%' THEN 'FREE_TIER' END"
    )


class _Fields:
    """BigQuery field paths (``service.description``) as SQL over the source relation.

    A path is read from its own (dotted or flattened) column, else from the JSON text
    of its struct column (``service`` in Parquet); when both exist (JSON lines whose
    first lines hold an empty struct) the first non-null value wins.
    """

    def __init__(self, h: Header) -> None:
        self.h = h

    def _sources(self, path: str) -> list[tuple[str, str]]:
        """(SQL, native column name) of every column that can hold ``path``."""
        found: list[tuple[str, str]] = []
        i = self.h.index(path)
        if i is not None:
            found.append((f"nullif(trim(c{i}), '')", self.h.columns[i]))
        parts = path.split(".")
        for k in range(len(parts) - 1, 0, -1):
            j = self.h.index(".".join(parts[:k]))
            if j is None:
                continue
            col = f"nullif(trim(c{j}), '')"
            json_path = "$" + "".join(f'."{p}"' for p in parts[k:])
            quoted = f"'\"' || {col} || '\"'"
            name = self.h.columns[j]
            found.append(
                (
                    f"CASE WHEN {col} IS NULL THEN NULL WHEN json_valid({col}) THEN "
                    f"nullif(trim(json_extract_string({col}, {lit(json_path)})), '') "
                    f"ELSE {fail(name, 'is not a JSON object:', quoted)} END",
                    name,
                )
            )
        return found

    def has(self, path: str) -> bool:
        """Whether the file has a column that can hold ``path``."""
        return bool(self._sources(path))

    def name(self, path: str) -> str:
        """The file's own name of the column holding ``path`` (for error messages)."""
        sources = self._sources(path)
        return sources[0][1] if sources else path

    def text(self, path: str) -> str:
        """SQL: the trimmed text of ``path`` (NULL when absent or blank)."""
        sources = self._sources(path)
        if not sources:
            return _NULL_S
        if len(sources) == 1:
            return sources[0][0]
        return "coalesce(" + ", ".join(s for s, _ in sources) + ")"


def _score(h: Header) -> int:
    f = _Fields(h)
    needed = ("billing_account_id", "cost", "usage_start_time", "service.description")
    return 100 if all(f.has(p) for p in needed) else 0


# Native fields read as text in the first stage: (column alias, field path).
_TEXT_FIELDS: tuple[tuple[str, str], ...] = (
    ("t_account", "billing_account_id"),
    ("t_service_id", "service.id"),
    ("t_service", "service.description"),
    ("t_sku_id", "sku.id"),
    ("t_sku", "sku.description"),
    ("t_start", "usage_start_time"),
    ("t_end", "usage_end_time"),
    ("t_project_id", "project.id"),
    ("t_project_number", "project.number"),
    ("t_project_name", "project.name"),
    ("t_ancestry", "project.ancestry_numbers"),
    ("t_location", "location.location"),
    ("t_country", "location.country"),
    ("t_region", "location.region"),
    ("t_zone", "location.zone"),
    ("t_resource_name", "resource.name"),
    ("t_resource_global", "resource.global_name"),
    ("t_export_time", "export_time"),
    ("t_cost", "cost"),
    ("t_currency", "currency"),
    ("t_rate", "currency_conversion_rate"),
    ("t_usage_amount", "usage.amount"),
    ("t_usage_unit", "usage.unit"),
    ("t_pricing_amount", "usage.amount_in_pricing_units"),
    ("t_pricing_unit", "usage.pricing_unit"),
    ("t_invoice_month", "invoice.month"),
    ("t_cost_type", "cost_type"),
    ("t_adj_id", "adjustment_info.id"),
    ("t_adj_description", "adjustment_info.description"),
    ("t_adj_type", "adjustment_info.type"),
    ("t_adj_mode", "adjustment_info.mode"),
    ("t_cost_at_list", "cost_at_list"),
    ("t_cost_default", "cost_at_effective_price_default"),
    ("t_list_price", "price.list_price"),
    ("t_price_default", "price.effective_price_default"),
    ("t_price", "price.effective_price"),
    ("t_transaction_type", "transaction_type"),
    ("t_seller", "seller_name"),
    ("t_subscription", "subscription.instance_id"),
    ("t_consumption_model", "consumption_model.description"),
    ("a_credits", "credits"),
    ("a_labels", "labels"),
    ("a_system_labels", "system_labels"),
    ("a_project_labels", "project.labels"),
    ("a_tags", "tags"),
)


_LABEL_SHAPE = lit('[{"key": "VARCHAR", "value": "VARCHAR"}]')
_TAG_SHAPE = lit('[{"key": "VARCHAR", "value": "VARCHAR", "namespace": "VARCHAR"}]')


def _kv_list(j: str, *, namespaced: bool = False) -> str:
    """SQL: the ``[{key, value}]`` entries of a JSON array text (empty when NULL)."""
    if namespaced:
        entries = (
            f"list_transform(from_json({j}, {_TAG_SHAPE}), e -> {{'key': CASE "
            f"WHEN nullif(e.namespace, '') IS NULL THEN e.key "
            f"ELSE e.namespace || '/' || e.key END, 'value': e.value}})"
        )
    else:
        entries = f"from_json({j}, {_LABEL_SHAPE})"
    return f"coalesce(list_filter({entries}, e -> e.key IS NOT NULL), [])"


def _object(entries: str) -> str:
    """SQL: JSON object text of ``{key, value}`` entries (first of equal keys wins)."""
    unique = (
        f"list_filter({entries}, (e, i) -> "
        f"list_position(list_transform({entries}, x -> x.key), e.key) = i)"
    )
    return (
        f"CASE WHEN length({entries}) > 0 "
        f"THEN CAST(to_json(map_from_entries({unique})) AS VARCHAR) END"
    )


def _measure_credits(f: _Fields, keep: str) -> str:
    """SQL over the source: Σ amounts of the row's credits whose ``e`` satisfies ``keep``."""
    raw = f.text("credits")
    if raw == _NULL_S:
        return _ZERO
    items = f"from_json(coalesce({_json_text(raw)}, '[]'), '[\"JSON\"]')"
    amount = number_expr("json_extract_string(e, '$.amount')", "credits.amount")
    return (
        f"coalesce(list_sum(list_transform(list_filter({items}, e -> {keep}), e -> {amount})), "
        f"{_ZERO})"
    )


def _convert(h: Header) -> Conversion:
    h.require(
        "Google Cloud billing export",
        ["billing_account_id"],
        ["cost"],
        ["currency"],
        ["usage_start_time"],
        ["usage_end_time"],
        ["invoice.month", "invoice"],
        ["service.description", "service"],
    )
    f = _Fields(h)
    notes = [
        "credits of types "
        + ", ".join(IN_ROW_CREDIT_TYPES)
        + " are applied in-row; PROMOTION, DISCOUNT and other credits are Credit rows",
    ]
    has_list = f.has("cost_at_list")
    if not has_list:
        notes.append("no cost_at_list column (exports before June 2023): ListCost = cost")
    if not (f.has("resource.global_name") or f.has("resource.name")):
        notes.append(
            "standard export (no resource.* columns): ResourceId/ResourceName are empty; "
            "the detailed export has resource-level costs"
        )

    # Stage 1: every native field as text.
    text_cte = (
        f"SELECT {ROW}, "
        + ", ".join(f"{f.text(path)} AS {alias}" for alias, path in _TEXT_FIELDS)
        + f" FROM {SOURCE}"
    )

    # Stage 2: typed values; array fields as JSON text (Python literals converted).
    def num(alias: str, path: str) -> str:
        return number_expr(alias, f.name(path))

    def ts(alias: str, path: str) -> str:
        return datetime_expr(alias, f.name(path))

    typed = {
        "cost": f"coalesce({num('t_cost', 'cost')}, {_ZERO})",
        "cost_at_list": num("t_cost_at_list", "cost_at_list"),
        "cost_default": num("t_cost_default", "cost_at_effective_price_default"),
        "usage_amount": num("t_usage_amount", "usage.amount"),
        "pricing_amount": num("t_pricing_amount", "usage.amount_in_pricing_units"),
        "usage_unit": _unit("t_usage_unit"),
        "pricing_unit": _unit("t_pricing_unit"),
        "list_price": num("t_list_price", "price.list_price"),
        "contracted_price": (
            f"coalesce({num('t_price_default', 'price.effective_price_default')}, "
            f"{num('t_price', 'price.effective_price')})"
        ),
        "cps": ts("t_start", "usage_start_time"),
        "cpe": ts("t_end", "usage_end_time"),
        "bps": datetime_expr("t_invoice_month", f.name("invoice.month"), ("%Y%m",)),
        "ct": "lower(t_cost_type)",
        "adj_type": "upper(t_adj_type)",
        "adj_mode": "upper(t_adj_mode)",
        **{
            f"j_{alias[2:]}": _json_text(alias)
            for alias, _ in _TEXT_FIELDS
            if alias.startswith("a_")
        },
    }
    rows_cte = (
        "SELECT *, "
        + ", ".join(f"{expr} AS {name}" for name, expr in typed.items())
        + " FROM gcp_text"
    )

    # Stage 3: array fields validated (a JSON array, or nothing).
    checks = []
    for alias, path in _TEXT_FIELDS:
        if not alias.startswith("a_"):
            continue
        j = f"j_{alias[2:]}"
        raw = f"'\"' || {alias} || '\"'"
        checks.append(
            f"CASE WHEN {j} IS NULL OR (json_valid({j}) AND json_type({j}) IN ('ARRAY', 'NULL')) "
            f"THEN {j} ELSE {fail(f.name(path), 'is not a JSON array (or list literal):', raw)} "
            f"END AS {j}"
        )
    # Exports before June 2018 have no invoice.month: the usage month stands in.
    checks.append("coalesce(bps, CAST(date_trunc('month', cps) AS TIMESTAMP)) AS bps")
    norm_cte = f"SELECT * REPLACE ({', '.join(checks)}) FROM gcp_rows"

    # One row per credit, typed, and per native row the sums of in-row credits.
    credit_type = _credit_type(
        "json_extract_string(e, '$.type')", "json_extract_string(e, '$.name')"
    )
    credits_cte = (
        f"SELECT {ROW}, __i, "
        f"{credit_type} AS credit_type, "
        "nullif(json_extract_string(e, '$.name'), '') AS credit_name, "
        "nullif(json_extract_string(e, '$.full_name'), '') AS credit_full_name, "
        "nullif(json_extract_string(e, '$.id'), '') AS credit_id, "
        f"coalesce({number_expr('amount_text', 'credits.amount')}, {_ZERO}) AS amount "
        f"FROM (SELECT {ROW}, __i, e, json_extract_string(e, '$.amount') AS amount_text FROM "
        f"(SELECT {ROW}, unnest(from_json(j_credits, '[\"JSON\"]')) AS e, "
        "unnest(generate_series(1, json_array_length(j_credits)::BIGINT)) AS __i "
        "FROM gcp_norm WHERE j_credits IS NOT NULL AND json_type(j_credits) = 'ARRAY'))"
    )
    in_row = f"coalesce({_in('credit_type', IN_ROW_CREDIT_TYPES)}, false)"
    cud = _in("credit_type", _CUD_TYPES)
    sums_cte = (
        f"SELECT {ROW}, sum(amount) FILTER (WHERE {in_row}) AS in_row_amount, "
        f"arg_min(credit_type, __i) FILTER (WHERE {cud}) AS cud_type, "
        f"arg_min(credit_id, __i) FILTER (WHERE {cud}) AS cud_id, "
        f"arg_min(coalesce(credit_full_name, credit_name), __i) FILTER (WHERE {cud}) AS cud_name "
        f"FROM gcp_credit GROUP BY {ROW}"
    )

    is_correction = (
        f"(coalesce({_in('adj_type', _CORRECTION_TYPES)}, false) "
        f"OR coalesce({_in('adj_mode', _CORRECTION_MODES)}, false))"
    )
    fee = "coalesce(t_sku ILIKE 'commitment%', false)"
    category = (
        "CASE WHEN ct = 'tax' THEN 'Tax' "
        f"WHEN coalesce({_in('adj_type', _CREDIT_ADJUSTMENTS)}, false) THEN 'Credit' "
        f"WHEN ct IS NOT NULL AND ct <> 'regular' AND NOT {is_correction} THEN 'Adjustment' "
        f"WHEN {fee} THEN 'Purchase' ELSE 'Usage' END"
    )
    spend_model = "coalesce(t_consumption_model NOT ILIKE 'default', false)"
    dynamic = "coalesce(t_sku ILIKE '%preemptible%' OR t_sku ILIKE '%spot%', false)"
    tag_entries = (
        f"list_concat({_kv_list('j_labels')}, {_kv_list('j_system_labels')}, "
        f"{_kv_list('j_tags', namespaced=True)})"
    )
    categories = _categories()
    service_key = "coalesce(t_service, '')"
    main: dict[str, str] = {
        "BillingAccountId": "t_account",
        "BillingAccountType": "'Billing Account'",
        "SubAccountId": "t_project_id",
        "SubAccountName": "t_project_name",
        "SubAccountType": "CASE WHEN t_project_id IS NOT NULL THEN 'Project' END",
        "BillingCurrency": "t_currency",
        "BillingPeriodStart": "bps",
        "BillingPeriodEnd": "bps + INTERVAL 1 MONTH",
        "ChargePeriodStart": "cps",
        "ChargePeriodEnd": "cpe",
        "ChargeCategory": "category",
        "ChargeClass": f"CASE WHEN {is_correction} AND cps < bps THEN 'Correction' END",
        "ChargeFrequency": (
            "CASE category WHEN 'Usage' THEN 'Usage-Based' WHEN 'Purchase' THEN 'Recurring' "
            "WHEN 'Tax' THEN 'Recurring' ELSE 'One-Time' END"
        ),
        "ChargeDescription": "coalesce(t_sku, t_adj_description)",
        "BilledCost": "cost + coalesce(in_row_amount, 0)",
        "EffectiveCost": "cost + coalesce(in_row_amount, 0)",
        "ListCost": "coalesce(cost_at_list, cost)",
        "ContractedCost": "coalesce(cost_default, cost)",
        "ListUnitPrice": "CASE WHEN category IN ('Usage', 'Purchase') THEN list_price END",
        "ContractedUnitPrice": (
            "CASE WHEN category IN ('Usage', 'Purchase') THEN contracted_price END"
        ),
        "PricingQuantity": "CASE WHEN category IN ('Usage', 'Purchase') THEN pricing_amount END",
        "PricingUnit": (
            "CASE WHEN category IN ('Usage', 'Purchase') AND pricing_amount IS NOT NULL "
            "THEN pricing_unit END"
        ),
        "ConsumedQuantity": "CASE WHEN category = 'Usage' THEN usage_amount END",
        "ConsumedUnit": (
            "CASE WHEN category = 'Usage' AND usage_amount IS NOT NULL THEN usage_unit END"
        ),
        "PricingCategory": (
            "CASE WHEN category = 'Usage' AND (cud_type IS NOT NULL OR "
            f"{spend_model}) THEN 'Committed' "
            f"WHEN category = 'Usage' AND {dynamic} THEN 'Dynamic' "
            "WHEN category IN ('Usage', 'Purchase') THEN 'Standard' END"
        ),
        "CommitmentDiscountId": "cd_id",
        "CommitmentDiscountCategory": (
            "CASE WHEN cd_id IS NULL THEN NULL "
            "WHEN cud_type = 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE' OR "
            f"(cud_type IS NULL AND ({spend_model} OR coalesce(t_sku ILIKE "
            "'%dollar based%', false))) THEN 'Spend' ELSE 'Usage' END"
        ),
        "CommitmentDiscountType": (
            "CASE WHEN cd_id IS NULL THEN NULL "
            "WHEN cud_type = 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE' OR "
            f"(cud_type IS NULL AND ({spend_model} OR coalesce(t_sku ILIKE "
            "'%dollar based%', false))) THEN 'Spend-based committed use discount' "
            "ELSE 'Resource-based committed use discount' END"
        ),
        "CommitmentDiscountName": "CASE WHEN cd_id IS NOT NULL THEN cud_name END",
        "CommitmentDiscountStatus": (
            "CASE WHEN cd_id IS NOT NULL AND category = 'Usage' THEN 'Used' END"
        ),
        "ResourceId": (
            "CASE WHEN category = 'Purchase' THEN coalesce(t_resource_global, cd_id) "
            "ELSE t_resource_global END"
        ),
        "ResourceName": "t_resource_name",
        "RegionId": "t_region",
        "RegionName": _case_map("t_region", _regions(), "t_region"),
        "AvailabilityZone": "t_zone",
        "ServiceName": f"coalesce(t_service, t_service_id, {lit(_PROVIDER)})",
        "ServiceCategory": _case_map(
            service_key, {k: v[0] for k, v in categories.items()}, "'Other'"
        ),
        "ServiceSubcategory": _case_map(
            service_key, {k: v[1] for k, v in categories.items()}, "'Other (Other)'"
        ),
        "SkuId": "CASE WHEN category <> 'Tax' THEN t_sku_id END",
        "InvoiceIssuerName": lit(_PROVIDER),
        "ProviderName": lit(_PROVIDER),
        "PublisherName": (
            "CASE WHEN t_transaction_type ILIKE 'THIRD_PARTY%' "
            f"THEN coalesce(t_seller, t_service, {lit(_PROVIDER)}) ELSE {lit(_PROVIDER)} END"
        ),
        "Tags": _object("__tag_entries"),
        "x_ServiceId": "t_service_id",
        "x_SkuDescription": "t_sku",
        "x_CostType": "t_cost_type",
        "x_InvoiceMonth": "t_invoice_month",
        "x_ProjectNumber": "t_project_number",
        "x_ProjectAncestryNumbers": "t_ancestry",
        "x_ProjectLabels": _object("__project_label_entries"),
        "x_Location": "t_location",
        "x_Country": "t_country",
        "x_CurrencyConversionRate": "t_rate",
        "x_ExportTime": "t_export_time",
        "x_Cost": "t_cost",
        "x_CostAtList": "t_cost_at_list",
        "x_Credits": (
            "CASE WHEN j_credits IS NOT NULL AND json_type(j_credits) = 'ARRAY' "
            "AND json_array_length(j_credits) > 0 THEN j_credits END"
        ),
        "x_CreditType": _NULL_S,
        "x_CreditName": _NULL_S,
        "x_CreditId": _NULL_S,
        "x_AdjustmentId": "t_adj_id",
        "x_AdjustmentType": "t_adj_type",
        "x_AdjustmentMode": "t_adj_mode",
        "x_AdjustmentDescription": "t_adj_description",
        "x_TransactionType": "t_transaction_type",
        "x_SellerName": "t_seller",
        "x_ConsumptionModel": "t_consumption_model",
        "x_SubscriptionInstanceId": "t_subscription",
    }
    columns = list(main)
    main_cte = (
        f"SELECT {ROW}, "
        + ", ".join(f"{expr} AS {ident(name)}" for name, expr in main.items())
        + " FROM (SELECT *, "
        f"CASE WHEN {fee} THEN t_subscription "
        "WHEN cud_type IS NOT NULL THEN coalesce(t_subscription, cud_id) "
        f"WHEN {spend_model} THEN t_subscription END AS cd_id "
        f"FROM (SELECT *, {category} AS category, {tag_entries} AS __tag_entries, "
        f"{_kv_list('j_project_labels')} AS __project_label_entries FROM gcp_norm "
        f"LEFT JOIN gcp_credit_sum USING ({ROW})))"
    )

    credit_row: dict[str, str] = {
        "ChargeCategory": "'Credit'",
        "ChargeFrequency": "'One-Time'",
        "ChargeDescription": (
            "coalesce(c.credit_full_name, c.credit_name, c.credit_id, 'Credit') "
            "|| coalesce(' (' || c.credit_type || ')', '')"
        ),
        "BilledCost": "c.amount",
        "EffectiveCost": "c.amount",
        "ListCost": "c.amount",
        "ContractedCost": "c.amount",
        "x_CreditType": "c.credit_type",
        "x_CreditName": "coalesce(c.credit_full_name, c.credit_name)",
        "x_CreditId": "c.credit_id",
        "x_Credits": _NULL_S,
        "x_Cost": _NULL_S,
        "x_CostAtList": _NULL_S,
    }
    for name in (
        "ListUnitPrice",
        "ContractedUnitPrice",
        "PricingQuantity",
        "ConsumedQuantity",
    ):
        credit_row[name] = _NULL_M
    for name in (
        "PricingUnit",
        "ConsumedUnit",
        "PricingCategory",
        "CommitmentDiscountId",
        "CommitmentDiscountCategory",
        "CommitmentDiscountType",
        "CommitmentDiscountName",
        "CommitmentDiscountStatus",
    ):
        credit_row[name] = _NULL_S
    credits_select = (
        f"SELECT c.{ROW}, "
        + ", ".join(f"{credit_row.get(c, 'm.' + ident(c))} AS {ident(c)}" for c in columns)
        + f" FROM gcp_credit AS c JOIN gcp_main AS m USING ({ROW}) WHERE NOT {in_row}"
    )
    select_cols = ", ".join(ident(c) for c in columns)
    query = f"SELECT {ROW}, {select_cols} FROM gcp_main\nUNION ALL\n{credits_select}"

    cost = number_expr(f.text("cost"), "cost")
    # The measures read the source directly, independently of the CTEs above.
    cost_sql = f"coalesce({cost}, {_ZERO})"
    all_credits = _measure_credits(f, "true")
    typed_credit = _credit_type(
        "json_extract_string(e, '$.type')", "json_extract_string(e, '$.name')"
    )
    separate = _measure_credits(f, f"NOT coalesce({_in(typed_credit, IN_ROW_CREDIT_TYPES)}, false)")
    list_native = number_expr(f.text("cost_at_list"), f.name("cost_at_list"))
    default_native = number_expr(
        f.text("cost_at_effective_price_default"), f.name("cost_at_effective_price_default")
    )
    period = (
        f"coalesce({datetime_expr(f.text('invoice.month'), f.name('invoice.month'), ('%Y%m',))}, "
        f"CAST(date_trunc('month', {datetime_expr(f.text('usage_start_time'), 'usage_start_time')})"
        " AS TIMESTAMP))"
    )
    # Credit rows carry their amount in all four cost columns.
    separate_name = "credits.amount of Credit rows"
    contracted_name = (
        "cost_at_effective_price_default (else cost)"
        if f.has("cost_at_effective_price_default")
        else "cost"
    )
    measures = (
        Measure("cost + credits.amount", f"{cost_sql} + {all_credits}", "BilledCost"),
        Measure("cost + credits.amount", f"{cost_sql} + {all_credits}", "EffectiveCost"),
        Measure(
            f"{'cost_at_list (else cost)' if has_list else 'cost'} + {separate_name}",
            f"coalesce({list_native}, {cost_sql}) + {separate}",
            "ListCost",
        ),
        Measure(
            f"{contracted_name} + {separate_name}",
            f"coalesce({default_native}, {cost_sql}) + {separate}",
            "ContractedCost",
        ),
    )
    return Conversion(
        format="gcp-billing-export",
        query=query,
        columns=tuple(columns),
        account=f.text("billing_account_id"),
        period=period,
        measures=measures,
        notes=tuple(notes),
        ctes=(
            ("gcp_text", text_cte),
            ("gcp_rows", rows_cte),
            ("gcp_norm", norm_cte),
            ("gcp_credit", credits_cte),
            ("gcp_credit_sum", sums_cte),
            ("gcp_main", main_cte),
        ),
    )


GCP_BILLING_EXPORT = NativeFormat(
    name="gcp-billing-export",
    provider="Google Cloud",
    title="Google Cloud Billing export to BigQuery (standard or detailed usage cost)",
    detected_from="billing_account_id, cost, usage_start_time and service.description "
    "(dotted, flattened or as a service struct)",
    options="Parquet, JSON lines or flattened CSV of the BigQuery table; the detailed "
    "export adds resource.name/global_name; credits/labels as JSON or Python literals",
    score=_score,
    convert=_convert,
)

FORMATS = (GCP_BILLING_EXPORT,)
