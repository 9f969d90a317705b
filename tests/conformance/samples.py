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
    # Azure cost details — every sample of tests/fixtures/native/azure that loads. Not
    # here: opencost's values/*.csv and headersets/BOM.csv (not bills, refused by
    # design), finops-toolkit's FocusCost_1.2-preview.json (column metadata) and
    # koku/camel_azure_version_2.csv (mixed CRLF/LF line endings, refused by the CSV
    # reader: see test_mixed_line_endings_sample_ingests_unmodified).
    *(
        Sample(sid, f"native/azure/{path}", "azure-cost-details", export="parquet")
        for sid, path in (
            ("azure-ea-actual", "finops-toolkit/EA_ActualCost_Small.csv"),
            ("azure-ea-amortized", "finops-toolkit/EA_AmortizedCost_Small.csv"),
            ("azure-focus-converters", "focus-converters/sample-anonymous-ea-export-dataset.csv"),
            ("azure-koku-version-2", "koku/azure_version_2.csv"),
            ("azure-koku-camelcased", "koku/azure_camelCased.csv"),
            ("azure-koku-costreport", "koku/costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv"),
            ("azure-opencost-enterprise", "opencost/headersets/Enterprise.csv"),
            ("azure-opencost-enterprise-camel", "opencost/headersets/EnterpriseCamel.csv"),
            ("azure-opencost-german", "opencost/headersets/German.csv"),
            ("azure-opencost-payg", "opencost/headersets/PayAsYouGo.csv"),
            ("azure-opencost-ya", "opencost/headersets/YA.csv"),
        )
    ),
    # Google Cloud billing export (koku's CSV dumps and a JSON lines detailed export).
    # Not here: opencost_skus.json (a Catalog API response, refused by design).
    *(
        Sample(sid, f"native/gcp/{path}", "gcp-billing-export", export="parquet")
        for sid, path in (
            ("gcp-tmp-example", "tmp_example.csv"),
            ("gcp-evidence", "evidence-2020-11-16.csv"),
            (
                "gcp-koku-202011",
                "202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv",
            ),
            ("gcp-koku-2022-08", "2022-08-01_5.csv"),
            ("gcp-koku-2024-03", "2024-03-01_5.csv"),
            ("gcp-billing-export-detailed", "billing_export_detailed.jsonl"),
        )
    ),
    # OCI cost reports. Not here: the usage report (no costs, refused by design).
    *(
        Sample(sid, f"native/oci/{path}", "oci-cost-report", export="parquet")
        for sid, path in (
            ("oci-focus-converters", "reports_cost-csv_0000000030000269.csv"),
            ("oci-koku-cost-report", "reports_cost-csv_0001000000603747.csv"),
        )
    ),
]
