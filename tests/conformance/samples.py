"""The registry of inputs whose FOCUS 1.2 export is checked with focus-validator.

Each entry is ``(id, path, format)``: ``path`` is relative to ``tests/fixtures`` (a file
or a folder, ingested whole), ``format`` the ``costloop ingest --format`` name of a
native bill, or None for FOCUS files (detected from their columns). An entry with a
``generate`` command is produced first by ``costloop <generate...>`` with ``{out}``
replaced by a fresh folder, and ``path`` is then relative to that folder.

``export`` is the export's file type: native bills are exported as Parquet, whose
column types the validator reads as written (from CSV it infers them, and a small file
whose costs are all integers, or whose account ids are all digits, then fails type
rules on text that is correct).

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
    export: str = "csv"


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
    # AWS CUR (legacy) — the focus-converters reference sample and koku's nise reports.
    Sample(
        "aws-cur-focus-converters",
        "native/aws/sample-anonymous-aws-export-dataset.csv",
        None,
        export="parquet",
    ),
    Sample("aws-cur-koku-test-cur", "native/aws/koku/test_cur.csv", None, export="parquet"),
    Sample(
        "aws-cur-koku-local", "native/aws/koku/koku-local-1.csv.gz", "aws-cur", export="parquet"
    ),
    Sample(
        "aws-cur-athena-columns",
        "native/aws/koku/2022-07-01-alt-columns.csv",
        None,
        export="parquet",
    ),
    Sample("aws-cur-savings-plan", "native/aws/koku/2023-06-01.csv", None, export="parquet"),
]
