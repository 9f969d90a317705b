"""Every native sample shipped in tests/fixtures/native either loads or is refused cleanly.

"Cleanly" means: exit code 2, a message naming the file (and the row, column or the
missing columns), no traceback, and an unchanged warehouse. Loads must reconcile.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import Cli

NATIVE = Path(__file__).parents[2] / "fixtures" / "native"
SAMPLES = sorted(
    p
    for p in NATIVE.rglob("*")
    if p.is_file() and p.name != "NOTICE.md" and not p.name.endswith("manifest.json")
)


def test_fixtures_cover_every_provider() -> None:
    providers = {p.relative_to(NATIVE).parts[0] for p in SAMPLES}
    assert {"aws", "azure", "gcp", "oci"} <= providers


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: str(p.relative_to(NATIVE)))
def test_sample_loads_or_is_refused_cleanly(cli_main: Cli, workspace: Path, sample: Path) -> None:
    done = cli_main("ingest", "-w", workspace, "--json", sample)
    assert "Traceback" not in done.stderr
    count = cli_main("sql", "-w", workspace, "--json", "SELECT count(*) AS n FROM charges")
    stored = json.loads(count.stdout)["rows"][0]["n"]
    if done.returncode == 0:
        out = json.loads(done.stdout)
        assert stored == sum(s["rows"] for s in out["loads"]) > 0
        assert all(c["reconciled"] for c in out["reconciliation"])
    else:
        assert done.returncode == 2, done.stderr
        assert str(sample) in done.stderr or sample.name in done.stderr, done.stderr
        assert stored == 0
