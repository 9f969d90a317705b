"""Waste detectors: plugins that read warehouse tables and return findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from costloop.core.errors import ConfigError
from costloop.core.findings import Finding
from costloop.detectors.base import (
    Detector,
    DetectorContext,
    Param,
    TableReader,
    detectors,
)
from costloop.pricing.catalog import PricingCatalog

__all__ = [
    "Detector",
    "DetectorContext",
    "Param",
    "TableReader",
    "detectors",
    "resolve_parameters",
    "run_detectors",
]

_NO_OVERRIDES: Mapping[str, Mapping[str, object]] = MappingProxyType({})


def _utc_naive(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def resolve_parameters(
    names: Iterable[str], overrides: Mapping[str, Mapping[str, object]] = _NO_OVERRIDES
) -> dict[str, dict[str, object]]:
    """Resolved parameters of each named detector, with ``overrides`` validated.

    Overrides for registered detectors that are not in ``names`` are validated too,
    so a mistake in a settings file shows whichever detectors are run.

    Raises:
        ConfigError: overrides for an unknown detector, an unknown parameter, or a
            value of the wrong type.
        NotFoundError: an unknown detector name in ``names``.
    """
    for name in overrides:
        if name not in detectors:
            known = ", ".join(detectors.names())
            raise ConfigError(f"parameters given for unknown detector {name!r} (known: {known})")
        detectors.get(name).resolve(overrides[name])
    return {name: detectors.get(name).resolve(overrides.get(name)) for name in names}


def run_detectors(
    reader: TableReader,
    catalog: PricingCatalog,
    *,
    names: Iterable[str] | None = None,
    overrides: Mapping[str, Mapping[str, object]] = _NO_OVERRIDES,
    now: datetime | None = None,
    currency: str = "USD",
) -> list[Finding]:
    """Run detectors on the warehouse and return their findings, largest savings first.

    When a detector lists another in ``superseded_by`` and both report the same resource,
    only the superseding finding is kept (an idle instance is not also rightsized).

    Args:
        reader: SQL access to the warehouse tables.
        catalog: list prices (``PricingCatalog.load_default()`` for the shipped one).
        names: detectors to run; all registered ones when None.
        overrides: parameter values per detector name, validated against its schema.
        now: evaluation time (default: the current time); converted to UTC, naive.
        currency: currency for charges that name none.

    Raises:
        ConfigError: invalid overrides (see ``resolve_parameters``).
        NotFoundError: an unknown detector name.
    """
    selected = detectors.names() if names is None else list(dict.fromkeys(names))
    resolved = resolve_parameters(selected, overrides)
    moment = _utc_naive(now)
    by_detector: dict[str, list[Finding]] = {}
    for name in selected:
        ctx = DetectorContext(
            reader=reader,
            catalog=catalog,
            now=moment,
            parameters=resolved[name],
            currency=currency,
        )
        by_detector[name] = detectors.get(name)().run(ctx)
    findings: list[Finding] = []
    for name, found in by_detector.items():
        winners = {
            f.resource_id
            for other in detectors.get(name).superseded_by
            for f in by_detector.get(other, ())
        }
        findings.extend(f for f in found if f.resource_id not in winners)
    findings.sort(key=lambda f: (-f.monthly_savings, f.detector, f.resource_id))
    return findings
