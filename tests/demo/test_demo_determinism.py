"""Same seed, same bytes; another seed, other numbers; the manifest round-trips."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from demo_helpers import files_under

from costloop.core.periods import Month
from costloop.demo import EstateManifest, generate_estate


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files_under(root)
    }


def _head(repo: Path) -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
    return out.stdout.strip()


def test_same_seed_gives_byte_identical_estates(tmp_path: Path) -> None:
    steps: list[tuple[str, int, int]] = []
    a = generate_estate(tmp_path / "a", months=2, progress=lambda *s: steps.append(s))
    b = generate_estate(tmp_path / "b", months=2)
    assert _digest(a.out) == _digest(b.out)
    assert _head(a.infra_repo) == _head(b.infra_repo) != ""
    assert steps[-1][1:] == (len(steps), len(steps))

    c = generate_estate(tmp_path / "c", months=2, seed=8)
    differ = [k for k, v in _digest(c.out).items() if _digest(a.out)[k] != v]
    assert any(k.startswith("billing/") for k in differ)
    assert "org.yaml" not in differ


def test_manifest_round_trips(estate: EstateManifest) -> None:
    doc = json.loads((estate.out / "estate.json").read_text())
    assert doc["months"] == 3 and doc["end_month"] == "2026-10" and doc["seed"] == 7
    assert all(not Path(p).is_absolute() for p in doc["billing_files"])
    again = EstateManifest.read(estate.out)
    assert again == estate
    assert again.start_month == Month(2026, 8)
    assert {a.id for a in again.accounts} >= {r["id"] for r in doc["accounts"]}
