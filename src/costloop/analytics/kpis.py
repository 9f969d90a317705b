"""The KPI catalogue: every FinOps KPI of a month with its definition, trend and band.

Each KPI states its formula and denominator, carries the month's and the previous
month's value with their numerator and denominator, and a Crawl / Walk / Run band when
a threshold exists. Thresholds live in :data:`BANDS`, each labelled with its source:
published FinOps Foundation examples where they exist, costloop defaults otherwise.
A KPI whose inputs are absent is not available and says why; it is never shown as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from costloop.analytics import rates
from costloop.core.errors import InputError
from costloop.core.money import to_decimal
from costloop.core.periods import Month
from costloop.warehouse.engine import Engine

__all__ = [
    "BANDS",
    "COSTLOOP_DEFAULT",
    "FINOPS_FOUNDATION",
    "Band",
    "Kpi",
    "Measure",
    "kpi_catalogue",
    "latest_month",
    "month_currency",
]

FINOPS_FOUNDATION = "FinOps Foundation maturity model"
COSTLOOP_DEFAULT = "costloop default"

RATIO_PLACES = 6
UNIT_COST_PLACES = 6
HOUR_PLACES = 2


@dataclass(frozen=True)
class Band:
    """Crawl / Walk / Run thresholds of one KPI.

    Attributes:
        crawl: least value (most, when lower is better) that reaches Crawl.
        walk: threshold of Walk.
        run: threshold of Run.
        source: where the thresholds come from (:data:`FINOPS_FOUNDATION` or
            :data:`COSTLOOP_DEFAULT`).
        higher_is_better: False for KPIs such as waste or data age.
        run_strict: Run needs the value strictly beyond ``run`` (FinOps "> 90%").
    """

    crawl: Decimal
    walk: Decimal
    run: Decimal
    source: str
    higher_is_better: bool = True
    run_strict: bool = False

    def of(self, value: Decimal) -> str:
        """The band ``value`` reaches: run, walk, crawl, or ``below crawl``."""

        def reaches(threshold: Decimal, strict: bool = False) -> bool:
            if self.higher_is_better:
                return value > threshold if strict else value >= threshold
            return value < threshold if strict else value <= threshold

        if reaches(self.run, self.run_strict):
            return "run"
        if reaches(self.walk):
            return "walk"
        if reaches(self.crawl):
            return "crawl"
        return "below crawl"


def _d(text: str) -> Decimal:
    return Decimal(text)


BANDS: dict[str, Band] = {
    # Published: FinOps Foundation maturity examples, Crawl ≥ 50%, Walk ≥ 80%, Run > 90%.
    "allocation_coverage": Band(
        _d("0.50"), _d("0.80"), _d("0.90"), FINOPS_FOUNDATION, run_strict=True
    ),
    # costloop defaults: no published threshold exists for these KPIs.
    "tag_coverage": Band(_d("0.50"), _d("0.80"), _d("0.90"), COSTLOOP_DEFAULT, run_strict=True),
    "commitment_utilization": Band(_d("0.70"), _d("0.85"), _d("0.95"), COSTLOOP_DEFAULT),
    "commitment_coverage": Band(_d("0.50"), _d("0.70"), _d("0.80"), COSTLOOP_DEFAULT),
    "esr": Band(_d("0.10"), _d("0.20"), _d("0.30"), COSTLOOP_DEFAULT),
    "commitment_esr": Band(_d("0.10"), _d("0.20"), _d("0.30"), COSTLOOP_DEFAULT),
    "commitment_waste": Band(
        _d("0.05"), _d("0.02"), _d("0.01"), COSTLOOP_DEFAULT, higher_is_better=False
    ),
    "data_freshness": Band(_d("168"), _d("72"), _d("48"), COSTLOOP_DEFAULT, higher_is_better=False),
}
"""Crawl / Walk / Run thresholds per KPI id: the one table to edit to change a band."""


@dataclass(frozen=True)
class Measure:
    """A KPI's figure for one month: value with its parts, or the reason it is missing."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    reason: str | None = None

    @property
    def available(self) -> bool:
        """Whether the month has the inputs this KPI needs."""
        return self.value is not None


def _missing(reason: str) -> Measure:
    return Measure(None, reason=reason)


def _ratio(r: rates.Ratio, zero_reason: str) -> Measure:
    value = r.value
    if value is None:
        return Measure(None, r.numerator, r.denominator, zero_reason)
    return Measure(value, r.numerator, r.denominator)


def _amount(value: Decimal) -> Measure:
    return Measure(value)


