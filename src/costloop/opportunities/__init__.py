"""Opportunities: findings assessed, owned, planned and reviewed (DESIGN §5.2-5.3)."""

from costloop.opportunities.assess import Assessment, assess
from costloop.opportunities.model import (
    EventView,
    ExecutionView,
    OpportunityView,
    SyncResult,
    VerificationView,
)
from costloop.opportunities.owners import Owner, resolve_owner
from costloop.opportunities.plans import plan_text
from costloop.opportunities.records import (
    executed_opportunities,
    executions,
    record_execution,
    record_verification,
    verifications,
)
from costloop.opportunities.store import (
    events,
    get,
    list_opportunities,
    sync_findings,
    transition,
)
from costloop.opportunities.workflow import TRANSITIONS, Status

__all__ = [
    "TRANSITIONS",
    "Assessment",
    "EventView",
    "ExecutionView",
    "OpportunityView",
    "Owner",
    "Status",
    "SyncResult",
    "VerificationView",
    "assess",
    "events",
    "executed_opportunities",
    "executions",
    "get",
    "list_opportunities",
    "plan_text",
    "record_execution",
    "record_verification",
    "resolve_owner",
    "sync_findings",
    "transition",
    "verifications",
]
