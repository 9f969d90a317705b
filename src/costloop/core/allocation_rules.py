"""The allocation file: taxonomy (dimensions), rules and shared-cost pools.

The file is YAML (``allocation.yaml`` in the workspace, documented in
docs/allocation.md). It is validated against the schema below; every error names the
file, the line and the key::

    dimensions:
      team:
        required: true
        keys: [team, owner-team, squad]      # tag keys read for this dimension
        value_aliases: {platform: [infra, platfrom]}
      env:
        values: [prod, staging, dev]
        keys: [env, environment]
        value_aliases: {prod: [production, prd]}
    rules:
      - {dimension: env, account: ["111111111111"], value: prod}
      - {dimension: product, resource_name: "^checkout-", value: checkout}
      - {dimension: team, inherit: parent}
    pools:
      - name: shared-services
        dimension: team
        match: {account: ["222222222222"]}
        method: proportional                 # | even | fixed | metric

Parsing is pure: the caller passes the file text (the workspace reads it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from costloop.core.org import Org
from costloop.core.yamlnodes import Node, Reader, load_nodes

__all__ = [
    "METHODS",
    "UNALLOCATED",
    "AllocationConfig",
    "Dimension",
    "MetricSource",
    "Pool",
    "PoolMatch",
    "Rule",
    "key_variants",
    "norm_value",
    "parse_allocation",
]

UNALLOCATED = "unallocated"
METHODS = ("proportional", "even", "fixed", "metric")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_RESERVED = {"unallocated"}
# Constructs Python's re accepts but RE2 (DuckDB's regex engine) does not.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\(\?>|\(\?P=|\\[1-9]|\\g<|[*+?}]\+")


def norm_value(value: str) -> str:
    """Compare form of a tag value: lower case, ASCII letters and digits only."""
    return re.sub("[^a-z0-9]", "", value.strip().lower())


def key_variants(key: str) -> list[str]:
    """Spellings of a tag key that mean the same: case and separators ignored.

    Tag keys are lower-cased at ingest; ``cost center`` also matches ``cost-center``,
    ``cost_center``, ``costcenter``, ``cost.center`` and ``cost:center``.
    """
    words = [w for w in re.split(r"[\s_\-.:/]+", key.strip().lower()) if w]
    if not words:
        return []
    out = [key.strip().lower()]
    for sep in ("-", "_", "", " ", ".", ":"):
        variant = sep.join(words)
        if variant not in out:
            out.append(variant)
    return out


@dataclass(frozen=True)
class Dimension:
    """One allocation dimension (a column of ``allocated_charges``).

    Attributes:
        values: allowed canonical values; empty means any value.
        keys: tag keys read for this dimension, in priority order.
        aliases: compare form (``norm_value``) of a tag value → canonical value.
    """

    name: str
    required: bool = False
    values: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    line: int = 0

    def canonical(self, value: str) -> str | None:
        """The canonical value a raw tag value stands for, if it is allowed."""
        found = self.aliases.get(norm_value(value))
        if found is not None:
            return found
        return None if self.values else value.strip().lower() or None

    def tag_keys(self) -> list[str]:
        """Every lower-case key spelling read for this dimension, in priority order."""
        out: list[str] = []
        for key in self.keys:
            out += [k for k in key_variants(key) if k not in out]
        return out


@dataclass(frozen=True)
class Rule:
    """An account, resource or inheritance rule for one dimension.

    ``kind`` is ``account`` (SubAccountId in ``accounts``), ``resource`` (a regular
    expression searched in ResourceName or ResourceId) or ``inherit`` (the value of the
    parent resource: inventory ``attached_to``).
    """

    dimension: str
    kind: str
    value: str = ""
    accounts: tuple[str, ...] = ()
    resource_name: str | None = None
    resource_id: str | None = None
    line: int = 0


@dataclass(frozen=True)
class PoolMatch:
    """Which charges a pool takes: every given condition must hold."""

    accounts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    charge_categories: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    resource_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    unallocated_only: bool = False


@dataclass(frozen=True)
class MetricSource:
    """Usage data a ``metric`` pool splits by.

    ``kind`` is ``kubernetes`` (OpenCost/Kubecost namespace costs, optionally of one
    cluster; ``namespaces`` maps namespace → dimension value, otherwise the namespace
    name is read as a value) or ``business`` (a business metric whose ``dimension``
    column names the values).
    """

    kind: str
    cluster: str | None = None
    namespaces: Mapping[str, str] = field(default_factory=dict)
    metric: str | None = None


@dataclass(frozen=True)
class Pool:
    """A shared-cost pool: matching charges are split across a dimension's values."""

    name: str
    dimension: str
    method: str
    match: PoolMatch
    targets: tuple[str, ...] = ()
    shares: Mapping[str, Decimal] = field(default_factory=dict)
    metric: MetricSource | None = None
    line: int = 0


