"""Settings: one table (name, default, help), layered env > file > defaults.

Every setting has a dotted name ``section.key``. The file is ``costloop.toml`` in
the workspace; the environment variable is ``COSTLOOP_SECTION_KEY`` (upper case).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from costloop.core.errors import ConfigError

__all__ = [
    "SETTINGS",
    "Config",
    "ResolvedSetting",
    "Setting",
    "default_toml",
    "load_config",
]

Value = str | int | bool | Decimal | float
_KINDS: Mapping[type, str] = {
    str: "a quoted string",
    int: "an integer",
    bool: "true or false",
    float: "a number",
    Decimal: "a decimal number",
}


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    default: Value
    help: str

    @property
    def env(self) -> str:
        """Environment variable that overrides this setting."""
        return "COSTLOOP_" + self.name.replace(".", "_").replace("-", "_").upper()

    def parse(self, raw: object, origin: str) -> Value:
        """Coerce a file or environment value to the default's type."""
        kind = type(self.default)
        try:
            if kind is bool:
                if isinstance(raw, bool):
                    return raw
                text = str(raw).strip().lower()
                if text in ("1", "true", "yes", "on"):
                    return True
                if text in ("0", "false", "no", "off"):
                    return False
                raise ValueError(text)
            if kind is int:
                if isinstance(raw, bool):
                    raise ValueError(raw)
                return int(str(raw))
            if kind is float:
                return float(str(raw))
            if kind is Decimal:
                return Decimal(str(raw))
            if not isinstance(raw, str):  # a TOML number, list or table for a text setting
                raise ValueError(raw)
            return raw
        except (ValueError, InvalidOperation):
            raise ConfigError(
                f"{origin}: setting {self.name} expects {_KINDS[kind]}, got {raw!r}"
            ) from None


SETTINGS: tuple[Setting, ...] = (
    Setting("warehouse.memory_limit", "4GB", "DuckDB memory limit; larger work spills to disk."),
    Setting("warehouse.threads", 2, "DuckDB worker threads."),
    Setting("ingest.strict", False, "Refuse files with FOCUS validation violations."),
    Setting(
        "ingest.progress_min_mb",
        64,
        "Show a progress bar for inputs at least this many MiB in total.",
    ),
    Setting("org.file", "org.yaml", "Organization file (teams, owners, accounts), relative."),
    Setting(
        "allocation.team_tag_keys",
        "team,owner-team,owner_team,squad",
        "Tag keys (case-insensitive) read as the team dimension, in priority order.",
    ),
    Setting(
        "allocation.file",
        "allocation.yaml",
        "Allocation file (dimensions, rules, shared-cost pools), relative; optional.",
    ),
    Setting(
        "allocation.after_ingest",
        True,
        "Re-allocate the billing periods an ingest loaded, right after it.",
    ),
    Setting("currency.default", "USD", "Currency used when a report needs one."),
    Setting("pricing.region", "us-east-1", "Default region for pricing lookups."),
    Setting(
        "detectors.lookback_days",
        14,
        "Days of utilization the idle-instance and rightsizing detectors evaluate.",
    ),
    Setting(
        "detectors.idle_cpu_p95", 5.0, "idle-instance: every daily p95 CPU % below this is idle."
    ),
    Setting(
        "detectors.rightsize_headroom",
        0.7,
        "rightsizing: projected peak CPU and memory on the smaller size stay below this.",
    ),
    Setting(
        "detectors.min_monthly_savings",
        Decimal("5"),
        "Every detector drops findings saving less than this per month.",
    ),
    Setting(
        "assessment.hourly_rate", Decimal("120"), "Engineering cost per hour for ROI, currency."
    ),
    Setting("verify.settle_days", 3, "Days after a change excluded from the after-window."),
    Setting("report.dir", "reports", "Where HTML reports are written, relative to workspace."),
    Setting(
        "anomalies.min_impact",
        Decimal("100"),
        "An anomaly's total impact (actual − expected over its days) must reach this amount.",
    ),
    Setting(
        "anomalies.min_impact_pct",
        Decimal("20"),
        "…and this percentage of the expected cost (both gates must pass).",
    ),
    Setting(
        "anomalies.z_threshold",
        3.5,
        "Robust z-score (0.6745·residual/MAD) above which a day is unusual.",
    ),
    Setting(
        "anomalies.baseline_weeks",
        8,
        "Weeks of history the weekly-seasonal baseline of each day looks back on.",
    ),
    Setting(
        "forecast.min_history_days",
        56,
        "Days of history before forecasts backtest and choose a statistical model; shorter "
        "series get a labelled fallback (seasonal naive from 14 days, flat mean from 7).",
    ),
    Setting("budgets.file", "budgets.yaml", "Budgets file (scope, amount, thresholds), relative."),
    Setting(
        "alerts.file",
        "alerts.yaml",
        "Alert channels (Slack, webhook, e-mail) and routing, relative to the workspace.",
    ),
    Setting(
        "server.url",
        "",
        "Public URL of `costloop serve`; alerts link to its pages when set.",
    ),
)
SETTINGS_BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class ResolvedSetting:
    """A setting's effective value and where it came from (default, file or env)."""

    setting: Setting
    value: Value
    source: str


