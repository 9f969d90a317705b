"""Fixtures for opportunity tests: a migrated state DB, an org, a finding factory.

The DB is SQLite, and also PostgreSQL when ``COSTLOOP_TEST_POSTGRES_URL`` is set (see
tests/state/conftest.py).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from costloop.core.findings import Change, ChangeAction, Finding
from costloop.core.org import Org, parse_org
from costloop.state import StateDB, sqlite_url

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

ORG_YAML: dict[str, Any] = {
    "company": "Stride Sneakers",
    "teams": [
        {"name": "checkout", "owner": "ana@stride.example", "tag_values": ["check-out"]},
        {"name": "platform", "owner": "raj@stride.example"},
        {"name": "data", "owner": "li@stride.example"},
    ],
    "accounts": [
        {"id": "210987654321", "name": "sneakers-prod", "team": "platform"},
        {"id": "111122223333", "name": "sneakers-dev"},
    ],
}


PG_ENV = "COSTLOOP_TEST_POSTGRES_URL"


def _postgres_database() -> Iterator[str]:
    admin_url = make_url(os.environ[PG_ENV])
    name = f"costloop_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateDB]:
    """A migrated state DB in a temporary workspace (or a fresh PostgreSQL database)."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([sqlite_url(tmp_path)])
    else:
        urls = _postgres_database()
    state = StateDB(next(urls))
    state.migrate()
    yield state
    state.dispose()
    for _ in urls:  # drops the PostgreSQL database
        pass


@pytest.fixture
def org() -> Org:
    """Three teams, a mapped prod account and an unmapped dev account."""
    return parse_org(ORG_YAML)


def rightsizing(**changes: Any) -> Finding:
    """A prod rightsizing finding with a Terraform address; fields overridable."""
    base = Finding(
        detector="rightsizing",
        code="CMP002",
        resource_id="i-0a1b2c3d4e5f",
        title="checkout-api is oversized (m5.2xlarge, p99 CPU 22%)",
        monthly_savings=Decimal("140.16"),
        provider="AWS",
        account_id="210987654321",
        region="us-east-1",
        resource_type="aws_instance",
        evidence={"cpu_p99": "22", "mem_p99": "31", "lookback_days": "30"},
        change=Change(ChangeAction.SET, "instance_type", "m5.2xlarge", "m5.xlarge"),
        tags={"Team": "check-out", "Env": "prod"},
        iac_address="aws_instance.checkout_api",
        iac_file="terraform/prod/compute.tf",
        parameters={"cpu_p99_max": "40"},
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
def make_finding() -> Callable[..., Finding]:
    """``make_finding(**overrides)``: a rightsizing finding with fields replaced."""
    return rightsizing
