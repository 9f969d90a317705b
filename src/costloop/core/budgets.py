"""Budgets: the budgets file, budget periods, and the status values evaluation returns.

The file is YAML (``budgets.yaml`` in the workspace, documented in docs/budgets.md)::

    budgets:
      - name: checkout-monthly
        scope: {team: checkout}          # allocated_charges columns; {} = everything
        amount: "9000.00"                # per period; kept exact
        period: month                    # month | quarter | year
        currency: USD
        thresholds: [50, 80, 100]        # percent of the amount
        owners: [ana.silva@stride.example]
        start: 2026-01                   # first period; also anchors quarters and years

Parsing is pure: the caller passes the file text. Every error names the file, the line
and the key path (``budgets[2].amount``). Evaluation lives in
``costloop.analytics.budgets``; the values it returns are defined here so alerting can
read them without the analytics layer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from costloop.core.org import Org
from costloop.core.yamlnodes import Node, Reader, load_nodes

__all__ = [
    "BUDGET_STATUSES",
    "DEFAULT_THRESHOLDS",
    "HIT_BASES",
    "PERIOD_KINDS",
    "Budget",
    "BudgetForecast",
    "BudgetPeriod",
    "BudgetStatus",
    "PeriodOutcome",
    "ThresholdHit",
    "budget_owners",
    "parse_budgets",
    "period_containing",
]

PERIOD_KINDS: Mapping[str, int] = {"month": 1, "quarter": 3, "year": 12}
"""Budget period kinds and their length in months."""

BUDGET_STATUSES = ("ok", "at-risk", "breached")
HIT_BASES = ("actual", "forecast")
DEFAULT_THRESHOLDS = (Decimal(50), Decimal(80), Decimal(100))

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_KEYS = ("name", "scope", "amount", "period", "currency", "thresholds", "owners", "start")
_MAX_THRESHOLD = Decimal(1000)


# --- periods ---------------------------------------------------------------------------


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class BudgetPeriod:
    """One budget period: the half-open day range ``[start, end)``.

    Attributes:
        start: first day (the 1st of a month).
        end: first day after the period.
        kind: ``month``, ``quarter`` or ``year``.
    """

    start: date
    end: date
    kind: str

    @property
    def last_day(self) -> date:
        """The period's last day (inclusive)."""
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        """``2026-11``, ``2026-Q4`` or ``2026`` for calendar periods, else ``2026-02..2027-01``.

        Labels never contain ``:``, so they can be part of alert idempotency keys.
        """
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter" and self.start.month % 3 == 1:
            return f"{self.start.year}-Q{self.start.month // 3 + 1}"
        if self.kind == "year" and self.start.month == 1:
            return str(self.start.year)
        return f"{self.start:%Y-%m}..{self.last_day:%Y-%m}"

    def previous(self) -> BudgetPeriod:
        """The period before this one."""
        months = PERIOD_KINDS[self.kind]
        return BudgetPeriod(_month_start(_month_index(self.start) - months), self.start, self.kind)

    def __str__(self) -> str:
        return self.label


def period_containing(kind: str, day: date, anchor: date | None = None) -> BudgetPeriod:
    """The period of ``kind`` that contains ``day``.

    Quarters and years are aligned to ``anchor``'s month (a fiscal year starting in
    April has ``anchor`` on an April 1st); without one they are calendar quarters and
    years.
    """
    months = PERIOD_KINDS[kind]
    anchor_month = 0 if anchor is None else anchor.month - 1
    index = _month_index(day)
    first = index - (index - anchor_month) % months
    return BudgetPeriod(_month_start(first), _month_start(first + months), kind)


# --- the file --------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """One budget from the file.

    Attributes:
        name: unique name (letters, digits, ``.``, ``_``, ``-``).
        scope: allocated_charges column → value every counted charge has; empty means
            all charges of the currency.
        amount: the budget per period, exact.
        period: ``month``, ``quarter`` or ``year``.
        currency: the BillingCurrency counted (charges in other currencies are not).
        thresholds: percentages of ``amount`` that alert, ascending.
        owners: who is told (e-mail addresses or names), as written.
        start: first day of the first period; None means the budget always applied.
        source: the file it came from; line: its line there; scope_line: line of scope.
    """

    name: str
    amount: Decimal
    scope: Mapping[str, str] = field(default_factory=dict)
    period: str = "month"
    currency: str = "USD"
    thresholds: tuple[Decimal, ...] = DEFAULT_THRESHOLDS
    owners: tuple[str, ...] = ()
    start: date | None = None
    source: str = "budgets.yaml"
    line: int = 0
    scope_line: int = 0

    def period_of(self, day: date) -> BudgetPeriod:
        """The budget's period containing ``day`` (anchored at ``start`` when given)."""
        return period_containing(self.period, day, self.start)

    def scope_text(self) -> str:
        """The scope as ``team=checkout, env=prod``, or ``all`` for everything."""
        if not self.scope:
            return "all"
        return ", ".join(f"{k}={v}" for k, v in self.scope.items())


