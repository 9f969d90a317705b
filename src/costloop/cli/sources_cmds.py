"""``costloop sources``: the bill formats costloop reads and how each is detected."""

from __future__ import annotations

from typing import Annotated

import typer

from costloop.cli.common import console, print_json, table
from costloop.connectors.native import FORMATS

__all__ = ["register"]

_FOCUS = {
    "name": "focus",
    "provider": "any",
    "title": "FOCUS 1.0, 1.1, 1.2 or 1.3 (incl. AWS FOCUS_1_0_AWS / FOCUS_1_2_AWS and Azure "
    "FocusCost exports; their x_ columns are kept)",
    "detected_from": "the FOCUS columns BilledCost, ChargePeriodStart and BillingAccountId "
    "(the version from the newest version's own columns)",
    "options": "--strict refuses files with FOCUS validation violations",
}
_CONTAINERS = (
    "Files: .csv, .csv.gz (UTF-8, BOM allowed), .parquet, .json/.jsonl/.ndjson[.gz] "
    "(JSON lines; nested objects become dotted columns). Folders are read recursively "
    "(export manifests *manifest.json are skipped)."
)


def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the bill formats costloop ingests, what each is detected from, and options."""
    entries = [_FOCUS] + [
        {
            "name": f.name,
            "provider": f.provider,
            "title": f.title,
            "detected_from": f.detected_from,
            "options": f.options,
        }
        for f in FORMATS
    ]
    if as_json:
        print_json({"formats": entries, "containers": _CONTAINERS})
        return
    console.print(
        table(
            "Bill formats (`costloop ingest --format NAME` overrides detection)",
            ["format", "provider", "what", "detected from", "options"],
            [
                [e["name"], e["provider"], e["title"], e["detected_from"], e["options"]]
                for e in entries
            ],
        )
    )
    console.print(_CONTAINERS, highlight=False)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command()(sources)