@dataclass(frozen=True)
class AllocationConfig:
    """Taxonomy, rules and pools in force."""

    dimensions: tuple[Dimension, ...]
    rules: tuple[Rule, ...] = ()
    pools: tuple[Pool, ...] = ()
    source: str = "defaults"

    def dimension(self, name: str) -> Dimension:
        """A dimension by name (KeyError if unknown)."""
        for d in self.dimensions:
            if d.name == name:
                return d
        raise KeyError(name)

    def rules_for(self, dimension: str, kind: str) -> list[Rule]:
        """Rules of one kind for one dimension, in file order."""
        return [r for r in self.rules if r.dimension == dimension and r.kind == kind]


class _Ctx(Reader):
    """The allocation file's conventions: strings are kept as written, lists may be empty."""

    text_trimmed = False
    texts_nonempty = False

    def regex(self, node: Node, path: str) -> str:
        """A regular expression both Python and RE2 (DuckDB, Spark) accept."""
        pattern = self.text(node, path)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise self.fail(node, path, f"invalid regular expression: {exc}") from None
        unsupported = _NOT_RE2.search(pattern)
        if unsupported is not None:
            raise self.fail(
                node,
                path,
                f"{unsupported.group(0)!r}: lookarounds, backreferences and atomic groups "
                "are not supported (patterns run in DuckDB and Spark: RE2 syntax)",
            )
        return pattern


def _dimension(ctx: _Ctx, name: str, node: Node, org: Org, team_keys: list[str]) -> Dimension:
    path = f"dimensions.{name}"
    if not _NAME.match(name) or name in _RESERVED or name.endswith("_source"):
        raise ctx.fail(
            node,
            path,
            "a dimension name is lower case letters, digits and _, starts with a letter, "
            "and does not end in _source",
        )
    body = (
        {}
        if node.value is None
        else ctx.mapping(node, path, ("required", "values", "keys", "value_aliases"))
    )
    values = list(ctx.texts(body["values"], path + ".values")) if "values" in body else []
    keys = list(ctx.texts(body["keys"], path + ".keys")) if "keys" in body else [name]
    aliases: dict[str, str] = {}
    if name == "team":
        if not values:
            values = [t.name for t in org.teams]
        if "keys" not in body:
            keys = team_keys or [name]
        for team in org.teams:
            for alias in team.tag_values:
                aliases.setdefault(norm_value(alias), team.name)
    for value in values:
        aliases[norm_value(value)] = value
    if "value_aliases" in body:
        table = ctx.mapping(
            body["value_aliases"], path + ".value_aliases", body["value_aliases"].value
        )
        for canonical, spellings in table.items():
            where = f"{path}.value_aliases.{canonical}"
            if values and canonical not in values:
                raise ctx.fail(spellings, where, f"{canonical!r} is not one of the values")
            for alias in ctx.texts(spellings, where):
                aliases[norm_value(alias)] = canonical
    required = ctx.flag(body["required"], path + ".required") if "required" in body else False
    return Dimension(
        name,
        required=required or name == "team",
        values=tuple(values),
        keys=tuple(keys),
        aliases=aliases,
        line=node.line,
    )


def _check_value(ctx: _Ctx, dim: Dimension, value: str, node: Node, path: str) -> str:
    if value == UNALLOCATED:
        raise ctx.fail(node, path, f"{UNALLOCATED!r} cannot be assigned")
    if dim.values and value not in dim.values:
        raise ctx.fail(
            node, path, f"{value!r} is not an allowed {dim.name} ({', '.join(dim.values)})"
        )
    return value


