"""FOCUS 1.0–1.3 exports: version detection and the normalizing mapping to FOCUS 1.2."""

from costloop.connectors.focus.plan import FocusPlan, plan_focus

__all__ = ["FocusPlan", "plan_focus"]
