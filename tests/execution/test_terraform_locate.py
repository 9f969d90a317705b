"""Finding resource blocks by address: modules, hints, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from costloop.core.errors import ExecutionError
from costloop.execution import TerraformTree, parse_address, set_attribute


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


SERVER = 'resource "aws_instance" "server" {\n  instance_type = "m5.large"\n}\n'


def test_parse_address_forms() -> None:
    a = parse_address('module.net.module.nat["a"].aws_instance.gw["blue"]')
    assert (a.modules, a.mode, a.type, a.name, a.index) == (
        ("net", "nat"),
        "managed",
        "aws_instance",
        "gw",
        '"blue"',
    )
    d = parse_address("data.aws_ami.ubuntu")
    assert (d.mode, d.block_type, d.reference) == ("data", "data", "data.aws_ami.ubuntu")
    assert parse_address("aws_instance.web[0]").index == "0"
    for bad in ("aws_instance", "aws_instance.web.extra", "module.x", "a b.c", "x[0].y"):
        with pytest.raises(ExecutionError, match="not a Terraform resource address"):
            parse_address(bad)


def test_nested_local_modules(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "live/main.tf": 'module "net" {\n  source = "../modules/net"\n}\n',
            "modules/net/main.tf": 'module "nat" {\n  source = "./nat"\n}\n',
            "modules/net/nat/main.tf": SERVER,
            ".terraform/modules/net/nat/main.tf": SERVER,
        },
    )
    loc = TerraformTree(root).locate("module.net.module.nat.aws_instance.server")
    assert (loc.path, loc.line, loc.module_dir) == ("modules/net/nat/main.tf", 1, "modules/net/nat")
    assert loc.warnings == ()


def test_root_address_ignores_module_folders(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "main.tf": 'module "app" {\n  source = "./modules/app"\n}\n' + SERVER,
            "modules/app/main.tf": SERVER,
        },
    )
    assert TerraformTree(root).locate("aws_instance.server").path == "main.tf"
    assert TerraformTree(root).locate("module.app.aws_instance.server").path == (
        "modules/app/main.tf"
    )


def test_shared_module_edit_warns_about_every_caller(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "prod/main.tf": 'module "app" {\n  source = "../modules/app"\n}\n',
            "staging/main.tf": 'module "app" {\n  source = "../modules/app"\n}\n',
            "modules/app/main.tf": SERVER,
        },
    )
    edit = set_attribute(
        TerraformTree(root),
        "module.app.aws_instance.server",
        "instance_type",
        "m5.medium",
        file_hint="prod/main.tf",
    )
    assert edit.edit.path == "modules/app/main.tf"
    assert edit.warnings == (
        "modules/app is used by 2 module calls (module.app (prod/main.tf), "
        "module.app (staging/main.tf)); the edit changes all of them",
    )


def test_remote_module_is_refused(tmp_path: Path) -> None:
    root = _write(
        tmp_path, {"main.tf": 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n'}
    )
    with pytest.raises(ExecutionError, match="not a folder in this repository"):
        TerraformTree(root).locate("module.vpc.aws_vpc.this")


def test_missing_resource_and_missing_attribute(tmp_path: Path) -> None:
    root = _write(tmp_path, {"main.tf": SERVER})
    with pytest.raises(ExecutionError, match=r'no block for aws_instance.web \(resource "aws_'):
        TerraformTree(root).locate("aws_instance.web")
    with pytest.raises(ExecutionError, match=r"main.tf:1\) does not set ami"):
        set_attribute(TerraformTree(root), "aws_instance.server", "ami", "ami-2")
    with pytest.raises(ExecutionError, match=r'is already "m5\.large"'):
        set_attribute(TerraformTree(root), "aws_instance.server", "instance_type", "m5.large")


def test_new_value_is_quoted_safely(tmp_path: Path) -> None:
    root = _write(tmp_path, {"main.tf": SERVER})
    edit = set_attribute(TerraformTree(root), "aws_instance.server", "instance_type", 'a"${b}\\')
    assert 'instance_type = "a\\"$${b}\\\\"\n' in edit.edit.after


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    root = _write(tmp_path, {})
    (root / "main.tf").write_bytes(SERVER.replace("\n", "\r\n").encode())
    edit = set_attribute(TerraformTree(root), "aws_instance.server", "instance_type", "m5.medium")
    assert edit.edit.after == SERVER.replace("m5.large", "m5.medium").replace("\n", "\r\n")


def test_unparseable_files_elsewhere_do_not_block_the_search(tmp_path: Path) -> None:
    root = _write(tmp_path, {"main.tf": SERVER, "broken.tf": 'x = "open\n'})
    (root / "latin1.tf").write_bytes("# caf\xe9\n".encode("latin-1"))
    tree = TerraformTree(root)
    assert tree.locate("aws_instance.server").path == "main.tf"
    with pytest.raises(ExecutionError, match=r"skipped broken.tf:1: unterminated string"):
        tree.locate("aws_instance.other")
    with pytest.raises(ExecutionError, match=r"latin1\.tf: not UTF-8"):
        tree.read("latin1.tf")
