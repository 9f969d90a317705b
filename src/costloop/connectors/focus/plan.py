"""Plan the mapping of a FOCUS file's columns onto the ``charges`` table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from costloop.core.errors import InputError
from costloop.core.focus import (
    COLUMNS,
    COLUMNS_BY_NAME,
    LINEAGE_COLUMNS,
    RENAMES,
    Level,
    detect_version,
)

__all__ = ["FocusPlan", "plan_focus"]

_X_NAME = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class FocusPlan:
    """How one file's columns become FOCUS 1.2 columns.

    Attributes:
        version: detected FOCUS version of the file.
        source: FOCUS column name → index of the file column holding it.
        renamed: file column name → FOCUS name, for renamed (older) columns.
        extras: (file column index, ``x_`` column name) for non-FOCUS columns.
        missing: FOCUS columns absent from the file (stored as typed nulls).
    """

    version: str
    source: dict[str, int]
    renamed: dict[str, str] = field(default_factory=dict)
    extras: list[tuple[int, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _x_name(name: str) -> str:
    clean = _X_NAME.sub("_", name).strip("_") or "Column"
    return clean if clean.startswith("x_") else f"x_{clean}"


def plan_focus(columns: list[str], file: str) -> FocusPlan:
    """Map a header onto FOCUS 1.2; unknown columns are kept as ``x_`` columns.

    Raises:
        InputError: a mandatory FOCUS column is missing (all missing ones are named).
    """
    version = detect_version(columns)
    source: dict[str, int] = {}
    renamed: dict[str, str] = {}
    extras: list[tuple[int, str]] = []
    # Column names are case-insensitive in DuckDB; lineage names are costloop's own (a
    # re-ingested export of `charges` carries them), so extras never take either.
    taken = {c.lower() for c in COLUMNS_BY_NAME} | {c.lower() for c, _ in LINEAGE_COLUMNS}
    exact = set(columns)
    for index, name in enumerate(columns):
        if name in COLUMNS_BY_NAME:
            source[name] = index
        elif name in RENAMES and RENAMES[name] not in exact:
            source[RENAMES[name]] = index
            renamed[name] = RENAMES[name]
        else:
            x = _x_name(name)
            while x.lower() in taken:
                x += "_"
            taken.add(x.lower())
            extras.append((index, x))
    # FOCUS 1.3 deprecates ProviderName/PublisherName in favour of ServiceProviderName.
    if "ServiceProviderName" in source:
        for old in ("ProviderName", "PublisherName"):
            source.setdefault(old, source["ServiceProviderName"])
    mandatory = [
        c.name
        for c in COLUMNS
        if c.level is Level.MANDATORY and c.since != "1.3" and c.name not in source
    ]
    if mandatory:
        raise InputError(
            f"not a FOCUS {version} file: missing mandatory column(s) {', '.join(mandatory)}",
            file=file,
            column=mandatory[0],
        )
    missing = [c.name for c in COLUMNS if c.name not in source]
    return FocusPlan(version, source, renamed, extras, missing)
