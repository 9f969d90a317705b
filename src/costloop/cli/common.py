"""Shared CLI pieces: the workspace option, consoles, JSON and table rendering."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from costloop.core.errors import InputError
from costloop.core.money import decimal_text
from costloop.workspace import Workspace, default_workspace_dir

__all__ = [
    "WorkspaceOption",
    "console",
    "decimal_text",
    "err_console",
    "file_progress",
    "jsonable",
    "open_workspace",
    "parse_day",
    "print_json",
    "table",
]

console = Console()
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder [env COSTLOOP_WORKSPACE; default: current directory].",
        show_default=False,
    ),
]


def open_workspace(path: Path | None) -> Workspace:
    """Open the workspace given by -w, the environment, or the current directory."""
    return Workspace.open(path or default_workspace_dir())


def jsonable(value: Any) -> Any:
    """Convert to JSON-ready values: money as decimal strings, datetimes as ISO 8601."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def parse_day(text: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option value as a date (None when not given).

    Raises:
        InputError: anything else, naming the option.
    """
    if text is None:
        return None
    value = text.strip()
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} expects a date as YYYY-MM-DD, got {text!r}") from None


def percent(ratio: Decimal | None) -> str:
    """A 0..1 ratio as ``12.3%``; ``n/a`` when it is undefined (no cost at all)."""
    return "n/a" if ratio is None else f"{ratio * 100:.1f}%"


def ratio_text(ratio: Decimal | None) -> str | None:
    """A 0..1 ratio for JSON: decimal text rounded to 4 places, or null."""
    return None if ratio is None else decimal_text(round(ratio, 4))


def print_json(data: Any) -> None:
    """Write JSON to stdout (no Rich markup)."""
    sys.stdout.write(json.dumps(jsonable(data), indent=2) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    """A Rich table; numeric columns (names starting with '$' or '#') right-aligned."""
    t = Table(title=title, title_justify="left", header_style="bold")
    for name in columns:
        numeric = name.startswith(("$", "#", "%"))
        t.add_column(
            name.lstrip("$#%") if numeric else name, justify="right" if numeric else "left"
        )
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t


@contextmanager
def file_progress(enabled: bool) -> Iterator[Callable[[str, float], None] | None]:
    """A Rich progress bar fed with (file name, fraction) updates, or None."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(name: str, fraction: float) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=1.0)
            bar.update(tasks[name], completed=fraction)

        yield update
