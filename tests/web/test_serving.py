"""What a long-running server needs: fresh config files, warm figures, a first admin."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from tests.conftest import Cli

from costloop.warehouse import LakeReader
from costloop.warehouse.engine import Engine
from costloop.web.queries import (
    ExplorerQuery,
    explorer_cached,
    memoized,
    overview_cached,
    reader_engine_for,
    team_page_cached,
    team_summaries_cached,
)
from costloop.web.users import check_password, list_users
from costloop.web.warm import warm
from costloop.workspace import Workspace


def test_an_edited_budgets_file_is_read_again(fresh_web_ws: Workspace) -> None:
    ws = fresh_web_ws
    first = ws.budgets
    assert first, "the demo workspace has budgets"
    text = ws.budgets_file.read_text(encoding="utf-8")
    name = first[0].name
    ws.budgets_file.write_text(
        text.replace(f"name: {name}", f"name: {name}-renamed", 1), encoding="utf-8"
    )
    assert ws.budgets[0].name == f"{name}-renamed"
    assert ws.budgets[1:] == first[1:]


def test_an_edited_org_file_is_read_again(fresh_web_ws: Workspace) -> None:
    ws = fresh_web_ws
    before = {t.name for t in ws.org.teams}
    with ws.org_file.open("a", encoding="utf-8") as f:
        f.write("")  # same content: nothing changes
    assert {t.name for t in ws.org.teams} == before
    text = ws.org_file.read_text(encoding="utf-8")
    ws.org_file.write_text(
        text.replace("teams:\n", "teams:\n- name: newcomers\n  owner: new@example.com\n", 1),
        encoding="utf-8",
    )
    assert {t.name for t in ws.org.teams} == before | {"newcomers"}


@contextlib.contextmanager
def _refuse() -> Iterator[Engine]:
    raise AssertionError("the warehouse was opened: the figure was not warm")
    yield  # pragma: no cover


def test_warm_computes_what_the_pages_read(fresh_web_ws: Workspace) -> None:
    ws = fresh_web_ws
    reader = LakeReader(ws.lake)  # open all along, as in the server
    try:
        with reader.connect():  # the server opens the warehouse before it serves
            pass
        assert warm(ws, partial(reader_engine_for, ws, reader)) == []
        assert "daily_costs" in reader.in_memory
        # Every figure the overview, explorer and team pages show is served from memory.
        overview = overview_cached(ws, _refuse)
        assert overview.month is not None and overview.forecasts
        explorer_cached(ws, _refuse, ExplorerQuery())
        teams = team_summaries_cached(ws, _refuse)
        assert teams
        for summary in teams:
            assert team_page_cached(ws, _refuse, summary.team).report.team == summary.team
        with pytest.raises(AssertionError, match="not warm"):
            explorer_cached(ws, _refuse, ExplorerQuery(group_by="RegionId"))
    finally:
        reader.close()


def test_init_creates_the_first_admin(cli_main: Cli, tmp_path: Path) -> None:
    done = cli_main("init", tmp_path / "ws", env={"COSTLOOP_ADMIN_PASSWORD": "a-long-passphrase-1"})
    assert done.returncode == 0, done.stderr
    assert "created the first user: admin" in done.stderr
    ws = Workspace.open(tmp_path / "ws")
    assert [(u.username, u.role) for u in list_users(ws.state)] == [("admin", "admin")]
    assert check_password(ws.state, "admin", "a-long-passphrase-1") is not None
    again = cli_main("init", tmp_path / "ws")
    assert again.returncode == 0 and "first user" not in again.stderr
    assert len(list_users(ws.state)) == 1


def test_init_prints_a_generated_password_once(cli_main: Cli, tmp_path: Path) -> None:
    done = cli_main("init", tmp_path / "ws")
    assert done.returncode == 0, done.stderr
    password = done.stderr.strip().splitlines()[-1]
    ws = Workspace.open(tmp_path / "ws")
    assert check_password(ws.state, "admin", password) is not None


def test_callers_get_the_previous_figure_while_new_data_is_computed(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    assert memoized(ws, "figure", lambda: "old") == "old"
    ws.budgets_file.write_text("budgets: []\n", encoding="utf-8")  # the data version changes
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        assert release.wait(30)
        return "new"

    worker = threading.Thread(target=lambda: memoized(ws, "figure", slow))
    worker.start()
    try:
        assert started.wait(30)
        # Someone is computing the new figure: no waiting, the previous one is shown.
        assert memoized(ws, "figure", lambda: "not called") == "old"
    finally:
        release.set()
        worker.join(30)
    assert memoized(ws, "figure", lambda: "not called") == "new"
    # Nobody computing and nothing kept for a new name: the caller computes it.
    assert memoized(ws, "other", lambda: "computed") == "computed"