def budget_owners(budget: Budget, org: Org) -> tuple[str, ...]:
    """The budget's owners, else the owner of the team it is scoped to (org file)."""
    if budget.owners:
        return budget.owners
    team = budget.scope.get("team")
    for t in org.teams:
        if t.name == team and t.owner:
            return (t.owner,)
    return ()


class _Reader(Reader):
    """The budgets file's conventions: numbers are text too, keys are listed as given."""

    text_types = (str, int, float)
    text_expected = "expected text"
    text_empty = "must not be empty"
    texts_nonempty = False
    keys_as_written = True

    def month(self, node: Node, path: str) -> date:
        """A first day of a month, written ``YYYY-MM`` (or a YAML date on the 1st)."""
        value = node.value
        if isinstance(value, date):
            if value.day != 1:
                raise self.fail(node, path, "a budget starts on the 1st of a month (YYYY-MM)")
            return value
        match = _MONTH.match(str(value).strip()) if isinstance(value, str) else None
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise self.fail(node, path, f"expected a month as YYYY-MM, got {value!r}")
        return date(int(match.group(1)), int(match.group(2)), 1)


def _thresholds(r: _Reader, node: Node, path: str) -> tuple[Decimal, ...]:
    items = node.value if isinstance(node.value, list) else [node]
    if not items:
        raise r.fail(node, path, "give at least one threshold (percent of the amount)")
    out: list[Decimal] = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]" if isinstance(node.value, list) else path
        pct = r.positive(item, where, "a percentage")
        if pct > _MAX_THRESHOLD:
            raise r.fail(item, where, f"a threshold is at most {_MAX_THRESHOLD}%, got {pct}")
        if pct in out:
            raise r.fail(item, where, f"threshold {pct}% is listed twice")
        out.append(pct)
    return tuple(sorted(out))


def _scope(r: _Reader, node: Node, path: str) -> dict[str, str]:
    if node.value is None:
        return {}
    scope: dict[str, str] = {}
    for key, value in r.mapping(node, path, None).items():
        if key == "BillingCurrency":
            raise r.fail(value, f"{path}.{key}", "give the currency with the currency key")
        scope[key] = r.text(value, f"{path}.{key}")
    return scope


def _budget(r: _Reader, i: int, node: Node, seen: dict[str, int]) -> Budget:
    path = f"budgets[{i}]"
    body = r.mapping(node, path, _KEYS)
    for key in ("name", "amount"):
        if key not in body:
            raise r.fail(node, path, f"a budget needs {key}")
    name = r.text(body["name"], path + ".name")
    if not _NAME.match(name):
        raise r.fail(
            body["name"],
            path + ".name",
            f"{name!r}: a name is up to 64 letters, digits, '.', '_' or '-'",
        )
    if name in seen:
        raise r.fail(
            body["name"], path + ".name", f"duplicate budget {name!r} (first on line {seen[name]})"
        )
    seen[name] = body["name"].line
    period = r.text(body["period"], path + ".period") if "period" in body else "month"
    if period not in PERIOD_KINDS:
        raise r.fail(
            body["period"], path + ".period", f"period is one of {', '.join(PERIOD_KINDS)}"
        )
    currency = r.text(body["currency"], path + ".currency") if "currency" in body else "USD"
    if not _CURRENCY.match(currency):
        raise r.fail(
            body["currency"],
            path + ".currency",
            f"expected an ISO 4217 code such as USD, got {currency!r}",
        )
    return Budget(
        name=name,
        amount=r.positive(body["amount"], path + ".amount", "an amount"),
        scope=_scope(r, body["scope"], path + ".scope") if "scope" in body else {},
        period=period,
        currency=currency,
        thresholds=_thresholds(r, body["thresholds"], path + ".thresholds")
        if "thresholds" in body
        else DEFAULT_THRESHOLDS,
        owners=r.texts(body["owners"], path + ".owners") if "owners" in body else (),
        start=r.month(body["start"], path + ".start") if "start" in body else None,
        source=r.source,
        line=node.line,
        scope_line=body["scope"].line if "scope" in body else node.line,
    )


