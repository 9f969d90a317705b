"""State DB fixtures: SQLite always; PostgreSQL when ``COSTLOOP_TEST_POSTGRES_URL`` is set.

The PostgreSQL URL names a server and a database the tests may create databases
from, e.g. ``postgresql+psycopg://costloop@127.0.0.1:5432/postgres``; each test gets
a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from costloop.state import StateDB, sqlite_url

PG_ENV = "COSTLOOP_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


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


@pytest.fixture(params=BACKENDS)
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty state DB (SQLite file, or a fresh PostgreSQL database)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from _postgres_database()


@pytest.fixture
def db(state_url: str) -> Iterator[StateDB]:
    """A migrated state DB."""
    state = StateDB(state_url)
    state.migrate()
    yield state
    state.dispose()
