"""State DB (SQLAlchemy + Alembic): opportunities, anomalies, alerts, audit logs, users.

Only this package (and ``costloop.migrations``) defines the state schema; callers
open it with ``StateDB(url)``, run ``migrate()`` once, and use ``session()``.
"""

from costloop.state.db import StateDB, sqlite_url
from costloop.state.models import (
    AlertDeliveryRow,
    AnomalyEventRow,
    AnomalyRow,
    ApiTokenRow,
    Base,
    ExecutionRow,
    OpportunityEventRow,
    OpportunityRow,
    UserRow,
    VerificationRow,
    WebSessionRow,
)
from costloop.state.types import ExactDecimal, UTCDateTime

__all__ = [
    "AlertDeliveryRow",
    "AnomalyEventRow",
    "AnomalyRow",
    "ApiTokenRow",
    "Base",
    "ExactDecimal",
    "ExecutionRow",
    "OpportunityEventRow",
    "OpportunityRow",
    "StateDB",
    "UTCDateTime",
    "UserRow",
    "VerificationRow",
    "WebSessionRow",
    "sqlite_url",
]
