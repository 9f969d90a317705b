"""State DB (SQLAlchemy + Alembic): opportunities, anomalies, alerts, audit logs, executions.

Only this package (and ``costloop.migrations``) defines the state schema; callers
open it with ``StateDB(url)``, run ``migrate()`` once, and use ``session()``.
"""

from costloop.state.db import StateDB, sqlite_url
from costloop.state.models import (
    AlertDeliveryRow,
    AnomalyEventRow,
    AnomalyRow,
    Base,
    ExecutionRow,
    OpportunityEventRow,
    OpportunityRow,
    VerificationRow,
)
from costloop.state.types import ExactDecimal, UTCDateTime

__all__ = [
    "AlertDeliveryRow",
    "AnomalyEventRow",
    "AnomalyRow",
    "Base",
    "ExactDecimal",
    "ExecutionRow",
    "OpportunityEventRow",
    "OpportunityRow",
    "StateDB",
    "UTCDateTime",
    "VerificationRow",
    "sqlite_url",
]
