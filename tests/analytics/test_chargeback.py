"""Chargeback: statements that add up to the invoice, exact and rounded to the minor unit.

The March 2026 bill (billing account 999999999999 in USD unless noted):

- checkout (tag) on account 1111: EC2, S3 and Lambda at 1.004 each → 3.012
- platform (account 2222 is mapped to it): EC2 2.226
- unallocated: S3 on account 4444, 0.004
- AWS Support on 4444, 4.00, split by the pool ``support`` (fixed): checkout 3.00
  (ratio 0.75), platform 1.00 (ratio 0.25)
- billing account 777777777777 in JPY: checkout 100.4, unallocated 50.4

USD invoice 9.242 → 9.24. Exact team totals 6.012 / 3.226 / 0.004 round down to
6.01 / 3.22 / 0.00 = 9.23; the missing cent goes to the largest remainder, platform
(0.006), giving 3.23. Rounding each line on its own would give 9.23, a cent short.
JPY has no minor unit: 150.8 → 151 = checkout 101 + unallocated 50.
"""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.analytics.test_showback import split_into_pool

from costloop.allocation import allocate
from costloop.analytics.chargeback import (
    allocation_method,
    chargeback,
    minor_unit,
    round_to_total,
)
from costloop.core.errors import CostloopError, InputError, NotFoundError
from costloop.core.money import quantize
from costloop.core.periods import Month
from costloop.report.chargeback_files import write_chargeback
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

MAR = datetime(2026, 3, 3)
MARCH = Month(2026, 3)
USD_ACCOUNT, JPY_ACCOUNT = "999999999999", "777777777777"

ORG = """
teams:
  - name: checkout
  - name: platform
accounts:
  - id: "222222222222"
    team: platform
"""


def bill() -> list[dict[str, str]]:
    """The rows of the module docstring."""
    tag = {"team": "checkout"}
    jpy = {"billing_account": JPY_ACCOUNT, "BillingCurrency": "JPY"}
    return [
        charge(MAR, "1.004", tags=tag),
        charge(MAR, "1.004", service="Amazon Simple Storage Service", tags=tag),
        charge(MAR, "1.004", service="AWS Lambda", tags=tag),
        charge(MAR, "2.226", account="222222222222"),
        charge(MAR, "0.004", service="Amazon Simple Storage Service", account="444444444444"),
        charge(MAR, "4.00", service="AWS Support", account="444444444444"),
        charge(MAR, "100.4", tags=tag, **jpy),
        charge(MAR, "50.4", account="555555555555", **jpy),
    ]