@dataclass(frozen=True)
class Kpi:
    """One KPI of the catalogue for a month, with the previous month for the trend."""

    id: str
    name: str
    definition: str
    unit: str  # "%" (value is a fraction), a currency code, "<currency> per <metric>", "hours"
    current: Measure
    previous_measure: Measure
    band_rule: Band | None = field(default=None, repr=False)

    @property
    def available(self) -> bool:
        """Whether this month's value exists."""
        return self.current.available

    @property
    def reason(self) -> str | None:
        """Why this month's value is not available."""
        return self.current.reason

    @property
    def value(self) -> Decimal | None:
        """This month's value, rounded for display (ratios and unit costs to 6 places)."""
        return self._rounded(self.current.value)

    @property
    def previous(self) -> Decimal | None:
        """The previous month's value, rounded like ``value``."""
        return self._rounded(self.previous_measure.value)

    @property
    def change(self) -> Decimal | None:
        """value − previous (for ratios: a difference of fractions, i.e. points / 100)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def numerator(self) -> Decimal | None:
        """Exact numerator of this month's value (None for plain amounts)."""
        return self.current.numerator

    @property
    def denominator(self) -> Decimal | None:
        """Exact denominator of this month's value (None for plain amounts)."""
        return self.current.denominator

    @property
    def band(self) -> str | None:
        """Crawl / walk / run / below crawl, from the exact value; None without a rule."""
        if self.band_rule is None or self.current.value is None:
            return None
        return self.band_rule.of(self.current.value)

    @property
    def band_source(self) -> str | None:
        """Source of the band thresholds (FinOps Foundation or costloop default)."""
        return None if self.band_rule is None else self.band_rule.source

    def _rounded(self, value: Decimal | None) -> Decimal | None:
        if value is None:
            return None
        if self.unit == "%":
            places = RATIO_PLACES
        elif self.unit == "hours":
            places = HOUR_PLACES
        elif " per " in self.unit:
            places = UNIT_COST_PLACES
        else:
            return value
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


# --- inputs of one month ----------------------------------------------------------------


def _charges_totals(engine: Engine, month: Month, currency: str) -> tuple[int, Decimal]:
    t = rates.in_period(engine.table("charges"), month, currency=currency)
    (row,) = engine.rows(t.aggregate(rows=t.count(), effective=t.EffectiveCost.sum()))
    return int(row["rows"]), to_decimal(row["effective"])


def _allocation(
    engine: Engine, month: Month, currency: str, charges_effective: Decimal
) -> dict[str, Measure]:
    t = rates.in_period(engine.table("allocated_charges"), month, currency=currency)
    allocated = t.team.fill_null("unallocated") != "unallocated"
    (row,) = engine.rows(
        t.aggregate(
            rows=t.count(),
            total=t.EffectiveCost.sum(),
            allocated=t.EffectiveCost.sum(where=allocated),
            tagged=t.EffectiveCost.sum(where=t.team_source == "tag"),
            shared=t.EffectiveCost.sum(where=t.x_AllocationPool.notnull()),
        )
    )
    ids = ("allocation_coverage", "tag_coverage", "shared_cost_share")
    total = to_decimal(row["total"])
    if not row["rows"]:
        return dict.fromkeys(ids, _missing(f"{month} is not allocated; run `costloop allocate`"))
    if total != charges_effective:
        return dict.fromkeys(
            ids,
            _missing(
                f"the allocation of {month} is out of date (charges were loaded after it); "
                "run `costloop allocate`"
            ),
        )
    zero = f"Σ EffectiveCost of {month} is zero"
    return {
        "allocation_coverage": _ratio(rates.Ratio(to_decimal(row["allocated"]), total), zero),
        "tag_coverage": _ratio(rates.Ratio(to_decimal(row["tagged"]), total), zero),
        "shared_cost_share": _ratio(rates.Ratio(to_decimal(row["shared"]), total), zero),
    }


def _commitments(
    engine: Engine, month: Month, currency: str, charges_effective: Decimal
) -> dict[str, Measure]:
    s = rates.savings(engine, month, currency=currency)
    use = rates.commitment_utilization(engine, month, currency=currency)
    cov = rates.commitment_coverage(engine, month, currency=currency)
    no_usage = f"no usage rows in scope (Usage, not spot, not Unused) in {month}"
    out: dict[str, Measure] = {}
    if s.usage_rows:
        out["esr"] = _ratio(s.esr, f"Σ ListCost of the usage in scope is zero in {month}")
        out["on_demand_equivalent"] = _amount(s.on_demand_equivalent)
        out["negotiated_savings"] = _amount(s.negotiated_savings)
    else:
        for key in ("esr", "on_demand_equivalent", "negotiated_savings"):
            out[key] = _missing(no_usage)
    if not use.commitments:
        none = f"no commitment discount rows (CommitmentDiscountStatus Used/Unused) in {month}"
        for key in (
            "commitment_utilization",
            "commitment_coverage",
            "commitment_esr",
            "commitment_waste",
            "commitment_savings",
        ):
            out[key] = _missing(none)
        return out
    out["commitment_utilization"] = _ratio(use.overall, f"commitment cost is zero in {month}")
    out["commitment_coverage"] = (
        _ratio(cov.overall, f"Σ ListCost of eligible usage is zero in {month}")
        if cov.services
        else _missing(f"no usage consumed a commitment in {month}, so no service is eligible")
    )
    out["commitment_esr"] = _ratio(
        s.commitment_esr, f"Σ ContractedCost of the usage in scope is zero in {month}"
    )
    out["commitment_waste"] = _ratio(
        rates.Ratio(s.unused_commitment_cost, charges_effective),
        f"Σ EffectiveCost of {month} is zero",
    )
    out["commitment_savings"] = _amount(s.commitment_savings)
    return out


