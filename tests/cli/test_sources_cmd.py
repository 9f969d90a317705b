"""``costloop sources``: every bill format, what it is detected from, and its options."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli


def test_sources_lists_every_format_with_its_detection(cli_main: Cli) -> None:
    done = cli_main("sources", "--json")
    assert done.returncode == 0, done.stderr
    formats = {f["name"]: f for f in json.loads(done.stdout)["formats"]}
    assert list(formats) == [
        "focus",
        "aws-cur",
        "azure-cost-details",
        "gcp-billing-export",
        "oci-cost-report",
    ]
    assert all(f["detected_from"] and f["title"] and f["provider"] for f in formats.values())
    assert "lineItem/UnblendedCost" in formats["aws-cur"]["detected_from"]


def test_sources_table_names_the_override_option(cli: Cli) -> None:
    done = cli("sources")
    assert done.returncode == 0
    assert "--format NAME" in done.stdout and "gcp-billing-export" in done.stdout


def test_every_listed_format_is_accepted_by_ingest(cli_main: Cli, workspace: Path) -> None:
    names = [f["name"] for f in json.loads(cli_main("sources", "--json").stdout)["formats"]]
    empty = workspace / "empty.csv"
    empty.write_text("a,b\n1,2\n")
    for name in names:
        done = cli_main("ingest", "-w", workspace, "--format", name, empty)
        # Every format is known: the refusal is about the file's columns, not the name.
        assert done.returncode == 2
        assert "unknown --format" not in done.stderr, name
        assert "missing" in done.stderr, (name, done.stderr)
