"""Anomaly events with their history, and the alert delivery log.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _exact() -> sa.types.TypeEngine[Any]:
    # Exact on both dialects: NUMERIC on PostgreSQL; integer 1/10,000 units on SQLite.
    return sa.Numeric(20, 4).with_variant(sa.BigInteger(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    """Create anomalies, anomaly_events and alert_deliveries."""
    op.create_table(
        "anomalies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope_key", sa.String(2048), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        _when("start"),
        _when("end"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expected_cost", _exact(), nullable=False),
        sa.Column("actual_cost", _exact(), nullable=False),
        sa.Column("impact", _exact(), nullable=False),
        sa.Column("impact_pct", _exact(), nullable=True),
        sa.Column("max_daily_impact", _exact(), nullable=False),
        sa.Column("score", _exact(), nullable=False),
        sa.Column("root_cause", sa.JSON(), nullable=False),
        sa.Column("series", sa.JSON(), nullable=False),
        sa.Column("owner_team", sa.String(200), nullable=False),
        sa.Column("owner_email", sa.String(320), nullable=False),
        sa.Column("owner_source", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _when("first_detected"),
        _when("last_detected"),
        _when("acknowledged_at", nullable=True),
        _when("resolved_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
    )
    for column in ("scope_key", "start", "impact", "owner_team", "status"):
        op.create_index(f"ix_anomalies_{column}", "anomalies", [column])

    op.create_table(
        "anomaly_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("anomaly_id", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["anomaly_id"],
            ["anomalies.id"],
            name="fk_anomaly_events_anomaly",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_anomaly_events_anomaly_id", "anomaly_events", ["anomaly_id"])

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("channel_type", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(30), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _when("sent_at", nullable=True),
        sa.UniqueConstraint("idempotency_key", "channel", name="uq_alert_deliveries_key_channel"),
    )
    for column in ("channel", "status"):
        op.create_index(f"ix_alert_deliveries_{column}", "alert_deliveries", [column])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("alert_deliveries")
    op.drop_table("anomaly_events")
    op.drop_table("anomalies")