def _business_metric_names(engine: Engine) -> list[str]:
    t = engine.table("business_metrics")
    names = engine.rows(t.select("metric").distinct())
    return sorted(str(r["metric"]) for r in names if r["metric"] is not None)


def _unit_costs(
    engine: Engine, month: Month, names: list[str], charges_effective: Decimal
) -> dict[str, Measure]:
    t = engine.table("business_metrics")
    t = t.filter((t.date >= month.start.date()) & (t.date < month.end.date()))
    sums = {
        r["metric"]: (int(r["rows"]), to_decimal(r["value"]))
        for r in engine.rows(t.group_by("metric").aggregate(rows=t.count(), value=t.value.sum()))
    }
    out: dict[str, Measure] = {}
    for name in names:
        rows, total = sums.get(name, (0, Decimal(0)))
        if not rows:
            out[name] = _missing(f"no {name!r} business metric values dated in {month}")
            continue
        out[name] = _ratio(rates.Ratio(charges_effective, total), f"Σ {name!r} is zero in {month}")
    return out


def _hours(delta: timedelta) -> Decimal:
    seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6
    return seconds / 3600


def _freshness(engine: Engine, month: Month) -> Measure:
    c = rates.in_period(engine.table("charges"), month)
    (row,) = engine.rows(c.aggregate(end=c.ChargePeriodEnd.max()))
    loads = engine.table("loads")
    loads = loads.filter((loads.kind == "charges") & (loads.billing_period_start == month.start))
    (load,) = engine.rows(loads.aggregate(loaded=loads.loaded_at.max()))
    end: datetime | None = row["end"]
    loaded: datetime | None = load["loaded"]
    if end is None or loaded is None:
        return _missing(f"no load of billing period {month} is recorded in the loads table")
    if loaded < end:
        return _missing(
            f"the latest load ({loaded:%Y-%m-%d %H:%M}) precedes the latest charge period "
            f"end ({end:%Y-%m-%d %H:%M})"
        )
    return _amount(_hours(loaded - end))


def _month_measures(
    engine: Engine, month: Month, currency: str, metric_names: list[str]
) -> dict[str, Measure]:
    rows, effective = _charges_totals(engine, month, currency)
    keys = [*_STATIC_IDS, *(_unit_cost_id(n) for n in metric_names)]
    if rows == 0:
        return dict.fromkeys(keys, _missing(f"no {currency} charges in {month}"))
    out = {
        **_allocation(engine, month, currency, effective),
        **_commitments(engine, month, currency, effective),
        "data_freshness": _freshness(engine, month),
    }
    for name, measure in _unit_costs(engine, month, metric_names, effective).items():
        out[_unit_cost_id(name)] = measure
    return out


# --- the catalogue ----------------------------------------------------------------------

_RATE_USAGE = "rate usage (Usage rows without Unused commitment rows, spot rows and prepayments)"

