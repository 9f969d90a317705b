"""Showback by any dimension, and the per-team report, on a hand-made two-month bill.

February 2026 (billed = effective unless noted):

- checkout (tag): EC2 on account 1111, 10.00 billed / 8.00 effective
- platform (account 2222 is mapped to it): S3 4.00
- search (tag): Lambda on account 1111, 3.00 (search has no cost in March)

March 2026:

- checkout (tag): EC2 on 1111 12.00 billed / 9.00 effective, S3 on 1111 2.50,
  Lambda on 3333 1.25, CloudWatch on 1111 0.75 → 16.50 billed, 13.50 effective
- platform (account 2222): EC2 6.00, RDS 1.10 → 7.10
- unallocated: account 4444, untagged, 0.15
- AWS Support on 4444, 4.00: split by a shared-cost pool ``support`` (fixed) into
  checkout 3.00 (ratio 0.75) and platform 1.00 (ratio 0.25)

March total billed 27.75, February 17.00.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from costloop.allocation import allocate
from costloop.analytics.showback import (
    allocation_dimensions,
    allowed_dimensions,
    showback,
    showback_by,
    spend_by,
)
from costloop.core.errors import InputError, NotFoundError
from costloop.core.focus import MONEY_COLUMNS
from costloop.core.periods import Month
from costloop.report.showback_formats import showback_csv, showback_data, showback_markdown
from costloop.report.team import team_report
from costloop.report.team_render import team_html, team_markdown
from costloop.testing import charge, write_focus_csv
from costloop.warehouse.engine import Engine, open_engine
from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

EC2 = "Amazon Elastic Compute Cloud"
S3 = "Amazon Simple Storage Service"
LAMBDA = "AWS Lambda"
FEB, MAR = datetime(2026, 2, 3), datetime(2026, 3, 3)
MARCH = Month(2026, 3)

ORG = """
company: Test Co
teams:
  - name: checkout
    owner: ana@example.com
    channel: "#checkout-costs"
  - name: platform
    owner: pat@example.com
  - name: search
  - name: quiet
accounts:
  - id: "222222222222"
    name: shared
    team: platform
"""


def bill() -> list[dict[str, str]]:
    """The rows of the module docstring."""
    checkout = {"team": "checkout"}
    return [
        charge(FEB, "10.00", effective="8.00", tags=checkout, resource_id="i-feb"),
        charge(FEB, "4.00", service=S3, account="222222222222", resource_id="bucket-p"),
        charge(FEB, "3.00", service=LAMBDA, tags={"team": "search"}, resource_id="fn-s"),
        charge(MAR, "12.00", effective="9.00", tags=checkout, resource_id="i-big"),
        charge(MAR, "2.50", service=S3, tags=checkout, resource_id="bucket-c"),
        charge(MAR, "1.25", service=LAMBDA, account="333333333333", tags=checkout),
        charge(MAR, "0.75", service="Amazon CloudWatch", tags=checkout, resource_id="logs"),
        charge(MAR, "6.00", account="222222222222", resource_id="i-plat"),
        charge(MAR, "1.10", service="Amazon RDS", account="222222222222", resource_id="db-1"),
        charge(MAR, "0.15", service=S3, account="444444444444", resource_id="orphan"),
        charge(MAR, "4.00", service="AWS Support", account="444444444444", resource_id=None),
    ]


def split_into_pool(
    engine: Engine, month: Month, service: str, pool: str, shares: dict[str, str]
) -> None:
    """Rewrite the ``service`` rows of ``month`` as a fixed shared-cost pool split."""
    t = engine.table("allocated_charges")
    current = engine.to_arrow(t.filter(t.BillingPeriodStart == month.start))
    rows: list[dict[str, Any]] = []
    for r in current.to_pylist():
        if r["ServiceName"] != service:
            rows.append(r)
            continue
        for team, ratio in shares.items():
            share = Decimal(ratio)
            rows.append(
                {
                    **r,
                    **{c: r[c] * share for c in MONEY_COLUMNS},
                    "team": team,
                    "team_source": "shared",
                    "x_AllocationPool": pool,
                    "AllocatedMethodId": "costloop:fixed",
                    "x_AllocationRatio": share,
                }
            )
    table = pa.Table.from_pylist(rows, schema=current.schema)
    engine.replace_slices(
        "allocated_charges", ibis.memtable(table), "BillingPeriodStart", [month.start]
    )


def build(root: Path, rows: list[dict[str, str]], *, pool: bool = True) -> Workspace:
    """A workspace with ``rows`` ingested and allocated (and the support pool split)."""
    ws = Workspace.init(root / "ws")
    ws.org_file.write_text(ORG, encoding="utf-8")
    ws = Workspace.open(ws.root)
    ingest_focus(ws.lake, [write_focus_csv(root / "bill.csv", rows)])
    with open_engine(ws.lake, read_only=False) as engine:
        allocate(engine, ws.allocation)
        if pool:
            split_into_pool(
                engine, MARCH, "AWS Support", "support", {"checkout": "0.75", "platform": "0.25"}
            )
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The two-month bill of the module docstring, allocated."""
    return build(tmp_path_factory.mktemp("showback"), bill())


