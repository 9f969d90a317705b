"""``costloop users`` and ``costloop tokens``: exit codes, messages, and what is stored."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from costloop.web.users import authenticate_token, check_password
from costloop.workspace import Workspace

Run = Callable[..., subprocess.CompletedProcess[str]]

ORG = """\
company: Test Co
teams:
  - name: checkout
    owner: ana@test.example
  - name: catalog
    owner: bo@test.example
"""


@pytest.fixture
def ws(workspace: Path) -> Path:
    (workspace / "org.yaml").write_text(ORG, encoding="utf-8")
    return workspace


@pytest.fixture
def run(cli_main: Run, ws: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """``run(*args, stdin="...")``: costloop in-process on ``ws`` with the given input."""

    def call(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return cli_main(*args, "-w", ws)

    return call  # type: ignore[return-value]


def test_add_list_set_role_and_remove(run: Callable[..., Run], ws: Path) -> None:
    added = run(
        "users", "add", "alice", "--role", "admin", "--password-stdin", stdin="s3cret-pass\n"
    )
    assert added.returncode == 0, added.stderr
    assert "added alice (admin)" in added.stdout
    owner = run(
        "users",
        "add",
        "bob",
        "--role",
        "owner",
        "--team",
        "checkout",
        "--password-stdin",
        stdin="another-pass\n",
    )
    assert owner.returncode == 0, owner.stderr
    assert "added bob (owner of team checkout)" in owner.stdout

    listed = json.loads(run("users", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["team"]) for u in listed] == [
        ("alice", "admin", None),
        ("bob", "owner", "checkout"),
    ]
    assert all("password" not in key for u in listed for key in u)
    table = run("users", "list").stdout
    assert "alice" in table and "checkout" in table and "never" in table

    moved = run("users", "set-role", "bob", "--role", "owner", "--team", "catalog")
    assert moved.returncode == 0, moved.stderr
    assert "bob is now owner of team catalog" in moved.stdout
    assert run("users", "set-role", "bob", "--role", "viewer").returncode == 0

    removed = run("users", "remove", "bob")
    assert removed.returncode == 0
    assert [u["username"] for u in json.loads(run("users", "list", "--json").stdout)] == ["alice"]
    state = Workspace.open(ws).state
    assert check_password(state, "alice", "s3cret-pass") is not None
    assert check_password(state, "alice", "wrong-pass") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "owner", "--team", "payments"), "unknown team 'payments'"),
        (("--role", "owner"), "an owner needs a team"),
        (("--role", "viewer", "--team", "checkout"), "only owners have a team"),
        (("--role", "superuser"), "unknown role 'superuser'"),
    ],
)
def test_add_refuses_bad_roles_and_teams_with_exit_2(
    run: Callable[..., Run], args: tuple[str, ...], message: str
) -> None:
    result = run("users", "add", "carol", *args, "--password-stdin", stdin="long-enough\n")
    assert result.returncode == 2
    assert message in result.stderr
    assert json.loads(run("users", "list", "--json").stdout) == []


def test_duplicate_names_short_passwords_and_unknown_users_exit_2(
    run: Callable[..., Run],
) -> None:
    assert (
        run(
            "users", "add", "dan", "--role", "viewer", "--password-stdin", stdin="pass-word\n"
        ).returncode
        == 0
    )
    dup = run("users", "add", "dan", "--role", "admin", "--password-stdin", stdin="pass-word\n")
    assert dup.returncode == 2
    assert "a user named 'dan' already exists" in dup.stderr
    short = run("users", "add", "erin", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.returncode == 2
    assert "at least 8 characters" in short.stderr
    empty = run("users", "add", "erin", "--role", "viewer", "--password-stdin", stdin="")
    assert empty.returncode == 2
    assert "no password on standard input" in empty.stderr
    bad_name = run(
        "users", "add", "x y", "--role", "viewer", "--password-stdin", stdin="pass-word\n"
    )
    assert bad_name.returncode == 2
    for args in (("remove", "zed"), ("set-role", "zed", "--role", "viewer")):
        missing = run("users", *args)
        assert missing.returncode == 2
        assert "no user named 'zed'" in missing.stderr


def test_the_last_admin_stays(run: Callable[..., Run]) -> None:
    run("users", "add", "root", "--role", "admin", "--password-stdin", stdin="pass-word\n")
    for args in (("remove", "root"), ("set-role", "root", "--role", "viewer")):
        refused = run("users", *args)
        assert refused.returncode == 2
        assert "'root' is the last admin" in refused.stderr
    run("users", "add", "root2", "--role", "admin", "--password-stdin", stdin="pass-word\n")
    assert run("users", "remove", "root").returncode == 0


@pytest.mark.filterwarnings("ignore::getpass.GetPassWarning")
def test_password_prompt_asks_twice(run: Callable[..., Run], ws: Path) -> None:
    added = run("users", "add", "fay", "--role", "viewer", stdin="typed-pass\ntyped-pass\n")
    assert added.returncode == 0, added.stderr
    assert check_password(Workspace.open(ws).state, "fay", "typed-pass") is not None


def test_set_password_replaces_it(run: Callable[..., Run], ws: Path) -> None:
    run("users", "add", "gus", "--role", "viewer", "--password-stdin", stdin="first-pass\n")
    changed = run("users", "set-password", "gus", "--password-stdin", stdin="second-pass\n")
    assert changed.returncode == 0, changed.stderr
    state = Workspace.open(ws).state
    assert check_password(state, "gus", "first-pass") is None
    assert check_password(state, "gus", "second-pass") is not None


def test_tokens_are_shown_once_listed_without_secret_and_revocable(
    run: Callable[..., Run], ws: Path
) -> None:
    run("users", "add", "hal", "--role", "viewer", "--password-stdin", stdin="pass-word\n")
    created = run("tokens", "create", "--user", "hal", "--name", "grafana")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("cl_") and len(secret) == 46
    assert "shown once" in created.stderr
    state = Workspace.open(ws).state
    user = authenticate_token(state, secret)
    assert user is not None and user.username == "hal"

    listing = run("tokens", "list").stdout
    assert "grafana" in listing and secret[:10] in listing and secret not in listing
    tokens = json.loads(run("tokens", "list", "--json", "--user", "hal").stdout)
    assert [(t["name"], t["revoked_at"]) for t in tokens] == [("grafana", None)]
    assert tokens[0]["last_used"] is not None

    revoked = run("tokens", "revoke", str(tokens[0]["id"]))
    assert revoked.returncode == 0
    assert authenticate_token(state, secret) is None
    assert json.loads(run("tokens", "list", "--json").stdout)[0]["revoked_at"] is not None
    assert run("tokens", "revoke", "999").returncode == 2
    unknown = run("tokens", "create", "--user", "nobody")
    assert unknown.returncode == 2
    assert "no user named 'nobody'" in unknown.stderr


def test_tokens_create_json(run: Callable[..., Run]) -> None:
    run("users", "add", "ivy", "--role", "approver", "--password-stdin", stdin="pass-word\n")
    body = json.loads(run("tokens", "create", "--user", "ivy", "--json").stdout)
    assert body["username"] == "ivy" and body["token"].startswith(body["prefix"])


def test_disabled_users_cannot_sign_in_or_use_tokens(run: Callable[..., Run], ws: Path) -> None:
    run("users", "add", "jo", "--role", "viewer", "--password-stdin", stdin="pass-word\n")
    secret = run("tokens", "create", "--user", "jo").stdout.strip()
    state = Workspace.open(ws).state
    assert run("users", "disable", "jo").returncode == 0
    assert check_password(state, "jo", "pass-word") is None
    assert authenticate_token(state, secret) is None
    listed = run("users", "list").stdout
    assert "disabled" in listed
    assert run("users", "enable", "jo").returncode == 0
    assert check_password(state, "jo", "pass-word") is not None
    assert authenticate_token(state, secret) is not None
    run("users", "add", "boss", "--role", "admin", "--password-stdin", stdin="pass-word\n")
    last = run("users", "disable", "boss")
    assert last.returncode == 2
    assert "'boss' is the last admin" in last.stderr
