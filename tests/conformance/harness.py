"""Conformance harness: the focus-validator wrapper, the allow-list, one run per sample.

A run is what a user would do, through the installed ``costloop`` script: ``costloop
init``, ``costloop ingest [--format NAME] INPUT``, ``costloop export focus --out
export.csv``; then ``scripts/focus_validator.py`` validates the export. Each sample
is run once per test session (per xdist worker) and shared by the tests.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from samples import SAMPLES, Sample

__all__ = [
    "Runs",
    "SampleRun",
    "allowed_for",
    "load_allowlist",
    "load_validator_script",
    "samples",
]

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SCRIPT = REPO / "scripts" / "focus_validator.py"
ALLOWLIST = Path(__file__).parent / "allowlist.toml"
DOC = REPO / "docs" / "conformance.md"


def samples() -> list[Sample]:
    """The registry, entries normalized to ``Sample`` (plain tuples are accepted)."""
    return [Sample(*entry) for entry in SAMPLES]


def load_validator_script() -> ModuleType:
    """``scripts/focus_validator.py`` as a module (it is a script, not a package)."""
    name = "costloop_focus_validator_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def load_allowlist() -> list[dict[str, Any]]:
    """The ``[[allow]]`` entries of allowlist.toml."""
    with ALLOWLIST.open("rb") as f:
        entries: list[dict[str, Any]] = tomllib.load(f)["allow"]
    return entries


def allowed_for(entries: list[dict[str, Any]], sample_id: str) -> set[str]:
    """Rule ids accepted to fail for ``sample_id``."""
    return {e["rule"] for e in entries if "*" in e["samples"] or sample_id in e["samples"]}


@dataclass
class SampleRun:
    """One sample taken through ingest, export and the validator."""

    sample: Sample
    workspace: Path
    export: Path
    ingested_rows: int
    ingested_billed_cost: Decimal
    summary: dict[str, Any]
    result: Any  # focus_validator.ValidationResult


class Runs:
    """Runs samples on demand, once each."""

    def __init__(self, cli: Any, fv: ModuleType, root: Path) -> None:
        self._cli = cli
        self._fv = fv
        self._root = root
        self._done: dict[str, SampleRun] = {}

    def _ok(self, *args: str | Path) -> str:
        proc = self._cli(*args)
        assert proc.returncode == 0, f"costloop {' '.join(map(str, args))}:\n{proc.stderr}"
        return str(proc.stdout)

    def get(self, sample: Sample) -> SampleRun:
        """The run of ``sample`` (made on first use)."""
        if sample.id in self._done:
            return self._done[sample.id]
        home = self._root / sample.id
        base = FIXTURES
        if sample.generate:
            base = home / "input"
            self._ok(*(arg.replace("{out}", str(base)) for arg in sample.generate))
        ws = home / "ws"
        self._ok("init", ws)
        fmt = () if sample.format is None else ("--format", sample.format)
        loaded = json.loads(self._ok("ingest", "-w", ws, base / sample.path, *fmt, "--json"))
        export = home / f"export.{sample.export}"
        summary = json.loads(self._ok("export", "focus", "-w", ws, "--out", export, "--json"))
        run = SampleRun(
            sample=sample,
            workspace=ws,
            export=export,
            ingested_rows=sum(int(s["rows"]) for s in loaded["loads"]),
            ingested_billed_cost=sum(
                (Decimal(s["billed_cost"]) for s in loaded["loads"]), start=Decimal(0)
            ),
            summary=summary,
            result=self._fv.validate(export),
        )
        self._done[sample.id] = run
        return run
