"""Simulating the next month: deletes stop charges, resizes change the price."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from demo_helpers import charge_day, read_csv

from costloop.core.errors import InputError, NotFoundError
from costloop.core.periods import Month
from costloop.demo import AppliedChange, generate_estate, simulate_next_month


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_estate(tmp_path_factory.mktemp("sim"), months=1, end_month=Month(2026, 10)).out


def _ids(estate: Path) -> dict[str, str]:
    return {
        r["resource_name"]: r["resource_id"] for r in read_csv(estate / "inventory/inventory.csv")
    }


def _hours(rows: list[dict[str, str]], rid: str) -> list[dict[str, str]]:
    return [r for r in rows if r["ResourceId"] == rid and r["PricingUnit"] == "Hours"]


def test_delete_and_resize_show_in_the_next_month(small: Path) -> None:
    ids = _ids(small)
    idle, big = ids["legacy-resizer"], ids["checkout-api-1"]
    baseline_dir = simulate_next_month(small, [])
    baseline = read_csv(baseline_dir / "aws" / "2026-11.csv")
    assert len(_hours(baseline, idle)) == 30

    changes = [
        AppliedChange(idle, "delete", None, None, date(2026, 11, 10)),
        AppliedChange(big, "set", "instance_type", "m5.xlarge", date(2026, 11, 1)),
    ]
    billing = simulate_next_month(small, changes)
    assert billing == small / "billing"
    rows = read_csv(billing / "aws" / "2026-11.csv")
    assert {r["BillingPeriodStart"] for r in rows} == {"2026-11-01T00:00:00Z"}

    gone = _hours(rows, idle)
    assert max(charge_day(r) for r in gone) == date(2026, 11, 9)
    assert not [r for r in rows if r["ResourceId"] == idle and charge_day(r) >= date(2026, 11, 10)]

    resized = _hours(rows, big)
    assert resized and {Decimal(r["ListUnitPrice"]) for r in resized} == {Decimal("0.192")}
    before = {Decimal(r["ListUnitPrice"]) for r in _hours(baseline, big)}
    assert before == {Decimal("0.384")}

    def total(rs: list[dict[str, str]]) -> Decimal:
        return sum((Decimal(r["EffectiveCost"]) for r in rs), Decimal(0))

    assert total(rows) < total(baseline)
    assert (small / "billing/azure/2026-11.csv").exists()
    assert (small / "billing/gcp/2026-11.csv").exists()


def test_bad_changes_are_refused(small: Path) -> None:
    with pytest.raises(NotFoundError):
        simulate_next_month(small, [AppliedChange("i-0nope", "delete", None, None, date.today())])
    rid = _ids(small)["checkout-api-1"]
    with pytest.raises(InputError):
        simulate_next_month(
            small, [AppliedChange(rid, "set", "instance_type", "z9.huge", date(2026, 11, 1))]
        )
    with pytest.raises(InputError):
        AppliedChange(rid, "stop", None, None, date(2026, 11, 1))
