"""The registry of inputs whose FOCUS 1.2 export is checked with focus-validator.

Each entry is ``(id, path, format)``: ``path`` is relative to ``tests/fixtures`` (a file
or a folder, ingested whole), ``format`` the ``costloop ingest --format`` name of a
native bill, or None for FOCUS files (detected from their columns). An entry with a
``generate`` command is produced first by ``costloop <generate...>`` with ``{out}``
replaced by a fresh folder, and ``path`` is then relative to that folder.

Accepted validator failures are listed per sample id in ``allowlist.toml``; both are
described in ``docs/conformance.md``.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["SAMPLES", "Sample"]


class Sample(NamedTuple):
    """One conformance input."""

    id: str
    path: str
    format: str | None
    generate: tuple[str, ...] = ()


SAMPLES: list[Sample] = [
    # The real FOCUS 1.0 sample (1,000 rows: AWS, Microsoft, Oracle; CC-BY-4.0).
    Sample("focus-1.0-sample", "focus/focus_sample_1_0.csv", None),
    # costloop's own demo estate, one month (9,514 FOCUS 1.2 rows on AWS, Azure, GCP).
    Sample(
        "demo-estate",
        "billing",
        None,
        generate=("demo", "generate", "--months", "1", "--end", "2026-10", "--out", "{out}"),
    ),
]
