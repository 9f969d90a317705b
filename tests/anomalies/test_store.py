"""Anomaly events in the state DB: de-duplication, updates, owners, lifecycle, JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costloop.analytics.anomaly_store import (
    acknowledge,
    anomaly_owner,
    comment,
    get,
    list_anomalies,
    parse_statuses,
    record,
    reopen,
    resolve,
    summary_stats,
)
from costloop.analytics.anomaly_view import anomaly_json
from costloop.core.anomalies import Anomaly, DayPoint, RootCause
from costloop.core.errors import InputError
from costloop.core.org import Org, parse_org
from costloop.state import StateDB, sqlite_url

T0 = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
LAMBDA = {"SubAccountId": "210987654321", "ServiceName": "AWS Lambda"}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StateDB]:
    state = StateDB(sqlite_url(tmp_path))
    state.migrate()
    yield state
    state.dispose()


@pytest.fixture
def org() -> Org:
    return parse_org(
        {
            "teams": [
                {"name": "checkout", "owner": "ana@stride.example", "tag_values": ["check-out"]},
                {"name": "platform", "owner": "raj@stride.example"},
            ],
            "accounts": [
                {"id": "210987654321", "team": "platform"},
                {"id": "111122223333"},
            ],
        }
    )


def spike(start: date = date(2026, 3, 5), end: date = date(2026, 3, 6), **changes: Any) -> Anomaly:
    """A Lambda spike of +$250.12345 over an expected $100 (two days)."""
    base = Anomaly(
        scope=dict(LAMBDA),
        start=start,
        end=end,
        kind="spike",
        currency="USD",
        expected_cost=Decimal("100"),
        actual_cost=Decimal("350.12345"),
        impact=Decimal("250.12345"),
        impact_pct=Decimal("250.12345"),
        max_daily_impact=Decimal("180.5"),
        score=7.25,
        root_cause=(
            RootCause("ResourceId", "fn-resize", Decimal("240.1"), Decimal("0.96")),
            RootCause("RegionId", "us-east-1", Decimal("250.12345"), Decimal("1")),
        ),
        series=(
            DayPoint(start, Decimal("230.5"), Decimal("50"), Decimal("40"), Decimal("60")),
            DayPoint(end, Decimal("119.62345"), Decimal("50"), Decimal("40"), Decimal("60")),
        ),
    )
    return dataclasses.replace(base, **changes)


def history(db: StateDB, anomaly_id: int) -> list[tuple[str, str | None, str | None, str]]:
    return [(e.action, e.from_status, e.to_status, e.note) for e in get(db, anomaly_id).history]


# --- recording and de-duplication -----------------------------------------------------


def test_same_scope_in_another_currency_is_another_event(db: StateDB, org: Org) -> None:
    first = record(db, org, [spike()], now=T0)
    euro = record(db, org, [spike(currency="EUR")], now=T0)
    assert euro.new == 1 and euro.anomalies[0].id != first.anomalies[0].id
    assert sorted(v.currency for v in list_anomalies(db)) == ["EUR", "USD"]


def test_rerun_keeps_same_rows_and_ids(db: StateDB, org: Org) -> None:
    other = spike(scope={"ServiceName": "Amazon S3"}, start=date(2026, 3, 1), end=date(2026, 3, 1))
    first = record(db, org, [spike(), other], now=T0)
    assert (first.new, first.updated, first.unchanged, first.closed) == (2, 0, 0, 0)
    again = record(db, org, [other, spike()], now=T0 + timedelta(days=1))
    assert (again.new, again.updated, again.unchanged, again.closed) == (0, 0, 2, 0)
    assert [v.id for v in again.anomalies] == [first.anomalies[1].id, first.anomalies[0].id]
    assert len(list_anomalies(db)) == 2
    view = get(db, first.anomalies[0].id)
    assert view.last_detected == T0 + timedelta(days=1) and view.first_detected == T0
    assert [e.action for e in view.history] == ["detected"]
    # Exact money, 4 places, half-even.
    assert view.actual_cost == Decimal("350.1234")
    assert view.impact == Decimal("250.1234")
    assert view.root_cause[0].impact == Decimal("240.1000")
    assert view.series[1].actual == Decimal("119.6234")


def test_open_event_is_updated_with_history(db: StateDB, org: Org) -> None:
    first = record(db, org, [spike()], now=T0).anomalies[0]
    acknowledge(db, first.id, "ana", now=T0 + timedelta(hours=1))
    longer = spike(
        end=date(2026, 3, 7),
        kind="level-shift",
        actual_cost=Decimal("500"),
        impact=Decimal("400"),
        impact_pct=Decimal("400"),
    )
    result = record(db, org, [longer], now=T0 + timedelta(days=1))
    assert (result.new, result.updated) == (0, 1)
    view = result.anomalies[0]
    assert view.id == first.id
    assert (view.end, view.kind, view.impact) == (date(2026, 3, 7), "level-shift", Decimal("400"))
    assert view.status == "acknowledged"  # a re-detection does not reset the status
    action, _, _, note = history(db, first.id)[-1]
    assert action == "updated"
    assert "end 2026-03-06 → 2026-03-07" in note
    assert "kind spike → level-shift" in note
    assert "impact 250.1234 → 400.00" in note


@pytest.mark.parametrize(
    ("start", "end", "same"),
    [
        (date(2026, 3, 7), date(2026, 3, 9), True),  # adjacent after the stored window
        (date(2026, 3, 1), date(2026, 3, 4), True),  # adjacent before
        (date(2026, 3, 6), date(2026, 3, 6), True),  # inside
        (date(2026, 3, 8), date(2026, 3, 9), False),  # a day's gap: a new incident
        (date(2026, 2, 20), date(2026, 3, 3), False),
    ],
)
def test_window_matching(db: StateDB, org: Org, start: date, end: date, same: bool) -> None:
    stored = record(db, org, [spike()], now=T0).anomalies[0]
    result = record(db, org, [spike(start=start, end=end)], now=T0 + timedelta(days=1))
    assert (result.anomalies[0].id == stored.id) is same
    assert len(list_anomalies(db)) == (1 if same else 2)


def test_other_scope_is_another_event(db: StateDB, org: Org) -> None:
    record(db, org, [spike()], now=T0)
    result = record(db, org, [spike(scope={"ServiceName": "AWS Lambda"})], now=T0)
    assert result.new == 1 and len(list_anomalies(db)) == 2


@pytest.mark.parametrize("false_positive", [False, True])
def test_closed_event_is_not_reopened_by_redetection(
    db: StateDB, org: Org, false_positive: bool
) -> None:
    stored = record(db, org, [spike()], now=T0).anomalies[0]
    resolve(db, stored.id, "ana", "rolled back", false_positive=false_positive, now=T0)
    bigger = spike(end=date(2026, 3, 7), impact=Decimal("999"))
    result = record(db, org, [bigger], now=T0 + timedelta(days=1))
    assert (result.new, result.updated, result.unchanged, result.closed) == (0, 0, 0, 1)
    view = get(db, stored.id)
    assert view.status == ("false-positive" if false_positive else "resolved")
    assert (view.end, view.impact) == (date(2026, 3, 6), Decimal("250.1234"))
    assert [e.action for e in view.history][-1] in {"resolved", "false-positive"}
    # A later window of the same scope is a new incident.
    later = record(db, org, [spike(date(2026, 3, 20), date(2026, 3, 21))], now=T0)
    assert later.new == 1 and later.anomalies[0].status == "new"
    assert later.anomalies[0].id != stored.id


def test_two_detections_over_one_stored_event_stay_stable(db: StateDB, org: Org) -> None:
    record(db, org, [spike(date(2026, 3, 1), date(2026, 3, 10))], now=T0)
    split = [spike(date(2026, 3, 1), date(2026, 3, 3)), spike(date(2026, 3, 6), date(2026, 3, 10))]
    first = record(db, org, split, now=T0 + timedelta(days=1))
    assert (first.new, first.updated) == (1, 1)
    second = record(db, org, split, now=T0 + timedelta(days=2))
    assert (second.new, second.updated, second.unchanged) == (0, 0, 2)
    assert [v.id for v in second.anomalies] == [v.id for v in first.anomalies]
    assert len(list_anomalies(db)) == 2


def test_owner_change_is_recorded_on_redetection(db: StateDB, org: Org) -> None:
    stored = record(db, org, [spike()], now=T0).anomalies[0]
    assert (stored.owner_team, stored.owner_source) == ("platform", "account")
    result = record(db, org, [spike(team="checkout")], now=T0 + timedelta(days=1))
    view = result.anomalies[0]
    assert (view.owner_team, view.owner_email, view.owner_source) == (
        "checkout",
        "ana@stride.example",
        "allocation",
    )
    assert "owner_team platform → checkout" in history(db, stored.id)[-1][3]


# --- owners -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "owner"),
    [
        ({"team": "checkout"}, ("checkout", "ana@stride.example", "allocation")),
        ({"team": "Check-Out"}, ("checkout", "ana@stride.example", "allocation")),
        ({"team": "growth"}, ("growth", "", "allocation")),  # not in the org file
        (
            {"scope": {"team": "checkout", "env": "prod"}},
            ("checkout", "ana@stride.example", "scope"),
        ),
        (
            {"team": "unallocated", "scope": {"team": "platform"}},
            ("platform", "raj@stride.example", "scope"),
        ),
        ({}, ("platform", "raj@stride.example", "account")),
        (
            {
                "scope": {"ServiceName": "AWS Lambda"},
                "root_cause": (RootCause("SubAccountId", "210987654321", Decimal(9), Decimal(1)),),
            },
            ("platform", "raj@stride.example", "account"),
        ),
        ({"scope": {"SubAccountId": "111122223333"}}, ("unowned", "", "none")),  # no team
        ({"scope": {}, "root_cause": ()}, ("unowned", "", "none")),
    ],
)
def test_owner_resolution(org: Org, changes: dict[str, Any], owner: tuple[str, str, str]) -> None:
    found = anomaly_owner(spike(**changes), org)
    assert (found.team, found.email, found.source) == owner


# --- lifecycle --------------------------------------------------------------------------


def test_lifecycle_and_time_to_ack(db: StateDB, org: Org) -> None:
    a, b, c = record(
        db,
        org,
        [
            spike(),
            spike(scope={"ServiceName": "Amazon S3"}),
            spike(scope={"ServiceName": "Amazon EC2"}),
        ],
        now=T0,
    ).anomalies
    acked = acknowledge(db, a.id, "ana", "looking", now=T0 + timedelta(minutes=90))
    assert acked.status == "acknowledged" and acked.time_to_ack == timedelta(minutes=90)
    done = resolve(db, a.id, "ana", "fixed the loop", now=T0 + timedelta(hours=5))
    assert done.status == "resolved" and done.resolved_at == T0 + timedelta(hours=5)
    assert done.time_to_ack == timedelta(minutes=90)  # the resolution does not move it
    # Resolved directly, without an acknowledgement: measured to the resolution.
    fp = resolve(
        db, b.id, "raj", "planned load test", false_positive=True, now=T0 + timedelta(hours=10)
    )
    assert fp.status == "false-positive" and fp.time_to_ack == timedelta(hours=10)
    stats = summary_stats(db)
    assert stats.total == 3 and stats.open == 1
    assert dict(stats.by_status) == {
        "new": 1,
        "acknowledged": 0,
        "resolved": 1,
        "false-positive": 1,
    }
    assert stats.acknowledged == 2
    assert stats.mean_time_to_ack == timedelta(hours=5, minutes=45)
    assert stats.median_time_to_ack == timedelta(hours=5, minutes=45)
    assert stats.to_json()["mean_time_to_ack_hours"] == "5.75"
    assert get(db, c.id).time_to_ack is None
    again = reopen(db, a.id, "ana", "came back", now=T0 + timedelta(days=1))
    assert (again.status, again.resolved_at) == ("acknowledged", None)
    comment(db, a.id, "li", "  second look  ", now=T0 + timedelta(days=2))
    assert history(db, a.id) == [
        ("detected", None, "new", history(db, a.id)[0][3]),
        ("acknowledged", "new", "acknowledged", "looking"),
        ("resolved", "acknowledged", "resolved", "fixed the loop"),
        ("reopened", "resolved", "acknowledged", "came back"),
        ("comment", None, None, "second look"),
    ]
    assert [e.actor for e in get(db, a.id).history] == ["costloop", "ana", "ana", "ana", "li"]


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ([], lambda db, i: acknowledge(db, 999, "x"), "no anomaly with id 999"),
        (["ack"], lambda db, i: acknowledge(db, i, "x"), "anomaly 1 is already acknowledged"),
        (
            ["resolve"],
            lambda db, i: acknowledge(db, i, "x"),
            "cannot mark anomaly 1 acknowledged: it is resolved (reopen it first",
        ),
        (["resolve"], lambda db, i: resolve(db, i, "x", "again"), "anomaly 1 is already resolved"),
        (
            ["fp"],
            lambda db, i: resolve(db, i, "x", "real after all"),
            "cannot mark anomaly 1 resolved: it is false-positive (reopen it first",
        ),
        ([], lambda db, i: reopen(db, i, "x"), "anomaly 1 is new, not closed: nothing to reopen"),
        ([], lambda db, i: resolve(db, i, "x", "  "), "needs a note (--note)"),
        ([], lambda db, i: comment(db, i, "x", ""), "a comment needs a note"),
        ([], lambda db, i: comment(db, 7, "x", "hi"), "no anomaly with id 7"),
    ],
)
def test_invalid_actions_raise_and_change_nothing(
    db: StateDB, org: Org, setup: list[str], action: Any, message: str
) -> None:
    anomaly_id = record(db, org, [spike()], now=T0).anomalies[0].id
    for step in setup:
        if step == "ack":
            acknowledge(db, anomaly_id, "ana")
        else:
            resolve(db, anomaly_id, "ana", "done", false_positive=step == "fp")
    before = get(db, anomaly_id)
    with pytest.raises(InputError) as err:
        action(db, anomaly_id)
    assert message in str(err.value)
    after = get(db, anomaly_id)
    assert (after.status, len(after.history)) == (before.status, len(before.history))


# --- queries ----------------------------------------------------------------------------


def test_list_filters(db: StateDB, org: Org) -> None:
    views = record(
        db,
        org,
        [
            spike(date(2026, 1, 5), date(2026, 1, 6)),
            spike(date(2026, 2, 27), date(2026, 3, 2), team="checkout"),
            spike(date(2026, 3, 10), date(2026, 3, 10)),
        ],
        now=T0,
    ).anomalies
    resolve(db, views[0].id, "ana", "ok", now=T0)
    newest_first = [v.id for v in list_anomalies(db)]
    assert newest_first == [views[2].id, views[1].id, views[0].id]
    assert [v.id for v in list_anomalies(db, since=date(2026, 3, 2))] == [views[2].id, views[1].id]
    assert [v.id for v in list_anomalies(db, since=date(2026, 3, 3))] == [views[2].id]
    assert [v.id for v in list_anomalies(db, status="closed")] == [views[0].id]
    assert len(list_anomalies(db, status="open")) == 2
    assert len(list_anomalies(db, status="new,resolved")) == 3
    assert [v.id for v in list_anomalies(db, team="checkout")] == [views[1].id]
    assert summary_stats(db, team="platform").total == 2


def test_parse_statuses() -> None:
    assert parse_statuses("Open") == ("new", "acknowledged")
    assert parse_statuses("false_positive,resolved") == ("false-positive", "resolved")
    with pytest.raises(InputError, match="unknown anomaly status 'done'; valid: new, "):
        parse_statuses("done")


# --- JSON -------------------------------------------------------------------------------


REQUIRED_KEYS = [
    "id",
    "scope",
    "start",
    "end",
    "kind",
    "expected_cost",
    "actual_cost",
    "impact",
    "impact_pct",
    "root_cause",
    "owner",
    "status",
]


def test_json_shape(db: StateDB, org: Org) -> None:
    view = record(db, org, [spike()], now=T0).anomalies[0]
    acknowledge(db, view.id, "ana", "on it", now=T0 + timedelta(minutes=30))
    data = anomaly_json(get(db, view.id))
    assert list(data)[: len(REQUIRED_KEYS)] == REQUIRED_KEYS
    assert {k: data[k] for k in REQUIRED_KEYS} == {
        "id": view.id,
        "scope": {"SubAccountId": "210987654321", "ServiceName": "AWS Lambda"},
        "start": "2026-03-05",
        "end": "2026-03-06",
        "kind": "spike",
        "expected_cost": "100.00",
        "actual_cost": "350.1234",
        "impact": "250.1234",
        "impact_pct": "250.1234",
        "root_cause": [
            {"dimension": "ResourceId", "value": "fn-resize", "impact": "240.10", "share": "0.96"},
            {"dimension": "RegionId", "value": "us-east-1", "impact": "250.1234", "share": "1.00"},
        ],
        "owner": "platform",
        "status": "acknowledged",
    }
    assert data["currency"] == "USD"
    assert data["owner_email"] == "raj@stride.example"
    assert data["days"] == 2
    assert data["max_daily_impact"] == "180.50"
    assert data["first_detected"] == "2026-03-08T06:00:00Z"
    assert data["acknowledged_at"] == "2026-03-08T06:30:00Z"
    assert data["time_to_ack_hours"] == "0.50"
    assert data["comments"] == [
        {"at": "2026-03-08T06:30:00Z", "actor": "ana", "action": "acknowledged", "note": "on it"}
    ]
    assert "series" not in data
    detail = anomaly_json(get(db, view.id), detail=True)
    assert detail["series"][0] == {
        "day": "2026-03-05",
        "actual": "230.50",
        "expected": "50.00",
        "lower": "40.00",
        "upper": "60.00",
    }
    assert [h["action"] for h in detail["history"]] == ["detected", "acknowledged"]


def test_json_new_cost_has_null_pct(db: StateDB, org: Org) -> None:
    new_cost = spike(expected_cost=Decimal(0), impact_pct=None)
    data = anomaly_json(record(db, org, [new_cost], now=T0).anomalies[0])
    assert data["impact_pct"] is None and data["expected_cost"] == "0.00"
