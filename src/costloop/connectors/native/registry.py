"""All native formats, found in this package's modules (each exports ``FORMATS``)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence

from costloop.connectors import native
from costloop.connectors.native.base import Header, NativeFormat
from costloop.core.errors import InputError

__all__ = ["FORMATS", "detect_format", "get_format"]


def _load() -> tuple[NativeFormat, ...]:
    found: list[NativeFormat] = []
    for info in sorted(pkgutil.iter_modules(native.__path__), key=lambda m: m.name):
        if info.name in {"base", "registry"} or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{native.__name__}.{info.name}")
        found.extend(getattr(module, "FORMATS", ()))
    return tuple(found)


FORMATS: tuple[NativeFormat, ...] = _load()
"""Every native format, in module order."""


def get_format(name: str) -> NativeFormat:
    """The native format called ``name``.

    Raises:
        InputError: no such format (the known ones are listed).
    """
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    known = ", ".join(["focus", *(f.name for f in FORMATS)])
    raise InputError(f"unknown --format {name!r}; known formats: {known}")


def detect_format(columns: Sequence[str], file: str) -> NativeFormat | None:
    """The native format whose detection scores ``columns`` highest, if any scores."""
    best: tuple[int, NativeFormat] | None = None
    for fmt in FORMATS:
        score = fmt.score(Header(columns, file, fmt.key))
        if score > 0 and (best is None or score > best[0]):
            best = (score, fmt)
    return None if best is None else best[1]
