"""Git-style unified diffs whose hunks slide to natural boundaries, like git's.

``difflib`` may report a removed block as starting one line early (the closing brace
of the block above) whenever the lines around it repeat. Like git, pure deletions and
insertions are slid down as far as the text allows, so removing a Terraform resource
shows exactly its lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

__all__ = ["unified_diff"]

Opcode = tuple[str, int, int, int, int]


def _slide(a: list[str], b: list[str], ops: Sequence[Opcode]) -> list[Opcode]:
    """Move each pure delete/insert down while the next equal line repeats its first."""
    out = list(ops)
    k = 0
    while k < len(out) - 1:
        tag, i1, i2, j1, j2 = out[k]
        nxt = out[k + 1]
        k += 1
        if tag not in ("delete", "insert") or nxt[0] != "equal":
            continue
        lines, lo, hi, limit = (a, i1, i2, nxt[2]) if tag == "delete" else (b, j1, j2, nxt[4])
        s = 0
        while hi + s < limit and lines[lo + s] == lines[hi + s]:
            s += 1
        if s == 0:
            continue
        out[k - 1] = (tag, i1 + s, i2 + s, j1 + s, j2 + s)
        out[k] = ("equal", nxt[1] + s, nxt[2], nxt[3] + s, nxt[4])
        if k >= 2 and out[k - 2][0] == "equal":
            p = out[k - 2]
            out[k - 2] = ("equal", p[1], p[2] + s, p[3], p[4] + s)
        else:
            out.insert(k - 1, ("equal", i1, i1 + s, j1, j1 + s))
            k += 1
    return [op for op in out if op[1] != op[2] or op[3] != op[4]]


def _group(ops: list[Opcode], context: int) -> list[list[Opcode]]:
    """Hunks of opcodes with ``context`` equal lines around changes (as difflib)."""
    if ops and ops[0][0] == "equal":
        t, i1, i2, j1, j2 = ops[0]
        ops[0] = (t, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if ops and ops[-1][0] == "equal":
        t, i1, i2, j1, j2 = ops[-1]
        ops[-1] = (t, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for t, i1, i2, j1, j2 in ops:
        if t == "equal" and i2 - i1 > 2 * context:
            group.append((t, i1, i1 + context, j1, j1 + context))
            groups.append(group)
            group = []
            i1, j1 = i2 - context, j2 - context
        group.append((t, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def _line(prefix: str, text: str) -> str:
    if text.endswith("\n"):
        return prefix + text
    return prefix + text + "\n\\ No newline at end of file\n"


def unified_diff(before: str, after: str, path: str, context: int = 3) -> str:
    """The unified diff of one file's change, with ``a/`` and ``b/`` prefixes."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    ops = _slide(a, b, SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
    hunks = _group(ops, context)
    if not hunks:
        return ""
    out = [f"--- a/{path}\n", f"+++ b/{path}\n"]
    for group in hunks:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [_line(" ", x) for x in a[i1:i2]]
                continue
            out += [_line("-", x) for x in a[i1:i2]]
            out += [_line("+", x) for x in b[j1:j2]]
    return "".join(out)
