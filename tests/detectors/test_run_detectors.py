"""run_detectors: ordering, fingerprints, time handling and the case-file rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from costloop.detectors import detectors, run_detectors
from costloop.pricing import PricingCatalog

NOW = datetime(2024, 5, 1)
ESTATE: Mapping[str, Any] = {
    "inventory": [
        {
            "resource_id": "vol-1",
            "resource_type": "volume",
            "size": "gp2",
            "size_gib": 300,
            "state": "available",
            "created_at": "now-60d",
        },
        {
            "resource_id": "vol-2",
            "resource_type": "volume",
            "size": "st1",
            "size_gib": 1000,
            "state": "available",
            "created_at": "now-60d",
        },
        {
            "resource_id": "i-1",
            "resource_type": "instance",
            "size": "m5.xlarge",
            "state": "running",
        },
    ],
    "utilization": [
        {"resource_id": "i-1", "metric": "cpu", "statistic": "p95", "value": 1.0, "days": 14},
    ],
}
Reader = Callable[[Mapping[str, Any], datetime], Any]


def test_findings_come_largest_savings_first(make_reader: Reader) -> None:
    findings = run_detectors(make_reader(ESTATE, NOW), PricingCatalog.load_default(), now=NOW)
    assert [(f.resource_id, f.monthly_savings) for f in findings] == [
        ("i-1", Decimal("140.16")),
        ("vol-2", Decimal("45.00")),
        ("vol-1", Decimal("30.00")),
    ]


def test_fingerprint_is_stable_and_follows_parameters(make_reader: Reader) -> None:
    catalog = PricingCatalog.load_default()
    reader = make_reader(ESTATE, NOW)
    names = ["unattached-volume"]
    first = run_detectors(reader, catalog, names=names, now=NOW)
    again = run_detectors(reader, catalog, names=names, now=NOW + timedelta(days=1))
    assert [f.fingerprint for f in first] == [f.fingerprint for f in again]
    changed = run_detectors(
        reader,
        catalog,
        names=names,
        overrides={"unattached-volume": {"min_days_unattached": 30}},
        now=NOW,
    )
    assert {f.resource_id for f in changed} == {f.resource_id for f in first}
    assert not {f.fingerprint for f in changed} & {f.fingerprint for f in first}
    assert first[0].parameters == {"min_days_unattached": "7", "min_monthly_savings": "5"}


def test_aware_now_is_converted_to_utc(make_reader: Reader) -> None:
    # 2024-05-01 02:00 at UTC+2 is midnight UTC: the same window as NOW.
    aware = datetime(2024, 5, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    catalog = PricingCatalog.load_default()
    reader = make_reader(ESTATE, NOW)
    assert run_detectors(reader, catalog, now=aware) == run_detectors(reader, catalog, now=NOW)
    assert aware.astimezone(UTC).replace(tzinfo=None) == NOW


def test_empty_warehouse_has_no_findings(make_reader: Reader) -> None:
    assert run_detectors(make_reader({}, NOW), PricingCatalog.load_default(), now=NOW) == []


def test_every_detector_has_a_case_file_with_positive_and_negative_cases() -> None:
    cases_dir = Path(__file__).resolve().parent.parent / "cases"
    for name in detectors.names():
        spec = yaml.safe_load((cases_dir / f"{name}.yml").read_text(encoding="utf-8"))
        assert spec["detector"] == name
        outcomes = [bool(case.get("expected")) for case in spec["cases"]]
        assert True in outcomes and False in outcomes, name
