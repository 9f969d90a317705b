"""Daily series per scope from ``allocated_charges``: scopes, exclusions, exact sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from costloop.analytics.anomalies.series import SeriesSet, build_series
from costloop.analytics.showback import allocation_dimensions
from costloop.warehouse.engine import open_engine


@pytest.fixture(scope="module")
def series_set(small_estate) -> SeriesSet:
    with open_engine(small_estate.ws.lake) as engine:
        found = build_series(engine, allocation_dimensions(engine))
    assert found is not None
    return found


def index(series_set: SeriesSet, scope: dict[str, str]) -> int:
    return series_set.scopes.index(scope)


def test_every_scope_kind_has_its_series(series_set) -> None:
    scopes = series_set.scopes
    assert {} in scopes
    assert {"ProviderName": "AWS"} in scopes
    assert {"ProviderName": "AWS", "SubAccountId": "222222222222"} in scopes
    assert {"ProviderName": "AWS", "BillingAccountId": "999999999999"} in scopes
    assert {"ProviderName": "AWS", "ServiceName": "AWS Lambda"} in scopes
    assert {"ProviderName": "AWS", "RegionId": "us-east-1"} in scopes
    assert {"team": "checkout"} in scopes and {"team": "catalog"} in scopes
    assert {"team": "checkout", "ProviderName": "AWS", "ServiceName": "AWS Lambda"} in scopes
    lambda_a = {"ProviderName": "AWS", "SubAccountId": "111111111111", "ServiceName": "AWS Lambda"}
    assert lambda_a in scopes
    assert series_set.values.shape == (len(scopes), 69)
    assert set(series_set.currencies) == {"USD"}


def test_overall_is_usage_only_to_the_cent(series_set, small_estate) -> None:
    # 1 February carries $900 tax, a −$250 credit and a purchase: none of it is in.
    day = date(2026, 2, 1)
    d = (day - series_set.first_day).days
    exact = small_estate.cost(day, day)
    overall = index(series_set, {})
    assert series_set.exact_daily(overall, d, d) == [exact]
    assert series_set.values[overall, d] == pytest.approx(float(exact))
    assert series_set.exact_sum(overall, 0, series_set.days - 1) == small_estate.cost(
        date(2026, 1, 1), date(2026, 3, 10)
    )


def test_a_scope_is_the_sum_of_its_charges(series_set, small_estate) -> None:
    s3 = index(series_set, {"ProviderName": "AWS", "ServiceName": "Amazon Simple Storage Service"})
    d = (date(2026, 2, 22) - series_set.first_day).days
    exact = small_estate.cost(
        date(2026, 2, 22), date(2026, 2, 22), ServiceName="Amazon Simple Storage Service"
    )
    assert exact > Decimal("200")  # the incident's day
    assert series_set.exact_sum(s3, d, d) == exact
    # Nested scopes: the team's Lambda is inside the account's Lambda, and both in AWS.
    team = index(
        series_set, {"team": "checkout", "ProviderName": "AWS", "ServiceName": "AWS Lambda"}
    )
    account = index(
        series_set,
        {"ProviderName": "AWS", "SubAccountId": "111111111111", "ServiceName": "AWS Lambda"},
    )
    assert series_set.shared_cost(team, account) == pytest.approx(series_set.totals[team])
    assert np.all(series_set.values[team] <= series_set.values[account] + 1e-9)


def test_an_empty_warehouse_has_no_series(tmp_path) -> None:
    from costloop.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    with open_engine(ws.lake) as engine:
        assert build_series(engine, ["team"]) is None
