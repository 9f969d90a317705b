"""The HCL scanner: tokens, structure, and clear errors on broken input."""

from __future__ import annotations

import pytest

from costloop.core.errors import ExecutionError
from costloop.execution.hcl import parse, string_value, tokenize

SOURCE = """\
# header } {
resource "aws_instance" "web" { # trailing {
  ami  = "ami-1" // pinned
  name = "a \\"quoted\\" } # value"
  tmpl = "${upper("x}")}-%{ if true }y%{ endif }"
  esc  = "$${literal} %%{also}"
  doc  = <<-EOT
    } not a brace "
    EOT
  list = [
    "a", # comment in a list
    "b",
  ]
  /* a { block
     comment */
  ebs_block_device { volume_type = "gp2" }
  one_line = { a = 1, b = "}" }
}
data "aws_ami" "x" {}
"""


def test_blocks_and_attributes_with_tricky_values() -> None:
    body = parse(SOURCE)
    resource, data = body.blocks
    assert (resource.type, resource.labels) == ("resource", ("aws_instance", "web"))
    assert (data.type, data.labels) == ("data", ("aws_ami", "x"))
    names = [a.name for a in resource.body.attributes]
    assert names == ["ami", "name", "tmpl", "esc", "doc", "list", "one_line"]
    values = {a.name: SOURCE[a.value_start : a.value_end] for a in resource.body.attributes}
    assert values["doc"] == '<<-EOT\n    } not a brace "\n    EOT'
    assert values["list"].startswith("[") and values["list"].endswith("]")
    assert values["one_line"] == '{ a = 1, b = "}" }'
    assert SOURCE[resource.end - 1] == "}" and SOURCE[resource.end : resource.end + 6] == "\ndata "
    (nested,) = resource.body.blocks
    assert nested.type == "ebs_block_device"
    assert nested.body.attribute("volume_type") is not None


def test_string_values() -> None:
    strings = {t.text: string_value(t) for t in tokenize(SOURCE) if t.kind == "string"}
    assert strings['"a \\"quoted\\" } # value"'] == 'a "quoted" } # value'
    assert strings['"$${literal} %%{also}"'] == "${literal} %{also}"
    assert strings['"${upper("x}")}-%{ if true }y%{ endif }"'] is None
    assert string_value(tokenize('"\\u00e9\\n\\t"')[0]) == "é\n\t"
    assert string_value(tokenize("var")[0]) is None


def test_comments_are_tokens_not_structure() -> None:
    comments = [t.text for t in tokenize(SOURCE) if t.kind == "comment"]
    assert comments[:3] == ["# header } {", "# trailing {", "// pinned"]
    assert "/* a { block\n     comment */" in comments


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a = "open\n', r"x.tf:1: unterminated string"),
        ("x {\n  a = 1\n", r"x.tf:3: a block is never closed"),
        ("/* never\nclosed", r"x.tf:1: unterminated /\* comment"),
        ("a = <<EOF\nbody\n", r"x.tf:1: heredoc <<EOF is never closed"),
        ('a = "${x\n', r"x.tf:1: unterminated"),
        ("= 1\n", r"x.tf:1: expected an attribute or block name, found '='"),
        ("b {\n}\n}\n", r"x.tf:3: expected an attribute or block name, found '}'"),
        ("a =\n", r"x.tf:1: an attribute has no value"),
    ],
)
def test_broken_input_names_the_line(text: str, message: str) -> None:
    with pytest.raises(ExecutionError, match=message):
        parse(text, "x.tf")
