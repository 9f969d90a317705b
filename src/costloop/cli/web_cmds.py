"""``costloop serve``, ``costloop users`` and ``costloop tokens``: the web app and its accounts."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.markup import escape

from costloop.cli.common import WorkspaceOption, console, err_console, open_workspace, print_json
from costloop.cli.common import table as rich_table
from costloop.core.errors import InputError
from costloop.web.users import (
    ROLES,
    ApiToken,
    User,
    add_user,
    count_users,
    create_token,
    ensure_first_admin,
    list_tokens,
    list_users,
    remove_user,
    revoke_token,
    set_disabled,
    set_password,
    set_role,
)
from costloop.workspace import Workspace

__all__ = ["register"]

ADMIN_PASSWORD_ENV = "COSTLOOP_ADMIN_PASSWORD"

users_app = typer.Typer(
    help="Web users: add, list, change role or password, disable, remove.", no_args_is_help=True
)
tokens_app = typer.Typer(help="REST API tokens: create, list, revoke.", no_args_is_help=True)

RoleOption = Annotated[
    str, typer.Option("--role", "-r", help=f"One of {', '.join(ROLES)}.", show_default=False)
]
TeamOption = Annotated[
    str | None,
    typer.Option("--team", "-t", help="The team an owner acts for (a team of the org file)."),
]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise InputError("no password on standard input", file="<stdin>", row=1)
        return password
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return entered


def _user_json(user: User) -> dict[str, object]:
    data = asdict(user)
    data.pop("id")
    return data


def _token_json(token: ApiToken) -> dict[str, object]:
    return asdict(token)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name.", show_default=False)],
    role: RoleOption,
    team: TeamOption = None,
    password_stdin: PasswordStdin = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Create a user (the password is prompted for, or read with --password-stdin)."""
    ws = open_workspace(workspace)
    password = _read_password(password_stdin)
    user = add_user(ws.state, ws.org, name, password, role, team)
    where = f" of team {user.team}" if user.team else ""
    console.print(f"added {escape(user.username)} ({user.role}{escape(where)})", highlight=False)


@users_app.command("list")
def users_list(json_out: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """List users with their role, team and last login."""
    users = list_users(open_workspace(workspace).state)
    if json_out:
        print_json([_user_json(u) for u in users])
        return
    rows = [
        (
            u.username,
            u.role,
            u.team or "",
            "disabled" if u.disabled else "active",
            u.last_login.strftime("%Y-%m-%d %H:%M") if u.last_login else "never",
        )
        for u in users
    ]
    console.print(rich_table("Users", ["user", "role", "team", "status", "last login"], rows))


@users_app.command("set-role")
def users_set_role(
    name: Annotated[str, typer.Argument(help="Login name.", show_default=False)],
    role: RoleOption,
    team: TeamOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Change a user's role (owners need --team)."""
    ws = open_workspace(workspace)
    user = set_role(ws.state, ws.org, name, role, team)
    where = f" of team {user.team}" if user.team else ""
    console.print(f"{escape(user.username)} is now {user.role}{escape(where)}", highlight=False)


@users_app.command("set-password")
def users_set_password(
    name: Annotated[str, typer.Argument(help="Login name.", show_default=False)],
    password_stdin: PasswordStdin = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Replace a user's password (their browser sessions end)."""
    ws = open_workspace(workspace)
    set_password(ws.state, name, _read_password(password_stdin))
    console.print(f"password of {escape(name)} changed", highlight=False)


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="Login name.", show_default=False)],
    workspace: WorkspaceOption = None,
) -> None:
    """Stop a user signing in or using their tokens (their sessions end); kept for the record."""
    set_disabled(open_workspace(workspace).state, name, True)
    console.print(f"disabled {escape(name)}", highlight=False)


