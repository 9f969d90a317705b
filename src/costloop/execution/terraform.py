"""Locate Terraform resources by address in a tree of ``.tf`` files, module-aware.

``aws_instance.web``, ``aws_instance.web[0]`` / ``["key"]`` (count / for_each) and
``module.app.aws_instance.web`` (a local module's source folder) are found. The
``iac_file`` hint, when given, is tried first; otherwise a root-module address must
match exactly one block outside local module folders, or the error lists every
candidate. Edits live in ``costloop.execution.tfedit``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from costloop.core.errors import ExecutionError
from costloop.execution.hcl import Block, Body, line_of, parse, string_value

__all__ = ["Address", "ResourceLocation", "TerraformTree", "parse_address"]

_SEGMENT = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)(\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\])?')


@dataclass(frozen=True)
class Address:
    """A parsed resource address: module path, mode, type, name and instance key."""

    modules: tuple[str, ...]
    mode: str
    type: str
    name: str
    index: str | None
    text: str

    @property
    def block_type(self) -> str:
        """``resource`` or ``data``: the HCL block keyword."""
        return "data" if self.mode == "data" else "resource"

    @property
    def reference(self) -> str:
        """How other code in the same module refers to it (``aws_instance.web``)."""
        prefix = "data." if self.mode == "data" else ""
        return f"{prefix}{self.type}.{self.name}"


def parse_address(text: str) -> Address:
    """Parse ``[module.NAME[KEY].]...[data.]TYPE.NAME[KEY]``.

    Raises:
        ExecutionError: the text is not a resource address.
    """
    segments: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(text):
        m = _SEGMENT.match(text, pos)
        if m is None:
            raise ExecutionError(f"not a Terraform resource address: {text!r}")
        segments.append((m.group(1), m.group(2)[1:-1] if m.group(2) else None))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ".":
                raise ExecutionError(f"not a Terraform resource address: {text!r}")
            pos += 1
    modules: list[str] = []
    while len(segments) >= 2 and segments[0][0] == "module":
        modules.append(segments[1][0])
        segments = segments[2:]
    mode = "managed"
    if segments and segments[0][0] == "data":
        mode, segments = "data", segments[1:]
    if len(segments) != 2 or segments[0][1] is not None:
        raise ExecutionError(f"not a Terraform resource address: {text!r}")
    return Address(tuple(modules), mode, segments[0][0], segments[1][0], segments[1][1], text)


@dataclass(frozen=True)
class ResourceLocation:
    """Where a resource block is: file (relative to the tree root), text and block."""

    address: Address
    path: str
    text: str
    block: Block
    module_dir: str
    warnings: tuple[str, ...] = ()

    @property
    def line(self) -> int:
        """1-based line of the block's first line."""
        return line_of(self.text, self.block.start)

    @property
    def where(self) -> str:
        """``file:line`` for messages."""
        return f"{self.path}:{self.line}"


