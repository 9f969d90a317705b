"""The state DB: migrations, SQLite settings, exact decimals and UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from costloop.core.errors import ConfigError
from costloop.state import OpportunityEventRow, OpportunityRow, StateDB, sqlite_url

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
TABLES = {
    "opportunities",
    "opportunity_events",
    "executions",
    "verifications",
    "users",
    "api_tokens",
    "web_sessions",
}


def _row(fingerprint: str, savings: Decimal, **overrides: object) -> OpportunityRow:
    values: dict[str, object] = {
        "fingerprint": fingerprint,
        "detector": "rightsizing",
        "code": "CMP002",
        "resource_id": f"i-{fingerprint}",
        "provider": "AWS",
        "account_id": "210987654321",
        "region": "us-east-1",
        "resource_type": "aws_instance",
        "title": "oversized",
        "currency": "USD",
        "monthly_savings": savings,
        "evidence": {"cpu_p99": "22"},
        "change": {"action": "set", "attribute": "instance_type"},
        "tags": {"Env": "prod"},
        "parameters": {},
        "risk_score": 3,
        "effort_score": 3,
        "value_score": 3,
        "risk_level": "medium",
        "effort_hours": Decimal("3"),
        "annual_savings": savings * 12,
        "cost_of_inaction": savings * 3,
        "roi": None,
        "priority": Decimal("21.6"),
        "owner_team": "checkout",
        "owner_email": "",
        "owner_source": "tag",
        "plan": "change it",
        "status": "open",
        "first_seen": T0,
        "last_seen": T0,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(overrides)
    return OpportunityRow(**values)


def test_migrate_is_idempotent_and_keeps_data(state_url: str) -> None:
    db = StateDB(state_url)
    assert db.current_revision() is None
    db.migrate()
    with db.session() as s:
        s.add(_row("a", Decimal("1")))
    db.migrate()
    assert db.current_revision() == db.head_revision() == "0003"
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OpportunityRow)) == 1
    db.dispose()


def test_migrate_from_a_second_handle_on_the_same_file(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    assert url == f"sqlite:///{(tmp_path / '.costloop' / 'state.db').resolve()}"
    StateDB(url).migrate()
    again = StateDB(url)
    again.migrate()
    assert again.current_revision() == "0003"


@pytest.mark.parametrize(
    "value",
    ["140.1600", "0.0001", "-0.0001", "0", "1234567890123.4567", "99999999.9999", "140.16"],
)
def test_money_round_trips_exactly(db: StateDB, value: str) -> None:
    with db.session() as s:
        s.add(_row("x", Decimal(value)))
    with db.session() as s:
        got = s.scalars(select(OpportunityRow.monthly_savings)).one()
    assert got == Decimal(value)
    assert str(got) == str(Decimal(value).quantize(Decimal("0.0001")))


def test_money_sums_sorts_and_compares_exactly_in_sql(db: StateDB) -> None:
    amounts = ["0.1000", "0.2000", "1000000.0001", "0.0001", "9.9999"]
    with db.session() as s:
        for i, a in enumerate(amounts):
            s.add(_row(f"f{i}", Decimal(a)))
    with db.session() as s:
        total = s.scalar(select(func.sum(OpportunityRow.monthly_savings)))
        ordered = list(
            s.scalars(
                select(OpportunityRow.monthly_savings).order_by(OpportunityRow.monthly_savings)
            )
        )
        big = list(
            s.scalars(
                select(OpportunityRow.fingerprint).where(
                    OpportunityRow.monthly_savings > Decimal("9.9998")
                )
            )
        )
    assert total == Decimal("1000010.3001")
    assert ordered == sorted(Decimal(a) for a in amounts)
    assert sorted(big) == ["f2", "f4"]


def test_more_places_round_half_even_and_floats_are_refused(db: StateDB) -> None:
    with db.session() as s:
        s.add(_row("a", Decimal("0.00005")))
        s.add(_row("b", Decimal("0.00015")))
    with db.session() as s:
        query = select(OpportunityRow.fingerprint, OpportunityRow.monthly_savings)
        got = {fp: money for fp, money in s.execute(query)}
    assert got == {"a": Decimal("0.0000"), "b": Decimal("0.0002")}
    with pytest.raises(Exception, match="refusing to store float"), db.session() as s:
        s.add(_row("c", 0.1))  # type: ignore[arg-type]
        s.flush()


def test_timestamps_are_utc_aware(db: StateDB) -> None:
    plus2 = timezone(timedelta(hours=2))
    with db.session() as s:
        s.add(_row("a", Decimal(1), first_seen=datetime(2026, 3, 2, 8, 0, tzinfo=plus2)))
    with db.session() as s:
        first = s.scalars(select(OpportunityRow.first_seen)).one()
    assert first == T0 and first.tzinfo is UTC
    with pytest.raises(Exception, match="naive datetime"), db.session() as s:
        s.add(_row("b", Decimal(1), last_seen=datetime(2026, 3, 2)))
        s.flush()


def test_session_rolls_back_on_error(db: StateDB) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        s.add(_row("a", Decimal(1)))
        s.flush()
        raise RuntimeError("boom")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OpportunityRow)) == 0


def test_fingerprint_unique_and_foreign_keys_enforced(db: StateDB) -> None:
    with pytest.raises(IntegrityError), db.session() as s:
        s.add_all([_row("dup", Decimal(1)), _row("dup", Decimal(2))])
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(OpportunityEventRow(opportunity_id=999, at=T0, actor="a", action="x", note=""))


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = StateDB(sqlite_url(tmp_path))
    with db.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot open the state DB"):
        StateDB("nosuchdialect://x")


def test_upgrade_from_0001_keeps_opportunities_and_adds_anomaly_tables(state_url: str) -> None:
    db = StateDB(state_url)
    db.migrate("0001")
    assert "anomalies" not in inspect(db.engine).get_table_names()
    with db.session() as s:
        s.add(_row("kept", Decimal("12.5")))
    db.migrate()
    names = set(inspect(db.engine).get_table_names())
    assert {"anomalies", "anomaly_events", "alert_deliveries"} <= names
    with db.session() as s:
        assert s.scalar(select(OpportunityRow.monthly_savings)) == Decimal("12.5000")
    db.dispose()


def test_models_match_the_migrated_schema(state_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from costloop.state import Base

    db = StateDB(state_url)
    db.migrate()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # Only differences that matter: tables, columns and their nullability.
    relevant = [
        d
        for d in diff
        if not (
            isinstance(d, tuple)
            and d[0] in ("add_index", "remove_index", "add_constraint", "remove_constraint")
        )
    ]
    kinds = [d[0][0] if isinstance(d, list) else d[0] for d in relevant]
    assert not [
        k for k in kinds if k in ("add_table", "remove_table", "add_column", "remove_column")
    ], diff
    db.dispose()
