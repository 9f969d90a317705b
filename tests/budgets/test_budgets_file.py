"""The budgets file: parsing, exact amounts, validation errors, and budget periods."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal

import pytest

from costloop.core.budgets import (
    DEFAULT_THRESHOLDS,
    Budget,
    BudgetPeriod,
    budget_owners,
    parse_budgets,
    period_containing,
)
from costloop.core.errors import InputError
from costloop.core.org import Org, Team

EXAMPLE = """\
# comment line
budgets:
  - name: checkout-monthly
    scope: {team: checkout}
    amount: 9000.10
    period: month
    currency: USD
    thresholds: [100, 50, 80.5]
    owners: [ana.silva@stride.example, "#checkout-costs"]
    start: 2026-01
  - name: everything
    amount: "123456789.123456789"
  - name: fy
    scope:
      team: platform
      env: prod
    amount: 1_000
    period: year
    start: 2025-04-01
    owners: pat@example.com
"""


def test_example_parses_exactly() -> None:
    checkout, everything, fy = parse_budgets(EXAMPLE, "b.yaml")
    assert checkout == Budget(
        name="checkout-monthly",
        amount=Decimal("9000.10"),
        scope={"team": "checkout"},
        period="month",
        currency="USD",
        thresholds=(Decimal(50), Decimal("80.5"), Decimal(100)),
        owners=("ana.silva@stride.example", "#checkout-costs"),
        start=date(2026, 1, 1),
        source="b.yaml",
        line=3,
        scope_line=4,
    )
    # A plain YAML number keeps its written digits: no float rounding, trailing zero kept.
    assert str(checkout.amount) == "9000.10"
    assert everything.amount == Decimal("123456789.123456789")
    assert (everything.scope, everything.period, everything.currency) == ({}, "month", "USD")
    assert everything.thresholds == DEFAULT_THRESHOLDS and everything.owners == ()
    assert everything.start is None
    assert fy.amount == Decimal(1000) and fy.scope == {"team": "platform", "env": "prod"}
    assert fy.scope_line == 14 and fy.owners == ("pat@example.com",)
    assert fy.scope_text() == "team=platform, env=prod" and everything.scope_text() == "all"


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "budgets:\n", "budgets: []\n"])
def test_empty_files_have_no_budgets(text: str) -> None:
    assert parse_budgets(text) == ()


def _one(body: str) -> str:
    """A file with one budget whose keys are ``body`` (YAML lines, 4-space indented)."""
    return "budgets:\n  - name: b1\n" + textwrap.indent(textwrap.dedent(body), "    ")


ERRORS = [
    # (file text, line, message fragment)
    ("budget:\n  - name: x\n", 1, "budgets file.budget: unknown key (allowed: budgets)"),
    ("budgets: {name: x}\n", 1, "budgets: expected a list of budgets"),
    ("budgets:\n  - name: x\n    amount: [1\n", 4, "invalid YAML"),
    (_one("amount: 10\namout: 12\n"), 4, "budgets[0].amout: unknown key"),
    (_one("period: month\n"), 2, "budgets[0]: a budget needs amount"),
    ("budgets:\n  - amount: 5\n", 2, "budgets[0]: a budget needs name"),
    (_one("amount: -5\n"), 3, "budgets[0].amount: an amount must be greater than zero"),
    (_one("amount: 0\n"), 3, "budgets[0].amount: an amount must be greater than zero"),
    (_one("amount: ten\n"), 3, "budgets[0].amount: expected an amount, got 'ten'"),
    (_one("amount: true\n"), 3, "budgets[0].amount: expected an amount, got True"),
    (_one("amount: .nan\n"), 3, "budgets[0].amount: expected an amount, got nan"),
    (_one("amount: 5\nperiod: week\n"), 4, "budgets[0].period: period is one of month"),
    (_one("amount: 5\ncurrency: usd\n"), 4, "budgets[0].currency: expected an ISO 4217 code"),
    (_one("amount: 5\nthresholds: []\n"), 4, "give at least one threshold"),
    (_one("amount: 5\nthresholds: [50, 50.0]\n"), 4, "budgets[0].thresholds[1]: threshold 50.0%"),
    (_one("amount: 5\nthresholds: [50, 1200]\n"), 4, "thresholds[1]: a threshold is at most"),
    (_one("amount: 5\nthresholds: [0]\n"), 4, "thresholds[0]: a percentage must be greater"),
    (_one("amount: 5\nstart: 2026-13\n"), 4, "budgets[0].start: expected a month as YYYY-MM"),
    (_one("amount: 5\nstart: 2026-01-15\n"), 4, "a budget starts on the 1st of a month"),
    (_one("amount: 5\nscope: [team]\n"), 4, "budgets[0].scope: expected a mapping"),
    (_one("amount: 5\nscope: {team: [a, b]}\n"), 4, "budgets[0].scope.team: expected text"),
    (_one("amount: 5\nscope:\n  BillingCurrency: EUR\n"), 5, "give the currency with the"),
    (_one("amount: 5\nowners: [{a: b}]\n"), 4, "budgets[0].owners[0]: expected text"),
    ("budgets:\n  - name: 'a:b'\n    amount: 5\n", 2, "budgets[0].name: 'a:b': a name is"),
    (
        "budgets:\n  - name: a\n    amount: 5\n  - name: a\n    amount: 6\n",
        4,
        "budgets[1].name: duplicate budget 'a' (first on line 2)",
    ),
    ("budgets:\n  - name: a\n    amount: 5\n    amount: 6\n", 4, "amount: duplicate key"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), ERRORS)
def test_errors_name_file_line_and_key(text: str, line: int, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_budgets(text, "/ws/budgets.yaml")
    err = caught.value
    assert (err.file, err.row) == ("/ws/budgets.yaml", line)
    assert fragment in err.detail
    assert str(err).startswith(f"file /ws/budgets.yaml, row {line}: ")


@pytest.mark.parametrize(
    ("kind", "day", "anchor", "start", "end", "label"),
    [
        ("month", date(2026, 2, 28), None, date(2026, 2, 1), date(2026, 3, 1), "2026-02"),
        ("month", date(2026, 12, 31), None, date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        ("quarter", date(2026, 1, 1), None, date(2026, 1, 1), date(2026, 4, 1), "2026-Q1"),
        ("quarter", date(2026, 3, 31), None, date(2026, 1, 1), date(2026, 4, 1), "2026-Q1"),
        ("quarter", date(2026, 4, 1), None, date(2026, 4, 1), date(2026, 7, 1), "2026-Q2"),
        ("quarter", date(2026, 12, 31), None, date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"),
        ("year", date(2026, 12, 31), None, date(2026, 1, 1), date(2027, 1, 1), "2026"),
        # A start on a quarter's first month keeps calendar quarters.
        (
            "quarter",
            date(2026, 5, 9),
            date(2025, 10, 1),
            date(2026, 4, 1),
            date(2026, 7, 1),
            "2026-Q2",
        ),
        # Fiscal periods are anchored at the start month.
        (
            "quarter",
            date(2026, 1, 15),
            date(2025, 2, 1),
            date(2025, 11, 1),
            date(2026, 2, 1),
            "2025-11..2026-01",
        ),
        (
            "year",
            date(2026, 2, 10),
            date(2025, 4, 1),
            date(2025, 4, 1),
            date(2026, 4, 1),
            "2025-04..2026-03",
        ),
        (
            "year",
            date(2026, 4, 1),
            date(2025, 4, 1),
            date(2026, 4, 1),
            date(2027, 4, 1),
            "2026-04..2027-03",
        ),
    ],
)
def test_periods(
    kind: str, day: date, anchor: date | None, start: date, end: date, label: str
) -> None:
    period = period_containing(kind, day, anchor)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period.start <= day <= period.last_day


def test_previous_periods_and_lengths() -> None:
    q1 = period_containing("quarter", date(2026, 2, 1))
    assert q1.previous() == BudgetPeriod(date(2025, 10, 1), date(2026, 1, 1), "quarter")
    assert q1.previous().label == "2025-Q4" and q1.days == 90
    assert period_containing("month", date(2028, 2, 3)).days == 29
    jan = period_containing("month", date(2026, 1, 20))
    assert jan.previous().label == "2025-12" and jan.previous().days == 31
    assert period_containing("year", date(2028, 6, 1)).days == 366


def test_owners_default_to_the_scoped_teams_owner() -> None:
    org = Org(teams=(Team("checkout", owner="ana@example.com"),))
    team_budget = Budget("b", Decimal(1), scope={"team": "checkout"})
    assert budget_owners(team_budget, org) == ("ana@example.com",)
    named = Budget("b", Decimal(1), scope={"team": "checkout"}, owners=("cfo@example.com",))
    assert budget_owners(named, org) == ("cfo@example.com",)
    assert budget_owners(Budget("b", Decimal(1)), org) == ()
    assert budget_owners(Budget("b", Decimal(1), scope={"team": "other"}), org) == ()
