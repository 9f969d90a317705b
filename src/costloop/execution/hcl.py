"""A small, format-preserving HCL scanner: tokens with offsets, blocks and attributes.

It understands what matters to find and edit Terraform blocks without moving a byte:
``#``, ``//`` and ``/* */`` comments, quoted strings with escapes and ``${ }`` / ``%{ }``
template sequences (which may hold nested strings and braces), heredocs (``<<EOF``
and ``<<-EOF``), and nested blocks, maps, lists and calls. It does not evaluate
expressions: an attribute's value is the token span after ``=``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from costloop.core.errors import ExecutionError

__all__ = ["Attribute", "Block", "Body", "Token", "line_of", "parse", "string_value", "tokenize"]

_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9][0-9A-Za-z_.]*")
_OPERATORS = ("==", "!=", "<=", ">=", "=>", "&&", "||", "...")
_OPEN, _CLOSE = frozenset("{[("), frozenset("}])")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class Token:
    """One lexical token: kind (``ident``, ``string``, ``heredoc``, ``comment``,
    ``newline``, ``number``, ``punct``), its source text and ``[start, end)`` offsets."""

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Attribute:
    """``name = value``: ``value`` holds the expression's tokens (comments excluded)."""

    name: str
    start: int
    value: tuple[Token, ...]

    @property
    def value_start(self) -> int:
        """Offset of the expression's first character."""
        return self.value[0].start

    @property
    def value_end(self) -> int:
        """Offset just past the expression's last character."""
        return self.value[-1].end


@dataclass(frozen=True)
class Block:
    """``type "label" ... { body }``; ``end`` is just past the closing brace."""

    type: str
    labels: tuple[str, ...]
    start: int
    open: int
    end: int
    body: Body


@dataclass(frozen=True)
class Body:
    """The attributes and nested blocks of a file or a block, in source order."""

    attributes: tuple[Attribute, ...] = ()
    blocks: tuple[Block, ...] = ()

    def attribute(self, name: str) -> Attribute | None:
        """The attribute called ``name``, if set."""
        return next((a for a in self.attributes if a.name == name), None)


def line_of(text: str, offset: int) -> int:
    """1-based line number of ``offset``."""
    return text.count("\n", 0, offset) + 1


def _fail(text: str, offset: int, message: str, source: str) -> ExecutionError:
    return ExecutionError(f"{source}:{line_of(text, offset)}: {message}")


def _skip_string(text: str, i: int, source: str) -> int:
    """Index just past the string opening at ``text[i] == '"'``."""
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
        elif c == '"':
            return j + 1
        elif c == "\n":
            break
        elif text.startswith(("$${", "%%{"), j):
            j += 3
        elif text.startswith(("${", "%{"), j):
            j = _skip_template(text, j + 2, source)
        else:
            j += 1
    raise _fail(text, i, "unterminated string", source)


def _skip_template(text: str, j: int, source: str) -> int:
    """Index just past the ``}`` closing a template sequence whose body starts at ``j``."""
    start, depth = j, 1
    while j < len(text):
        c = text[j]
        if c == '"':
            j = _skip_string(text, j, source)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise _fail(text, start, "unterminated ${ ... } in a string", source)


def _skip_heredoc(text: str, match: re.Match[str], source: str) -> int:
    """Index just past the heredoc's closing marker (before its newline)."""
    marker = match.group(2)
    pos = match.end()
    while pos <= len(text):
        nl = text.find("\n", pos)
        line_end = len(text) if nl == -1 else nl
        if text[pos:line_end].strip() == marker:
            return line_end
        if nl == -1:
            break
        pos = nl + 1
    raise _fail(text, match.start(), f"heredoc <<{marker} is never closed", source)


