"""Declarative models of the state DB: opportunities, anomalies, alerts, executions, users."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from costloop.state.types import ExactDecimal, UTCDateTime

__all__ = [
    "AlertDeliveryRow",
    "AnomalyEventRow",
    "AnomalyRow",
    "ApiTokenRow",
    "Base",
    "ExecutionRow",
    "OpportunityEventRow",
    "OpportunityRow",
    "UserRow",
    "VerificationRow",
    "WebSessionRow",
]

Money = ExactDecimal(20, 4)


class Base(DeclarativeBase):
    """Base of every state table (schema is created by Alembic migrations, not here)."""


class OpportunityRow(Base):
    """One opportunity: a finding plus its assessment, owner, plan and review status."""

    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    detector: Mapped[str] = mapped_column(String(100), index=True)
    code: Mapped[str] = mapped_column(String(20))
    resource_id: Mapped[str] = mapped_column(String(1024), index=True)
    provider: Mapped[str] = mapped_column(String(50))
    account_id: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(50))
    resource_type: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    monthly_savings: Mapped[Decimal] = mapped_column(Money)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    change: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    tags: Mapped[dict[str, Any]] = mapped_column(JSON)
    iac_address: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    iac_file: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    risk_score: Mapped[int] = mapped_column(Integer)
    effort_score: Mapped[int] = mapped_column(Integer)
    value_score: Mapped[int] = mapped_column(Integer)
    risk_level: Mapped[str] = mapped_column(String(10))
    effort_hours: Mapped[Decimal] = mapped_column(Money)
    annual_savings: Mapped[Decimal] = mapped_column(Money)
    cost_of_inaction: Mapped[Decimal] = mapped_column(Money)
    roi: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    priority: Mapped[Decimal] = mapped_column(Money, index=True)
    owner_team: Mapped[str] = mapped_column(String(200), index=True)
    owner_email: Mapped[str] = mapped_column(String(320))
    owner_source: Mapped[str] = mapped_column(String(20))
    plan: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    events: Mapped[list[OpportunityEventRow]] = relationship(
        back_populates="opportunity", order_by="OpportunityEventRow.id", passive_deletes=True
    )


class OpportunityEventRow(Base):
    """One audit-log entry: who did what to an opportunity, and when."""

    __tablename__ = "opportunity_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str] = mapped_column(Text)

    opportunity: Mapped[OpportunityRow] = relationship(back_populates="events")


class ExecutionRow(Base):
    """A change made for an opportunity (e.g. a pull request) and when it took effect."""

    __tablename__ = "executions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    branch: Mapped[str | None] = mapped_column(String(255), nullable=True)
    commit_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    repo_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    body_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    files: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerificationRow(Base):
    """A realized-savings check of an executed opportunity against its baseline."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    baseline_daily: Mapped[Decimal] = mapped_column(Money)
    after_daily: Mapped[Decimal] = mapped_column(Money)
    projected_monthly: Mapped[Decimal] = mapped_column(Money)
    realized_monthly: Mapped[Decimal] = mapped_column(Money)
    baseline_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    baseline_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    after_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    after_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    method: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text)


class AnomalyRow(Base):
    """One cost anomaly event (an incident on one scope), its owner and status.

    Re-running detection updates the row of the same incident (same scope key,
    overlapping window) instead of adding one.
    """

    __tablename__ = "anomalies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(2048), index=True)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(20))
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    expected_cost: Mapped[Decimal] = mapped_column(Money)
    actual_cost: Mapped[Decimal] = mapped_column(Money)
    impact: Mapped[Decimal] = mapped_column(Money, index=True)
    impact_pct: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    max_daily_impact: Mapped[Decimal] = mapped_column(Money)
    score: Mapped[Decimal] = mapped_column(Money)
    root_cause: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    series: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    owner_team: Mapped[str] = mapped_column(String(200), index=True)
    owner_email: Mapped[str] = mapped_column(String(320))
    owner_source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    first_detected: Mapped[datetime] = mapped_column(UTCDateTime())
    last_detected: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    events: Mapped[list[AnomalyEventRow]] = relationship(
        back_populates="anomaly", order_by="AnomalyEventRow.id", passive_deletes=True
    )


class AnomalyEventRow(Base):
    """History of an anomaly: detection updates, status changes and comments."""

    __tablename__ = "anomaly_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    anomaly_id: Mapped[int] = mapped_column(
        ForeignKey("anomalies.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str] = mapped_column(Text)

    anomaly: Mapped[AnomalyRow] = relationship(back_populates="events")


class AlertDeliveryRow(Base):
    """One alert to one channel: the delivery log and the idempotency guard.

    ``(idempotency_key, channel)`` is unique: an alert already delivered to a channel
    is never sent there again; a failed one is retried by the next dispatch.
    """

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("idempotency_key", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(200), index=True)
    channel_type: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserRow(Base):
    """A person who signs in to the web app or calls the REST API.

    ``role`` is viewer, owner, approver or admin; ``team`` is the org-file team an owner
    acts for (None for the other roles). Only the argon2id hash of the password is kept.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiTokenRow(Base):
    """A REST API token of one user: only its SHA-256 is stored; revoked ones are kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebSessionRow(Base):
    """A signed-in browser: the SHA-256 of its cookie value, its CSRF token and its times."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
