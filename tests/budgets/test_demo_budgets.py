"""The demo company's budgets file: valid, one budget per team, fixed amounts."""

from __future__ import annotations

from decimal import Decimal

import yaml

from costloop.core.budgets import budget_owners, parse_budgets
from costloop.core.org import parse_org
from costloop.demo.budgets import DEMO_TEAM_BUDGETS, render_budgets_yaml
from costloop.demo.company import TEAMS, render_org_yaml


def test_demo_budgets_cover_every_team_and_period_kind() -> None:
    budgets = parse_budgets(render_budgets_yaml(), "budgets.yaml")
    org = parse_org(yaml.safe_load(render_org_yaml()))
    teams = {b.scope["team"]: b for b in budgets if "team" in b.scope}
    assert sorted(teams) == sorted(t.name for t in TEAMS)
    for team in TEAMS:
        budget = teams[team.name]
        assert budget.period == "month" and budget.owners == ()
        assert budget_owners(budget, org) == (team.owner,)
    assert {name: b.amount for name, b in teams.items()} == {
        team: Decimal(amount) for team, amount in DEMO_TEAM_BUDGETS
    }
    company = {b.name: b for b in budgets if not b.scope}
    assert {b.period for b in company.values()} == {"month", "quarter", "year"}
    assert company["stride-quarterly"].amount == Decimal("84000.00")
    assert all(b.owners == ("finops@stride.example",) for b in company.values())
    assert all(b.currency == "USD" for b in budgets)
