"""Format-preserving Terraform edits: set one literal attribute, or remove a resource.

Only the bytes that must change are touched: setting ``instance_type`` rewrites the
quoted string and nothing else (alignment, comments and blank lines stay); removing a
resource removes its block, the comment lines directly above it and one blank line.
Edits refuse, with the reason and the place, when the value is not a literal string
(a variable, a local, an expression), differs from the expected old value, or when
other code still references the resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from costloop.core.errors import ExecutionError
from costloop.core.findings import Change, ChangeAction
from costloop.execution.hcl import Attribute, Body, line_of, string_value, tokenize
from costloop.execution.terraform import ResourceLocation, TerraformTree
from costloop.execution.textdiff import unified_diff

__all__ = ["FileEdit", "TerraformEdit", "edit_for_change", "remove_resource", "set_attribute"]


@dataclass(frozen=True)
class FileEdit:
    """A whole-file rewrite: ``path`` is POSIX, relative to the tree root."""

    path: str
    before: str
    after: str

    def diff(self) -> str:
        """A git-style unified diff (``a/``, ``b/`` prefixes, 3 lines of context)."""
        return unified_diff(self.before, self.after, self.path)


@dataclass(frozen=True)
class TerraformEdit:
    """One reviewable change to one resource block.

    Attributes:
        location: the resource block that is changed.
        edit: the file rewrite.
        action: ``set`` (one attribute) or ``delete`` (the whole block).
        description: e.g. ``change instance_type from m5.2xlarge to m5.xlarge``.
        warnings: what a reviewer must know (count/for_each, shared modules).
    """

    location: ResourceLocation
    edit: FileEdit
    action: ChangeAction
    description: str
    warnings: tuple[str, ...] = ()


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def _find_attribute(loc: ResourceLocation, path: str) -> Attribute:
    """The attribute ``a`` or ``nested_block.a`` inside the resource block."""
    body: Body = loc.block.body
    *blocks, name = path.split(".")
    for part in blocks:
        nested = [b for b in body.blocks if b.type == part]
        if len(nested) != 1:
            count = "no" if not nested else str(len(nested))
            raise ExecutionError(
                f"{loc.address.text} ({loc.where}) has {count} {part} block(s); "
                f"cannot pick where to set {path}"
            )
        body = nested[0].body
    attr = body.attribute(name)
    if attr is None:
        raise ExecutionError(
            f"{loc.address.text} ({loc.where}) does not set {path} (a provider default?); "
            "add it by hand"
        )
    return attr


def _declaration(tree: TerraformTree, loc: ResourceLocation, kind: str, name: str) -> str:
    """Where ``var.name`` / ``local.name`` is declared in the resource's module."""
    for rel in tree.files_in(loc.module_dir):
        text, body = tree.read(rel)
        for block in body.blocks:
            if kind == "var" and block.type == "variable" and block.labels == (name,):
                default = block.body.attribute("default")
                where = f"declared in {rel}:{line_of(text, block.start)}"
                if default is None:
                    return where + " without a default"
                value = text[default.value_start : default.value_end]
                return where + f" with default {value}"
            if kind == "local" and block.type == "locals":
                attr = block.body.attribute(name)
                if attr is not None:
                    value = text[attr.value_start : attr.value_end]
                    return f"set in {rel}:{line_of(text, attr.start)} to {value}"
    return "whose declaration was not found in the module"