@users_app.command("enable")
def users_enable(
    name: Annotated[str, typer.Argument(help="Login name.", show_default=False)],
    workspace: WorkspaceOption = None,
) -> None:
    """Let a disabled user sign in and use their tokens again."""
    set_disabled(open_workspace(workspace).state, name, False)
    console.print(f"enabled {escape(name)}", highlight=False)


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="Login name.", show_default=False)],
    workspace: WorkspaceOption = None,
) -> None:
    """Delete a user with their API tokens and sessions."""
    remove_user(open_workspace(workspace).state, name)
    console.print(f"removed {escape(name)}", highlight=False)


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", "-u", help="Owner of the token.")],
    name: Annotated[str, typer.Option("--name", help="A label, e.g. 'grafana'.")] = "",
    json_out: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Create an API token; it is printed this once and cannot be shown again."""
    token, secret = create_token(open_workspace(workspace).state, user, name)
    if json_out:
        print_json({**_token_json(token), "token": secret})
        return
    err_console.print(
        f"API token {token.id} for {escape(token.username)} (shown once; store it now):",
        highlight=False,
    )
    sys.stdout.write(secret + "\n")


@tokens_app.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
    json_out: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """List API tokens (never their secrets)."""
    tokens = list_tokens(open_workspace(workspace).state, user)
    if json_out:
        print_json([_token_json(t) for t in tokens])
        return
    rows = [
        (
            t.id,
            t.username,
            t.name,
            t.prefix + "…",
            t.created_at.strftime("%Y-%m-%d %H:%M"),
            t.last_used.strftime("%Y-%m-%d %H:%M") if t.last_used else "never",
            "revoked" if t.revoked_at else "active",
        )
        for t in tokens
    ]
    columns = ["#id", "user", "name", "token", "created", "last used", "status"]
    console.print(rich_table("API tokens", columns, rows))


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see `tokens list`).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Revoke an API token; calls made with it fail from now on."""
    token = revoke_token(open_workspace(workspace).state, token_id)
    console.print(f"revoked token {token.id} of {escape(token.username)}", highlight=False)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Mark cookies Secure always / never (default: when the request is https).",
            show_default=False,
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            help="Proxies trusted to set X-Forwarded-Proto/-For (comma-separated, or '*').",
        ),
    ] = "127.0.0.1",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes (use the number of CPU cores under many users).",
        ),
    ] = 1,
    workspace: WorkspaceOption = None,
) -> None:
    """Run the web app and REST API (FastAPI under uvicorn) on one workspace.

    With no user yet, creates the user admin with the password in
    $COSTLOOP_ADMIN_PASSWORD, or a random one printed once.
    """
    import uvicorn

    from costloop.web.app import create_app, serve_environment
    from costloop.web.transport import PROTOCOL

    ws = open_workspace(workspace)
    announce_first_admin(ws)
    # Bring a warehouse made by an older version up to date (new tables such as the
    # daily rollup) before serving; later ingests and allocations keep it current.
    with ws.lake.connect(read_only=False):
        pass
    err_console.print(
        f"serving {ws.root} on http://{host}:{port}"
        + (f" with {workers} worker processes" if workers > 1 else ""),
        highlight=False,
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
        "log_level": "info",
        "http": PROTOCOL,
    }
    if workers == 1:
        uvicorn.run(create_app(ws, secure_cookies=secure_cookies, warm=True), **options)
        return
    # Several processes: each worker builds its app from the environment.
    os.environ.update(serve_environment(ws, secure_cookies))
    uvicorn.run("costloop.web.app:app_from_environment", factory=True, workers=workers, **options)


def announce_first_admin(ws: Workspace) -> None:
    """Create the user ``admin`` when the workspace has no user yet, and say how to log
    in: the password of $COSTLOOP_ADMIN_PASSWORD, or a random one printed once."""
    first = count_users(ws.state) == 0
    generated = ensure_first_admin(ws.state, os.environ.get(ADMIN_PASSWORD_ENV) or None)
    if generated is not None:
        err_console.print(
            "created the first user: admin, password (shown once; change it with "
            "`costloop users set-password admin`):",
            highlight=False,
        )
        err_console.print(generated, highlight=False, markup=False)
    elif first:
        err_console.print(
            f"created the first user: admin, password from ${ADMIN_PASSWORD_ENV}", highlight=False
        )


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``users`` and ``tokens`` groups to the app."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
