"""The conformance machinery itself, without running the validator (fast, always runs).

The report parser of scripts/focus_validator.py, the sample registry, and that the
allow-list is well formed and documented in docs/conformance.md.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from harness import DOC, FIXTURES, load_allowlist, load_validator_script, samples

REPORT = """
=== Validation Results ===
Total: 5 | Pass: 2 | Fail: 2 | Skipped: 1
⏭️ AvailabilityZone-C-001-M: SKIPPED  (violations=0, reason=rule not applicable, msg=Rule skipped)
✅ BilledCost-C-001-M: PASS  (violations=0, 1.1ms)
✅ ProviderName-C-002-M: PASS  (violations=0, 7.3ms)
❌ ServiceName-C-000-M: FAIL  (violations=1, msg=ServiceName-C-000-M: AND failed - failed child rules: [ServiceName-C-005-C])
❌ ServiceName-C-005-C: FAIL  (violations=3, msg=For each ServiceName, there MUST be exactly 1 distinct ServiceCategory values., 9.6ms)

--- Failures ---
- ServiceName-C-005-C: violations=3; For each ServiceName, ...
"""  # noqa: E501


@pytest.fixture(scope="module")
def fv() -> Any:
    return load_validator_script()


def test_report_is_parsed_into_rule_ids(fv: Any) -> None:
    result = fv.parse_output(REPORT, "x.csv")

    assert result.summary() == {"total": 5, "pass": 2, "fail": 2, "skipped": 1}
    assert result.passed == ["BilledCost-C-001-M", "ProviderName-C-002-M"]
    assert result.failed == ["ServiceName-C-000-M", "ServiceName-C-005-C"]
    assert result.skipped == ["AvailabilityZone-C-001-M"]
    assert result.failure("ServiceName-C-005-C").violations == 3
    assert result.failure("ServiceName-C-000-M").children == ("ServiceName-C-005-C",)


def test_composite_failures_follow_their_children(fv: Any) -> None:
    result = fv.parse_output(REPORT, "x.csv")

    assert [r.rule for r in result.unexplained(set())] == result.failed
    assert result.unexplained({"ServiceName-C-005-C"}) == []
    assert [r.rule for r in result.unexplained({"ServiceName-C-000-M"})] == ["ServiceName-C-005-C"]


def test_a_report_without_summary_is_an_error(fv: Any) -> None:
    with pytest.raises(fv.ValidatorError, match="summary"):
        fv.parse_output("Traceback (most recent call last):\n  boom\n")


def test_a_summary_contradicting_the_rule_lines_is_an_error(fv: Any) -> None:
    with pytest.raises(fv.ValidatorError, match="disagrees"):
        fv.parse_output(REPORT.replace("Fail: 2", "Fail: 3"))


def test_sample_registry_is_consistent() -> None:
    registry = samples()
    ids = [s.id for s in registry]

    assert len(ids) == len(set(ids)), "sample ids must be unique"
    for sample in registry:
        if not sample.generate:
            assert (FIXTURES / sample.path).exists(), f"{sample.id}: {sample.path} missing"


def test_allowlist_is_well_formed_and_documented() -> None:
    entries = load_allowlist()
    ids = {s.id for s in samples()} | {"*"}
    doc = DOC.read_text(encoding="utf-8")

    for entry in entries:
        assert re.fullmatch(r"[A-Za-z]+-[A-Z]-\d{3}-[A-Z]", entry["rule"]), entry
        assert entry["reason"].strip(), entry
        assert entry["samples"] and set(entry["samples"]) <= ids, entry
        assert f"`{entry['rule']}`" in doc, f"{entry['rule']} is not in docs/conformance.md"