def tokenize(text: str, source: str = "<hcl>") -> list[Token]:
    """Split HCL source into tokens; whitespace other than newlines is dropped.

    Raises:
        ExecutionError: unterminated string, comment, template or heredoc.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            kind, end = "newline", i + 1
        elif c in " \t\r\f\ufeff":
            i += 1
            continue
        elif c == "#" or text.startswith("//", i):
            nl = text.find("\n", i)
            kind, end = "comment", n if nl == -1 else nl
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close == -1:
                raise _fail(text, i, "unterminated /* comment", source)
            kind, end = "comment", close + 2
        elif c == '"':
            kind, end = "string", _skip_string(text, i, source)
        elif (heredoc := _HEREDOC.match(text, i)) is not None:
            kind, end = "heredoc", _skip_heredoc(text, heredoc, source)
        elif (ident := _IDENT.match(text, i)) is not None:
            kind, end = "ident", ident.end()
        elif (number := _NUMBER.match(text, i)) is not None:
            kind, end = "number", number.end()
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), c)
            kind, end = "punct", i + len(op)
        tokens.append(Token(kind, text[i:end], i, end))
        i = end
    return tokens


def string_value(token: Token) -> str | None:
    """The value of a literal string token; None if it is not a string or interpolates."""
    if token.kind != "string":
        return None
    raw, out, j = token.text[1:-1], [], 0
    while j < len(raw):
        if raw.startswith(("$${", "%%{"), j):
            out.append(raw[j + 1 : j + 3])
            j += 3
        elif raw.startswith(("${", "%{"), j):
            return None
        elif raw[j] == "\\" and j + 1 < len(raw):
            esc = raw[j + 1]
            if esc == "u" and j + 6 <= len(raw):
                out.append(chr(int(raw[j + 2 : j + 6], 16)))
                j += 6
                continue
            out.append(_ESCAPES.get(esc, esc))
            j += 2
        else:
            out.append(raw[j])
            j += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.tokens = [t for t in tokenize(text, source) if t.kind != "comment"]
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def error(self, token: Token | None, message: str) -> ExecutionError:
        offset = len(self.text) if token is None else token.start
        return _fail(self.text, offset, message, self.source)

    def body(self, nested: bool) -> Body:
        attributes: list[Attribute] = []
        blocks: list[Block] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "newline":
                self.i += 1
                continue
            if tok.text == "}" and nested:
                return Body(tuple(attributes), tuple(blocks))
            if tok.kind != "ident":
                raise self.error(tok, f"expected an attribute or block name, found {tok.text!r}")
            self.i += 1
            nxt = self.peek()
            if nxt is not None and nxt.text == "=":
                self.i += 1
                attributes.append(Attribute(tok.text, tok.start, self.expression(nested)))
            else:
                blocks.append(self.block(tok))
        if nested:
            raise self.error(None, "a block is never closed (missing '}')")
        return Body(tuple(attributes), tuple(blocks))

    def expression(self, nested: bool) -> tuple[Token, ...]:
        out: list[Token] = []
        depth = 0
        while (tok := self.peek()) is not None:
            if depth == 0 and (tok.kind == "newline" or (nested and tok.text == "}")):
                break
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _CLOSE:
                depth -= 1
            if tok.kind != "newline":
                out.append(tok)
            self.i += 1
        if not out:
            raise self.error(tok, "an attribute has no value")
        return tuple(out)

    def block(self, type_token: Token) -> Block:
        labels: list[str] = []
        while (tok := self.peek()) is not None and tok.text != "{":
            if tok.kind == "string":
                value = string_value(tok)
                labels.append(tok.text if value is None else value)
            elif tok.kind == "ident":
                labels.append(tok.text)
            else:
                raise self.error(tok, f"unexpected {tok.text!r} after block {type_token.text}")
            self.i += 1
        if tok is None:
            raise self.error(None, f"block {type_token.text} has no body")
        self.i += 1
        body = self.body(nested=True)
        close = self.tokens[self.i]
        self.i += 1
        return Block(type_token.text, tuple(labels), type_token.start, tok.start, close.end, body)


def parse(text: str, source: str = "<hcl>") -> Body:
    """Parse a whole HCL file into its top-level body.

    Raises:
        ExecutionError: the file is not valid enough to edit safely (names the line).
    """
    return _Parser(text, source).body(nested=False)
