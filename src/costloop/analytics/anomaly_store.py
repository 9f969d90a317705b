"""Anomaly events in the state DB: record detections, route owners, track the lifecycle.

``record`` turns detection output into events. A detected anomaly belongs to a stored
event, whatever its status, when both have the same scope key and their windows overlap
or touch (one starts the day after the other ends); so re-running detection never
duplicates an event:

* an open event (``new`` / ``acknowledged``) takes the new window, money, kind, owner,
  root cause and series; a history entry lists what changed;
* a closed event (``resolved`` / ``false-positive``) is left as the person closed it:
  a re-detection of the same incident neither reopens nor rewrites it. A later window
  (starting two or more days after its end) is a new event.

Lifecycle (every action appends an ``anomaly_events`` row)::

    new ──► acknowledged ──► resolved | false-positive
     └──────────────────────► resolved | false-positive
    resolved | false-positive ──► acknowledged   (reopen)

Time-to-acknowledge is ``acknowledged_at − first_detected``; an event resolved without
an acknowledgement counts its resolution as the first reaction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from costloop.analytics.anomaly_view import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    AnomalyStats,
    AnomalyView,
    RecordResult,
    money_text,
    stats_of,
)
from costloop.core.anomalies import ANOMALY_STATUSES, Anomaly
from costloop.core.errors import InputError
from costloop.core.money import quantize
from costloop.core.org import Org
from costloop.state import AnomalyEventRow, AnomalyRow, StateDB

__all__ = [
    "FALLBACK_OWNER",
    "SYSTEM_ACTOR",
    "TRANSITIONS",
    "AnomalyOwner",
    "acknowledge",
    "anomaly_owner",
    "comment",
    "get",
    "list_anomalies",
    "parse_statuses",
    "record",
    "reopen",
    "resolve",
    "summary_stats",
]

SYSTEM_ACTOR = "costloop"
FALLBACK_OWNER = "unowned"
_CHUNK = 500
_SCORE_CAP = Decimal("1e9")

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged", "resolved", "false-positive"}),
    "acknowledged": frozenset({"resolved", "false-positive"}),
    "resolved": frozenset({"acknowledged"}),
    "false-positive": frozenset({"acknowledged"}),
}

# Figures whose change writes a history entry on re-detection (series and score
# move with every day of new data and are updated silently).
_TRACKED = (
    "start",
    "end",
    "kind",
    "currency",
    "expected_cost",
    "actual_cost",
    "impact",
    "impact_pct",
    "max_daily_impact",
    "root_cause",
    "owner_team",
    "owner_email",
    "owner_source",
)


@dataclass(frozen=True)
class AnomalyOwner:
    """Who owns an anomaly and how that was decided.

    Attributes:
        team: team name, or ``unowned``.
        email: the team owner's e-mail from the organization file ("" when unknown).
        source: ``allocation`` (the team carrying most of the impact), ``scope`` (the
            anomaly is on a team's series), ``account`` (the organization file's owner
            of the account) or ``none``.
    """

    team: str
    email: str
    source: str


def _named_team(value: str | None) -> str | None:
    if value is None or not value.strip() or value == "unallocated":
        return None
    return value


def _owner(org: Org, name: str, source: str) -> AnomalyOwner:
    team = org.team(name)
    if team is None:
        alias = org.team_for_tag_value(name)
        team = org.team(alias) if alias is not None else None
    if team is None:
        return AnomalyOwner(name, "", source)
    return AnomalyOwner(team.name, team.owner, source)


def anomaly_owner(anomaly: Anomaly, org: Org) -> AnomalyOwner:
    """The owner of an anomaly; the first rule that names a team wins.

    1. ``allocation``: ``anomaly.team``, the allocated team of most of the impact.
    2. ``scope``: the scope's ``team`` value (an anomaly on a team's series).
    3. ``account``: the organization file's team for the scope's ``SubAccountId``, or
       for the top ``SubAccountId`` root cause when the scope names no account.
    4. ``none``: ``unowned``, no e-mail.

    The value ``unallocated`` names no team and is skipped.
    """
    team = _named_team(anomaly.team)
    if team is not None:
        return _owner(org, team, "allocation")
    team = _named_team(anomaly.scope.get("team"))
    if team is not None:
        return _owner(org, team, "scope")
    account = anomaly.scope.get("SubAccountId") or next(
        (r.value for r in anomaly.root_cause if r.dimension == "SubAccountId"), None
    )
    if account:
        team = org.team_for_account(account)
        if team is not None:
            return _owner(org, team, "account")
    return AnomalyOwner(FALLBACK_OWNER, "", "none")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _q(value: Decimal) -> Decimal:
    return quantize(value, 4)


def _text(value: Decimal) -> str:
    return str(_q(value))


def _score(score: float) -> Decimal:
    if math.isnan(score):
        return Decimal(0)
    if math.isinf(score):
        return _SCORE_CAP if score > 0 else -_SCORE_CAP
    return max(-_SCORE_CAP, min(_SCORE_CAP, _q(Decimal(repr(score)))))


def _content(anomaly: Anomaly, org: Org) -> dict[str, Any]:
    """Every column derived from a detection (compared on re-detection)."""
    owner = anomaly_owner(anomaly, org)
    return {
        "scope_key": anomaly.key,
        "scope": dict(anomaly.scope),
        "kind": anomaly.kind,
        "start": _midnight(anomaly.start),
        "end": _midnight(anomaly.end),
        "currency": anomaly.currency,
        "expected_cost": _q(anomaly.expected_cost),
        "actual_cost": _q(anomaly.actual_cost),
        "impact": _q(anomaly.impact),
        "impact_pct": None if anomaly.impact_pct is None else _q(anomaly.impact_pct),
        "max_daily_impact": _q(anomaly.max_daily_impact),
        "score": _score(anomaly.score),
        "root_cause": [
            {
                "dimension": r.dimension,
                "value": r.value,
                "impact": _text(r.impact),
                "share": _text(r.share),
            }
            for r in anomaly.root_cause
        ],
        "series": [
            {
                "day": p.day.isoformat(),
                "actual": _text(p.actual),
                "expected": _text(p.expected),
                "lower": _text(p.lower),
                "upper": _text(p.upper),
            }
            for p in anomaly.series
        ],
        "owner_team": owner.team,
        "owner_email": owner.email,
        "owner_source": owner.source,
    }


def _describe(name: str, old: Any, new: Any) -> str:
    if name == "root_cause":
        return "root cause changed"
    return f"{name} {_shown(old)} → {_shown(new)}"


def _shown(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, Decimal):
        return money_text(value)
    return str(value)


def _add_event(
    s: Session,
    row: AnomalyRow,
    *,
    at: datetime,
    actor: str,
    action: str,
    note: str = "",
    from_status: str | None = None,
    to_status: str | None = None,
) -> None:
    # Linking through the relationship keeps ``row.events`` current in this session.
    event = AnomalyEventRow(
        anomaly=row,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    s.add(event)


def _overlap(row: AnomalyRow, anomaly: Anomaly) -> int | None:
    """Days the windows share (0 when only adjacent), None when they are apart."""
    start, end = row.start.date(), row.end.date()
    if anomaly.start > end + timedelta(days=1) or anomaly.end < start - timedelta(days=1):
        return None
    return max(0, (min(end, anomaly.end) - max(start, anomaly.start)).days + 1)


def _match(candidates: Sequence[AnomalyRow], anomaly: Anomaly, claimed: set[int]) -> AnomalyRow:
    """The stored event of this incident: open before closed, most overlap, oldest.

    Scopes are monitored per currency, so an event only matches one of its currency.
    """
    best: tuple[tuple[int, int, int], AnomalyRow] | None = None
    for row in candidates:
        if row.id in claimed or row.currency != anomaly.currency:
            continue
        overlap = _overlap(row, anomaly)
        if overlap is None:
            continue
        rank = (0 if row.status in OPEN_STATUSES else 1, -overlap, row.id)
        if best is None or rank < best[0]:
            best = (rank, row)
    if best is None:
        raise LookupError(anomaly.key)
    return best[1]


def record(
    state: StateDB,
    org: Org,
    anomalies: Iterable[Anomaly],
    *,
    now: datetime | None = None,
    actor: str = SYSTEM_ACTOR,
) -> RecordResult:
    """Store detected anomalies as events: new incidents added, known ones updated.

    Matching and the treatment of closed events are described in the module docstring.
    Money is stored exactly with 4 decimal places.

    Args:
        state: the state DB (migrated).
        org: the organization, for owners and their e-mails.
        anomalies: one detection run's anomalies.
        now: the run's time (UTC); stored as first / last detection.
        actor: recorded in the history.

    Returns:
        Counts of new, updated, unchanged and already-closed events, and their views
        in the order of ``anomalies``.
    """
    when = now or datetime.now(UTC)
    items = list(anomalies)
    order = sorted(range(len(items)), key=lambda i: (items[i].key, items[i].start, items[i].end))
    counts = {"new": 0, "updated": 0, "unchanged": 0, "closed": 0}
    rows: dict[int, AnomalyRow] = {}
    with state.session() as s:
        by_key: dict[str, list[AnomalyRow]] = {}
        keys = sorted({a.key for a in items})
        for i in range(0, len(keys), _CHUNK):
            query = (
                select(AnomalyRow)
                .options(selectinload(AnomalyRow.events))
                .where(AnomalyRow.scope_key.in_(keys[i : i + _CHUNK]))
            )
            for row in s.scalars(query.order_by(AnomalyRow.id)):
                by_key.setdefault(row.scope_key, []).append(row)
        # Match in a stable order (so re-runs pair the same rows), then create the
        # new incidents in input order (so ids follow the detection's order).
        claimed: set[int] = set()
        unmatched: list[int] = []
        for index in order:
            anomaly = items[index]
            try:
                row = _match(by_key.get(anomaly.key, ()), anomaly, claimed)
            except LookupError:
                unmatched.append(index)
                continue
            counts[_refresh(s, row, _content(anomaly, org), when, actor)] += 1
            claimed.add(row.id)
            rows[index] = row
        for index in sorted(unmatched):
            rows[index] = _create(s, _content(items[index], org), when, actor)
            counts["new"] += 1
        s.flush()
        views = tuple(AnomalyView.from_row(rows[i]) for i in range(len(items)))
    return RecordResult(
        new=counts["new"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        closed=counts["closed"],
        anomalies=views,
    )


def _create(s: Session, content: dict[str, Any], now: datetime, actor: str) -> AnomalyRow:
    row = AnomalyRow(
        status="new",
        first_detected=now,
        last_detected=now,
        acknowledged_at=None,
        resolved_at=None,
        created_at=now,
        updated_at=now,
        **content,
    )
    s.add(row)
    s.flush()
    note = (
        f"{content['kind']} {content['start']:%Y-%m-%d}..{content['end']:%Y-%m-%d} "
        f"on {content['scope_key']}: impact {money_text(content['impact'])} {content['currency']}"
    )
    _add_event(s, row, at=now, actor=actor, action="detected", to_status="new", note=note)
    return row


def _refresh(
    s: Session, row: AnomalyRow, content: dict[str, Any], now: datetime, actor: str
) -> str:
    """Apply a re-detection to a stored event; returns the outcome counted."""
    row.last_detected = now
    if row.status in CLOSED_STATUSES:
        return "closed"
    changed = [k for k in _TRACKED if getattr(row, k) != content[k]]
    notes = [_describe(k, getattr(row, k), content[k]) for k in changed]
    for key, value in content.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
    if not changed:
        return "unchanged"
    row.updated_at = now
    _add_event(s, row, at=now, actor=actor, action="updated", note="; ".join(notes))
    return "updated"


def _load(s: Session, anomaly_id: int) -> AnomalyRow:
    row = s.get(AnomalyRow, anomaly_id, options=[selectinload(AnomalyRow.events)])
    if row is None:
        raise InputError(f"no anomaly with id {anomaly_id}")
    return row


def _move(
    state: StateDB,
    anomaly_id: int,
    target: str,
    action: str,
    actor: str,
    note: str,
    now: datetime | None,
) -> AnomalyView:
    when = now or datetime.now(UTC)
    with state.session() as s:
        row = _load(s, anomaly_id)
        current = row.status
        if current not in _SOURCES[action] or target not in TRANSITIONS[current]:
            raise InputError(_refusal(anomaly_id, current, target, action))
        row.status = target
        row.updated_at = when
        row.resolved_at = when if target in CLOSED_STATUSES else None
        if row.acknowledged_at is None:
            row.acknowledged_at = when
        _add_event(
            s,
            row,
            at=when,
            actor=actor,
            action=action,
            from_status=current,
            to_status=target,
            note=note,
        )
        s.flush()
        return AnomalyView.from_row(row)


# The statuses each action starts from (``acknowledged`` is reached from a closed
# status only by reopening).
_SOURCES: dict[str, tuple[str, ...]] = {
    "acknowledged": ("new",),
    "resolved": OPEN_STATUSES,
    "false-positive": OPEN_STATUSES,
    "reopened": CLOSED_STATUSES,
}


def _refusal(anomaly_id: int, current: str, target: str, action: str) -> str:
    subject = f"anomaly {anomaly_id}"
    if action == "reopened":
        return f"{subject} is {current}, not closed: nothing to reopen"
    if current == target:
        return f"{subject} is already {current}"
    if current in CLOSED_STATUSES:
        return (
            f"cannot mark {subject} {target}: it is {current} "
            f"(reopen it first: costloop anomalies reopen {anomaly_id})"
        )
    allowed = ", ".join(sorted(TRANSITIONS[current]))
    return f"cannot mark {subject} {target}: it is {current} (allowed next: {allowed})"


def _need_note(note: str, what: str) -> str:
    text = note.strip()
    if not text:
        raise InputError(f"{what} needs a note (--note) saying why")
    return text


def acknowledge(
    state: StateDB, anomaly_id: int, actor: str, note: str = "", *, now: datetime | None = None
) -> AnomalyView:
    """Mark a ``new`` anomaly as seen by its owner (sets the time-to-acknowledge).

    Raises:
        InputError: no such anomaly, or it is not ``new``.
    """
    return _move(state, anomaly_id, "acknowledged", "acknowledged", actor, note.strip(), now)


def resolve(
    state: StateDB,
    anomaly_id: int,
    actor: str,
    note: str,
    *,
    false_positive: bool = False,
    now: datetime | None = None,
) -> AnomalyView:
    """Close an open anomaly as ``resolved`` (or ``false-positive``), with a reason.

    Raises:
        InputError: no such anomaly, an empty note, or the anomaly is already closed.
    """
    target = "false-positive" if false_positive else "resolved"
    text = _need_note(note, "resolving an anomaly")
    return _move(state, anomaly_id, target, target, actor, text, now)


def reopen(
    state: StateDB, anomaly_id: int, actor: str, note: str = "", *, now: datetime | None = None
) -> AnomalyView:
    """Reopen a resolved or false-positive anomaly (back to ``acknowledged``).

    Raises:
        InputError: no such anomaly, or it is still open.
    """
    return _move(state, anomaly_id, "acknowledged", "reopened", actor, note.strip(), now)


def comment(
    state: StateDB, anomaly_id: int, actor: str, note: str, *, now: datetime | None = None
) -> AnomalyView:
    """Add a comment to an anomaly's history (any status).

    Raises:
        InputError: no such anomaly, or an empty note.
    """
    text = note.strip()
    if not text:
        raise InputError("a comment needs a note (--note)")
    when = now or datetime.now(UTC)
    with state.session() as s:
        row = _load(s, anomaly_id)
        _add_event(s, row, at=when, actor=actor, action="comment", note=text)
        s.flush()
        return AnomalyView.from_row(row)


def get(state: StateDB, anomaly_id: int) -> AnomalyView:
    """One anomaly with its history.

    Raises:
        InputError: no such anomaly.
    """
    with state.session() as s:
        return AnomalyView.from_row(_load(s, anomaly_id))


def parse_statuses(value: str | Sequence[str]) -> tuple[str, ...]:
    """Statuses from user input: one or several, comma-separated or as a list.

    ``open`` means ``new`` and ``acknowledged``, ``closed`` means ``resolved`` and
    ``false-positive``; ``_`` and ``-`` are alike and case does not matter.

    Raises:
        InputError: for an unknown status, listing the valid ones.
    """
    parts = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for part in parts:
        name = part.strip().lower().replace("_", "-")
        if not name:
            continue
        if name == "open":
            wanted: tuple[str, ...] = OPEN_STATUSES
        elif name == "closed":
            wanted = CLOSED_STATUSES
        elif name in ANOMALY_STATUSES:
            wanted = (name,)
        else:
            valid = ", ".join((*ANOMALY_STATUSES, "open", "closed"))
            raise InputError(f"unknown anomaly status {part.strip()!r}; valid: {valid}")
        out.extend(w for w in wanted if w not in out)
    if not out:
        raise InputError("no status given")
    return tuple(out)


def list_anomalies(
    state: StateDB,
    since: date | None = None,
    status: str | Sequence[str] | None = None,
    team: str | None = None,
) -> list[AnomalyView]:
    """Stored anomalies, most recent first (by end, then start, then id).

    Args:
        state: the state DB.
        since: only events ending on or after this day.
        status: a status, several, or ``open`` / ``closed`` (see ``parse_statuses``).
        team: only events owned by this team.
    """
    query = select(AnomalyRow).options(selectinload(AnomalyRow.events))
    if since is not None:
        query = query.where(AnomalyRow.end >= _midnight(since))
    if status is not None:
        query = query.where(AnomalyRow.status.in_(parse_statuses(status)))
    if team is not None:
        query = query.where(AnomalyRow.owner_team == team)
    query = query.order_by(AnomalyRow.end.desc(), AnomalyRow.start.desc(), AnomalyRow.id.desc())
    with state.session() as s:
        return [AnomalyView.from_row(r) for r in s.scalars(query)]


def summary_stats(
    state: StateDB, since: date | None = None, team: str | None = None
) -> AnomalyStats:
    """Open count, counts per status and mean / median time-to-acknowledge.

    Args:
        state: the state DB.
        since: only events ending on or after this day.
        team: only events owned by this team.
    """
    return stats_of(list_anomalies(state, since=since, team=team))
