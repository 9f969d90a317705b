"""Property tests: splits are exact largest-remainder splits; Σ allocated = Σ source."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.allocation.conftest import (
    allocated_rows,
    load_bill,
    new_workspace,
    run_allocation,
    set_allocation,
)

from costloop.allocation.expressions import BASE_COLUMNS, MINOR_UNITS, split_rows
from costloop.allocation.pools import RATIO_PLACES, PoolRatios
from costloop.core.focus import MONEY_COLUMNS
from costloop.core.money import largest_remainder_split
from costloop.testing import charge
from costloop.workspace import Workspace

CURRENCIES = ("USD", "JPY", "KWD", "EUR")
PERIODS = (datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1))


@st.composite
def amounts(draw: st.DrawFn, limit_digits: int = 9) -> Decimal:
    """A money amount of 0–18 decimals, either sign, |amount| < 10**limit_digits."""
    places = draw(st.integers(min_value=0, max_value=18))
    bound = draw(st.sampled_from([10**3, 10**6, 10 ** (limit_digits + places) - 1]))
    units = draw(st.integers(min_value=-bound, max_value=bound))
    return Decimal(units).scaleb(-places)


def quantum_places(amount: Decimal, currency: str) -> int:
    """The places a split of ``amount`` rounds to: the minor unit when the amount is a
    whole number of minor units, else 18 (the documented rule)."""
    minor = MINOR_UNITS.get(currency, 2)
    return minor if amount == amount.quantize(Decimal(1).scaleb(-minor)) else 18


def reference_split(amount: Decimal, ratios: list[Decimal], currency: str) -> list[Decimal]:
    """``largest_remainder_split`` of |amount| by the ratios, sign restored."""
    with localcontext() as ctx:
        ctx.prec = 80  # units of 1e-18 × 9-place ratios need more than 28 digits
        parts = largest_remainder_split(
            abs(amount), ratios, places=quantum_places(amount, currency)
        )
    return [-p if amount < 0 else p for p in parts]


# --- split_rows on an in-memory table: many examples, fast ------------------------------

_TYPES = {
    "x_SourceRow": pa.int64(),
    "BillingPeriodStart": pa.timestamp("us"),
    "ChargePeriodStart": pa.timestamp("us"),
    **{m: pa.decimal128(38, 18) for m in MONEY_COLUMNS},
}
_SCHEMA = pa.schema(
    [(c, _TYPES.get(c, pa.string())) for c in BASE_COLUMNS]
    + [("x_AllocationPool", pa.string()), ("team", pa.string()), ("team_source", pa.string())]
)


@dataclass
class Group:
    """Charges of one (period, currency) and the weights of their pool's targets."""

    period: datetime
    currency: str
    weights: list[Decimal] | None  # None: the pool cannot split (one pass-through row)
    charges: list[tuple[Decimal, Decimal, Decimal, Decimal]]


Origins = dict[int, tuple[Group, list[Decimal], tuple[Decimal, ...]]]

weights = st.lists(
    st.one_of(
        st.integers(min_value=1, max_value=10**6).map(Decimal),
        st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**9), places=6),
    ),
    min_size=1,
    max_size=5,
)
groups = st.builds(
    Group,
    st.sampled_from(PERIODS),
    st.sampled_from(CURRENCIES),
    st.one_of(weights, weights, weights, st.none()),
    st.lists(st.tuples(amounts(), amounts(), amounts(), amounts()), min_size=1, max_size=6),
)


