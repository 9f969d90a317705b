"""Read models of stored anomaly events and their JSON form (CLI, web app, alerts).

Money is the exact Decimal the state DB keeps (4 places, ``ExactDecimal``); the JSON
form writes it as decimal text without storage padding: ``"1234.50"``, ``"0.1234"``.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from costloop.core.anomalies import DayPoint, RootCause
from costloop.core.money import decimal_text, quantize
from costloop.state import AnomalyEventRow, AnomalyRow

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "AnomalyEventView",
    "AnomalyStats",
    "AnomalyView",
    "RecordResult",
    "anomaly_json",
    "money_text",
    "stats_of",
]

OPEN_STATUSES = ("new", "acknowledged")
CLOSED_STATUSES = ("resolved", "false-positive")


money_text = decimal_text
"""Exact decimal text (:func:`costloop.core.money.decimal_text`)."""


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AnomalyEventView:
    """One history entry of an anomaly: detection, update, status change or comment.

    Attributes:
        action: ``detected``, ``updated``, ``acknowledged``, ``resolved``,
            ``false-positive``, ``reopened`` or ``comment``.
    """

    id: int
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str

    @classmethod
    def from_row(cls, row: AnomalyEventRow) -> AnomalyEventView:
        """The view of a state row."""
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            from_status=row.from_status,
            to_status=row.to_status,
            note=row.note,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (timestamps as ISO 8601 UTC)."""
        return {
            "at": _iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "note": self.note,
        }


@dataclass(frozen=True)
class AnomalyView:
    """One stored anomaly event as the CLI, web app and alerts see it.

    Money (``expected_cost``, ``actual_cost``, ``impact``, ``max_daily_impact`` and the
    root-cause impacts) is in ``currency``, with the 4 places the state DB keeps;
    ``impact_pct`` is a percentage (``25.0000`` = 25 %) or None for a new cost.

    Attributes:
        owner_team: the team responsible (``unowned`` when nothing names one).
        owner_email: the team owner's e-mail, "" when unknown.
        owner_source: ``allocation``, ``scope``, ``account`` or ``none``.
        first_detected: when detection first recorded this incident.
        acknowledged_at: first acknowledgement (or the resolution when it was
            resolved without one); None while nobody has reacted.
        history: the audit log, oldest first.
    """

    id: int
    scope: Mapping[str, str]
    scope_key: str
    kind: str
    start: date
    end: date
    currency: str
    expected_cost: Decimal
    actual_cost: Decimal
    impact: Decimal
    impact_pct: Decimal | None
    max_daily_impact: Decimal
    score: Decimal
    root_cause: tuple[RootCause, ...]
    series: tuple[DayPoint, ...]
    owner_team: str
    owner_email: str
    owner_source: str
    status: str
    first_detected: datetime
    last_detected: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    updated_at: datetime
    history: tuple[AnomalyEventView, ...] = field(default=(), compare=False)

    @classmethod
    def from_row(cls, row: AnomalyRow, *, with_history: bool = True) -> AnomalyView:
        """The view of a state row (``with_history`` loads its audit log too)."""
        return cls(
            id=row.id,
            scope={str(k): str(v) for k, v in row.scope.items()},
            scope_key=row.scope_key,
            kind=row.kind,
            start=row.start.date(),
            end=row.end.date(),
            currency=row.currency,
            expected_cost=row.expected_cost,
            actual_cost=row.actual_cost,
            impact=row.impact,
            impact_pct=row.impact_pct,
            max_daily_impact=row.max_daily_impact,
            score=row.score,
            root_cause=tuple(
                RootCause(
                    dimension=str(r["dimension"]),
                    value=str(r["value"]),
                    impact=Decimal(str(r["impact"])),
                    share=Decimal(str(r["share"])),
                )
                for r in row.root_cause
            ),
            series=tuple(
                DayPoint(
                    day=date.fromisoformat(str(p["day"])),
                    actual=Decimal(str(p["actual"])),
                    expected=Decimal(str(p["expected"])),
                    lower=Decimal(str(p["lower"])),
                    upper=Decimal(str(p["upper"])),
                )
                for p in row.series
            ),
            owner_team=row.owner_team,
            owner_email=row.owner_email,
            owner_source=row.owner_source,
            status=row.status,
            first_detected=row.first_detected,
            last_detected=row.last_detected,
            acknowledged_at=row.acknowledged_at,
            resolved_at=row.resolved_at,
            updated_at=row.updated_at,
            history=tuple(AnomalyEventView.from_row(e) for e in row.events) if with_history else (),
        )

    @property
    def days(self) -> int:
        """Length of the window in days."""
        return (self.end - self.start).days + 1

    @property
    def is_open(self) -> bool:
        """True while the event is ``new`` or ``acknowledged``."""
        return self.status in OPEN_STATUSES

    @property
    def time_to_ack(self) -> timedelta | None:
        """Acknowledgement (or direct resolution) minus first detection, if reacted to."""
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.first_detected

    @property
    def comments(self) -> tuple[AnomalyEventView, ...]:
        """History entries that carry a person's note (comments and status notes)."""
        return tuple(e for e in self.history if e.note and e.action not in _DETECTION)


