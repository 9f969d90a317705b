"""Settings: the file `costloop init` writes, precedence env > file > default, bad values."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from costloop.config import SETTINGS, load_config
from costloop.workspace import Workspace

SETTING_LINE = re.compile(r"^# (\w+ = )", re.M)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_init_writes_a_commented_file_documenting_every_setting(cli: Any, tmp_path: Path) -> None:
    root = tmp_path / "ws"

    proc = cli("init", root)

    assert proc.returncode == 0, proc.stderr
    assert "Workspace ready" in proc.stdout
    assert (root / ".costloop" / "lake.sqlite").exists()
    text = (root / "costloop.toml").read_text(encoding="utf-8")
    assert _flatten(tomllib.loads(text)) == {}, "every setting should be commented out"
    for setting in SETTINGS:
        assert f"# {setting.help}" in text, setting.name
    # Uncommented, the file holds exactly the defaults, each in its own section.
    uncommented = SETTING_LINE.sub(r"\1", text)
    values = _flatten(tomllib.loads(uncommented))
    assert set(values) == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        assert setting.parse(values[setting.name], "test") == setting.default, setting.name
    (root / "costloop.toml").write_text(uncommented, encoding="utf-8")
    config = load_config(root / "costloop.toml", env={})
    assert {r.source.split()[0] for r in config.resolved.values()} == {"file"}


def test_init_again_keeps_settings_and_data(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = Workspace.init(root)
    (root / "costloop.toml").write_text("[warehouse]\nthreads = 1\n", encoding="utf-8")
    marker = ws.lake.paths.data / "kept"
    marker.write_text("x")

    again = Workspace.init(root)

    assert (root / "costloop.toml").read_text(encoding="utf-8") == "[warehouse]\nthreads = 1\n"
    assert again.config.value("warehouse.threads") == 1
    assert marker.exists()


def test_config_show_reports_each_source_env_over_file_over_default(
    cli_json: Any, workspace: Path
) -> None:
    (workspace / "costloop.toml").write_text(
        '[warehouse]\nthreads = 3\nmemory_limit = "2GB"\n\n[ingest]\nstrict = true\n',
        encoding="utf-8",
    )
    env = {"COSTLOOP_WAREHOUSE_THREADS": "4", "COSTLOOP_INGEST_PROGRESS_MIN_MB": "1"}

    out = cli_json("config", "show", "-w", workspace, env=env)

    shown = {s["name"]: (s["value"], s["source"]) for s in out["settings"]}
    assert list(shown) == [s.name for s in SETTINGS]
    file = f"file {workspace / 'costloop.toml'}"
    assert shown["warehouse.threads"] == (4, "env COSTLOOP_WAREHOUSE_THREADS")  # env beats file
    assert shown["warehouse.memory_limit"] == ("2GB", file)
    assert shown["ingest.strict"] == (True, file)
    assert shown["ingest.progress_min_mb"] == (1, "env COSTLOOP_INGEST_PROGRESS_MIN_MB")
    assert shown["currency.default"] == ("USD", "default")


@pytest.mark.parametrize(
    ("toml", "env", "says"),
    [
        ("[warehouse]\nthread = 3\n", {}, "unknown setting(s): warehouse.thread"),
        ("[warehous]\nthreads = 3\n", {}, "unknown setting(s): warehous.threads"),
        ('[warehouse]\nthreads = "two"\n', {}, "warehouse.threads expects an integer, got 'two'"),
        ("[warehouse]\nmemory_limit = 8\n", {}, "warehouse.memory_limit expects a quoted string"),
        ('[ingest]\nstrict = "maybe"\n', {}, "ingest.strict expects true or false, got 'maybe'"),
        ("[warehouse\n", {}, "invalid TOML"),
        (
            "",
            {"COSTLOOP_WAREHOUSE_THREADS": "lots"},
            "COSTLOOP_WAREHOUSE_THREADS: setting warehouse.threads expects an integer",
        ),
    ],
    ids=["unknown-key", "unknown-section", "int", "str", "bool", "toml-syntax", "env"],
)
def test_bad_settings_are_refused_with_exit_2(
    cli_main: Any, workspace: Path, toml: str, env: dict[str, str], says: str
) -> None:
    (workspace / "costloop.toml").write_text(toml, encoding="utf-8")

    proc = cli_main("config", "show", "-w", workspace, env=env)

    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert says in message
    if not env:
        assert str(workspace / "costloop.toml") in message
    assert "Traceback" not in proc.stderr


def test_an_invalid_memory_limit_is_a_config_error(cli_main: Any, workspace: Path) -> None:
    (workspace / "costloop.toml").write_text('[warehouse]\nmemory_limit = "lots"\n')

    proc = cli_main("sql", "SELECT 1", "-w", workspace)

    assert proc.returncode == 2
    assert "warehouse.memory_limit = 'lots'" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr


def test_a_setting_from_the_environment_changes_behaviour(
    cli: Any, workspace: Path, focus_sample: Path
) -> None:
    proc = cli("ingest", focus_sample, "-w", workspace, env={"COSTLOOP_INGEST_STRICT": "true"})

    assert proc.returncode == 2
    assert "--strict" in proc.stderr
    assert "ContractedCost" in proc.stderr