def build(root: Path) -> Workspace:
    """The bill of the module docstring, ingested, allocated and split."""
    ws = Workspace.init(root / "ws")
    ws.org_file.write_text(ORG, encoding="utf-8")
    ws = Workspace.open(ws.root)
    ingest_focus(ws.lake, [write_focus_csv(root / "bill.csv", bill())])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
        split_into_pool(
            engine, MARCH, "AWS Support", "support", {"checkout": "0.75", "platform": "0.25"}
        )
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The allocated bill of the module docstring."""
    return build(tmp_path_factory.mktemp("chargeback"))


def test_round_to_total_by_largest_remainder() -> None:
    thirds = [Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]
    assert round_to_total(thirds, Decimal("1.00"), 2) == [
        Decimal("0.33"),
        Decimal("0.33"),
        Decimal("0.34"),
    ]
    # Credits round down too (toward minus infinity); ties go to the earlier value.
    assert round_to_total([Decimal("-0.005"), Decimal("1.005")], Decimal("1.00"), 2) == [
        Decimal("0.00"),
        Decimal("1.00"),
    ]
    assert round_to_total([Decimal("100.4"), Decimal("50.4")], Decimal("151"), 0) == [
        Decimal("101"),
        Decimal("50"),
    ]
    with pytest.raises(ValueError, match="cannot round"):
        round_to_total([Decimal("1.004")], Decimal("1.10"), 2)
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        round_to_total([Decimal("1")], Decimal("1.001"), 2)


@given(
    st.lists(
        st.decimals(min_value=-1000, max_value=100000, places=6, allow_nan=False),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([0, 2, 3]),
)
def test_rounded_parts_always_add_up(values: list[Decimal], places: int) -> None:
    total = quantize(sum(values, Decimal(0)), places)
    rounded = round_to_total(values, total, places)
    unit = Decimal(1).scaleb(-places)
    assert sum(rounded, Decimal(0)) == total
    assert all(abs(r - v) < unit for r, v in zip(rounded, values, strict=True))


def test_minor_units_and_method_labels() -> None:
    assert (minor_unit("USD"), minor_unit("JPY"), minor_unit("kwd")) == (2, 0, 3)
    assert allocation_method(None, None, Decimal(1), "tag") == "direct (tag)"
    assert allocation_method(None, None, None, "account") == "direct (account)"
    assert allocation_method(None, None, Decimal(1), "unallocated") == "unallocated"
    label = allocation_method("k8s", "costloop:proportional", Decimal("0.250000000"), "shared")
    assert label == "shared: k8s (proportional, ratio 0.25)"


def test_statements_reconcile_with_the_invoice(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        cb = chargeback(engine, MARCH)
    assert (cb.column, cb.teams) == ("BilledCost", ["checkout", "platform", "unallocated"])
    summary = {(s.team, s.currency): (s.amount, s.amount_rounded) for s in cb.summary}
    assert summary == {
        ("checkout", "USD"): (Decimal("6.012"), Decimal("6.01")),
        ("platform", "USD"): (Decimal("3.226"), Decimal("3.23")),
        ("unallocated", "USD"): (Decimal("0.004"), Decimal("0.00")),
        ("checkout", "JPY"): (Decimal("100.4"), Decimal("101")),
        ("unallocated", "JPY"): (Decimal("50.4"), Decimal("50")),
    }
    invoices = {(i.billing_account_id, i.currency): i for i in cb.invoices}
    assert invoices[(USD_ACCOUNT, "USD")].amount == Decimal("9.242")
    assert invoices[(USD_ACCOUNT, "USD")].amount_rounded == Decimal("9.24")
    assert invoices[(JPY_ACCOUNT, "JPY")].amount_rounded == Decimal("151")
    for team in cb.teams:
        for s in (s for s in cb.summary if s.team == team):
            lines = [x for x in cb.statement(team) if x.currency == s.currency]
            assert sum(x.amount for x in lines) == s.amount
            assert sum(x.amount_rounded for x in lines) == s.amount_rounded
    naive = sum(quantize(x.amount) for x in cb.lines if x.currency == "USD")
    assert naive == Decimal("9.23")  # why the rounded column is reconciled, not just rounded


def test_statement_lines_name_the_allocation_method(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        cb = chargeback(engine, MARCH)
    checkout = [
        (x.sub_account_id, x.service_name, x.method, str(x.amount_rounded))
        for x in cb.statement("checkout")
        if x.currency == "USD"
    ]
    assert checkout == [
        ("111111111111", "AWS Lambda", "direct (tag)", "1.01"),
        ("111111111111", "Amazon Elastic Compute Cloud", "direct (tag)", "1.00"),
        ("111111111111", "Amazon Simple Storage Service", "direct (tag)", "1.00"),
        ("444444444444", "AWS Support", "shared: support (fixed, ratio 0.75)", "3.00"),
    ]
    methods = {(x.team, x.method) for x in cb.lines}
    assert ("platform", "direct (account)") in methods
    assert ("platform", "shared: support (fixed, ratio 0.25)") in methods
    assert ("unallocated", "unallocated") in methods


def test_effective_metric(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        cb = chargeback(engine, MARCH, "effective")
        with pytest.raises(InputError, match="metric"):
            chargeback(engine, MARCH, "list")
        with pytest.raises(NotFoundError, match="2026-04"):
            chargeback(engine, Month(2026, 4))
    assert cb.column == "EffectiveCost"
    assert sum(i.amount for i in cb.invoices if i.currency == "USD") == Decimal("9.242")


def test_files_sum_to_the_invoice(ws: Workspace, tmp_path: Path) -> None:
    with open_engine(ws.lake) as engine:
        cb = chargeback(engine, MARCH)
    out = tmp_path / "cb"
    written = write_chargeback(cb, out)
    assert (
        sorted(p.name for p in out.iterdir())
        == sorted(p.name for p in written)
        == [
            "statement-checkout.csv",
            "statement-checkout.parquet",
            "statement-platform.csv",
            "statement-platform.parquet",
            "statement-unallocated.csv",
            "statement-unallocated.parquet",
            "summary.csv",
            "summary.parquet",
        ]
    )
    statements = pa.concat_tables(
        [pq.read_table(p) for p in sorted(out.glob("statement-*.parquet"))]
    )
    assert statements.schema.field("amount").type == pa.decimal128(38, 18)
    assert statements.schema.field("amount_rounded").type == pa.decimal128(38, 18)
    summary = pq.read_table(out / "summary.parquet").to_pylist()
    invoice = {
        (r["billing_account_id"], r["billing_currency"]): (r["amount"], r["amount_rounded"])
        for r in summary
        if r["line"] == "invoice_total"
    }
    assert invoice == {
        (USD_ACCOUNT, "USD"): (Decimal("9.242"), Decimal("9.24")),
        (JPY_ACCOUNT, "JPY"): (Decimal("150.8"), Decimal("151")),
    }
    for (account, currency), (exact, rounded) in invoice.items():
        mine = [
            r
            for r in statements.to_pylist()
            if (r["billing_account_id"], r["billing_currency"]) == (account, currency)
        ]
        assert sum(r["amount"] for r in mine) == exact
        assert sum(r["amount_rounded"] for r in mine) == rounded
    with (out / "statement-checkout.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    usd = [r for r in rows if r["billing_currency"] == "USD"]
    assert [r["amount"] for r in usd] == ["1.004", "1.004", "1.004", "3.00"]
    assert [r["amount_rounded"] for r in usd] == ["1.01", "1.00", "1.00", "3.00"]
    assert [r["amount_rounded"] for r in rows if r["billing_currency"] == "JPY"] == ["101"]
    assert {r["measure"] for r in rows} == {"BilledCost"}
    with (out / "summary.csv").open(newline="", encoding="utf-8") as f:
        totals = [r for r in csv.DictReader(f) if r["line"] == "invoice_total"]
    assert [(r["billing_currency"], r["amount"], r["amount_rounded"]) for r in totals] == [
        ("JPY", "150.80", "151"),
        ("USD", "9.242", "9.24"),
    ]


def test_output_folder_is_replaced_whole_or_not_at_all(ws: Workspace, tmp_path: Path) -> None:
    with open_engine(ws.lake) as engine:
        cb = chargeback(engine, MARCH)
    out = tmp_path / "cb"
    out.mkdir()
    (out / "statement-oldteam.csv").write_text("stale", encoding="utf-8")
    write_chargeback(cb, out)
    assert not (out / "statement-oldteam.csv").exists()  # earlier output is replaced
    assert (out / "summary.csv").exists()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=r"notes\.txt"):
        write_chargeback(cb, out)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["cb"]  # no temporary folder left


def test_unreconciled_month_is_refused(tmp_path: Path) -> None:
    ws = build(tmp_path)
    late = charge(MAR, "7.00", billing_account="666666666666")
    ingest_focus(ws.lake, [write_focus_csv(tmp_path / "late.csv", [late])])  # not allocated
    with open_engine(ws.lake) as engine, pytest.raises(CostloopError) as err:
        chargeback(engine, MARCH)
    message = str(err.value)
    assert "666666666666" in message and "7.00" in message
    assert "costloop allocate --period 2026-03" in message
