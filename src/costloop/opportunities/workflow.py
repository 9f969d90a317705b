"""Review workflow: opportunity statuses, allowed transitions, and the audit log.

States and allowed transitions (DESIGN §5.3)::

    open ──► approved ──► in_progress ──► done ──► verified
      ├────► rejected
      ├────► snoozed
      └────► closed

    from          to
    open          approved, rejected, snoozed, closed
    snoozed       open, approved, rejected, closed
    rejected      open (reconsidered)
    approved      in_progress, open (un-approved), rejected
    in_progress   done, approved (the change was abandoned)
    done          verified, in_progress (reverted or regressed: redo it)
    verified      (final)
    closed        open (the finding came back)

``closed`` means "the problem disappeared": a full detector run no longer reports the
finding. Only opportunities nobody has acted on yet (``open``, ``snoozed``) close
themselves; approved, in-progress and done ones keep their status (the change is the
likely reason the finding went away, and feedback verifies it). A closed opportunity
whose finding is reported again is reopened. Every status change writes an
``opportunity_events`` row (who, when, from, to, note).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from costloop.core.errors import InputError, NotFoundError
from costloop.state import OpportunityEventRow, OpportunityRow

__all__ = [
    "SELF_CLOSING",
    "TRANSITIONS",
    "Status",
    "add_event",
    "check_transition",
    "load_row",
    "parse_status",
    "set_status",
]


class Status(StrEnum):
    """Where an opportunity is in the review and execution workflow."""

    OPEN = "open"  # found, waiting for review
    APPROVED = "approved"  # the owner agreed to do it
    REJECTED = "rejected"  # the owner decided not to (kept so re-runs do not nag)
    SNOOZED = "snoozed"  # decide later
    IN_PROGRESS = "in_progress"  # a change (e.g. a pull request) exists
    DONE = "done"  # the change is applied
    VERIFIED = "verified"  # realized savings were checked against billing data
    CLOSED = "closed"  # the finding disappeared before anyone acted on it


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.APPROVED, Status.REJECTED, Status.SNOOZED, Status.CLOSED}),
    Status.SNOOZED: frozenset({Status.OPEN, Status.APPROVED, Status.REJECTED, Status.CLOSED}),
    Status.REJECTED: frozenset({Status.OPEN}),
    Status.APPROVED: frozenset({Status.IN_PROGRESS, Status.OPEN, Status.REJECTED}),
    Status.IN_PROGRESS: frozenset({Status.DONE, Status.APPROVED}),
    Status.DONE: frozenset({Status.VERIFIED, Status.IN_PROGRESS}),
    Status.VERIFIED: frozenset(),
    Status.CLOSED: frozenset({Status.OPEN}),
}

# Statuses a full detector run may close when the finding is gone.
SELF_CLOSING: frozenset[Status] = frozenset({Status.OPEN, Status.SNOOZED})


def parse_status(value: str | Status) -> Status:
    """A Status from its value (``in_progress``; ``in-progress`` is accepted too).

    Raises:
        InputError: for an unknown status, listing the valid ones.
    """
    if isinstance(value, Status):
        return value
    try:
        return Status(value.strip().lower().replace("-", "_"))
    except ValueError:
        valid = ", ".join(s.value for s in Status)
        raise InputError(f"unknown status {value!r}; valid statuses: {valid}") from None


def check_transition(current: Status, target: Status, opportunity_id: int | None = None) -> None:
    """Raise InputError unless ``current → target`` is an allowed transition."""
    if target in TRANSITIONS[current]:
        return
    subject = f"opportunity {opportunity_id}" if opportunity_id is not None else "opportunity"
    allowed = sorted(s.value for s in TRANSITIONS[current])
    hint = (
        f"allowed from {current.value}: {', '.join(allowed)}"
        if allowed
        else f"{current.value} is final"
    )
    raise InputError(f"cannot move {subject} from {current.value} to {target.value} ({hint})")


def add_event(
    session: Session,
    row: OpportunityRow,
    *,
    at: datetime,
    actor: str,
    action: str,
    note: str = "",
    from_status: Status | None = None,
    to_status: Status | None = None,
) -> OpportunityEventRow:
    """Append one audit-log entry for ``row`` (flushed with the session)."""
    event = OpportunityEventRow(
        opportunity_id=row.id,
        at=at,
        actor=actor,
        action=action,
        from_status=None if from_status is None else from_status.value,
        to_status=None if to_status is None else to_status.value,
        note=note,
    )
    session.add(event)
    return event


def set_status(
    s: Session, row: OpportunityRow, target: Status, now: datetime, actor: str, note: str
) -> None:
    """Move ``row`` to ``target`` (InputError if not allowed) and audit the change."""
    current = Status(row.status)
    check_transition(current, target, row.id)
    row.status = target.value
    row.updated_at = now
    if target is Status.CLOSED:
        row.closed_at = now
    elif current is Status.CLOSED:
        row.closed_at = None
    if target is Status.CLOSED:
        action = "closed"
    elif current is Status.CLOSED:
        action = "reopened"
    else:
        action = "transition"
    add_event(
        s, row, at=now, actor=actor, action=action, from_status=current, to_status=target, note=note
    )


def load_row(s: Session, opportunity_id: int) -> OpportunityRow:
    """The row of an opportunity; NotFoundError when it does not exist."""
    row = s.get(OpportunityRow, opportunity_id)
    if row is None:
        raise NotFoundError(f"no opportunity with id {opportunity_id}")
    return row
