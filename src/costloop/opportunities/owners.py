"""Owner routing: the team (and its owner's e-mail) responsible for an opportunity.

Order, first match wins:

1. ``tag``: the resource's team tag. Keys are matched case-insensitively with ``_``
   and ``-`` treated alike, in the priority order of ``tag_keys`` (default: ``team``,
   ``owner-team``, ``owner_team``, ``squad``, as the ``allocation.team_tag_keys``
   setting). The value goes through ``Org.team_for_tag_value``, so aliases listed in
   a team's ``tag_values`` work; a value naming no known team is skipped.
2. ``account``: the team owning the account (``Org.team_for_account``).
3. ``fallback``: the team ``unowned``, with no e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from costloop.core.org import Org

__all__ = ["DEFAULT_TEAM_TAG_KEYS", "FALLBACK_TEAM", "Owner", "resolve_owner"]

DEFAULT_TEAM_TAG_KEYS: tuple[str, ...] = ("team", "owner-team", "owner_team", "squad")
FALLBACK_TEAM = "unowned"


@dataclass(frozen=True)
class Owner:
    """Who owns an opportunity and how that was decided.

    Attributes:
        team: team name from the organization file, or ``unowned``.
        email: the team owner's e-mail ("" when unknown).
        source: ``tag``, ``account`` or ``fallback``.
        detail: the evidence, e.g. ``tag Team=check-out`` or ``account 2109...``.
    """

    team: str
    email: str
    source: str
    detail: str


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def resolve_owner(
    tags: Mapping[str, str],
    account_id: str,
    org: Org,
    tag_keys: Sequence[str] = DEFAULT_TEAM_TAG_KEYS,
) -> Owner:
    """The owner of a resource with ``tags`` in ``account_id`` (order in module docstring).

    Args:
        tags: the resource's tags, any key case.
        account_id: the cloud account / subscription / project id.
        org: teams, owners and account mapping.
        tag_keys: tag keys naming the team, highest priority first.
    """
    by_key: dict[str, tuple[str, str]] = {}
    for key, value in tags.items():
        by_key.setdefault(_key(key), (key, value))
    for wanted in tag_keys:
        hit = by_key.get(_key(wanted))
        if hit is None or not hit[1].strip():
            continue
        team = org.team_for_tag_value(hit[1])
        if team is not None:
            return _owner(org, team, "tag", f"tag {hit[0]}={hit[1]}")
    team = org.team_for_account(account_id) if account_id else None
    if team is not None:
        return _owner(org, team, "account", f"account {account_id}")
    return Owner(FALLBACK_TEAM, "", "fallback", "no team tag or account mapping")


def _owner(org: Org, team: str, source: str, detail: str) -> Owner:
    found = org.team(team)
    return Owner(team, found.owner if found is not None else "", source, detail)
