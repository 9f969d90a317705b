"""The shared line-aware YAML reader (costloop.core.yamlnodes)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costloop.core.errors import InputError
from costloop.core.yamlnodes import Node, Reader, load_nodes


def _root(text: str) -> Node:
    root = load_nodes(text, "x.yaml")
    assert root is not None
    return root


def test_a_repeated_key_names_both_lines() -> None:
    text = "a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n"
    with pytest.raises(InputError) as err:
        load_nodes(text, "conf.yaml")
    assert err.value.file == "conf.yaml"
    assert err.value.row == 5
    assert "c: duplicate key (first on line 3)" in str(err.value)


def test_a_repeated_block_key_points_at_the_first_key_line() -> None:
    text = "top:\n  x: 1\nother: 2\ntop:\n  y: 2\n"
    with pytest.raises(InputError) as err:
        load_nodes(text, "conf.yaml")
    assert err.value.row == 4
    assert "top: duplicate key (first on line 1)" in str(err.value)


def test_plain_scalars_keep_their_text() -> None:
    root = _root('account: 012345670123\nport: 0587\namount: 9000.10\nname: "0587"\n')
    body = Reader("x.yaml").mapping(root, "root")
    assert body["account"].raw == "012345670123"
    assert body["port"].raw == "0587"
    assert body["amount"].raw == "9000.10"
    assert body["name"].raw is None  # quoted: a string already
    r = Reader("x.yaml")
    assert r.text(body["account"], "account") == "012345670123"
    assert r.text(body["port"], "port") == "0587"
    assert r.amount(body["amount"], "amount") == Decimal("9000.10")
    assert str(r.positive(body["amount"], "amount", "an amount")) == "9000.10"


def test_lines_of_block_values_are_their_keys_lines() -> None:
    root = _root("\n\nteams:\n  - a\n  - b\nflow: [1, 2]\n")
    assert root.value["teams"].line == 3
    assert [n.line for n in root.value["teams"].value] == [4, 5]
    assert root.value["flow"].line == 6


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(InputError) as err:
        load_nodes("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    assert err.value.file == "bad.yaml"
    assert err.value.row == 3
    assert str(err.value).count("invalid YAML") == 1


def test_an_empty_document_is_none() -> None:
    assert load_nodes("", "x.yaml") is None
    assert load_nodes("# only a comment\n", "x.yaml") is None


def test_errors_name_file_line_and_key_path() -> None:
    root = _root("delivery:\n  attempts: 11\n  mode: fast\n")
    r = Reader("alerts.yaml")
    with pytest.raises(InputError) as err:
        r.mapping(root.value["delivery"], "delivery", ("attempts", "backoff"))
    assert (err.value.file, err.value.row) == ("alerts.yaml", 3)
    assert "delivery.mode: unknown key (allowed: attempts, backoff)" in str(err.value)
    with pytest.raises(InputError) as err:
        r.integer(root.value["delivery"].value["attempts"], "delivery.attempts", 1, 10)
    assert err.value.row == 2
    assert "delivery.attempts: expected a number from 1 to 10" in str(err.value)


def test_subclass_conventions() -> None:
    class Lenient(Reader):
        text_trimmed = False
        texts_nonempty = False
        keys_as_written = True

    root = _root('names: []\nlabel: " x "\nzeta: 1\nalpha: 2\n')
    strict, lenient = Reader("s.yaml"), Lenient("l.yaml")
    with pytest.raises(InputError, match=r"names: expected at least one entry"):
        strict.texts(root.value["names"], "names")
    assert lenient.texts(root.value["names"], "names") == ()
    assert strict.text(root.value["label"], "label") == "x"
    assert lenient.text(root.value["label"], "label") == " x "
    with pytest.raises(InputError, match=r"root\.alpha: unknown key \(allowed: label, names\)"):
        strict.mapping(root, "root", ("names", "label"))
    with pytest.raises(InputError, match=r"root\.zeta: unknown key \(allowed: names, label\)"):
        lenient.mapping(root, "root", ("names", "label"))
