"""Alerts and notifications: channels, routing, reliable delivery with a log.

``alerts_from_anomalies`` / ``alerts_from_budgets`` turn what analytics found into
``Alert`` values; ``dispatch`` routes them to the channels of ``alerts.yaml`` (Slack,
signed webhook, e-mail), sends each alert to a channel once, retries what may succeed
later and logs every outcome in the state DB. See docs/alerts.md.
"""

from costloop.notify.alert import Alert, alerts_from_anomalies, alerts_from_budgets
from costloop.notify.config import AlertsConfig, Channel, parse_alerts
from costloop.notify.dispatch import DeliveryResult, DispatchReport, dispatch, load_alerts_config

__all__ = [
    "Alert",
    "AlertsConfig",
    "Channel",
    "DeliveryResult",
    "DispatchReport",
    "alerts_from_anomalies",
    "alerts_from_budgets",
    "dispatch",
    "load_alerts_config",
    "parse_alerts",
]