def _tables(cases: list[Group]) -> tuple[Any, Any, Origins]:
    rows: list[dict[str, Any]] = []
    ratio_rows: list[dict[str, Any]] = []
    origin: Origins = {}
    for g, group in enumerate(cases):
        pool = f"pool-{g}"  # one pool per group keeps the slices independent
        ratios = (
            []
            if group.weights is None
            else largest_remainder_split(Decimal(1), group.weights, places=RATIO_PLACES)
        )
        for i, ratio in enumerate(ratios):
            ratio_rows.append(
                {
                    "__pool": pool,
                    "__period": group.period,
                    "__currency": group.currency,
                    "__target_id": f"t{i}",
                    "__target_name": f"target {i}",
                    "__value": f"v{i}",
                    "__ratio": ratio,
                    "__method_id": "costloop:test",
                    "__details": "{}",
                    "__tags": "{}",
                }
            )
        if group.weights is None:
            ratio_rows.append(
                {"__pool": pool, "__period": group.period, "__currency": group.currency}
                | {"__ratio": Decimal(1)}
            )
        for amounts_ in group.charges:
            n = len(rows) + 1
            origin[n] = (group, ratios, amounts_)
            rows.append(
                {c: None for c in BASE_COLUMNS}
                | {
                    "x_SourceId": "load",
                    "x_SourceFile": "bill.csv",
                    "x_SourceRow": n,
                    "BillingPeriodStart": group.period,
                    "ChargePeriodStart": group.period,
                    "BillingCurrency": group.currency,
                    "x_AllocationPool": pool,
                    "team": "unallocated",
                    "team_source": "unallocated",
                }
                | dict(zip(MONEY_COLUMNS, amounts_, strict=True))
            )
    pool_rows = ibis.memtable(pa.Table.from_pylist(rows, schema=_SCHEMA))
    return pool_rows, PoolRatios(ratio_rows, []).table(), origin


@pytest.fixture(scope="module")
def duck() -> Any:
    return ibis.duckdb.connect()


@settings(max_examples=40, deadline=None)
@given(st.lists(groups, min_size=1, max_size=4))
def test_split_rows_is_the_largest_remainder_split(duck: Any, cases: list[Group]) -> None:
    pool_rows, ratios, origin = _tables(cases)
    out = duck.to_pyarrow(split_rows(pool_rows, ratios, "team")).to_pylist()
    by_origin: dict[int, list[dict[str, Any]]] = {}
    for row in out:
        by_origin.setdefault(row["x_SourceRow"], []).append(row)
    assert sorted(by_origin) == sorted(origin)
    for n, parts in by_origin.items():
        group, ratios_, amounts_ = origin[n]
        parts.sort(key=lambda r: r["AllocatedResourceId"] or "")
        source = dict(zip(MONEY_COLUMNS, amounts_, strict=True))
        if group.weights is None:  # passed through whole, its own value kept
            [row] = parts
            assert {m: row[m] for m in MONEY_COLUMNS} == source
            assert (row["team"], row["team_source"], row["x_AllocationPool"]) == (
                "unallocated",
                "unallocated",
                None,
            )
            continue
        assert [r["x_AllocationRatio"] for r in parts] == ratios_
        assert [r["team"] for r in parts] == [f"v{i}" for i in range(len(ratios_))]
        assert {r["team_source"] for r in parts} == {"shared"}
        for money in MONEY_COLUMNS:
            got = [r[money] for r in parts]
            assert got == reference_split(source[money], ratios_, group.currency), money
            assert sum(got, Decimal(0)) == source[money]
            places = quantum_places(source[money], group.currency)
            assert all(p == p.quantize(Decimal(1).scaleb(-places)) for p in got)


# --- allocate on a real workspace: random charges, random pools -------------------------

ACCOUNTS = {"USD": "999999999999", "JPY": "888888888888", "EUR": "777777777777"}
POOL_ACCOUNTS = ("500000000001", "500000000002", "500000000003")
TEAMS = ("checkout", "platform", "search")