def _rule(ctx: _Ctx, i: int, node: Node, dims: Mapping[str, Dimension]) -> Rule:
    path = f"rules[{i}]"
    body = ctx.mapping(
        node, path, ("dimension", "value", "account", "resource_name", "resource_id", "inherit")
    )
    if "dimension" not in body:
        raise ctx.fail(node, path, "a rule needs a dimension")
    dim_name = ctx.text(body["dimension"], path + ".dimension")
    if dim_name not in dims:
        raise ctx.fail(body["dimension"], path + ".dimension", f"unknown dimension {dim_name!r}")
    dim = dims[dim_name]
    kinds = [k for k in ("account", "resource_name", "resource_id", "inherit") if k in body]
    if "resource_name" in kinds and "resource_id" in kinds:
        kinds.remove("resource_id")
    if len(kinds) != 1:
        raise ctx.fail(
            node, path, "a rule has exactly one of account, resource_name/resource_id, inherit"
        )
    if kinds[0] == "inherit":
        if ctx.text(body["inherit"], path + ".inherit") != "parent":
            raise ctx.fail(body["inherit"], path + ".inherit", "the only form is 'inherit: parent'")
        if "value" in body:
            raise ctx.fail(body["value"], path + ".value", "an inherit rule takes no value")
        return Rule(dim_name, "inherit", line=node.line)
    if "value" not in body:
        raise ctx.fail(node, path, "this rule needs a value")
    value = _check_value(
        ctx, dim, ctx.text(body["value"], path + ".value"), body["value"], path + ".value"
    )
    if kinds[0] == "account":
        return Rule(
            dim_name,
            "account",
            value,
            accounts=ctx.texts(body["account"], path + ".account"),
            line=node.line,
        )
    return Rule(
        dim_name,
        "resource",
        value,
        resource_name=ctx.regex(body["resource_name"], path + ".resource_name")
        if "resource_name" in body
        else None,
        resource_id=ctx.regex(body["resource_id"], path + ".resource_id")
        if "resource_id" in body
        else None,
        line=node.line,
    )


def _match(ctx: _Ctx, node: Node, path: str) -> PoolMatch:
    body = ctx.mapping(
        node,
        path,
        ("account", "service", "charge_category", "provider", "resource_id", "tag", "unallocated"),
    )
    if not body:
        raise ctx.fail(node, path, "a pool needs at least one match condition")
    tags: dict[str, str] = {}
    if "tag" in body:
        for key, value in ctx.mapping(body["tag"], path + ".tag", body["tag"].value).items():
            tags[key.strip().lower()] = ctx.text(value, f"{path}.tag.{key}")
    return PoolMatch(
        accounts=ctx.texts(body["account"], path + ".account") if "account" in body else (),
        services=ctx.texts(body["service"], path + ".service") if "service" in body else (),
        charge_categories=ctx.texts(body["charge_category"], path + ".charge_category")
        if "charge_category" in body
        else (),
        providers=ctx.texts(body["provider"], path + ".provider") if "provider" in body else (),
        resource_id=ctx.regex(body["resource_id"], path + ".resource_id")
        if "resource_id" in body
        else None,
        tags=tags,
        unallocated_only=ctx.flag(body["unallocated"], path + ".unallocated")
        if "unallocated" in body
        else False,
    )


def _metric(ctx: _Ctx, node: Node, path: str, dim: Dimension) -> MetricSource:
    body = ctx.mapping(node, path, ("kubernetes", "business"))
    if len(body) != 1:
        raise ctx.fail(node, path, "give exactly one of kubernetes, business")
    if "business" in body:
        return MetricSource("business", metric=ctx.text(body["business"], path + ".business"))
    k8s = body["kubernetes"]
    spec = (
        {}
        if k8s.value is None
        else ctx.mapping(k8s, path + ".kubernetes", ("cluster", "namespaces"))
    )
    namespaces: dict[str, str] = {}
    if "namespaces" in spec:
        table = spec["namespaces"]
        for ns, value in ctx.mapping(table, path + ".kubernetes.namespaces", table.value).items():
            where = f"{path}.kubernetes.namespaces.{ns}"
            namespaces[ns] = _check_value(ctx, dim, ctx.text(value, where), value, where)
    return MetricSource(
        "kubernetes",
        cluster=ctx.text(spec["cluster"], path + ".kubernetes.cluster")
        if "cluster" in spec
        else None,
        namespaces=namespaces,
    )


