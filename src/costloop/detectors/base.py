"""The Detector plugin contract: parameters, context, docstring shape and registry."""

from __future__ import annotations

import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from costloop.core.errors import ConfigError
from costloop.core.findings import Finding
from costloop.core.registry import Registry
from costloop.pricing.catalog import PricingCatalog

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DOC_SECTIONS",
    "Detector",
    "DetectorContext",
    "Param",
    "TableReader",
    "detectors",
]

T = TypeVar("T")

ParamType = type[int] | type[float] | type[Decimal] | type[bool] | type[str]

DOC_SECTIONS = ("Why it is waste", "Evidence", "Remediation", "Example")
"""Sections every detector docstring has, in this order, after the summary line."""


class TableReader(Protocol):
    """Read-only SQL access to the warehouse tables (DuckDB dialect)."""

    def query(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        """Run ``sql`` with ``?`` placeholders bound to ``params``; return an Arrow table."""
        ...


@dataclass(frozen=True)
class Param:
    """One declared detector parameter.

    Attributes:
        type: int, float, Decimal, bool or str.
        default: value used when the user sets none (of ``type``).
        help: one line for ``costloop detectors`` listings and docs.
    """

    type: ParamType
    default: object
    help: str

    def coerce(self, value: object) -> object:
        """Check a user value against ``type``; ints widen to float and Decimal.

        Raises:
            TypeError: the value does not have the declared type.
        """
        kind = self.type
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(value)
        if kind is float and isinstance(value, int | float):
            return float(value)
        if kind is Decimal and isinstance(value, int | float | str | Decimal):
            try:
                # str() keeps what the user wrote (0.1, not 0.1000000000000000055...).
                return value if isinstance(value, Decimal) else Decimal(str(value))
            except InvalidOperation:
                raise TypeError(value) from None
        if isinstance(value, kind):
            return value
        raise TypeError(value)


COMMON_PARAMETERS: Mapping[str, Param] = {
    "min_monthly_savings": Param(
        Decimal, Decimal(5), "Drop findings saving less than this per month (currency units)."
    ),
}


@dataclass(frozen=True)
class DetectorContext:
    """Everything a detector run may read; detectors never write.

    Attributes:
        reader: SQL access to ``inventory``, ``utilization`` and ``charges``.
        catalog: list prices, the fallback when a resource has no billing data.
        parameters: resolved parameter values (defaults with overrides applied).
        now: evaluation time, UTC without tzinfo; windows end here (exclusive).
        currency: currency used when a charge row names none.
    """

    reader: TableReader
    catalog: PricingCatalog
    now: datetime
    parameters: Mapping[str, object] = field(default_factory=dict)
    currency: str = "USD"

    def param(self, name: str, kind: type[T]) -> T:
        """The resolved value of parameter ``name``, checked to be a ``kind``."""
        value = self.parameters[name]
        if not isinstance(value, kind):
            raise TypeError(f"parameter {name} is {type(value).__name__}, not {kind.__name__}")
        return value

    def parameter_strings(self) -> dict[str, str]:
        """Resolved parameters as text, for ``Finding.parameters`` (the fingerprint)."""
        return {name: str(value) for name, value in sorted(self.parameters.items())}


class Detector(ABC):
    """Base class of waste detectors: reads warehouse tables, returns findings.

    Subclasses set the class attributes and document themselves with a docstring of
    a summary line and the sections in ``DOC_SECTIONS``; ``Example`` holds a fenced
    YAML block that sets parameters under ``detectors: {<name>: {...}}``.

    Attributes:
        name: stable kebab-case name, the registry key.
        code: short stable code, e.g. ``STG001``.
        groups: groups for selection, e.g. ``("storage", "core")``.
        parameters: declared parameters (``min_monthly_savings`` is added to all).
        data_needs: warehouse tables the detector reads.
        superseded_by: detectors whose finding on the same resource replaces this one's.
    """

    name: ClassVar[str]
    code: ClassVar[str]
    groups: ClassVar[tuple[str, ...]] = ()
    parameters: ClassVar[Mapping[str, Param]] = {}
    data_needs: ClassVar[tuple[str, ...]] = ()
    superseded_by: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, ctx: DetectorContext) -> list[Finding]:
        """Evaluate the detector on the warehouse and return its findings."""

    @classmethod
    def schema(cls) -> dict[str, Param]:
        """All parameters: the common ones, then the detector's own."""
        return {**COMMON_PARAMETERS, **cls.parameters}

    @classmethod
    def resolve(cls, overrides: Mapping[str, object] | None = None) -> dict[str, object]:
        """Defaults with ``overrides`` applied and type-checked.

        Raises:
            ConfigError: an unknown parameter, or a value of the wrong type.
        """
        schema = cls.schema()
        values = {name: p.default for name, p in schema.items()}
        for key, value in (overrides or {}).items():
            if key not in schema:
                known = ", ".join(sorted(schema))
                raise ConfigError(
                    f"detector {cls.name}: unknown parameter {key!r} (known: {known})"
                )
            try:
                values[key] = schema[key].coerce(value)
            except TypeError:
                expected = schema[key].type.__name__
                raise ConfigError(
                    f"detector {cls.name}: parameter {key} expects {expected}, got {value!r}"
                ) from None
        return values

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring split into ``summary`` and the ``DOC_SECTIONS`` bodies (dedented)."""
        summary, _, rest = inspect.cleandoc(cls.__doc__ or "").partition("\n")
        sections = {"summary": summary.strip()}
        heading = re.compile(r"^(\S[^\n]*):[ \t]*$", re.MULTILINE)
        parts = heading.split("\n" + rest)
        for title, body in zip(parts[1::2], parts[2::2], strict=True):
            lines = [line[4:] if line.startswith("    ") else line for line in body.split("\n")]
            sections[title.strip()] = "\n".join(lines).strip()
        return sections

    @classmethod
    def example_yaml(cls) -> str:
        """The fenced YAML block of the ``Example`` section ('' when absent)."""
        match = re.search(r"```yaml\n(.*?)```", cls.doc_sections().get("Example", ""), re.S)
        return match.group(1) if match else ""


detectors: Registry[type[Detector]] = Registry(
    "detector",
    modules=("costloop.detectors.storage", "costloop.detectors.compute"),
)
"""All detectors by name; built-in modules are imported on first lookup."""