@st.composite
def pools(draw: st.DrawFn) -> str:
    """An allocation file of 1–3 pools with random methods, matches and shares."""
    lines = ["pools:"]
    for i in range(draw(st.integers(min_value=1, max_value=3))):
        method = draw(st.sampled_from(["proportional", "even", "fixed"]))
        accounts = draw(
            st.lists(st.sampled_from(POOL_ACCOUNTS), min_size=1, max_size=2, unique=True)
        )
        match = f"{{account: [{', '.join(repr(a) for a in accounts)}]"
        if draw(st.booleans()):
            match += ", unallocated: true"
        lines += [f"  - name: pool-{i}", f"    match: {match}}}", f"    method: {method}"]
        if method == "fixed":
            targets = draw(st.lists(st.sampled_from(TEAMS), min_size=1, max_size=3, unique=True))
            cuts = sorted(
                draw(
                    st.lists(
                        st.integers(min_value=1, max_value=9999),
                        min_size=len(targets) - 1,
                        max_size=len(targets) - 1,
                        unique=True,
                    )
                )
            )
            bounds = [0, *cuts, 10000]
            shares = [Decimal(b - a).scaleb(-2) for a, b in itertools.pairwise(bounds)]
            body = ", ".join(f"{t}: {s}" for t, s in zip(targets, shares, strict=True))
            lines.append(f"    shares: {{{body}}}")
        elif method == "even" and draw(st.booleans()):
            targets = draw(st.lists(st.sampled_from(TEAMS), min_size=1, max_size=3, unique=True))
            lines.append(f"    targets: [{', '.join(targets)}]")
    return "\n".join(lines) + "\n"


charges = st.lists(
    st.tuples(
        amounts(limit_digits=8),
        amounts(limit_digits=8),
        st.sampled_from(("111111111111", "222222222222", *POOL_ACCOUNTS)),
        st.sampled_from(("", *TEAMS, "nobody")),
        st.sampled_from(tuple(ACCOUNTS)),
        st.sampled_from(PERIODS),
    ),
    min_size=1,
    max_size=40,
)


@pytest.fixture(scope="module")
def workspace_for_properties(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return new_workspace(tmp_path_factory.mktemp("property") / "ws")


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(pools(), charges)
def test_allocate_keeps_every_sum_and_splits_to_the_quantum(
    workspace_for_properties: Workspace,
    allocation: str,
    data: list[tuple[Decimal, Decimal, str, str, str, datetime]],
) -> None:
    ws = set_allocation(workspace_for_properties, allocation)
    rows = []
    for billed, effective, account, team, currency, period in data:
        rows.append(_charge(period, billed, effective, account, team, currency))
    # Every (billing account, period) slice is loaded each time, so the load replaces
    # everything an earlier example left.
    for currency in ACCOUNTS:
        for period in PERIODS:
            rows.append(
                _charge(period, Decimal("1.5"), Decimal("1.25"), "111111111111", "", currency)
            )
    load_bill(ws, rows)
    run_allocation(ws)

    def slices(items: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for item in items:
            key = (str(item["BillingPeriodStart"])[:7], item["BillingAccountId"])
            sums = out.setdefault(key, {"currency": item["BillingCurrency"]})
            for m in MONEY_COLUMNS:
                sums[m] = sums.get(m, Decimal(0)) + Decimal(item[m])
        return out

    allocated = allocated_rows(ws)
    # Σ allocated = Σ source per period, billing account (one currency each) and column
    assert slices(allocated) == slices(rows)
    by_origin: dict[int, list[dict[str, Any]]] = {}
    for row in allocated:
        by_origin.setdefault(row["x_SourceRow"], []).append(row)
    assert sorted(by_origin) == list(range(1, len(rows) + 1))
    for n, parts in by_origin.items():
        source = rows[n - 1]
        assert sum((r["x_AllocationRatio"] for r in parts), Decimal(0)) == 1
        for m in MONEY_COLUMNS:
            amount = Decimal(source[m])
            assert sum((r[m] for r in parts), Decimal(0)) == amount
            places = quantum_places(amount, source["BillingCurrency"])
            assert all(r[m] == r[m].quantize(Decimal(1).scaleb(-places)) for r in parts)


def _charge(
    period: datetime, billed: Decimal, effective: Decimal, account: str, team: str, currency: str
) -> dict[str, str]:
    row = charge(
        period.replace(day=2),
        billed,
        effective=effective,
        account=account,
        billing_account=ACCOUNTS[currency],
        tags={"team": team} if team else None,
    )
    return row | {"BillingCurrency": currency}
