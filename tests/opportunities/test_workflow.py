"""The documented transition table is the one the code enforces."""

from __future__ import annotations

import re

import costloop.opportunities.workflow as workflow
from costloop.opportunities import TRANSITIONS, Status


def test_docstring_table_matches_transitions() -> None:
    doc = workflow.__doc__ or ""
    table: dict[Status, frozenset[Status]] = {}
    for line in doc.splitlines():
        m = re.match(r"^    ([a-z_]+) {2,}(.*)$", line)
        if m and m.group(1) in {s.value for s in Status}:
            targets = re.sub(r"\([^)]*\)", "", m.group(2))
            table[Status(m.group(1))] = frozenset(
                Status(t.strip()) for t in targets.split(",") if t.strip()
            )
    assert table == dict(TRANSITIONS)


def test_every_status_is_reachable_from_open() -> None:
    seen, todo = {Status.OPEN}, [Status.OPEN]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(Status)
