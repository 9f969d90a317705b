"""Shared vocabulary of the AWS fleet: account ids, region, ARNs and a resource helper."""

from __future__ import annotations

from typing import Any

from costloop.demo.fleet import resource
from costloop.demo.model import Meter, Resource

__all__ = ["ACCOUNT_IDS", "AZS", "REGION", "arn", "aws", "env_of", "tf_path"]

ACCOUNT_IDS = {
    "prod": "210987654321",
    "staging": "318273645501",
    "data": "427384950612",
    "shared": "536475869723",
}
REGION = "us-east-1"
AZS = ("us-east-1a", "us-east-1b", "us-east-1c")


def arn(service: str, account: str, rest: str) -> str:
    """An ARN in the estate's region."""
    return f"arn:aws:{service}:{REGION}:{account}:{rest}"


def env_of(acct: str) -> str:
    """The environment of an account by short name (prod, staging, data, shared)."""
    return {"staging": "staging", "shared": "shared"}.get(acct, "prod")


def tf_path(tf: str) -> str | None:
    """``prod/compute`` → ``terraform/prod/compute.tf``; ``-`` → None."""
    return None if tf == "-" else f"terraform/{tf}.tf"


def aws(
    rid: str,
    name: str,
    acct: str,
    kind: str,
    rtype: str,
    meters: tuple[Meter, ...],
    team: str,
    tags: dict[str, str],
    **kw: Any,
) -> Resource:
    """An AWS resource in an account given by short name; team ``-`` means untagged."""
    owner = "platform" if team == "-" else team
    return resource(
        rid,
        name,
        "aws",
        ACCOUNT_IDS[acct],
        REGION,
        kind,
        rtype,
        meters,
        team=owner,
        env=env_of(acct),
        tags=tags,
        **kw,
    )
