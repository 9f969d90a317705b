"""Shipped test kit: tiny FOCUS files for tests of costloop and of its plugins."""

from costloop.testing.focus import charge, write_focus_csv

__all__ = ["charge", "write_focus_csv"]