_STATIC: tuple[tuple[str, str, str, str], ...] = (
    (
        "allocation_coverage",
        "Allocation coverage",
        "%",
        "Share of the month's amortized cost attributed to a team: Σ EffectiveCost of "
        "allocated_charges rows whose team is not 'unallocated' ÷ Σ EffectiveCost of all "
        "allocated_charges rows of the month (every charge category, Tax and Credit included).",
    ),
    (
        "tag_coverage",
        "Tag coverage",
        "%",
        "Share of the month's amortized cost attributed by a tag: Σ EffectiveCost of rows "
        "whose team_source is 'tag' ÷ Σ EffectiveCost of all allocated_charges rows.",
    ),
    (
        "shared_cost_share",
        "Untaggable / shared cost share",
        "%",
        "Share of the month's amortized cost split by a shared-cost pool: Σ EffectiveCost of "
        "rows with x_AllocationPool set ÷ Σ EffectiveCost of all allocated_charges rows.",
    ),
    (
        "commitment_utilization",
        "Commitment utilization",
        "%",
        "Share of commitment cost consumed: Σ EffectiveCost of Usage rows with "
        "CommitmentDiscountStatus 'Used' ÷ Σ EffectiveCost of the Used and Unused rows of "
        "all commitments (waste share of commitments = 1 − utilization).",
    ),
    (
        "commitment_coverage",
        "Commitment coverage",
        "%",
        "Share of eligible usage charged at committed rates, at list value: Σ ListCost of "
        "Usage rows with CommitmentDiscountStatus 'Used' ÷ Σ ListCost of eligible Usage rows; "
        f"{rates.ELIGIBILITY_TEXT}.",
    ),
    (
        "esr",
        "Effective Savings Rate (vs list)",
        "%",
        "(Σ ListCost − Σ EffectiveCost − unused commitment cost) ÷ Σ ListCost, over "
        f"{_RATE_USAGE}; unused commitments lower it.",
    ),
    (
        "commitment_esr",
        "Commitment ESR (vs contracted)",
        "%",
        "(Σ ContractedCost − Σ EffectiveCost − unused commitment cost) ÷ Σ ContractedCost, "
        f"over {_RATE_USAGE}: commitment savings apart from negotiated rates.",
    ),
    (
        "commitment_waste",
        "Commitment waste",
        "%",
        "Unused commitment cost as a share of spend: Σ EffectiveCost of Unused commitment "
        "rows ÷ Σ EffectiveCost of all charges of the month.",
    ),
    (
        "on_demand_equivalent",
        "On-demand equivalent",
        "currency",
        f"What the usage would have cost at list prices: Σ ListCost of {_RATE_USAGE}.",
    ),
    (
        "negotiated_savings",
        "Savings from negotiated rates",
        "currency",
        f"Σ ListCost − Σ ContractedCost of {_RATE_USAGE}.",
    ),
    (
        "commitment_savings",
        "Savings from commitments (net of waste)",
        "currency",
        f"Σ ContractedCost − Σ EffectiveCost of {_RATE_USAGE} − unused commitment cost; "
        "on-demand equivalent − actual cost = negotiated + commitment savings.",
    ),
    (
        "data_freshness",
        "Data freshness",
        "hours",
        "Hours from the latest ChargePeriodEnd of the month's charges to the latest load of "
        "that billing period (loads.loaded_at); lower is fresher.",
    ),
)
_STATIC_IDS = tuple(spec[0] for spec in _STATIC)


def _unit_cost_id(metric: str) -> str:
    return f"unit_cost.{metric}"


def latest_month(engine: Engine) -> Month | None:
    """The latest billing period with charges, or None for an empty warehouse."""
    t = engine.table("charges")
    (row,) = engine.rows(t.aggregate(latest=t.BillingPeriodStart.max()))
    latest: datetime | None = row["latest"]
    return None if latest is None else Month.of(latest)


def month_currency(engine: Engine, month: Month) -> str:
    """The billing currency of ``month``'s charges.

    Raises:
        InputError: the month has no charges, or charges in several currencies.
    """
    t = rates.in_period(engine.table("charges"), month)
    found = sorted(
        str(r["BillingCurrency"]) for r in engine.rows(t.select("BillingCurrency").distinct())
    )
    if not found:
        raise InputError(f"no charges in billing period {month}")
    if len(found) > 1:
        raise InputError(
            f"the charges of {month} are in several billing currencies ({', '.join(found)}); "
            "choose one with --currency"
        )
    return found[0]


def kpi_catalogue(engine: Engine, month: Month, currency: str | None = None) -> list[Kpi]:
    """Every KPI for ``month`` with the previous month's value and the maturity band.

    Args:
        engine: engine on the workspace lake.
        month: billing period to report.
        currency: billing currency of the charges to use; by default the month's only one.

    Raises:
        InputError: the month has no charges, or several currencies and none was chosen.
    """
    currency = currency or month_currency(engine, month)
    names = _business_metric_names(engine)
    now = _month_measures(engine, month, currency, names)
    before = _month_measures(engine, month.previous(), currency, names)
    out: list[Kpi] = []

    def add(kpi_id: str, name: str, unit: str, definition: str) -> None:
        out.append(
            Kpi(kpi_id, name, definition, unit, now[kpi_id], before[kpi_id], BANDS.get(kpi_id))
        )

    for kpi_id, name, unit, definition in _STATIC:
        add(kpi_id, name, currency if unit == "currency" else unit, definition)
    for metric in names:
        add(
            _unit_cost_id(metric),
            f"Unit cost per {metric}",
            f"{currency} per {metric}",
            f"Amortized cost per {metric}: Σ EffectiveCost of all charges of the month ÷ "
            f"Σ business_metrics value of {metric!r} dated in the month (all dimensions).",
        )
    return out
