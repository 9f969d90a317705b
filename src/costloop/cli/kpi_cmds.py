"""``costloop kpis``: every FinOps KPI with definition, value, trend and maturity band."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
