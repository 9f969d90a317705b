"""What alerts are made from (stored anomalies, budgets) and the delivery log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from costloop.notify.alert import (
    ALERTING_STATUSES,
    Alert,
    alerts_from_anomalies,
    alerts_from_budgets,
)
from costloop.state.models import AlertDeliveryRow, AnomalyRow
from costloop.warehouse.engine import open_engine
from costloop.workspace import Workspace

__all__ = ["DeliveryLogEntry", "anomaly_alerts", "budget_alerts", "delivery_log"]


def anomaly_alerts(ws: Workspace) -> list[Alert]:
    """Alerts for the workspace's new and acknowledged anomalies.

    Links use ``server.url``; the idempotency tiers start at ``anomalies.min_impact``.
    """
    with ws.state.session() as session:
        rows = list(
            session.scalars(
                select(AnomalyRow)
                .where(AnomalyRow.status.in_(ALERTING_STATUSES))
                .order_by(AnomalyRow.id)
            )
        )
    return alerts_from_anomalies(
        rows,
        server_url=ws.config.str_("server.url"),
        base=ws.config.decimal("anomalies.min_impact"),
    )


def budget_alerts(ws: Workspace) -> list[Alert]:
    """Alerts for the thresholds the workspace's budgets reached (none without a budgets file).

    Budgets are evaluated as of the last day with allocated charges, with forecasts.

    Raises:
        InputError: the budgets file is invalid, or there are no allocated charges.
    """
    budgets = ws.budgets
    if not budgets:
        return []
    # Imported here: evaluation loads the forecasting libraries (about a second).
    from costloop.analytics.budgets import evaluate

    with open_engine(ws.lake) as engine:
        statuses = evaluate(
            engine, budgets, min_history_days=ws.config.int_("forecast.min_history_days")
        )
    return alerts_from_budgets(statuses, org=ws.org, server_url=ws.config.str_("server.url"))


@dataclass(frozen=True)
class DeliveryLogEntry:
    """One line of the delivery log: an alert on a channel and how its delivery went."""

    id: int
    idempotency_key: str
    channel: str
    channel_type: str
    subject: str
    subject_id: str
    title: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    payload: dict[str, Any]


def delivery_log(ws: Workspace, limit: int | None = 50) -> list[DeliveryLogEntry]:
    """The most recently updated deliveries first (all of them when ``limit`` is None)."""
    query = select(AlertDeliveryRow).order_by(
        AlertDeliveryRow.updated_at.desc(), AlertDeliveryRow.id.desc()
    )
    if limit is not None:
        query = query.limit(limit)
    with ws.state.session() as session:
        return [
            DeliveryLogEntry(
                id=r.id,
                idempotency_key=r.idempotency_key,
                channel=r.channel,
                channel_type=r.channel_type,
                subject=r.subject,
                subject_id=r.subject_id,
                title=r.title,
                status=r.status,
                attempts=r.attempts,
                response_code=r.response_code,
                last_error=r.last_error,
                created_at=r.created_at,
                updated_at=r.updated_at,
                sent_at=r.sent_at,
                payload=dict(r.payload),
            )
            for r in session.scalars(query)
        ]
