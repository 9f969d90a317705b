"""`costloop forecast` commands (being written in this change)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    del app
