"""The organization: teams with owners and channels, and account → team mapping.

The file format (YAML, documented in docs/formats.md)::

    company: Stride Sneakers
    teams:
      - name: checkout
        owner: ana@stride.example
        channel: "#checkout-costs"
        tag_values: [checkout, check-out]     # tag values that mean this team
    accounts:
      - id: "210987654321"
        name: sneakers-prod
        provider: AWS
        team: platform      # owner of this account's untagged charges
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from costloop.core.errors import InputError

__all__ = ["Account", "Org", "Team", "parse_org"]


@dataclass(frozen=True)
class Team:
    """A team that owns cost."""

    name: str
    owner: str = ""
    channel: str = ""
    tag_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    """A cloud account / subscription / project and its default team."""

    id: str
    name: str = ""
    provider: str = ""
    team: str | None = None


@dataclass(frozen=True)
class Org:
    """Teams and accounts, with lookups used by allocation and owner routing."""

    company: str = ""
    teams: tuple[Team, ...] = ()
    accounts: tuple[Account, ...] = ()
    _by_value: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_value: dict[str, str] = {}
        for team in self.teams:
            for value in (team.name, *team.tag_values):
                by_value[_norm(value)] = team.name
        object.__setattr__(self, "_by_value", by_value)

    def team_for_tag_value(self, value: str) -> str | None:
        """The team a tag value names (case- and separator-insensitive), if any."""
        return self._by_value.get(_norm(value))

    def team_for_account(self, account_id: str) -> str | None:
        """The team owning an account's untagged charges, if mapped."""
        for account in self.accounts:
            if account.id == account_id:
                return account.team
        return None

    def team(self, name: str) -> Team | None:
        """A team by name."""
        for team in self.teams:
            if team.name == name:
                return team
        return None


def _norm(value: str) -> str:
    return "".join(ch for ch in value.strip().lower() if ch.isalnum())


def _str(value: object, where: str, source: str) -> str:
    if not isinstance(value, str | int):
        raise InputError(f"{where}: expected a string, got {value!r}", file=source)
    return str(value)


def parse_org(data: object, source: str = "org.yaml") -> Org:
    """Build an Org from parsed YAML; InputError names the bad entry."""
    if data is None:
        return Org()
    if not isinstance(data, Mapping):
        raise InputError("the organization file must be a mapping", file=source)
    unknown = set(data) - {"company", "teams", "accounts"}
    if unknown:
        raise InputError(f"unknown key(s): {', '.join(sorted(unknown))}", file=source)
    teams: list[Team] = []
    for i, t in enumerate(data.get("teams") or []):
        where = f"teams[{i}]"
        if not isinstance(t, Mapping) or "name" not in t:
            raise InputError(f"{where}: each team needs a name", file=source)
        values = t.get("tag_values") or []
        if not isinstance(values, list):
            raise InputError(f"{where}.tag_values: expected a list", file=source)
        teams.append(
            Team(
                name=_str(t["name"], where + ".name", source),
                owner=_str(t.get("owner", ""), where + ".owner", source),
                channel=_str(t.get("channel", ""), where + ".channel", source),
                tag_values=tuple(_str(v, where + ".tag_values", source) for v in values),
            )
        )
    names = {t.name for t in teams}
    accounts: list[Account] = []
    for i, a in enumerate(data.get("accounts") or []):
        where = f"accounts[{i}]"
        if not isinstance(a, Mapping) or "id" not in a:
            raise InputError(f"{where}: each account needs an id", file=source)
        team = a.get("team")
        if team is not None and str(team) not in names:
            raise InputError(f"{where}.team: unknown team {team!r}", file=source)
        accounts.append(
            Account(
                id=_str(a["id"], where + ".id", source),
                name=_str(a.get("name", ""), where + ".name", source),
                provider=_str(a.get("provider", ""), where + ".provider", source),
                team=None if team is None else str(team),
            )
        )
    return Org(
        company=_str(data.get("company", ""), "company", source),
        teams=tuple(teams),
        accounts=tuple(accounts),
    )
