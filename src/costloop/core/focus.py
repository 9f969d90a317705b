"""FOCUS columns, their types and levels per version, and version detection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ALLOWED_VALUES",
    "CHARGES_COLUMNS",
    "COLUMNS",
    "COLUMNS_BY_NAME",
    "LINEAGE_COLUMNS",
    "MONEY_COLUMNS",
    "RENAMES",
    "SERVICE_SUBCATEGORIES",
    "SUPPORTED_VERSIONS",
    "Column",
    "DataType",
    "Level",
    "canonical_enum_value",
    "detect_version",
]

MONEY_SQL_TYPE = "DECIMAL(38, 18)"
"""Storage type of every FOCUS Decimal column: exact, 20 integer and 18 fraction digits."""


class DataType(StrEnum):
    """FOCUS data types and how they are stored."""

    STRING = "String"
    DECIMAL = "Decimal"
    DATETIME = "Date/Time"
    JSON = "JSON"

    @property
    def sql(self) -> str:
        """DuckDB storage type for this FOCUS type."""
        return {
            DataType.STRING: "VARCHAR",
            DataType.DECIMAL: MONEY_SQL_TYPE,
            DataType.DATETIME: "TIMESTAMP",
            DataType.JSON: "VARCHAR",
        }[self]


class Level(StrEnum):
    """FOCUS feature level of a column."""

    MANDATORY = "Mandatory"
    CONDITIONAL = "Conditional"
    RECOMMENDED = "Recommended"


SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2", "1.3")


@dataclass(frozen=True)
class Column:
    """One FOCUS Cost and Usage column.

    Attributes:
        name: FOCUS column id.
        dtype: FOCUS data type.
        level: feature level in FOCUS 1.2 (1.3-only columns: their 1.3 level).
        nullable: whether the spec allows nulls.
        since: first FOCUS version (of 1.0..1.3) with the column.
        is_metric: True for cost/quantity/price columns.
    """

    name: str
    dtype: DataType
    level: Level
    nullable: bool
    since: str
    is_metric: bool = False


_S, _D, _T, _J = DataType.STRING, DataType.DECIMAL, DataType.DATETIME, DataType.JSON
_M, _C, _R = Level.MANDATORY, Level.CONDITIONAL, Level.RECOMMENDED


def _col(
    name: str, dtype: DataType, level: Level, nullable: bool = True, since: str = "1.0"
) -> Column:
    return Column(name, dtype, level, nullable, since, is_metric=dtype is DataType.DECIMAL)


COLUMNS: tuple[Column, ...] = (
    _col("AvailabilityZone", _S, _R),
    _col("BilledCost", _D, _M, nullable=False),
    _col("BillingAccountId", _S, _M, nullable=False),
    _col("BillingAccountName", _S, _M),
    _col("BillingAccountType", _S, _C, since="1.2"),
    _col("BillingCurrency", _S, _M, nullable=False),
    _col("BillingPeriodEnd", _T, _M, nullable=False),
    _col("BillingPeriodStart", _T, _M, nullable=False),
    _col("CapacityReservationId", _S, _C, since="1.1"),
    _col("CapacityReservationStatus", _S, _C, since="1.1"),
    _col("ChargeCategory", _S, _M, nullable=False),
    _col("ChargeClass", _S, _M),
    _col("ChargeDescription", _S, _M),
    _col("ChargeFrequency", _S, _R),
    _col("ChargePeriodEnd", _T, _M, nullable=False),
    _col("ChargePeriodStart", _T, _M, nullable=False),
    _col("CommitmentDiscountCategory", _S, _C),
    _col("CommitmentDiscountId", _S, _C),
    _col("CommitmentDiscountName", _S, _C),
    _col("CommitmentDiscountQuantity", _D, _C, since="1.1"),
    _col("CommitmentDiscountStatus", _S, _C),
    _col("CommitmentDiscountType", _S, _C),
    _col("CommitmentDiscountUnit", _S, _C, since="1.1"),
    _col("ConsumedQuantity", _D, _C),
    _col("ConsumedUnit", _S, _C),
    _col("ContractedCost", _D, _M, nullable=False),
    _col("ContractedUnitPrice", _D, _C),
    _col("EffectiveCost", _D, _M, nullable=False),
    _col("InvoiceId", _S, _R, since="1.2"),
    _col("InvoiceIssuerName", _S, _M, nullable=False),
    _col("ListCost", _D, _M, nullable=False),
    _col("ListUnitPrice", _D, _C),
    _col("PricingCategory", _S, _C),
    _col("PricingCurrency", _S, _C, since="1.2"),
    _col("PricingCurrencyContractedUnitPrice", _D, _C, since="1.2"),
    _col("PricingCurrencyEffectiveCost", _D, _C, since="1.2"),
    _col("PricingCurrencyListUnitPrice", _D, _C, since="1.2"),
    _col("PricingQuantity", _D, _M),
    _col("PricingUnit", _S, _M),
    _col("ProviderName", _S, _M, nullable=False),
    _col("PublisherName", _S, _M, nullable=False),
    _col("RegionId", _S, _C),
    _col("RegionName", _S, _C),
    _col("ResourceId", _S, _C),
    _col("ResourceName", _S, _C),
    _col("ResourceType", _S, _C),
    _col("ServiceCategory", _S, _M, nullable=False),
    _col("ServiceName", _S, _M, nullable=False),
    _col("ServiceSubcategory", _S, _R, since="1.1"),
    _col("SkuId", _S, _C),
    _col("SkuMeter", _S, _C, since="1.1"),
    _col("SkuPriceDetails", _J, _C, since="1.1"),
    _col("SkuPriceId", _S, _C),
    _col("SubAccountId", _S, _C),
    _col("SubAccountName", _S, _C),
    _col("SubAccountType", _S, _C, since="1.2"),
    _col("Tags", _J, _C),
    # FOCUS 1.3 additions, kept when present (split cost allocation, provider identity).
    _col("AllocatedMethodDetails", _J, _R, since="1.3"),
    _col("AllocatedMethodId", _S, _C, since="1.3"),
    _col("AllocatedResourceId", _S, _C, since="1.3"),
    _col("AllocatedResourceName", _S, _C, since="1.3"),
    _col("AllocatedTags", _J, _C, since="1.3"),
    _col("ContractApplied", _J, _C, since="1.3"),
    _col("HostProviderName", _S, _M, since="1.3"),
    _col("ServiceProviderName", _S, _M, since="1.3"),
)

COLUMNS_BY_NAME: Mapping[str, Column] = {c.name: c for c in COLUMNS}
FOCUS_12_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.since != "1.3")
MONEY_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("x_SourceId", "VARCHAR"),  # load id
    ("x_SourceName", "VARCHAR"),  # --source
    ("x_SourceFile", "VARCHAR"),
    ("x_SourceRow", "BIGINT"),  # 1-based data row (header excluded)
    ("x_FocusVersion", "VARCHAR"),
    ("x_TagsNormalized", "MAP(VARCHAR, VARCHAR)"),
)

CHARGES_COLUMNS: tuple[tuple[str, str], ...] = (
    *((c.name, c.dtype.sql) for c in COLUMNS),
    *LINEAGE_COLUMNS,
)
"""Column name and DuckDB type of the warehouse table ``charges``, in order."""

RENAMES: Mapping[str, str] = {
    # FOCUS 0.5 / 1.0-preview names that 1.0 renamed.
    "Region": "RegionId",
    "UsageQuantity": "ConsumedQuantity",
    "UsageUnit": "ConsumedUnit",
    "Provider": "ProviderName",
    "Publisher": "PublisherName",
    "InvoiceIssuer": "InvoiceIssuerName",
    "ResourceID": "ResourceId",
    "AmortizedCost": "EffectiveCost",
}

ALLOWED_VALUES: Mapping[str, tuple[str, ...]] = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "CommitmentDiscountStatus": ("Used", "Unused"),
    "CommitmentDiscountCategory": ("Spend", "Usage"),
    "CapacityReservationStatus": ("Used", "Unused"),
    "ServiceCategory": (
        "AI and Machine Learning",
        "Analytics",
        "Business Applications",
        "Compute",
        "Databases",
        "Developer Tools",
        "Multicloud",
        "Identity",
        "Integration",
        "Internet of Things",
        "Management and Governance",
        "Media",
        "Migration",
        "Mobile",
        "Networking",
        "Security",
        "Storage",
        "Web",
        "Other",
    ),
}
"""FOCUS 1.2 enumerations; values are matched case-insensitively and canonicalized."""


SERVICE_SUBCATEGORIES: Mapping[str, str] = {
    "AI Platforms": "AI and Machine Learning",
    "Bots": "AI and Machine Learning",
    "Generative AI": "AI and Machine Learning",
    "Machine Learning": "AI and Machine Learning",
    "Natural Language Processing": "AI and Machine Learning",
    "Other (AI and Machine Learning)": "AI and Machine Learning",
    "Analytics Platforms": "Analytics",
    "Business Intelligence": "Analytics",
    "Data Processing": "Analytics",
    "Search": "Analytics",
    "Streaming Analytics": "Analytics",
    "Other (Analytics)": "Analytics",
    "Productivity and Collaboration": "Business Applications",
    "Other (Business Applications)": "Business Applications",
    "Containers": "Compute",
    "End User Computing": "Compute",
    "Quantum Compute": "Compute",
    "Serverless Compute": "Compute",
    "Virtual Machines": "Compute",
    "Other (Compute)": "Compute",
    "Caching": "Databases",
    "Data Warehouses": "Databases",
    "Ledger Databases": "Databases",
    "NoSQL Databases": "Databases",
    "Relational Databases": "Databases",
    "Time Series Databases": "Databases",
    "Other (Databases)": "Databases",
    "Developer Platforms": "Developer Tools",
    "Continuous Integration and Deployment": "Developer Tools",
    "Development Environments": "Developer Tools",
    "Source Code Management": "Developer Tools",
    "Quality Assurance": "Developer Tools",
    "Other (Developer Tools)": "Developer Tools",
    "Identity and Access Management": "Identity",
    "Other (Identity)": "Identity",
    "API Management": "Integration",
    "Messaging": "Integration",
    "Workflow Orchestration": "Integration",
    "Other (Integration)": "Integration",
    "IoT Analytics": "Internet of Things",
    "IoT Platforms": "Internet of Things",
    "Other (Internet of Things)": "Internet of Things",
    "Architecture": "Management and Governance",
    "Compliance": "Management and Governance",
    "Cost Management": "Management and Governance",
    "Data Governance": "Management and Governance",
    "Disaster Recovery": "Management and Governance",
    "Endpoint Management": "Management and Governance",
    "Observability": "Management and Governance",
    "Support": "Management and Governance",
    "Other (Management and Governance)": "Management and Governance",
    "Content Creation": "Media",
    "Gaming": "Media",
    "Media Streaming": "Media",
    "Mixed Reality": "Media",
    "Other (Media)": "Media",
    "Data Migration": "Migration",
    "Resource Migration": "Migration",
    "Other (Migration)": "Migration",
    "Other (Mobile)": "Mobile",
    "Multicloud Integration": "Multicloud",
    "Other (Multicloud)": "Multicloud",
    "Application Networking": "Networking",
    "Content Delivery": "Networking",
    "Network Connectivity": "Networking",
    "Network Infrastructure": "Networking",
    "Network Routing": "Networking",
    "Network Security": "Networking",
    "Other (Networking)": "Networking",
    "Secret Management": "Security",
    "Security Posture Management": "Security",
    "Threat Detection and Response": "Security",
    "Other (Security)": "Security",
    "Backup Storage": "Storage",
    "Block Storage": "Storage",
    "File Storage": "Storage",
    "Object Storage": "Storage",
    "Storage Platforms": "Storage",
    "Other (Storage)": "Storage",
    "Application Platforms": "Web",
    "Other (Web)": "Web",
    "Other (Other)": "Other",
}
"""FOCUS 1.2 ServiceSubcategory values and the one ServiceCategory each belongs to."""


def _enum_key(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum())


def canonical_enum_value(column: str, value: str) -> str | None:
    """The canonical spelling of an enumeration value, or None when not allowed.

    >>> canonical_enum_value("ChargeFrequency", "usage-based")
    'Usage-Based'
    """
    key = _enum_key(value)
    for allowed in ALLOWED_VALUES.get(column, ()):
        if _enum_key(allowed) == key:
            return allowed
    return None


_VERSION_MARKERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "1.3",
        frozenset(c.name for c in COLUMNS if c.since == "1.3"),
    ),
    (
        "1.2",
        frozenset(c.name for c in COLUMNS if c.since == "1.2"),
    ),
    (
        "1.1",
        frozenset(c.name for c in COLUMNS if c.since == "1.1"),
    ),
)


def detect_version(columns: Iterable[str]) -> str:
    """The newest FOCUS version whose own columns appear among ``columns``.

    Conditional columns may be absent from an export, so the version is the newest
    one evidenced by the columns present; a file with only 1.0 columns is 1.0.
    """
    present = set(columns)
    for version, markers in _VERSION_MARKERS:
        if present & markers:
            return version
    return "1.0"
