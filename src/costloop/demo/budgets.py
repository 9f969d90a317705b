"""The demo company's budgets file (format of ``costloop.core.budgets``).

Amounts are fixed numbers, not derived from the generated data, so the file is the
same for every seed. Against the default demo (13 months to November 2026) they give a
mix of outcomes in the last month: most team budgets are within their amount,
data-platform's is breached late in the month, the company's Q4 budget is at risk
(the December forecast takes it over), and the monthly and yearly company budgets have
crossed their early thresholds.
"""

from __future__ import annotations

__all__ = ["DEMO_TEAM_BUDGETS", "render_budgets_yaml"]

DEMO_TEAM_BUDGETS: tuple[tuple[str, str], ...] = (
    ("checkout", "5000.00"),
    ("catalog", "6000.00"),
    ("data-platform", "10000.00"),
    ("platform", "4000.00"),
    ("search", "3000.00"),
    ("marketing-web", "1500.00"),
)
"""Monthly budget per team (team name, amount in USD)."""

_FINANCE = "finops@stride.example"


def render_budgets_yaml() -> str:
    """The text of the demo workspace's ``budgets.yaml``."""
    teams = "\n".join(
        f"""  - name: {team}-monthly
    scope: {{team: {team}}}
    amount: "{amount}"
    period: month
    currency: USD
    thresholds: [50, 80, 100]"""
        for team, amount in DEMO_TEAM_BUDGETS
    )
    return f"""# Stride Sneakers: budgets (see docs/budgets.md). Amounts are USD per period.
# Team budgets name no owners: the team owner in org.yaml is told.
budgets:
  - name: stride-monthly
    scope: {{}}
    amount: "30000.00"
    period: month
    currency: USD
    thresholds: [80, 90, 100]
    owners: [{_FINANCE}]
{teams}
  - name: stride-quarterly
    amount: "84000.00"
    period: quarter
    currency: USD
    thresholds: [50, 80, 100]
    owners: [{_FINANCE}]
  - name: stride-yearly
    amount: "330000.00"
    period: year
    currency: USD
    thresholds: [80, 90, 100]
    owners: [{_FINANCE}]
"""
