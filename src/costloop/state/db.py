"""The state DB handle: engine, sessions and programmatic Alembic migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from costloop.core.errors import ConfigError

__all__ = ["StateDB", "sqlite_url"]

STATE_DIR = ".costloop"
STATE_FILE = "state.db"


def sqlite_url(workspace: Path) -> str:
    """The default state DB URL of a workspace, ``sqlite:///<ws>/.costloop/state.db``.

    Creates the ``.costloop`` folder so the URL can be opened right away.
    """
    folder = workspace / STATE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / STATE_FILE).resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work during a write; SQLite leaves foreign keys off by default."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class StateDB:
    """The state database (SQLite by default, PostgreSQL for teams).

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///ws/.costloop/state.db`` or
            ``postgresql+psycopg://user@host/costloop``.

    Example:
        >>> db = StateDB("sqlite://")
        >>> db.migrate()
        >>> with db.session() as s:
        ...     pass
    """

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError(f"cannot open the state DB {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"StateDB({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` (idempotent: a current schema is left as is)."""
        with _alembic_config() as config, self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def current_revision(self) -> str | None:
        """The schema revision the database is at, or None before the first migration."""
        with self.engine.connect() as connection:
            rev: str | None = MigrationContext.configure(connection).get_current_revision()
            return rev

    def head_revision(self) -> str:
        """The newest revision this version of costloop ships."""
        with _alembic_config() as config:
            head = ScriptDirectory.from_config(config).get_current_head()
        assert head is not None
        return head

    def dispose(self) -> None:
        """Close every pooled connection (e.g. before deleting the file)."""
        self.engine.dispose()


@contextmanager
def _alembic_config() -> Iterator[Config]:
    """An Alembic config pointing at the packaged ``costloop/migrations`` folder."""
    with resources.as_file(resources.files("costloop") / "migrations") as folder:
        config = Config()
        config.set_main_option("script_location", str(folder))
        yield config
