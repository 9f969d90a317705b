"""``costloop ingest-metrics`` and ``costloop report unit-cost``."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
