"""Golden Terraform edits: each case folder's input tree, edit, and expected output."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from costloop.core.errors import ExecutionError
from costloop.core.findings import Change, ChangeAction
from costloop.execution import TerraformTree, edit_for_change

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
REGEN = os.environ.get("COSTLOOP_REGEN_GOLDEN") == "1"
CASES = sorted(p.parent for p in (GOLDEN / "terraform").glob("*/case.yaml"))
OUTPUTS = ("expected.diff", "expected.warnings", "expected.error")


def _run(case: Path) -> dict[str, str]:
    spec = yaml.safe_load((case / "case.yaml").read_text())
    change = (
        Change(ChangeAction.DELETE)
        if spec["action"] == "delete"
        else Change(ChangeAction.SET, spec["attribute"], spec.get("old"), spec["new"])
    )
    tree = TerraformTree(case / "input")
    try:
        edit = edit_for_change(tree, spec["address"], change, spec.get("file"))
    except ExecutionError as exc:
        return {"expected.error": f"{exc}\n"}
    out = {"expected.diff": edit.edit.diff()}
    if edit.warnings:
        out["expected.warnings"] = "".join(f"{w}\n" for w in edit.warnings)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_terraform_edit_matches_golden(case: Path, golden: Callable[[Path, str], None]) -> None:
    actual = _run(case)
    for name in OUTPUTS:
        path = case / name
        if name in actual:
            golden(path, actual[name])
        elif REGEN:
            path.unlink(missing_ok=True)
        else:
            assert not path.exists(), f"{path} expected but the edit produced none"


SET_CASES = [
    c
    for c in CASES
    if yaml.safe_load((c / "case.yaml").read_text())["action"] == "set"
    and not (c / "expected.error").exists()
]


@pytest.mark.parametrize("case", SET_CASES, ids=[c.name for c in SET_CASES])
def test_set_changes_only_the_quoted_value(case: Path) -> None:
    """Every other byte, on every line, stays identical (format preservation)."""
    spec = yaml.safe_load((case / "case.yaml").read_text())
    change = Change(ChangeAction.SET, spec["attribute"], spec.get("old"), spec["new"])
    tree = TerraformTree(case / "input")
    edit = edit_for_change(tree, spec["address"], change, spec.get("file"))
    before, after = edit.edit.before.splitlines(True), edit.edit.after.splitlines(True)
    changed = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
    assert len(changed) == 1
    line = before[changed[0]]
    assert after[changed[0]] == line.replace(f'"{spec["old"]}"', f'"{spec["new"]}"')


def test_every_case_has_an_expected_output() -> None:
    assert len(CASES) >= 10
    for case in CASES:
        assert any((case / n).exists() for n in ("expected.diff", "expected.error")), case