def parse_budgets(text: str, source: str = "budgets.yaml") -> tuple[Budget, ...]:
    """Parse and validate a budgets file; an empty file has no budgets.

    Raises:
        InputError: the file is invalid (file, line and key path named).
    """
    r = _Reader(source)
    root = load_nodes(text, source)
    if root is None:
        return ()
    body = r.mapping(root, "budgets file", ("budgets",))
    if "budgets" not in body or body["budgets"].value is None:
        return ()
    items = body["budgets"]
    if not isinstance(items.value, list):
        raise r.fail(items, "budgets", "expected a list of budgets")
    seen: dict[str, int] = {}
    return tuple(_budget(r, i, n, seen) for i, n in enumerate(items.value))


# --- evaluation results ----------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdHit:
    """A threshold the period's spend reached (actual) or is forecast to reach.

    Attributes:
        threshold: percent of the budget amount.
        basis: ``actual`` (spend to date reached it) or ``forecast`` (the forecast
            period total reaches it; spend to date has not).
        crossed_on: the day the cumulative spend reached it; for the forecast, the day
            the cumulative forecast mean does (None when only the total reaches it).
        level: the spend the threshold stands for (amount × threshold / 100).
    """

    threshold: Decimal
    basis: str
    crossed_on: date | None
    level: Decimal


@dataclass(frozen=True)
class BudgetForecast:
    """The forecast of a period's total: actual to date plus the forecast remainder.

    Attributes:
        mean: expected period total; lo80/hi80: its 80 % prediction interval.
        model: the forecasting model used; fallback: why a simpler one was (or None).
        daily: forecast mean per remaining day of the period, in day order.
    """

    mean: Decimal
    lo80: Decimal
    hi80: Decimal
    model: str
    fallback: str | None = None
    daily: tuple[tuple[date, Decimal], ...] = ()


@dataclass(frozen=True)
class PeriodOutcome:
    """How an earlier period ended: its total spend against the amount."""

    period: BudgetPeriod
    actual: Decimal
    amount: Decimal

    @property
    def used_pct(self) -> Decimal:
        """Spend in percent of the amount."""
        return self.actual / self.amount * 100

    @property
    def breached(self) -> bool:
        """Whether the spend reached the amount."""
        return self.actual >= self.amount


@dataclass(frozen=True)
class BudgetStatus:
    """One budget's current period as of a day.

    Attributes:
        budget: the budget.
        period: the period containing ``as_of`` (or the first one, before ``start``).
        as_of: the last day counted.
        actual: EffectiveCost of the scope and currency from the period start to
            ``as_of``, exact.
        forecast: the forecast period total, or None (see ``forecast_note``).
        forecast_note: why there is no forecast, or a caveat about it.
        hits: thresholds reached, actual first, each ascending.
        status: ``breached`` (actual ≥ amount), ``at-risk`` (forecast mean ≥ amount)
            or ``ok``.
        run_rate: the current rate: mean daily spend of the 7 days ending at ``as_of``.
        runs_out_on: the day the cumulative spend reaches the amount at the run rate
            (the actual day when already breached); None if not within the period.
        previous: up to 3 earlier periods, most recent first.
    """

    budget: Budget
    period: BudgetPeriod
    as_of: date
    actual: Decimal
    forecast: BudgetForecast | None
    forecast_note: str | None
    hits: tuple[ThresholdHit, ...]
    status: str
    run_rate: Decimal
    runs_out_on: date | None
    previous: tuple[PeriodOutcome, ...] = ()

    @property
    def name(self) -> str:
        """The budget's name."""
        return self.budget.name

    @property
    def amount(self) -> Decimal:
        """The budget amount for the period."""
        return self.budget.amount

    @property
    def used_pct(self) -> Decimal:
        """Spend to date in percent of the amount."""
        return self.actual / self.budget.amount * 100

    @property
    def forecast_pct(self) -> Decimal | None:
        """Forecast total in percent of the amount (None without a forecast)."""
        return None if self.forecast is None else self.forecast.mean / self.budget.amount * 100