def _pool(ctx: _Ctx, i: int, node: Node, dims: Mapping[str, Dimension], seen: set[str]) -> Pool:
    path = f"pools[{i}]"
    body = ctx.mapping(
        node, path, ("name", "dimension", "match", "method", "targets", "shares", "metric")
    )
    for key in ("name", "match", "method"):
        if key not in body:
            raise ctx.fail(node, path, f"a pool needs {key}")
    name = ctx.text(body["name"], path + ".name")
    if name in seen:
        raise ctx.fail(body["name"], path + ".name", f"duplicate pool name {name!r}")
    seen.add(name)
    dim_name = ctx.text(body["dimension"], path + ".dimension") if "dimension" in body else "team"
    if dim_name not in dims:
        raise ctx.fail(body["dimension"], path + ".dimension", f"unknown dimension {dim_name!r}")
    dim = dims[dim_name]
    method = ctx.text(body["method"], path + ".method")
    if method not in METHODS:
        raise ctx.fail(body["method"], path + ".method", f"method is one of {', '.join(METHODS)}")
    targets = (
        tuple(
            _check_value(ctx, dim, t, body["targets"], path + ".targets")
            for t in ctx.texts(body["targets"], path + ".targets")
        )
        if "targets" in body
        else ()
    )
    shares: dict[str, Decimal] = {}
    if method == "fixed":
        if "shares" not in body:
            raise ctx.fail(node, path, "a fixed pool needs shares (percent per value)")
        table = body["shares"]
        for value, pct in ctx.mapping(table, path + ".shares", table.value).items():
            where = f"{path}.shares.{value}"
            _check_value(ctx, dim, value, pct, where)
            try:
                share = Decimal(str(pct.value))
            except InvalidOperation:
                raise ctx.fail(pct, where, f"expected a percentage, got {pct.value!r}") from None
            if isinstance(pct.value, bool) or not share.is_finite() or share <= 0:
                raise ctx.fail(pct, where, "a share is a positive percentage")
            shares[value] = share
        total = sum(shares.values(), Decimal(0))
        if total != 100:
            raise ctx.fail(table, path + ".shares", f"shares add up to {total}%, not 100%")
    elif "shares" in body:
        raise ctx.fail(body["shares"], path + ".shares", "shares are for method: fixed")
    metric = None
    if method == "metric":
        if "metric" not in body:
            raise ctx.fail(
                node, path, "a metric pool needs metric: {kubernetes: ...} or {business: NAME}"
            )
        metric = _metric(ctx, body["metric"], path + ".metric", dim)
    elif "metric" in body:
        raise ctx.fail(body["metric"], path + ".metric", "metric is for method: metric")
    return Pool(
        name,
        dim_name,
        method,
        _match(ctx, body["match"], path + ".match"),
        targets=targets,
        shares=shares,
        metric=metric,
        line=node.line,
    )


def parse_allocation(
    text: str | None, source: str, org: Org, team_keys: list[str]
) -> AllocationConfig:
    """Parse and validate the allocation file; ``None`` gives the defaults.

    The defaults (and any file without a ``team`` dimension) allocate ``team`` from
    the tag keys ``team_keys``, the org file's team names and tag values, and its
    account → team mapping.

    Raises:
        InputError: the file is invalid (file, line and key named).
    """
    ctx = _Ctx(source)
    root = None if text is None else load_nodes(text, source)
    body = {} if root is None else ctx.mapping(root, "allocation", ("dimensions", "rules", "pools"))
    dims: dict[str, Dimension] = {}
    if "dimensions" in body:
        table = body["dimensions"]
        for name, node in ctx.mapping(table, "dimensions", table.value).items():
            dims[name] = _dimension(ctx, name, node, org, team_keys)
    if "team" not in dims:
        dims = {"team": _dimension(ctx, "team", Node(None, 0), org, team_keys), **dims}
    rules: list[Rule] = []
    if "rules" in body:
        if not isinstance(body["rules"].value, list):
            raise ctx.fail(body["rules"], "rules", "expected a list")
        rules = [_rule(ctx, i, n, dims) for i, n in enumerate(body["rules"].value)]
    rules += [Rule("team", "account", a.team, accounts=(a.id,)) for a in org.accounts if a.team]
    pools: list[Pool] = []
    if "pools" in body:
        if not isinstance(body["pools"].value, list):
            raise ctx.fail(body["pools"], "pools", "expected a list")
        seen: set[str] = set()
        pools = [_pool(ctx, i, n, dims, seen) for i, n in enumerate(body["pools"].value)]
    return AllocationConfig(
        tuple(dims.values()), tuple(rules), tuple(pools), source if text is not None else "defaults"
    )
