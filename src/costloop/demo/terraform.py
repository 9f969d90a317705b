"""Terraform for the AWS estate, rendered from the same resources as the inventory."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from itertools import groupby

from costloop.demo.hcl_static import MODULE_FILES, STATIC_FILES, block_comment
from costloop.demo.model import Pattern, Resource
from costloop.demo.usage import current_size

__all__ = ["base_address", "render_terraform"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_INDEX = re.compile(r"\[\d+\]$")


def base_address(address: str) -> str:
    """``module.search.aws_instance.node[0]`` → ``module.search`` (what the file declares);
    ``aws_instance.api[1]`` → ``aws_instance.api``."""
    if address.startswith("module."):
        return ".".join(address.split(".")[:2])
    return _INDEX.sub("", address)


def _aligned(key: str) -> bool:
    # Most blocks went through `terraform fmt`; a few were typed by hand.
    return hashlib.sha256(key.encode()).digest()[0] % 4 != 0


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    text = str(v)
    return (
        text
        if text.startswith(("var.", "data.", "aws_", "[", "element(", "module."))
        else (f'"{text}"')
    )


def _attrs(pairs: Sequence[tuple[str, object]], indent: str, aligned: bool) -> list[str]:
    width = max((len(k) for k, _ in pairs), default=0) if aligned else 0
    return [f"{indent}{k.ljust(width)} = {_value(v)}" for k, v in pairs]


def _tags(tags: dict[str, str], indent: str, aligned: bool, name: str | None) -> list[str]:
    pairs = [("Name", name)] if name else []
    pairs += [(k, v) for k, v in tags.items() if not k.startswith("aws:")]
    keys = [(k if _IDENT.match(k) and "-" not in k else f'"{k}"', v) for k, v in pairs]
    if len(keys) <= 2 and not aligned:
        inner = ", ".join(f"{k} = {_value(v)}" for k, v in keys)
        return [f"{indent}tags = {{ {inner} }}"]
    return [f"{indent}tags = {{", *_attrs(keys, indent + "  ", aligned), f"{indent}}}"]


Body = tuple[list[tuple[str, object]], list[str], bool]
"""Attributes, nested block lines, and whether the block carries a ``Name`` tag."""


def _per_index(count: int, many: str, one: str) -> str:
    return many if count > 1 else one


def _instance(members: list[Resource], aligned: bool) -> Body:
    first, count = members[0], len(members)
    subnet = _per_index(
        count, "element(var.private_subnet_ids, count.index)", "var.private_subnet_ids[0]"
    )
    attrs: list[tuple[str, object]] = [
        ("ami", "data.aws_ami.al2023.id"),
        ("instance_type", current_size(first)),
        ("subnet_id", subnet),
    ]
    vol_type, vol_size = first.extra.get("root", "gp3:50").split(":")
    root: list[tuple[str, object]] = [("volume_type", vol_type), ("volume_size", int(vol_size))]
    return attrs, ["  root_block_device {", *_attrs(root, "    ", aligned), "  }"], True


def _volume(members: list[Resource], aligned: bool) -> Body:
    first = members[0]
    size = int(first.size_gib or 0)
    return (
        [("availability_zone", first.az), ("size", size), ("type", current_size(first))],
        [],
        True,
    )


def _eip(members: list[Resource], aligned: bool) -> Body:
    attrs: list[tuple[str, object]] = [("domain", "vpc")]
    if members[0].attached_to:
        attrs.append(("instance", "aws_instance.bastion.id"))
    return attrs, [], True


def _nat(members: list[Resource], aligned: bool) -> Body:
    n = len(members)
    eip = _per_index(n, "var.nat_eip_allocation_ids[count.index]", "var.nat_eip_allocation_ids[0]")
    subnet = _per_index(n, "var.public_subnet_ids[count.index]", "var.public_subnet_ids[0]")
    return [("allocation_id", eip), ("subnet_id", subnet)], [], False


def _lb(members: list[Resource], aligned: bool) -> Body:
    attrs: list[tuple[str, object]] = [
        ("name", members[0].name),
        ("load_balancer_type", "application"),
        ("internal", False),
        ("subnets", "var.public_subnet_ids"),
    ]
    return attrs, [], False


def _db(members: list[Resource], aligned: bool) -> Body:
    first = members[0]
    attrs: list[tuple[str, object]] = [
        ("identifier", first.name),
        ("engine", "postgres"),
        ("engine_version", "15.7"),
        ("instance_class", current_size(first)),
        ("allocated_storage", int(first.size_gib or 0)),
        ("storage_type", "gp2"),
        ("username", "stride_admin"),
        ("manage_master_user_password", True),
        ("skip_final_snapshot", False),
    ]
    return attrs, [], False


def _bucket(members: list[Resource], aligned: bool) -> Body:
    return [("bucket", members[0].name)], [], False


def _function(members: list[Resource], aligned: bool) -> Body:
    name = members[0].name
    attrs: list[tuple[str, object]] = [
        ("function_name", name),
        ("role", "var.lambda_role_arn"),
        ("runtime", "python3.12"),
        ("handler", "app.handler"),
        ("architectures", '["arm64"]'),
        ("memory_size", 1024),
        ("timeout", 30),
        ("filename", f"build/{name}.zip"),
    ]
    return attrs, [], False


def _log_group(members: list[Resource], aligned: bool) -> Body:
    return [("name", members[0].name), ("retention_in_days", 30)], [], False


def _cluster(members: list[Resource], aligned: bool) -> Body:
    attrs: list[tuple[str, object]] = [
        ("name", members[0].name),
        ("role_arn", "var.eks_cluster_role_arn"),
        ("version", "1.30"),
    ]
    return attrs, ["  vpc_config {", "    subnet_ids = var.private_subnet_ids", "  }"], False


def _node_group(members: list[Resource], aligned: bool) -> Body:
    sizes = sorted({current_size(m) or "" for m in members})
    always_on = sum(1 for m in members if m.meters[0].pattern is Pattern.HOURS)
    cluster = "main" if "/prod/" in (members[0].iac_file or "") else "staging"
    attrs: list[tuple[str, object]] = [
        ("cluster_name", f"aws_eks_cluster.{cluster}.name"),
        ("node_group_name", "general"),
        ("node_role_arn", "var.eks_node_role_arn"),
        ("subnet_ids", "var.private_subnet_ids"),
        ("instance_types", "[" + ", ".join(f'"{s}"' for s in sizes) + "]"),
    ]
    scaling = [
        ("desired_size", always_on),
        ("min_size", always_on),
        ("max_size", len(members) + 4),
    ]
    return attrs, ["  scaling_config {", *_attrs(scaling, "    ", aligned), "  }"], False


_BODIES: dict[str, Callable[[list[Resource], bool], Body]] = {
    "aws_instance": _instance,
    "aws_ebs_volume": _volume,
    "aws_eip": _eip,
    "aws_nat_gateway": _nat,
    "aws_lb": _lb,
    "aws_db_instance": _db,
    "aws_s3_bucket": _bucket,
    "aws_lambda_function": _function,
    "aws_cloudwatch_log_group": _log_group,
    "aws_eks_cluster": _cluster,
    "aws_eks_node_group": _node_group,
}


def _block(rtype: str, name: str, members: list[Resource]) -> list[str]:
    """One resource block; several members become a ``count``."""
    aligned = _aligned(f"{rtype}.{name}")
    attrs, nested, named = _BODIES[rtype](members, aligned)
    counted = len(members) > 1 and rtype != "aws_eks_node_group"
    if counted:
        attrs = [("count", len(members)), *attrs]
    display = None
    if named:
        first = members[0].name
        display = re.sub(r"-\d+$", "", first) + "-${count.index + 1}" if counted else first
    lines = [f'resource "{rtype}" "{name}" {{', *_attrs(attrs, "  ", aligned)]
    if nested:
        lines += ["", *nested]
    tags = dict(members[0].tags)
    if tags or display:
        lines += ["", *_tags(tags, "  ", aligned, display)]
    return [*block_comment(f"{rtype}.{name}"), *lines, "}"]


def _module(name: str, members: list[Resource]) -> list[str]:
    first = members[0]
    if name == "checkout_db":
        pairs: list[tuple[str, object]] = [
            ("source", "../modules/rds"),
            ("identifier", first.name),
            ("instance_class", current_size(first)),
            ("allocated_storage", int(first.size_gib or 0)),
            ("multi_az", False),
        ]
    else:
        nodes = [m for m in members if m.kind == "instance"]
        vols = [m for m in members if "aws_ebs_volume" in (m.iac_address or "")]
        pairs = [
            ("source", "../modules/instance_group"),
            ("name", "search-node"),
            ("node_count", len(nodes)),
            ("instance_type", current_size(nodes[0])),
            ("data_volume_size", int(vols[0].size_gib or 0) if vols else 0),
            ("subnet_ids", "var.private_subnet_ids"),
        ]
    tags = [
        f'    {k if "-" not in k else chr(34) + k + chr(34)} = "{v}"' for k, v in first.tags.items()
    ]
    return [
        *block_comment(f"module.{name}"),
        f'module "{name}" {{',
        *_attrs(pairs, "  ", True),
        "",
        "  tags = {",
        *tags,
        "  }",
        "}",
    ]


def render_terraform(resources: Sequence[Resource]) -> dict[str, str]:
    """Files of the infra repository (path → text) for the Terraform-managed resources."""
    files: dict[str, list[str]] = {}
    managed = [r for r in resources if r.iac_address and r.iac_file]
    order = {r.rid: i for i, r in enumerate(managed)}
    managed.sort(key=lambda r: (r.iac_file or "", order[r.rid]))
    for path, in_file in groupby(managed, key=lambda r: r.iac_file or ""):
        out = files.setdefault(path, [])
        groups: dict[str, list[Resource]] = {}
        for r in in_file:
            # Root volumes share the instance's address: the instance block declares them.
            address = r.iac_address or ""
            if r.kind == "volume" and r.attached_to and not address.startswith("module."):
                continue
            groups.setdefault(base_address(address), []).append(r)
        # Clusters before their node groups, otherwise in the order resources were listed.
        ordered = sorted(groups.items(), key=lambda g: not g[0].startswith("aws_eks_cluster."))
        for address, members in ordered:
            if out:
                out.append("")
            if address.startswith("module."):
                out += _module(address.split(".")[1], members)
            else:
                rtype, name = address.split(".")
                out += _block(rtype, name, members)
    rendered = {path: "\n".join(lines) + "\n" for path, lines in files.items()}
    rendered.update(STATIC_FILES)
    rendered.update(MODULE_FILES)
    return rendered
