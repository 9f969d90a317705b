"""The package surface: explicit ``__all__`` everywhere, and a light ``import costloop``."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import costloop


def _modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages(costloop.__path__, "costloop.")
        if ".migrations" not in m.name
    ]


def test_every_module_declares_an_existing_all() -> None:
    missing = []
    for name in _modules():
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            if module.__doc__ is None:
                missing.append(f"{name}: no __all__ and no docstring")
            continue
        for symbol in exported:
            if not hasattr(module, symbol):
                missing.append(f"{name}.{symbol}")
    assert not missing, missing


def test_every_module_has_a_docstring() -> None:
    assert [n for n in _modules() if not importlib.import_module(n).__doc__] == []


def test_import_costloop_stays_light() -> None:
    code = (
        "import sys, costloop; "
        "print(sorted(m for m in ('duckdb', 'ibis', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
