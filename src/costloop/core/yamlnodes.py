"""YAML with line numbers: the reader behind every hand-written configuration file.

``load_nodes`` parses a document into ``Node`` values that remember the line a user
looks at for them, and refuses a mapping that repeats a key. ``Reader`` turns nodes into
typed values; each failure is an ``InputError`` naming the file, the line and the dotted
key path (``budgets[2].amount``). The allocation, budgets and alerts files share it; a
file format that words its messages differently subclasses ``Reader`` and sets the
class attributes that describe its conventions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import yaml

from costloop.core.errors import InputError

__all__ = ["Node", "Reader", "load_nodes", "written"]


@dataclass(slots=True, repr=False)
class Node:
    """A parsed YAML value and the 1-based line a user would look at for it.

    A block mapping or list under a key carries the key's line. ``raw`` is the text of
    a plain scalar as written: ``012345670123`` is an account id and ``0587`` a port,
    not YAML 1.1 octal numbers, and ``9000.10`` is an exact amount, not a float.
    """

    value: Any
    line: int
    raw: str | None = None

    def __repr__(self) -> str:
        # Messages quote values ("got {...}"): show what the user wrote, not the wrapper.
        return repr(self.value)


def load_nodes(text: str, source: str) -> Node | None:
    """Parse YAML text into ``Node`` values (None for an empty document).

    Args:
        text: the document.
        source: the file name errors report.

    Raises:
        InputError: the text is not valid YAML (with the line of the problem when the
            parser knows it), or a mapping repeats a key (the repeat's line, naming the
            line of the first).
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


def written(node: Node) -> str:
    """A scalar as the user wrote it: the plain text of a number, else the value as text."""
    if node.raw is not None and not isinstance(node.value, str):
        return node.raw
    return str(node.value)


class Reader:
    """Typed access to ``Node`` values; each failure is an InputError at the node's line.

    The class attributes describe a file format's conventions; the defaults are those
    of the alerts file.

    Attributes:
        source: the file name errors report.
        text_types: value types ``text`` accepts (numbers are read as written).
        text_expected: start of the message for a value of another type.
        text_trimmed: whether ``text`` strips spaces and refuses an empty string.
        text_empty: the message for an empty string.
        texts_nonempty: whether ``texts`` refuses an empty list.
        keys_as_written: whether an unknown-key error names the first unknown key in
            file order and lists the allowed keys in the order given (else both sorted).
    """

    text_types: ClassVar[tuple[type, ...]] = (str, int)
    text_expected: ClassVar[str] = "expected a string"
    text_trimmed: ClassVar[bool] = True
    text_empty: ClassVar[str] = "expected a non-empty string"
    texts_nonempty: ClassVar[bool] = True
    keys_as_written: ClassVar[bool] = False

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Node, path: str, message: str) -> InputError:
        """An InputError naming the file, the node's line and the dotted key path."""
        return InputError(f"{path}: {message}", file=self.source, row=node.line)

    def mapping(
        self, node: Node, path: str, allowed: Iterable[str] | None = None
    ) -> dict[str, Node]:
        """A mapping whose keys are all in ``allowed`` (any key when None).

        Raises:
            InputError: not a mapping (at the node), or an unknown key (at its value).
        """
        if not isinstance(node.value, dict):
            raise self.fail(node, path, "expected a mapping")
        if allowed is not None:
            if self.keys_as_written:
                listed = list(allowed)
                unknown = [key for key in node.value if key not in listed]
            else:
                listed = sorted(allowed)
                unknown = sorted(set(node.value) - set(listed))
            if unknown:
                raise self.fail(
                    node.value[unknown[0]],
                    f"{path}.{unknown[0]}",
                    f"unknown key (allowed: {', '.join(listed)})",
                )
        return dict(node.value)

    def text(self, node: Node, path: str) -> str:
        """A string; a plain number is read as written (leading zeros kept).

        Raises:
            InputError: another type, or (when ``text_trimmed``) only spaces.
        """
        if isinstance(node.value, bool) or not isinstance(node.value, self.text_types):
            raise self.fail(node, path, f"{self.text_expected}, got {node.value!r}")
        text = written(node)
        if not self.text_trimmed:
            return text
        if not text.strip():
            raise self.fail(node, path, self.text_empty)
        return text.strip()

    def texts(self, node: Node, path: str) -> tuple[str, ...]:
        """A list of strings, or one string as a list of one (items named ``path[i]``).

        Raises:
            InputError: an item is not a string, or (when ``texts_nonempty``) the list
                is empty.
        """
        if isinstance(node.value, list):
            if not node.value and self.texts_nonempty:
                raise self.fail(node, path, "expected at least one entry")
            return tuple(self.text(v, f"{path}[{i}]") for i, v in enumerate(node.value))
        return (self.text(node, path),)

    def flag(self, node: Node, path: str) -> bool:
        """A YAML boolean.

        Raises:
            InputError: anything but ``true`` or ``false``.
        """
        if not isinstance(node.value, bool):
            raise self.fail(node, path, "expected true or false")
        return node.value

    def integer(self, node: Node, path: str, low: int, high: int) -> int:
        """An integer in ``[low, high]``.

        Raises:
            InputError: not a whole number, or out of range.
        """
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise self.fail(node, path, f"expected a whole number, got {node.value!r}")
        if not low <= node.value <= high:
            raise self.fail(node, path, f"expected a number from {low} to {high}")
        return node.value

    def amount(self, node: Node, path: str) -> Decimal:
        """A decimal of 0 or more, read from the text as written (never through a float).

        Raises:
            InputError: not a number, not finite, or negative.
        """
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

    def positive(self, node: Node, path: str, what: str) -> Decimal:
        """A decimal above zero, read from the text as written (``9000.10`` stays exact).

        Args:
            node: the value.
            path: its key path.
            what: what the number is, for messages (``an amount``, ``a percentage``).

        Raises:
            InputError: not a number, not finite, or zero or less.
        """
        value = node.value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(node, path, f"expected {what}, got {value!r}")
        text = written(node).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise self.fail(node, path, f"expected {what}, got {value!r}") from None
        if not number.is_finite() or number <= 0:
            raise self.fail(node, path, f"{what} must be greater than zero, got {text}")
        return number
