"""The exception tree every costloop layer raises.

CostloopError
├── InputError        bad user input (file, row, column); exit code 2
├── ConfigError       invalid configuration or workspace; exit code 2
├── NotFoundError     a referenced object does not exist; exit code 2
└── ExecutionError    an external step (git, a forge, a cloud API) failed; exit code 1
"""

from __future__ import annotations

__all__ = ["ConfigError", "CostloopError", "ExecutionError", "InputError", "NotFoundError"]


class CostloopError(Exception):
    """Base of all costloop errors.

    Attributes:
        exit_code: process exit code the CLI uses for this error.
        retryable: whether running the same step again may succeed.
    """

    exit_code = 1
    retryable = False


class InputError(CostloopError):
    """Bad input data: names the file, the row and the column where known."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.detail = message
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ConfigError(CostloopError):
    """Invalid configuration, settings file or workspace."""

    exit_code = 2


class NotFoundError(CostloopError):
    """A referenced object (opportunity, resource, period) does not exist."""

    exit_code = 2


class ExecutionError(CostloopError):
    """An external step failed (git, forge API, cloud API)."""

    exit_code = 1