def set_attribute(
    tree: TerraformTree,
    address: str,
    attribute: str,
    new_value: str,
    *,
    old_value: str | None = None,
    file_hint: str | None = None,
) -> TerraformEdit:
    """Set a literal string attribute of a resource (``a`` or ``nested_block.a``).

    Raises:
        ExecutionError: the resource or attribute is missing, the value is a variable,
            local or other expression, or it differs from ``old_value``.
    """
    loc = tree.locate(address, file_hint)
    attr = _find_attribute(loc, attribute)
    text = loc.text
    where = f"{loc.path}:{line_of(text, attr.start)}"
    literal = string_value(attr.value[0]) if len(attr.value) == 1 else None
    if literal is None:
        expr = text[attr.value_start : attr.value_end]
        tokens = attr.value
        if len(tokens) == 3 and tokens[0].text in ("var", "local") and tokens[1].text == ".":
            decl = _declaration(tree, loc, tokens[0].text, tokens[2].text)
            raise ExecutionError(
                f"{attribute} of {address} ({where}) comes from {expr}, {decl}; costloop "
                "edits only literal values: change it there or where the value is passed "
                "in (a .tfvars file or the module call)"
            )
        raise ExecutionError(
            f"{attribute} of {address} ({where}) is the expression `{expr}`, "
            "not a literal string; change it by hand"
        )
    if old_value is not None and literal != old_value:
        raise ExecutionError(
            f'{attribute} of {address} ({where}) is "{literal}" in the code, not "{old_value}" '
            "as the finding says; the code or the resource changed: re-run discovery"
        )
    if literal == new_value:
        raise ExecutionError(f'{attribute} of {address} ({where}) is already "{new_value}"')
    token = attr.value[0]
    after = text[: token.start] + _quote(new_value) + text[token.end :]
    return TerraformEdit(
        location=loc,
        edit=FileEdit(loc.path, text, after),
        action=ChangeAction.SET,
        description=f"change {attribute} from {literal} to {new_value}",
        warnings=loc.warnings,
    )


def _references(tree: TerraformTree, loc: ResourceLocation) -> list[str]:
    """``file:line: code`` of every reference to the resource in its module."""
    pattern = re.compile(r"(?<![\w.-])" + re.escape(loc.address.reference) + r"(?![\w-])")
    found = []
    for rel in tree.files_in(loc.module_dir):
        text = tree.read(rel)[0]
        masked = list(text)
        spans = [(t.start, t.end) for t in tokenize(text, rel) if t.kind == "comment"]
        if rel == loc.path:
            spans.append((loc.block.start, loc.block.end))
        for start, end in spans:
            masked[start:end] = [ch if ch == "\n" else " " for ch in text[start:end]]
        clean = "".join(masked)
        for m in pattern.finditer(clean):
            line = line_of(text, m.start())
            found.append(f"{rel}:{line}: {text.splitlines()[line - 1].strip()}")
    return found


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def remove_resource(
    tree: TerraformTree, address: str, *, file_hint: str | None = None
) -> TerraformEdit:
    """Remove a resource block, its directly preceding comments and one blank line.

    Raises:
        ExecutionError: the resource is missing, is one instance of a counted
            resource, shares its lines with other code, or is still referenced.
    """
    loc = tree.locate(address, file_hint)
    if loc.address.index is not None:
        raise ExecutionError(
            f"{address} is one instance of {loc.address.reference} ({loc.where}); removing "
            "the block would destroy every instance: lower count / for_each by hand"
        )
    refs = _references(tree, loc)
    if refs:
        raise ExecutionError(
            f"{loc.address.reference} ({loc.where}) is still referenced; remove or change "
            "these first:\n  " + "\n  ".join(refs)
        )
    text, block = loc.text, loc.block
    start = _line_start(text, block.start)
    nl = text.find("\n", block.end)
    end = len(text) if nl == -1 else nl + 1
    rest = text[block.end : end].strip()
    if text[start : block.start].strip() or (rest and not rest.startswith(("#", "//"))):
        raise ExecutionError(f"{address} ({loc.where}) shares a line with other code")
    while start > 0:
        prev = _line_start(text, start - 1)
        if not text[prev:start].lstrip().startswith(("#", "//")):
            break
        start = prev
    nl = text.find("\n", end)
    following = text[end : len(text) if nl == -1 else nl + 1]
    if end < len(text) and not following.strip():
        end += len(following)
    elif start > 0 and not text[_line_start(text, start - 1) : start].strip():
        start = _line_start(text, start - 1)
    after = text[:start] + text[end:]
    return TerraformEdit(
        location=loc,
        edit=FileEdit(loc.path, text, after),
        action=ChangeAction.DELETE,
        description=f"remove {loc.address.text}",
        warnings=loc.warnings,
    )


def edit_for_change(
    tree: TerraformTree, address: str, change: Change, file_hint: str | None = None
) -> TerraformEdit:
    """The Terraform edit that carries out a finding's ``Change``."""
    if change.action is ChangeAction.DELETE:
        return remove_resource(tree, address, file_hint=file_hint)
    if change.attribute is None or change.new_value is None:
        raise ExecutionError(f"the change for {address} names no attribute or new value")
    return set_attribute(
        tree,
        address,
        change.attribute,
        change.new_value,
        old_value=change.old_value,
        file_hint=file_hint,
    )