def charges_total(engine: Engine, month: Month, column: str = "BilledCost") -> dict[str, Decimal]:
    """Σ of the ``charges`` table per currency: the figure showback must reproduce."""
    t = engine.table("charges")
    t = t.filter(t.BillingPeriodStart == month.start)
    agg = t.group_by("BillingCurrency").aggregate(v=t[column].sum())
    return {r["BillingCurrency"]: r["v"] for r in engine.rows(agg)}


def test_by_team_latest_month_with_trend_and_drivers(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        report = showback_by(engine, ["team"], metric="billed")
        source = charges_total(engine, MARCH)
    assert report.periods == (MARCH,)
    rows = {r.values: r for r in report.rows}
    assert {k: (r.cost, r.previous) for k, r in rows.items()} == {
        ("checkout",): (Decimal("19.50"), Decimal("10.00")),
        ("platform",): (Decimal("8.10"), Decimal("4.00")),
        ("unallocated",): (Decimal("0.15"), Decimal("0")),
        ("search",): (Decimal("0"), Decimal("3.00")),
    }
    checkout = rows[("checkout",)]
    assert checkout.change == Decimal("9.50")
    assert checkout.change_pct == Decimal("95")
    assert rows[("unallocated",)].change_pct is None  # new this month
    assert rows[("search",)].change_pct == Decimal("-100")
    assert [(d.name, d.cost) for d in checkout.services] == [
        (EC2, Decimal("12.00")),
        ("AWS Support", Decimal("3.00")),
        (S3, Decimal("2.50")),
    ]
    assert [(d.name, d.cost) for d in checkout.accounts] == [
        ("acct-1111", Decimal("15.25")),
        ("acct-4444", Decimal("3.00")),
        ("acct-3333", Decimal("1.25")),
    ]
    # Largest first; the rows add up to the charges table exactly.
    assert [r.values[0] for r in report.rows] == ["checkout", "platform", "unallocated", "search"]
    (total,) = report.totals
    assert total.cost == sum(r.cost for r in report.rows) == source["USD"] == Decimal("27.75")
    assert (total.previous, total.change) == (Decimal("17.00"), Decimal("10.75"))


def test_metrics_sum_their_own_column(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        effective = showback_by(engine, ["team"])
        listed = showback_by(engine, ["team"], metric="list")
        source = charges_total(engine, MARCH, "EffectiveCost")
    assert effective.metric == "effective"
    costs = {r.values[0]: r.cost for r in effective.rows}
    assert costs["checkout"] == Decimal("16.50")  # 9.00 + 2.50 + 1.25 + 0.75 + 3.00 support
    assert effective.totals[0].cost == source["USD"] == Decimal("24.75")
    assert listed.totals[0].cost == Decimal("27.75")  # testing.charge sets ListCost = billed


def test_two_dimensions_and_a_range_of_periods(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        report = showback_by(
            engine, ["team", "ServiceName"], first=Month(2026, 1), last=MARCH, metric="billed"
        )
        feb_source = charges_total(engine, Month(2026, 2))
    assert report.periods == (Month(2026, 2), MARCH)  # January has no data: skipped
    feb = [r for r in report.rows if r.period == Month(2026, 2)]
    assert {r.values: r.cost for r in feb} == {
        ("checkout", EC2): Decimal("10.00"),
        ("platform", S3): Decimal("4.00"),
        ("search", LAMBDA): Decimal("3.00"),
    }
    assert all(r.previous is None for r in feb)  # no January data to compare with
    march = {r.values: r for r in report.rows if r.period == MARCH}
    assert march[("checkout", EC2)].previous == Decimal("10.00")
    assert march[("platform", "AWS Support")].cost == Decimal("1.00")
    assert march[("platform", S3)].cost == 0  # gone since February, still shown
    for total in report.totals:
        parts = [r.cost for r in report.rows if r.period == total.period]
        assert sum(parts) == total.cost
    assert report.totals[0].cost == feb_source["USD"]


def test_focus_column_dimension(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        report = showback_by(engine, ["SubAccountId"], metric="billed")
    assert {r.values[0]: r.cost for r in report.rows} == {
        "111111111111": Decimal("15.25"),
        "222222222222": Decimal("7.10"),
        "444444444444": Decimal("4.15"),
        "333333333333": Decimal("1.25"),
    }


def test_unknown_dimension_lists_the_allowed_ones(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine, pytest.raises(InputError) as err:
        showback_by(engine, ["team", "Colour"])
    message = str(err.value)
    assert "'Colour'" in message
    for name in ("team", "ServiceName", "SubAccountId", "RegionId", "BillingCurrency"):
        assert name in message
    with open_engine(ws.lake) as engine, pytest.raises(InputError, match="metric"):
        showback_by(engine, ["team"], metric="amortised")


def test_month_without_data(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine, pytest.raises(NotFoundError, match="2025-12"):
        showback_by(engine, ["team"], first=Month(2025, 12), last=Month(2025, 12))


def test_new_allocation_dimensions_are_discovered(tmp_path: Path) -> None:
    ws = build(tmp_path, bill()[:3], pool=False)
    with open_engine(ws.lake, read_only=False) as engine:
        engine.ensure_columns("allocated_charges", (("env", "VARCHAR"), ("env_source", "VARCHAR")))
        assert "env" in allocation_dimensions(engine)
        assert "env_source" not in allowed_dimensions(engine)
        report = showback_by(engine, ["env", "team"], metric="billed")
    assert {r.values: r.cost for r in report.rows} == {
        (None, "checkout"): Decimal("10.00"),
        (None, "platform"): Decimal("4.00"),
        (None, "search"): Decimal("3.00"),
    }
    assert "| (none) | checkout |" in showback_markdown(report)


def test_currencies_are_never_added(tmp_path: Path) -> None:
    eur = {"billing_account": "888888888888", "BillingCurrency": "EUR"}
    rows = [
        *bill(),
        charge(MAR, "5.00", tags={"team": "checkout"}, **eur),
        charge(MAR, "0.40", account="555555555555", **eur),
    ]
    ws = build(tmp_path, rows, pool=False)
    with open_engine(ws.lake) as engine:
        report = showback_by(engine, ["team"], metric="billed")
        source = charges_total(engine, MARCH)
    assert report.multi_currency
    assert {(r.values[0], r.currency): r.cost for r in report.rows if r.cost} == {
        ("checkout", "USD"): Decimal("16.50"),
        ("platform", "USD"): Decimal("7.10"),
        ("unallocated", "USD"): Decimal("4.15"),
        ("checkout", "EUR"): Decimal("5.00"),
        ("unallocated", "EUR"): Decimal("0.40"),
    }
    totals = {t.currency: t.cost for t in report.totals}
    assert totals == source == {"USD": Decimal("27.75"), "EUR": Decimal("5.40")}
    eur_checkout = next(r for r in report.rows if r.currency == "EUR" and r.cost == 5)
    assert eur_checkout.previous == 0  # February had no EUR cost, not the USD 10.00
    data = showback_data(report)
    assert [(g["currency"], g["total"]) for g in data["groups"]] == [
        ("EUR", Decimal("5.40")),
        ("USD", Decimal("27.75")),
    ]
    assert "5.00 EUR" in showback_markdown(report)
    csv_lines = showback_csv(report).splitlines()
    assert any(
        line.startswith("total,2026-03,,EUR,BilledCost,5.40,0.00,5.40,,") for line in csv_lines
    )


def test_legacy_showback_and_spend_by_still_work(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        rows = showback(engine, MARCH)
        spend = spend_by(engine, "ProviderName")
    assert {r.team: r.billed_cost for r in rows} == {
        "checkout": Decimal("19.50"),
        "platform": Decimal("8.10"),
        "unallocated": Decimal("0.15"),
    }
    assert [(r["key"], r["billed"]) for r in spend] == [
        ("AWS", Decimal("17.00")),
        ("AWS", Decimal("27.75")),
    ]


def test_team_report(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        report = team_report(engine, ws.org, "checkout")
    assert report.month == MARCH
    assert (report.owner, report.channel) == ("ana@example.com", "#checkout-costs")
    now, before = report.current["USD"], report.previous_costs("USD")
    assert (now.billed, now.effective, now.list_cost) == (
        Decimal("19.50"),
        Decimal("16.50"),
        Decimal("19.50"),
    )
    assert before is not None and before.billed == Decimal("10.00")
    assert [str(m) for m in report.trend_months] == ["2026-02", "2026-03"]
    assert [c.effective for c in report.trend["USD"]] == [Decimal("8.00"), Decimal("16.50")]
    assert [(s.name, s.cost) for s in report.services[:2]] == [
        (EC2, Decimal("9.00")),
        ("AWS Support", Decimal("3.00")),
    ]
    assert [(a.name, a.detail) for a in report.accounts] == [
        ("111111111111", "acct-1111"),
        ("444444444444", "acct-4444"),
        ("333333333333", "acct-3333"),
    ]
    assert [r.name for r in report.resources][:2] == ["i-big", "bucket-c"]
    assert [(p.pool, p.method, p.cost) for p in report.shared] == [
        ("support", "fixed", Decimal("3.00"))
    ]
    assert report.shared_share("USD") == Decimal("3.00") / Decimal("16.50")

    md = team_markdown(report)
    assert md.startswith(
        "**checkout: cloud cost 2026-03**\nOwner: ana@example.com · #checkout-costs"
    )
    assert "| Billed | $19.50 | $10.00 | +95.0% |" in md
    assert "Shared costs: $3.00 (18.2% of effective) from support (fixed) $3.00." in md
    assert "| 2026-02 | $10.00 | $8.00 |" in md
    assert "<" not in md  # no HTML: pastes cleanly into chat and e-mail

    html = team_html(report)
    assert html.count("<svg") == 1 and "<script" not in html
    assert "ana@example.com" in html and "$19.50" in html


def test_team_report_of_a_team_without_cost_and_unknown_team(ws: Workspace) -> None:
    with open_engine(ws.lake) as engine:
        quiet = team_report(engine, ws.org, "quiet", MARCH)
        with pytest.raises(NotFoundError, match="unknown team 'nobody'; teams: checkout"):
            team_report(engine, ws.org, "nobody")
    assert quiet.current == {} and quiet.services == ()
    assert "No cost allocated to quiet in 2026-03." in team_markdown(quiet)
