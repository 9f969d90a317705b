"""Unified diffs: correct for any change, hunks slid to natural boundaries."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from costloop.execution.textdiff import unified_diff

LINES = st.lists(st.sampled_from(["}\n", "\n", "a\n", "{\n", "x = 1\n"]), max_size=20)
HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def _apply(before: str, diff: str) -> str:
    old = before.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for line in diff.splitlines(keepends=True)[2:]:
        m = HUNK.match(line)
        if m:
            start, length = int(m.group(1)), int(m.group(2) or 1)
            target = start - 1 if length else start
            out += old[pos:target]
            pos = target
        elif line[0] == " ":
            out.append(old[pos])
            pos += 1
        elif line[0] == "-":
            pos += 1
        elif line[0] == "+":
            out.append(line[1:])
    return "".join(out + old[pos:])


@settings(max_examples=300, deadline=None)
@given(LINES, LINES)
def test_diff_applies_back_to_the_new_text(a: list[str], b: list[str]) -> None:
    before, after = "".join(a), "".join(b)
    diff = unified_diff(before, after, "f.tf")
    assert (diff == "") == (before == after)
    assert _apply(before, diff) == after


def test_removed_block_is_shown_whole_not_shifted() -> None:
    before = "a {\n}\n\nb {\n}\n\nc {\n}\n"
    after = "a {\n}\n\nc {\n}\n"
    assert unified_diff(before, after, "m.tf") == (
        "--- a/m.tf\n+++ b/m.tf\n@@ -1,8 +1,5 @@\n a {\n }\n \n-b {\n-}\n-\n c {\n }\n"
    )


def test_missing_final_newline_is_marked() -> None:
    diff = unified_diff("x\n", "y", "n.tf")
    assert diff.endswith("-x\n+y\n\\ No newline at end of file\n")
