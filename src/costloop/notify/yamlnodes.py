"""YAML with line numbers, so every error in ``alerts.yaml`` names the line and the key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from costloop.core.errors import InputError

__all__ = ["Node", "Reader", "load_nodes"]


@dataclass
class Node:
    """A parsed YAML value and the 1-based line a user would look at for it.

    A block mapping or list under a key carries the key's line. ``raw`` is the text of
    a plain scalar as written (a port ``0587`` is not octal to a reader of the file).
    """

    value: Any
    line: int
    raw: str | None = None


def load_nodes(text: str, source: str) -> Node | None:
    """Parse YAML text into ``Node`` values (None for an empty document).

    Raises:
        InputError: the text is not valid YAML, or a mapping repeats a key.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
            file=source,
            row=None if mark is None else mark.line + 1,
        ) from None
    if root is None:
        return None
    return _convert(root, yaml.SafeLoader(""), source, None)


def _convert(node: yaml.Node, loader: yaml.SafeLoader, source: str, line: int | None) -> Node:
    at = node.start_mark.line + 1 if line is None else line
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Node] = {}
        for k, v in node.value:
            key = str(loader.construct_object(k))
            key_line = k.start_mark.line + 1
            if key in out:
                raise InputError(
                    f"{key}: duplicate key (first on line {out[key].line})",
                    file=source,
                    row=key_line,
                )
            block = isinstance(v, yaml.MappingNode | yaml.SequenceNode) and not v.flow_style
            out[key] = _convert(v, loader, source, key_line if block else None)
        return Node(out, at)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(v, loader, source, None) for v in node.value], at)
    raw = node.value if isinstance(node, yaml.ScalarNode) and not node.style else None
    return Node(loader.construct_object(node), at, raw)


class Reader:
    """Typed access to ``Node`` values; each failure is an InputError at the node's line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Node, path: str, message: str) -> InputError:
        """An InputError naming the file, the node's line and the dotted key path."""
        return InputError(f"{path}: {message}", file=self.source, row=node.line)

    def mapping(
        self, node: Node, path: str, allowed: Iterable[str] | None = None
    ) -> dict[str, Node]:
        """A mapping whose keys are all in ``allowed`` (any key when None)."""
        if not isinstance(node.value, dict):
            raise self.fail(node, path, "expected a mapping")
        if allowed is not None:
            allowed = sorted(allowed)
            unknown = sorted(set(node.value) - set(allowed))
            if unknown:
                raise self.fail(
                    node.value[unknown[0]],
                    f"{path}.{unknown[0]}",
                    f"unknown key (allowed: {', '.join(allowed)})",
                )
        return dict(node.value)

    def text(self, node: Node, path: str) -> str:
        """A non-empty string (a plain number is read as written)."""
        if isinstance(node.value, bool) or not isinstance(node.value, str | int):
            raise self.fail(node, path, f"expected a string, got {node.value!r}")
        text = node.raw if isinstance(node.value, int) and node.raw is not None else node.value
        text = str(text).strip()
        if not text:
            raise self.fail(node, path, "expected a non-empty string")
        return text

    def texts(self, node: Node, path: str) -> tuple[str, ...]:
        """A list of strings, or one string as a list of one."""
        if isinstance(node.value, list):
            if not node.value:
                raise self.fail(node, path, "expected at least one entry")
            return tuple(self.text(v, f"{path}[{i}]") for i, v in enumerate(node.value))
        return (self.text(node, path),)

    def flag(self, node: Node, path: str) -> bool:
        """A YAML boolean."""
        if not isinstance(node.value, bool):
            raise self.fail(node, path, "expected true or false")
        return node.value

    def integer(self, node: Node, path: str, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise self.fail(node, path, f"expected a whole number, got {node.value!r}")
        if not low <= node.value <= high:
            raise self.fail(node, path, f"expected a number from {low} to {high}")
        return node.value

    def amount(self, node: Node, path: str) -> Decimal:
        """A non-negative decimal amount (read from the text, never through a float)."""
        text = node.raw if node.raw is not None else node.value
        if isinstance(node.value, bool) or not isinstance(text, str | int | float):
            raise self.fail(node, path, f"expected a number, got {node.value!r}")
        try:
            value = Decimal(str(text).replace("_", ""))
        except InvalidOperation:
            raise self.fail(node, path, f"expected a number, got {text!r}") from None
        if not value.is_finite() or value < 0:
            raise self.fail(node, path, "expected a number of 0 or more")
        return value
