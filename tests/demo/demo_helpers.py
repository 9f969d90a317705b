"""Helpers to read the demo estate's files in tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

TEAM_KEYS = {"team", "Team", "TEAM", "owner-team"}


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts of text."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def tags(row: dict[str, str]) -> dict[str, object]:
    """The parsed Tags (or inventory tags) of a row."""
    text = row.get("Tags", row.get("tags", ""))
    value = json.loads(text) if text else {}
    assert isinstance(value, dict)
    return value


def charge_day(row: dict[str, str]) -> date:
    """The UTC day of a row's ChargePeriodStart."""
    return date.fromisoformat(row["ChargePeriodStart"][:10])


def files_under(root: Path) -> Iterator[Path]:
    """Every file under ``root``, except git's own database."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(root).parts:
            yield path
