"""The workspace: the composition root that CLI, web and library code receive.

A workspace is a folder holding ``costloop.toml`` (settings), the organization file,
and ``.costloop/`` with the DuckLake catalog and data and the state database.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml

from costloop.config import Config, default_toml, load_config
from costloop.core.allocation_rules import AllocationConfig, parse_allocation
from costloop.core.budgets import Budget, parse_budgets
from costloop.core.errors import ConfigError, InputError
from costloop.core.org import Org, parse_org
from costloop.state import StateDB
from costloop.warehouse import Lake, LakePaths

__all__ = ["CONFIG_FILE", "STATE_DIR", "Workspace", "default_workspace_dir", "file_stamp"]

_T = TypeVar("_T")

CONFIG_FILE = "costloop.toml"
STATE_DIR = ".costloop"


def default_workspace_dir() -> Path:
    """``$COSTLOOP_WORKSPACE`` or the current directory."""
    return Path(os.environ.get("COSTLOOP_WORKSPACE") or ".")


@dataclass
class Workspace:
    """Config, warehouse and state of one workspace folder."""

    root: Path
    config: Config

    def _from_files(self, name: str, files: tuple[Path, ...], load: Callable[[], _T]) -> _T:
        """``load()``, kept until one of ``files`` changes (size or modification time).

        A long-running process (``costloop serve``) sees edits to the organization,
        allocation and budgets files without a restart; a short one reads each once.
        """
        stamps = tuple(file_stamp(f) for f in files)
        cache: dict[str, tuple[Any, Any]] = self.__dict__.setdefault("_file_cache", {})
        found = cache.get(name)
        if found is not None and found[0] == stamps:
            value: _T = found[1]
            return value
        value = load()
        cache[name] = (stamps, value)
        return value

    @classmethod
    def open(cls, root: Path, *, must_exist: bool = True) -> Workspace:
        """Open an existing workspace.

        Raises:
            ConfigError: the folder is not a workspace (and ``must_exist``).
        """
        root = root.resolve()
        if must_exist and not (root / STATE_DIR).is_dir():
            raise ConfigError(f"{root} is not a costloop workspace (run `costloop init {root}`)")
        return cls(root, load_config(root / CONFIG_FILE))

    @classmethod
    def init(cls, root: Path) -> Workspace:
        """Create (or complete) a workspace; existing settings and data are kept."""
        root.mkdir(parents=True, exist_ok=True)
        config_file = root / CONFIG_FILE
        if not config_file.exists():
            config_file.write_text(default_toml(), encoding="utf-8")
        (root / STATE_DIR).mkdir(exist_ok=True)
        ws = cls.open(root)
        ws.lake.create()
        ws.state.migrate()
        return ws

    @property
    def state_dir(self) -> Path:
        """``<root>/.costloop``."""
        return self.root / STATE_DIR

    @cached_property
    def lake(self) -> Lake:
        """The DuckLake warehouse."""
        return Lake(
            LakePaths(self.state_dir),
            memory_limit=self.config.str_("warehouse.memory_limit"),
            threads=self.config.int_("warehouse.threads"),
        )

    @property
    def state_url(self) -> str:
        """SQLAlchemy URL of the state database."""
        return f"sqlite:///{self.state_dir / 'state.db'}"

    @cached_property
    def state(self) -> StateDB:
        """The state database (opportunities, anomalies, alerts, executions, audit logs).

        A workspace made by an older costloop is upgraded to the current schema here,
        so new tables exist before any command uses them (existing rows are kept).
        """
        db = StateDB(self.state_url)
        if (self.state_dir / "state.db").exists() and db.current_revision() != db.head_revision():
            db.migrate()
        return db

    @property
    def org_file(self) -> Path:
        """The organization file path."""
        return self.root / self.config.str_("org.file")

    @property
    def org(self) -> Org:
        """The organization (teams, owners, accounts); empty when there is no file.

        Read again when the file changes.
        """
        return self._from_files("org", (self.org_file,), self._load_org)

    def _load_org(self) -> Org:
        path = self.org_file
        if not path.exists():
            return Org()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(
                f"invalid YAML: {getattr(exc, 'problem', exc)}",
                file=str(path),
                row=None if mark is None else mark.line + 1,
            ) from None
        return parse_org(data, str(path))

    @property
    def allocation_file(self) -> Path:
        """The allocation file path (dimensions, rules, pools)."""
        return self.root / self.config.str_("allocation.file")

    @property
    def allocation(self) -> AllocationConfig:
        """Taxonomy, rules and pools; the defaults (team from tags and accounts) without a file.

        Read again when the allocation or organization file changes.
        """
        return self._from_files(
            "allocation", (self.allocation_file, self.org_file), self._load_allocation
        )

    def _load_allocation(self) -> AllocationConfig:
        path = self.allocation_file
        text = path.read_text(encoding="utf-8") if path.exists() else None
        return parse_allocation(
            text, str(path), self.org, self.config.list_("allocation.team_tag_keys")
        )

    @property
    def budgets_file(self) -> Path:
        """The budgets file path (setting ``budgets.file``)."""
        return self.root / self.config.str_("budgets.file")

    @property
    def budgets(self) -> tuple[Budget, ...]:
        """The budgets of ``budgets.yaml``; none when there is no file. Read again when
        the file changes.

        Raises:
            InputError: the file is invalid (file, line and key named).
        """
        return self._from_files("budgets", (self.budgets_file,), self._load_budgets)

    def _load_budgets(self) -> tuple[Budget, ...]:
        path = self.budgets_file
        if not path.exists():
            return ()
        return parse_budgets(path.read_text(encoding="utf-8"), str(path))

    @property
    def reports_dir(self) -> Path:
        """Where HTML reports go."""
        return self.root / self.config.str_("report.dir")


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(modification time in ns, size) of a file; None when it does not exist."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
