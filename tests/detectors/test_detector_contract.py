"""Every registered detector documents itself, and parameters are validated."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal

import pytest
import yaml

from costloop.core.errors import ConfigError, NotFoundError
from costloop.detectors import detectors, resolve_parameters
from costloop.detectors.base import DOC_SECTIONS

NAMES = detectors.names()


def test_builtin_detectors_are_registered() -> None:
    assert {"unattached-volume", "idle-instance", "rightsizing"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_detector_identity(name: str) -> None:
    cls = detectors.get(name)
    assert cls.name == name
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
    assert re.fullmatch(r"[A-Z]{3}\d{3}", cls.code)
    assert cls.groups and cls.data_needs
    assert set(cls.data_needs) <= {"inventory", "utilization", "charges"}
    for other in cls.superseded_by:
        assert other in detectors


def test_codes_are_unique() -> None:
    codes = [detectors.get(name).code for name in NAMES]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("name", NAMES)
def test_docstring_has_sections_in_order(name: str) -> None:
    sections = detectors.get(name).doc_sections()
    assert sections["summary"].endswith(".")
    assert list(sections)[1:] == list(DOC_SECTIONS)
    for title in DOC_SECTIONS:
        assert len(sections[title]) > 20, f"{name}: section {title} is empty"


@pytest.mark.parametrize("name", NAMES)
def test_yaml_example_loads_and_names_only_declared_parameters(name: str) -> None:
    cls = detectors.get(name)
    example = yaml.safe_load(cls.example_yaml())
    assert list(example) == ["detectors"]
    assert list(example["detectors"]) == [name]
    values = example["detectors"][name]
    assert values, "the example should show at least one parameter"
    assert set(values) <= set(cls.schema())
    cls.resolve(values)  # right types too


@pytest.mark.parametrize("name", NAMES)
def test_parameters_have_help_and_typed_defaults(name: str) -> None:
    for param_name, param in detectors.get(name).schema().items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", param_name)
        assert param.help.endswith(".")
        assert isinstance(param.default, param.type)


def test_unknown_parameter_names_detector_and_parameter() -> None:
    with pytest.raises(ConfigError, match=r"rightsizing.*'head_room'"):
        resolve_parameters(["rightsizing"], {"rightsizing": {"head_room": 0.5}})


def test_wrong_type_names_detector_and_parameter() -> None:
    with pytest.raises(ConfigError, match=r"idle-instance: parameter lookback_days expects int"):
        resolve_parameters(["idle-instance"], {"idle-instance": {"lookback_days": "two weeks"}})
    with pytest.raises(ConfigError, match="expects bool"):
        resolve_parameters(["rightsizing"], {"rightsizing": {"require_memory": 1}})
    with pytest.raises(ConfigError, match="expects int"):
        resolve_parameters(["idle-instance"], {"idle-instance": {"min_days": True}})


def test_overrides_for_unknown_detector_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown detector 'idle-vm'"):
        resolve_parameters(["idle-instance"], {"idle-vm": {}})


def test_overrides_for_detectors_not_run_are_still_validated() -> None:
    with pytest.raises(ConfigError, match="rightsizing"):
        resolve_parameters(["idle-instance"], {"rightsizing": {"headroom": "high"}})


def test_unknown_detector_name() -> None:
    with pytest.raises(NotFoundError, match="idle-vm"):
        resolve_parameters(["idle-vm"])


def test_values_widen_to_declared_type() -> None:
    resolved = resolve_parameters(
        ["rightsizing"], {"rightsizing": {"headroom": 1, "min_monthly_savings": 2.5}}
    )["rightsizing"]
    assert resolved["headroom"] == 1.0 and isinstance(resolved["headroom"], float)
    assert resolved["min_monthly_savings"] == Decimal("2.5")
    assert resolved["lookback_days"] == 14


def test_importing_detectors_does_not_import_duckdb() -> None:
    code = (
        "import sys, costloop.detectors, costloop.pricing;"
        "costloop.detectors.detectors.names();"
        "costloop.pricing.PricingCatalog.load_default();"
        "assert 'duckdb' not in sys.modules, 'duckdb imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
