"""The ``Alert`` every channel renders, and adapters from anomalies and a test message.

An alert says what happened, how much, since when, why (root cause), whose it is and
where to look. Its ``key`` is the idempotency key: the delivery log sends one key to a
channel once, so a re-run never repeats an alert but a grown incident alerts again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from costloop.core.anomalies import scope_key
from costloop.core.budgets import BudgetStatus, ThresholdHit, budget_owners
from costloop.core.money import format_money, to_decimal
from costloop.core.org import Org
from costloop.state.models import AnomalyRow

__all__ = [
    "ALERTING_STATUSES",
    "SEVERITIES",
    "SUBJECTS",
    "Alert",
    "alerts_from_anomalies",
    "alerts_from_budgets",
    "anomaly_tier",
    "channel_test_alert",
    "root_cause_text",
    "scope_text",
]

SUBJECTS = ("anomaly", "budget", "test")
SEVERITIES = ("info", "warning", "critical")
# Resolved and false-positive anomalies need nobody's attention.
ALERTING_STATUSES = ("new", "acknowledged")


@dataclass(frozen=True)
class Alert:
    """One thing to tell an owner about.

    Attributes:
        key: idempotency key, e.g. ``anomaly:12:2`` (one delivery per key and channel).
        subject: ``anomaly``, ``budget`` or ``test``.
        subject_id: id of the anomaly, name of the budget, ...
        title: what happened, one line.
        amount: how much (the anomaly's impact, the budget's actual or forecast cost).
        currency: currency of ``amount``.
        since: first day of the incident or period.
        team: owning team (routes the alert), None if unknown.
        owner: owner's e-mail address ("" if unknown).
        root_cause: why, in one line ("" if unknown).
        link: page with the details ("" when ``server.url`` is not set).
        severity: ``info``, ``warning`` or ``critical``.
        fields: further labelled facts, in display order (values are text).
    """

    key: str
    subject: str
    subject_id: str
    title: str
    amount: Decimal
    currency: str
    since: date
    team: str | None = None
    owner: str = ""
    root_cause: str = ""
    link: str = ""
    severity: str = "warning"
    fields: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.subject not in SUBJECTS:
            raise ValueError(f"subject is one of {', '.join(SUBJECTS)}: {self.subject!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity is one of {', '.join(SEVERITIES)}: {self.severity!r}")

    @property
    def amount_text(self) -> str:
        """The amount for people, e.g. ``$1,234.56``."""
        return format_money(self.amount, self.currency)

    def as_json(self) -> dict[str, Any]:
        """The alert in the documented webhook JSON shape (money as decimal text)."""
        return {
            "idempotency_key": self.key,
            "subject": self.subject,
            "subject_id": self.subject_id,
            "severity": self.severity,
            "title": self.title,
            "amount": _decimal_text(self.amount),
            "currency": self.currency,
            "since": self.since.isoformat(),
            "team": self.team,
            "owner": self.owner or None,
            "root_cause": self.root_cause or None,
            "link": self.link or None,
            "fields": dict(self.fields),
        }


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    if "." not in text:
        return text + ".00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def anomaly_tier(impact: Decimal, base: Decimal) -> int:
    """How many times an impact has doubled past ``base`` (0 below twice the base).

    The tier is part of the anomaly's idempotency key, so an incident alerts again
    each time its impact doubles, and not when a re-run moves it by a few cents.
    """
    step = base if base > 0 else Decimal(1)
    tier = 0
    while impact >= step * 2:
        step *= 2
        tier += 1
    return tier


def scope_text(scope: Mapping[str, Any]) -> str:
    """A scope for people: ``ServiceName AWS Lambda, SubAccountId 2109…``; ``all costs``."""
    if not scope:
        return "all costs"
    return ", ".join(f"{k} {scope[k]}" for k in sorted(scope))


def root_cause_text(
    causes: Sequence[Mapping[str, Any]],
    currency: str,
    scope: Mapping[str, Any] | None = None,
    top: int = 3,
) -> str:
    """The largest contributor of each dimension, in one line.

    E.g. ``ResourceId fn-resize +$386.40 (92%); SkuId X +$380.00 (90%)``. Contributors
    the scope already names (the alert's title says them) are left out; the share is
    of the anomaly's impact.
    """
    parts: list[str] = []
    seen: set[str] = set()
    for cause in causes:
        dim, value = str(cause.get("dimension")), str(cause.get("value"))
        if dim in seen or (scope is not None and str(scope.get(dim)) == value):
            continue
        seen.add(dim)
        impact = to_decimal(str(cause.get("impact", "0")))
        share = cause.get("share")
        pct = "" if share is None else f" ({to_decimal(str(share)) * 100:.0f}%)"
        sign = "+" if impact >= 0 else ""
        parts.append(f"{dim} {value} {sign}{format_money(impact, currency)}{pct}")
        if len(parts) == top:
            break
    return "; ".join(parts)


def _link(server_url: str, path: str) -> str:
    return f"{server_url.rstrip('/')}/{path}" if server_url else ""


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def alerts_from_anomalies(
    rows: Iterable[AnomalyRow], *, server_url: str = "", base: Decimal = Decimal(100)
) -> list[Alert]:
    """Alerts for stored anomalies that are new or acknowledged, largest impact first.

    Args:
        rows: anomaly rows from the state DB (any status; closed ones are skipped).
        server_url: ``server.url``; each alert links to ``{server_url}/anomalies/{id}``.
        base: the impact of tier 0 (``anomalies.min_impact``): the key
            ``anomaly:{id}:{tier}`` changes each time the impact doubles.
    """
    out = []
    for row in rows:
        if row.status not in ALERTING_STATUSES:
            continue
        impact = to_decimal(row.impact)
        tier = anomaly_tier(impact, base)
        kind = "level shift" if row.kind == "level-shift" else row.kind
        pct = "" if row.impact_pct is None else f" ({row.impact_pct:+.0f}%)"
        start, end = _day(row.start), _day(row.end)
        days = (end - start).days + 1
        fields = {
            "Scope": scope_key(dict(row.scope)),
            "Window": f"{start} to {end} ({days} day{'s' if days != 1 else ''})",
            "Expected": format_money(to_decimal(row.expected_cost), row.currency),
            "Actual": format_money(to_decimal(row.actual_cost), row.currency),
            "Status": row.status,
        }
        out.append(
            Alert(
                key=f"anomaly:{row.id}:{tier}",
                subject="anomaly",
                subject_id=str(row.id),
                title=f"Cost {kind} in {scope_text(row.scope)}{pct}",
                amount=impact,
                currency=row.currency,
                since=start,
                team=row.owner_team or None,
                owner=row.owner_email,
                root_cause=root_cause_text(row.root_cause, row.currency, row.scope),
                link=_link(server_url, f"anomalies/{row.id}"),
                severity="critical" if tier >= 3 else "warning",
                fields=fields,
            )
        )
    out.sort(key=lambda a: (-a.amount, a.key))
    return out


def _top_hits(status: BudgetStatus) -> list[ThresholdHit]:
    """The highest threshold reached on each basis (a forecast hit only above the actual)."""
    out: list[ThresholdHit] = []
    for basis in ("actual", "forecast"):
        hits = [h for h in status.hits if h.basis == basis]
        if hits:
            top = max(hits, key=lambda h: h.threshold)
            if not out or top.threshold > out[0].threshold:
                out.append(top)
    return out


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def alerts_from_budgets(
    statuses: Iterable[BudgetStatus], *, org: Org | None = None, server_url: str = ""
) -> list[Alert]:
    """Alerts for budget thresholds reached by the spend, or by the forecast only.

    Each budget alerts for its highest threshold reached by the actual spend and, when
    the forecast reaches a higher one, for that too. The key
    ``budget:{name}:{period}:{basis}:{threshold}`` makes each threshold of each period
    alert once; lower thresholds reached at the same time are named in the message.

    Args:
        statuses: budget statuses (``costloop.analytics.budgets.evaluate``).
        org: the organization: owner of the budget's team when the budget names none.
        server_url: ``server.url``; alerts link to ``{server_url}/budgets/{name}``.
    """
    out = []
    for status in statuses:
        budget = status.budget
        owners = budget_owners(budget, org or Org())
        cur = budget.currency
        for hit in _top_hits(status):
            if hit.basis == "actual":
                what = f"Budget {budget.name} reached {_pct(hit.threshold)}"
                amount = status.actual
                when = hit.crossed_on
            else:
                what = f"Budget {budget.name} is forecast to reach {_pct(hit.threshold)}"
                amount = status.forecast.mean if status.forecast is not None else status.actual
                when = hit.crossed_on
            fields = {
                "Scope": budget.scope_text(),
                "Period": f"{status.period.label} ({status.period.start} to "
                f"{status.period.last_day})",
                "Budget": format_money(budget.amount, cur),
                "Spent": f"{format_money(status.actual, cur)} ({status.used_pct:.1f}%)",
            }
            if status.forecast is not None:
                fields["Forecast"] = (
                    f"{format_money(status.forecast.mean, cur)} ({status.forecast_pct:.1f}%)"
                )
            if when is not None:
                fields["Reached on" if hit.basis == "actual" else "Expected on"] = str(when)
            fields["Status"] = status.status
            run_out = (
                f"; runs out on {status.runs_out_on}" if status.runs_out_on is not None else ""
            )
            out.append(
                Alert(
                    key=f"budget:{budget.name}:{status.period.label}:{hit.basis}:"
                    f"{hit.threshold.normalize():f}",
                    subject="budget",
                    subject_id=budget.name,
                    title=what,
                    amount=amount,
                    currency=cur,
                    since=status.period.start,
                    team=budget.scope.get("team"),
                    owner=owners[0] if owners else "",
                    root_cause=f"spending {format_money(status.run_rate, cur)}/day "
                    f"as of {status.as_of}{run_out}",
                    link=_link(server_url, f"budgets/{budget.name}"),
                    severity="critical" if hit.threshold >= 100 else "warning",
                    fields=fields,
                )
            )
    return out


def channel_test_alert(channel: str, now: datetime, *, server_url: str = "") -> Alert:
    """A harmless message that proves a channel works (a new key each time it runs)."""
    return Alert(
        key=f"test:{channel}:{now:%Y%m%dT%H%M%S.%fZ}",
        subject="test",
        subject_id=channel,
        title=f"costloop test message for channel {channel}",
        amount=Decimal("0"),
        currency="USD",
        since=now.date(),
        root_cause="none: this is a test of the alert channel",
        link=server_url,
        severity="info",
        fields={"Sent at": f"{now:%Y-%m-%d %H:%M:%S} UTC"},
    )