class Config:
    """Effective configuration with typed accessors per section."""

    def __init__(self, resolved: Mapping[str, ResolvedSetting]) -> None:
        self.resolved = dict(resolved)

    def value(self, name: str) -> Value:
        """Effective value of a setting by dotted name."""
        return self.resolved[name].value

    def str_(self, name: str) -> str:
        """A string setting."""
        v = self.value(name)
        assert isinstance(v, str), name
        return v

    def int_(self, name: str) -> int:
        """An integer setting."""
        v = self.value(name)
        assert isinstance(v, int) and not isinstance(v, bool), name
        return v

    def bool_(self, name: str) -> bool:
        """A boolean setting."""
        v = self.value(name)
        assert isinstance(v, bool), name
        return v

    def float_(self, name: str) -> float:
        """A float setting."""
        v = self.value(name)
        assert isinstance(v, float), name
        return v

    def decimal(self, name: str) -> Decimal:
        """A Decimal setting."""
        v = self.value(name)
        assert isinstance(v, Decimal), name
        return v

    def list_(self, name: str) -> list[str]:
        """A comma-separated string setting as a list."""
        return [p.strip() for p in self.str_(name).split(",") if p.strip()]


def _flatten(data: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def load_config(file: Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Resolve every setting: environment, then the TOML file, then the default."""
    environ = os.environ if env is None else env
    from_file: dict[str, object] = {}
    if file is not None and file.exists():
        try:
            from_file = _flatten(tomllib.loads(file.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: invalid TOML: {exc}") from None
        unknown = sorted(set(from_file) - set(SETTINGS_BY_NAME))
        if unknown:
            raise ConfigError(f"{file}: unknown setting(s): {', '.join(unknown)}")
    resolved: dict[str, ResolvedSetting] = {}
    for s in SETTINGS:
        if s.env in environ:
            resolved[s.name] = ResolvedSetting(s, s.parse(environ[s.env], s.env), f"env {s.env}")
        elif s.name in from_file:
            origin = f"file {file}"
            resolved[s.name] = ResolvedSetting(s, s.parse(from_file[s.name], origin), origin)
        else:
            resolved[s.name] = ResolvedSetting(s, s.default, "default")
    return Config(resolved)


def _toml_literal(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Decimal):
        return f'"{value}"'
    return f'"{value}"'


def default_toml() -> str:
    """The documented ``costloop.toml`` written by ``costloop init``: all defaults, commented."""
    lines = [
        "# costloop workspace settings.",
        "# Every setting below shows its default, commented out. Uncomment to change it.",
        "# Environment variables override this file: COSTLOOP_<SECTION>_<KEY>,",
        "# e.g. COSTLOOP_WAREHOUSE_MEMORY_LIMIT=8GB. `costloop config show` prints the",
        "# effective values and where each one came from.",
        "",
    ]
    section = None
    for s in SETTINGS:
        sec, key = s.name.split(".", 1)
        if sec != section:
            lines += ["", f"[{sec}]"]
            section = sec
        lines.append(f"# {s.help}")
        lines.append(f"# {key} = {_toml_literal(s.default)}")
    return "\n".join(lines).lstrip() + "\n"
