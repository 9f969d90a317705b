"""``costloop init`` and ``costloop config show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from costloop.cli.common import WorkspaceOption, console, open_workspace, print_json, table
from costloop.workspace import Workspace, default_workspace_dir

__all__ = ["register"]

config_app = typer.Typer(help="Inspect settings.", no_args_is_help=True)


def init(
    directory: Annotated[Path | None, typer.Argument(help="Workspace folder to create.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Create a workspace: costloop.toml with documented defaults, and .costloop/.

    The first time, also creates the web app's user admin, with the password in
    $COSTLOOP_ADMIN_PASSWORD or a random one printed once.
    """
    from costloop.cli.web_cmds import announce_first_admin

    root = directory or workspace or default_workspace_dir()
    ws = Workspace.init(root)
    announce_first_admin(ws)
    console.print(f"Workspace ready at [bold]{ws.root}[/]")
    console.print(f"  settings   {ws.root / 'costloop.toml'}")
    console.print(f"  warehouse  {ws.lake.paths.catalog} (DuckLake, data in {ws.lake.paths.data})")
    console.print(f"  state      {ws.state_dir / 'state.db'}")
    console.print("Next: [bold]costloop ingest PATH[/] to load FOCUS billing files.")


@config_app.command("show")
def config_show(
    workspace: WorkspaceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print every setting's effective value and where it came from."""
    ws = open_workspace(workspace)
    items = [
        {
            "name": r.setting.name,
            # JSON true/false and numbers as such; decimals and text as exact strings.
            "value": r.value if isinstance(r.value, bool | int | float) else str(r.value),
            "source": r.source,
            "help": r.setting.help,
        }
        for r in ws.config.resolved.values()
    ]
    if as_json:
        print_json({"settings": items})
        return
    console.print(
        table(
            f"Settings of {ws.root}",
            ["setting", "value", "from", "help"],
            [[i["name"], _text(i["value"]), i["source"], i["help"]] for i in items],
        )
    )


def _text(value: object) -> str:
    """A setting value as written in costloop.toml (true/false, not True/False)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(init)
    app.add_typer(config_app, name="config")