class TerraformTree:
    """The ``.tf`` files under a root folder, parsed on demand (hidden folders skipped)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._parsed: dict[str, tuple[str, Body]] = {}
        self.unreadable: dict[str, str] = {}

    @cached_property
    def files(self) -> tuple[str, ...]:
        """Every ``.tf`` file, as sorted POSIX paths relative to the root."""
        out = []
        for path in self.root.rglob("*.tf"):
            rel = path.relative_to(self.root)
            if not any(part.startswith(".") for part in rel.parts) and path.is_file():
                out.append(rel.as_posix())
        return tuple(sorted(out))

    def read(self, rel: str) -> tuple[str, Body]:
        """The exact text (line endings kept) and parsed body of one file.

        Raises:
            ExecutionError: the file is not UTF-8 or cannot be parsed.
        """
        if rel not in self._parsed:
            try:
                text = (self.root / rel).read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ExecutionError(f"{rel}: not UTF-8 text ({exc.reason})") from None
            self._parsed[rel] = (text, parse(text, rel))
        return self._parsed[rel]

    def _bodies(self, files: Iterable[str]) -> Iterator[tuple[str, Body]]:
        """Parsed files; a file that cannot be parsed is noted in ``unreadable``."""
        for rel in files:
            try:
                yield rel, self.read(rel)[1]
            except ExecutionError as exc:
                self.unreadable[rel] = str(exc)

    def files_in(self, folder: str) -> list[str]:
        """The ``.tf`` files directly in ``folder`` (one Terraform module)."""
        return [f for f in self.files if _parent(f) == folder]

    @cached_property
    def module_calls(self) -> tuple[tuple[str, str, str, str], ...]:
        """Every local module call: (calling file, module name, source, source folder)."""
        calls = []
        for rel, body in self._bodies(self.files):
            for block in body.blocks:
                if block.type != "module" or len(block.labels) != 1:
                    continue
                attr = block.body.attribute("source")
                source = string_value(attr.value[0]) if attr and len(attr.value) == 1 else None
                if source is None or not source.startswith(("./", "../")):
                    calls.append((rel, block.labels[0], source or "?", ""))
                    continue
                target = (self.root / _parent(rel) / source).resolve()
                inside = _inside(target, self.root)
                folder = target.relative_to(self.root).as_posix() if inside else ""
                calls.append((rel, block.labels[0], source, folder))
        return tuple(calls)

    def find_blocks(self, folder: str | None, address: Address) -> list[tuple[str, Block]]:
        """Blocks declaring ``address``'s type and name, in one folder or the whole tree."""
        files = self.files if folder is None else self.files_in(folder)
        hits = []
        for rel, body in self._bodies(files):
            for block in body.blocks:
                if block.type == address.block_type and block.labels == (
                    address.type,
                    address.name,
                ):
                    hits.append((rel, block))
        return hits

    def locate(self, address_text: str, file_hint: str | None = None) -> ResourceLocation:
        """Find the block declaring a resource address.

        Raises:
            ExecutionError: not found, ambiguous, or inside a remote module.
        """
        address = parse_address(address_text)
        if file_hint and file_hint in self.files:
            folder = _parent(file_hint)
            hits = [h for h in self.find_blocks(folder, address) if h[0] == file_hint]
            if hits:
                return self._location(address, *hits[0])
        if address.modules:
            starts = [_parent(file_hint)] if file_hint else None
            folders = self._module_folders(address, starts)
            hits = [h for f in folders for h in self.find_blocks(f, address)]
        else:
            module_dirs = {c[3] for c in self.module_calls if c[3]}
            hits = [h for h in self.find_blocks(None, address) if _parent(h[0]) not in module_dirs]
        if not hits:
            skipped = "".join(f"; skipped {e}" for e in self.unreadable.values())
            raise ExecutionError(
                f"no block for {address.text} ({address.block_type} "
                f'"{address.type}" "{address.name}") under {self.root}{skipped}'
            )
        if len(hits) > 1:
            where = ", ".join(f"{rel}:{line_of(self.read(rel)[0], b.start)}" for rel, b in hits)
            raise ExecutionError(
                f"{address.text} is declared in several places ({where}); "
                "set the finding's iac_file to pick one"
            )
        return self._location(address, *hits[0])

    def _module_folders(self, address: Address, starts: list[str] | None) -> list[str]:
        """Folders holding the module at the end of ``address``'s module path."""
        first = address.modules[0]
        callers = {c[0] for c in self.module_calls if c[1] == first}
        current = sorted(starts or {_parent(c) for c in callers})
        for name in address.modules:
            following = []
            for folder in current:
                for rel, mod, source, target in self.module_calls:
                    if mod != name or _parent(rel) != folder:
                        continue
                    if not target:
                        raise ExecutionError(
                            f"module.{name} in {rel} uses the source {source!r}, not a folder "
                            "in this repository; change the resource where that module lives"
                        )
                    following.append(target)
            current = sorted(set(following))
        return current

    def _location(self, address: Address, rel: str, block: Block) -> ResourceLocation:
        text = self.read(rel)[0]
        warnings = []
        folder = _parent(rel)
        users = [c for c in self.module_calls if c[3] == folder]
        if address.modules and len(users) > 1:
            names = ", ".join(f"module.{c[1]} ({c[0]})" for c in users)
            warnings.append(
                f"{folder} is used by {len(users)} module calls ({names}); "
                "the edit changes all of them"
            )
        repeat = next((m for m in ("count", "for_each") if block.body.attribute(m)), None)
        if address.index is not None and repeat is None:
            warnings.append(f"{address.text} has an index but the block sets no count/for_each")
        if repeat is not None:
            warnings.append(f"the block uses {repeat}: the edit applies to every instance")
        return ResourceLocation(address, rel, text, block, folder, tuple(warnings))


def _parent(rel: str) -> str:
    return Path(rel).parent.as_posix()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
