"""Initial state schema: opportunities, their audit log, executions and verifications.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _money() -> sa.types.TypeEngine[Any]:
    # Exact on both dialects: NUMERIC on PostgreSQL; integer 1/10,000 units on SQLite,
    # whose NUMERIC affinity would go through binary floating point.
    return sa.Numeric(20, 4).with_variant(sa.BigInteger(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    """Create the four tables."""
    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("detector", sa.String(100), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("resource_id", sa.String(1024), nullable=False),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("region", sa.String(50), nullable=False),
        sa.Column("resource_type", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("monthly_savings", _money(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("change", sa.JSON(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("iac_address", sa.String(1024), nullable=True),
        sa.Column("iac_file", sa.String(1024), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("effort_score", sa.Integer(), nullable=False),
        sa.Column("value_score", sa.Integer(), nullable=False),
        sa.Column("risk_level", sa.String(10), nullable=False),
        sa.Column("effort_hours", _money(), nullable=False),
        sa.Column("annual_savings", _money(), nullable=False),
        sa.Column("cost_of_inaction", _money(), nullable=False),
        sa.Column("roi", _money(), nullable=True),
        sa.Column("priority", _money(), nullable=False),
        sa.Column("owner_team", sa.String(200), nullable=False),
        sa.Column("owner_email", sa.String(320), nullable=False),
        sa.Column("owner_source", sa.String(20), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _when("first_seen"),
        _when("last_seen"),
        _when("closed_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.UniqueConstraint("fingerprint", name="uq_opportunities_fingerprint"),
    )
    for column in ("detector", "resource_id", "priority", "owner_team", "status"):
        op.create_index(f"ix_opportunities_{column}", "opportunities", [column])

    op.create_table(
        "opportunity_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name="fk_opportunity_events_opportunity",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_opportunity_events_opportunity_id", "opportunity_events", ["opportunity_id"]
    )

    op.create_table(
        "executions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("branch", sa.String(255), nullable=True),
        sa.Column("commit_sha", sa.String(64), nullable=True),
        sa.Column("repo_path", sa.String(1024), nullable=True),
        sa.Column("body_path", sa.String(1024), nullable=True),
        sa.Column("url", sa.String(1024), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("executed_at"),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name="fk_executions_opportunity",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_executions_opportunity_id", "executions", ["opportunity_id"])

    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        _when("verified_at"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("baseline_daily", _money(), nullable=False),
        sa.Column("after_daily", _money(), nullable=False),
        sa.Column("projected_monthly", _money(), nullable=False),
        sa.Column("realized_monthly", _money(), nullable=False),
        _when("baseline_start", nullable=True),
        _when("baseline_end", nullable=True),
        _when("after_start", nullable=True),
        _when("after_end", nullable=True),
        sa.Column("method", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name="fk_verifications_opportunity",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_verifications_opportunity_id", "verifications", ["opportunity_id"])


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_table("verifications")
    op.drop_table("executions")
    op.drop_table("opportunity_events")
    op.drop_table("opportunities")
