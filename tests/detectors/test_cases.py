"""Runs every case of tests/cases/<detector>.yml against an in-memory DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from costloop.detectors import run_detectors
from costloop.pricing import PricingCatalog

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"


def load_cases() -> Iterator[Any]:
    for path in sorted(CASES_DIR.glob("*.yml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in spec["cases"]:
            yield pytest.param(spec, case, id=f"{spec['detector']}::{case['name']}")


def _check(expected: Mapping[str, Any], finding: Any) -> None:
    assert finding.monthly_savings == Decimal(str(expected["monthly_savings"]))
    assert finding.currency == expected.get("currency", "USD")
    if "change" in expected:
        want = expected["change"]
        got = finding.change
        if want is None:
            assert got is None
        else:
            assert got is not None
            assert got.action.value == want["action"]
            for key in ("attribute", "old_value", "new_value"):
                assert getattr(got, key) == want.get(key)
    for key, value in expected.get("evidence", {}).items():
        assert key in finding.evidence, f"missing evidence {key}"
        assert str(value) in finding.evidence[key], (key, finding.evidence[key])
    for key in ("title_contains",):
        if key in expected:
            assert expected[key] in finding.title, finding.title
    for key, value in expected.get("tags", {}).items():
        assert finding.tags.get(key) == value
    for key in ("iac_address", "iac_file", "region", "account_id", "resource_type"):
        if key in expected:
            assert getattr(finding, key) == expected[key]


@pytest.mark.parametrize(("spec", "case"), list(load_cases()))
def test_detector_case(
    spec: Mapping[str, Any],
    case: Mapping[str, Any],
    make_reader: Callable[[Mapping[str, Any], datetime], Any],
    parse_moment: Callable[[object, datetime], object],
) -> None:
    now = parse_moment(case.get("now", spec.get("now")), datetime(2024, 5, 1))
    assert isinstance(now, datetime)
    names = case.get("run", [spec["detector"]])
    overrides = {spec["detector"]: case.get("parameters", {}), **case.get("overrides", {})}
    findings = run_detectors(
        make_reader(case, now),
        PricingCatalog.load_default(),
        names=names,
        overrides=overrides,
        now=now,
    )
    got = sorted((f.detector, f.resource_id) for f in findings)
    expected = case.get("expected", [])
    want = sorted((e.get("detector", spec["detector"]), e["resource_id"]) for e in expected)
    assert got == want
    by_key = {(f.detector, f.resource_id): f for f in findings}
    for item in expected:
        finding = by_key[item.get("detector", spec["detector"]), item["resource_id"]]
        _check(item, finding)
        assert finding.parameters, "resolved parameters are part of the fingerprint"
