"""Entry point: the Typer app and error handling (exit codes 0 ok, 1 findings, 2 input)."""

from __future__ import annotations

import sys

import typer

from costloop.cli import (
    alert_cmds,
    allocation_cmds,
    anomaly_cmds,
    budget_cmds,
    data_cmds,
    demo_cmds,
    engine_cmds,
    export_cmds,
    forecast_cmds,
    kpi_cmds,
    loop_cmds,
    metrics_cmds,
    report_cmds,
    sources_cmds,
    web_cmds,
    workspace_cmds,
)
from costloop.cli.common import err_console
from costloop.core.errors import CostloopError

__all__ = ["app", "main"]

app = typer.Typer(
    name="costloop",
    help="costloop: FinOps on your own bills — FOCUS warehouse, allocation, showback, "
    "and the optimization loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
workspace_cmds.register(app)
data_cmds.register(app)
sources_cmds.register(app)
report_cmds.register(app)
allocation_cmds.register(app)
metrics_cmds.register(app)
kpi_cmds.register(app)
loop_cmds.register(app)
demo_cmds.register(app)
export_cmds.register(app)
engine_cmds.register(app)
anomaly_cmds.register(app)
forecast_cmds.register(app)
budget_cmds.register(app)
alert_cmds.register(app)
web_cmds.register(app)


def main() -> None:
    """Run the CLI, turning costloop errors into messages and exit codes."""
    try:
        # Without standalone mode Click returns the code of ``typer.Exit(n)``
        # instead of exiting: pass it on.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except CostloopError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:
        # Usage errors (missing argument, bad option) arrive here with standalone_mode
        # off; they are Click exceptions (Typer vendors Click), recognised by shape.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