_DETECTION = frozenset({"detected", "updated"})


def _hours(delta: timedelta | None) -> str | None:
    if delta is None:
        return None
    return money_text(quantize(Decimal(int(delta.total_seconds())) / Decimal(3600), 2))


def anomaly_json(view: AnomalyView, *, detail: bool = False) -> dict[str, Any]:
    """The JSON object of one anomaly, as ``costloop anomalies --json`` prints it.

    The keys the issue fixes come first (``id``, ``scope``, ``start``, ``end``,
    ``kind``, ``expected_cost``, ``actual_cost``, ``impact``, ``impact_pct``,
    ``root_cause``, ``owner``, ``status``), then extras. Money is decimal text.

    Args:
        view: the stored event.
        detail: add the daily ``series`` and the full ``history``.
    """
    data: dict[str, Any] = {
        "id": view.id,
        "scope": dict(view.scope),
        "start": view.start.isoformat(),
        "end": view.end.isoformat(),
        "kind": view.kind,
        "expected_cost": money_text(view.expected_cost),
        "actual_cost": money_text(view.actual_cost),
        "impact": money_text(view.impact),
        "impact_pct": None if view.impact_pct is None else money_text(view.impact_pct),
        "root_cause": [
            {
                "dimension": r.dimension,
                "value": r.value,
                "impact": money_text(r.impact),
                "share": money_text(r.share),
            }
            for r in view.root_cause
        ],
        "owner": view.owner_team,
        "status": view.status,
        "currency": view.currency,
        "owner_email": view.owner_email,
        "owner_source": view.owner_source,
        "days": view.days,
        "max_daily_impact": money_text(view.max_daily_impact),
        "first_detected": _iso(view.first_detected),
        "last_detected": _iso(view.last_detected),
        "acknowledged_at": _iso(view.acknowledged_at),
        "resolved_at": _iso(view.resolved_at),
        "time_to_ack_hours": _hours(view.time_to_ack),
        "comments": [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "note": e.note}
            for e in view.comments
        ],
    }
    if detail:
        data["series"] = [
            {
                "day": p.day.isoformat(),
                "actual": money_text(p.actual),
                "expected": money_text(p.expected),
                "lower": money_text(p.lower),
                "upper": money_text(p.upper),
            }
            for p in view.series
        ]
        data["history"] = [e.to_json() for e in view.history]
    return data


@dataclass(frozen=True)
class RecordResult:
    """What one ``record`` call did.

    Attributes:
        new: incidents stored for the first time.
        updated: open events whose window, money, kind, owner or root cause changed.
        unchanged: open events detected again with the same figures.
        closed: detections of an already resolved / false-positive event (left closed).
        anomalies: every event the call touched, in input order (same id for a
            re-detected incident).
    """

    new: int
    updated: int
    unchanged: int
    closed: int
    anomalies: tuple[AnomalyView, ...]


@dataclass(frozen=True)
class AnomalyStats:
    """Counts and responsiveness over a set of anomaly events.

    Attributes:
        total: events considered.
        by_status: count per status (every status present, zeros included).
        open: ``new`` + ``acknowledged``.
        acknowledged: events someone reacted to (acknowledged or resolved).
        mean_time_to_ack: mean of ``time_to_ack`` over those, None when none.
        median_time_to_ack: median of the same.
    """

    total: int
    by_status: Mapping[str, int]
    open: int
    acknowledged: int
    mean_time_to_ack: timedelta | None
    median_time_to_ack: timedelta | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (durations in hours)."""
        return {
            "total": self.total,
            "open": self.open,
            "by_status": dict(self.by_status),
            "acknowledged": self.acknowledged,
            "mean_time_to_ack_hours": _hours(self.mean_time_to_ack),
            "median_time_to_ack_hours": _hours(self.median_time_to_ack),
        }


def stats_of(views: Iterable[AnomalyView]) -> AnomalyStats:
    """Counts per status and mean / median time-to-acknowledge of ``views``."""
    items = list(views)
    by_status = dict.fromkeys((*OPEN_STATUSES, *CLOSED_STATUSES), 0)
    for v in items:
        by_status[v.status] = by_status.get(v.status, 0) + 1
    seconds = [int(t.total_seconds()) for v in items if (t := v.time_to_ack) is not None]
    mean = median = None
    if seconds:
        mean = timedelta(seconds=round(sum(seconds) / len(seconds)))
        median = timedelta(seconds=round(statistics.median(seconds)))
    return AnomalyStats(
        total=len(items),
        by_status=by_status,
        open=sum(by_status[s] for s in OPEN_STATUSES),
        acknowledged=len(seconds),
        mean_time_to_ack=mean,
        median_time_to_ack=median,
    )
