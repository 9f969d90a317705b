"""Fixtures of the web tests: a demo workspace with one user per role, signed-in clients.

``web_ws`` is shared by the whole session (read-only tests); ``fresh_web_ws`` is a
private copy for tests that change state (acknowledge, approve, add users). Clients:

    client = client_for("viewer")            # browser session; client.csrf is its token
    client.post("/logout", data={"csrf_token": client.csrf})
    api = api_client_for("owner-checkout")   # Authorization: Bearer <token>
    api.get("/api/v1/me").json()["team"] == "checkout"

Users (``WEB_USERS``; all with password ``PASSWORD``): admin, approver, viewer,
owner-checkout (owner of team checkout), owner-catalog (owner of team catalog).

The demo workspace is built once per test run with ``costloop demo --workspace`` (about
40 s; shared by the xdist workers), or ``$COSTLOOP_TEST_DEMO_WS`` when set; tests only
ever use copies of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from costloop.web.app import create_app
from costloop.web.auth import SESSION_COOKIE, AuthSettings, start_session
from costloop.web.deps import CSRF_HEADER
from costloop.web.users import add_user, create_token, get_user
from costloop.workspace import Workspace

PASSWORD = "correct-horse-battery"
WEB_USERS: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "approver": ("approver", None),
    "viewer": ("viewer", None),
    "owner-checkout": ("owner", "checkout"),
    "owner-catalog": ("owner", "catalog"),
}


class WebClient(TestClient):
    """A TestClient signed in as one user; ``csrf`` is the session's CSRF token.

    The ``X-CSRF-Token`` header is sent by default, so API mutations work as they do
    from the pages' scripts; pass ``headers={"X-CSRF-Token": ""}`` to leave it out.
    """

    csrf: str = ""
    username: str = ""


def relocate_lake(root: Path, old_root: Path) -> None:
    """Point a copied workspace's DuckLake catalog at the copy's own data files.

    DuckLake records its data path (and the paths of files added from outside it)
    as absolute paths; a copied catalog would still read, or refuse, the original's.
    """
    old, new = f"{old_root.resolve()}/", f"{root.resolve()}/"
    # Closed at once (``with`` on a connection only commits): a connection left to the
    # garbage collector would checkpoint the catalog at a random later moment.
    with contextlib.closing(sqlite3.connect(root / ".costloop" / "lake.sqlite")) as con, con:
        con.execute(
            "UPDATE ducklake_metadata SET value = replace(value, ?, ?) WHERE key = 'data_path'",
            (old, new),
        )
        con.execute(
            "UPDATE ducklake_data_file SET path = replace(path, ?, ?) WHERE path_is_relative = 0",
            (old, new),
        )
        con.execute(
            "UPDATE ducklake_delete_file SET path = replace(path, ?, ?) WHERE path_is_relative = 0",
            (old, new),
        )


def _link_or_copy(src: str, dst: str) -> object:
    # Parquet data files are never changed in place (DuckLake writes new ones) and the
    # demo estate's bills are only read: links make a copy cheap. Databases and settings
    # files are copied, since tests change them.
    if src.endswith(".parquet") or f"{os.sep}estate{os.sep}" in src:
        try:
            os.link(src, dst)
            return dst
        except OSError:
            pass
    return shutil.copy2(src, dst)


def copy_workspace(source: Path, target: Path, *, link: bool = True) -> Workspace:
    """A working copy of a workspace folder (lake relocated), opened.

    With ``link``, data files are hard links to the source's (never written through).
    """
    copy = _link_or_copy if link else shutil.copy2
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("tmp"), copy_function=copy)
    relocate_lake(target, source)
    return Workspace.open(target)


def _demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built fresh by default: a developer's own ./demo-workspace may have been changed
    # (events acknowledged, files edited). COSTLOOP_TEST_DEMO_WS names one to reuse.
    given = os.environ.get("COSTLOOP_TEST_DEMO_WS")
    if given and (Path(given) / ".costloop" / "lake.sqlite").is_file():
        return Path(given)
    # Built once per test run: under xdist the workers share the run's base folder and
    # take turns on a lock, so only the first one builds.
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    built = base / "costloop-demo" / "ws"
    built.parent.mkdir(parents=True, exist_ok=True)
    with open(built.parent / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built.parent / "ready").exists():
            shutil.rmtree(built, ignore_errors=True)
            exe = Path(sys.executable).parent / "costloop"
            env = {k: v for k, v in os.environ.items() if not k.startswith("COSTLOOP_")}
            subprocess.run(
                [str(exe), "demo", "--workspace", str(built)],
                check=True,
                capture_output=True,
                env={**env, "NO_COLOR": "1"},
                timeout=900,
            )
            (built.parent / "ready").touch()
    return built


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace with the ``WEB_USERS``; copy it, never change it."""
    target = tmp_path_factory.mktemp("web-template") / "ws"
    ws = copy_workspace(_demo_source(tmp_path_factory), target, link=False)
    for name, (role, team) in WEB_USERS.items():
        add_user(ws.state, ws.org, name, PASSWORD, role, team)
    ws.state.dispose()
    return target


@pytest.fixture(scope="session")
def web_ws(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The session's shared demo workspace with users (for tests that only read)."""
    return copy_workspace(web_template, tmp_path_factory.mktemp("web-ws") / "ws")


@pytest.fixture
def fresh_web_ws(web_template: Path, tmp_path: Path) -> Workspace:
    """A private copy of the demo workspace with users, for tests that change state."""
    return copy_workspace(web_template, tmp_path / "ws")


@pytest.fixture(scope="session")
def web_app(web_ws: Workspace) -> FastAPI:
    """The app over ``web_ws`` (shared by the session)."""
    return create_app(web_ws)


AppFor = Callable[[Workspace | None], FastAPI]


@pytest.fixture
def app_for(web_ws: Workspace, web_app: FastAPI) -> AppFor:
    """``app_for(ws)``: an app over ``ws`` (one per workspace); ``app_for(None)`` is ``web_app``."""
    apps: dict[Path, FastAPI] = {web_ws.root: web_app}

    def make(ws: Workspace | None) -> FastAPI:
        ws = ws or web_ws
        if ws.root not in apps:
            apps[ws.root] = create_app(ws, auth=AuthSettings())
        return apps[ws.root]

    return make


ClientFor = Callable[..., WebClient]


@pytest.fixture
def client_for(app_for: AppFor) -> Iterator[ClientFor]:
    """``client_for(user, ws=None)``: a TestClient with a live browser session of ``user``."""
    clients: list[TestClient] = []

    def make(user: str, ws: Workspace | None = None) -> WebClient:
        app = app_for(ws)
        state_ws: Workspace = app.state.workspace
        found = get_user(state_ws.state, user)
        cookie, csrf = start_session(state_ws.state, found.id, app.state.auth)
        client = WebClient(app, headers={CSRF_HEADER: csrf})
        client.cookies.set(SESSION_COOKIE, cookie)
        client.csrf, client.username = csrf, user
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def anon_client(web_app: FastAPI) -> Iterator[TestClient]:
    """A TestClient with no credentials (on ``web_app``)."""
    with TestClient(web_app) as client:
        yield client


@pytest.fixture
def api_client_for(app_for: AppFor) -> Iterator[Callable[..., TestClient]]:
    """``api_client_for(user, ws=None)``: a TestClient sending a fresh Bearer token of ``user``."""
    clients: list[TestClient] = []

    def make(user: str, ws: Workspace | None = None) -> TestClient:
        app = app_for(ws)
        _token, secret = create_token(app.state.workspace.state, user, "test")
        client = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
