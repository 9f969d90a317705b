"""Rendering helpers shared by the report formats: text of money, changes, Markdown, Jinja."""

from __future__ import annotations

import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import jinja2

from costloop.core.money import decimal_text, format_money

__all__ = [
    "NONE_LABEL",
    "atomic_write_text",
    "change_text",
    "label",
    "markdown_table",
    "plain_decimal",
    "template_environment",
]

NONE_LABEL = "(none)"
"""How a null dimension value or driver name is shown."""


def label(value: object) -> str:
    """Display text of a dimension value; null becomes ``(none)``."""
    return NONE_LABEL if value is None or value == "" else str(value)


plain_decimal = decimal_text
"""Exact decimal text for files (:func:`costloop.core.money.decimal_text`)."""


def change_text(cost: Decimal, previous: Decimal | None, pct: Decimal | None) -> str:
    """A change in percent for people.

    ``+12.5%``; ``new`` when the previous cost was zero; ``-`` when both are zero;
    ``n/a`` when there is no previous period.
    """
    if previous is None:
        return "n/a"
    if pct is not None:
        return f"{pct:+.1f}%"
    return "-" if cost == 0 else "new"


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None
) -> str:
    """A GitHub/Slack-friendly Markdown table; ``|`` in cells is escaped."""
    align = right or [False] * len(headers)

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---:" if r else ":---" for r in align) + "|",
    ]
    out.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)
    return "\n".join(out)


def template_environment() -> jinja2.Environment:
    """Jinja environment over ``costloop/report/templates`` with a ``money`` filter."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("costloop.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = lambda v, currency="USD": (
        "" if v is None else format_money(Decimal(v), currency)
    )
    env.filters["label"] = label
    return env


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
