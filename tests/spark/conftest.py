"""One local Spark session (``local[2]``) for the whole test run, as an Ibis backend."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """An Ibis PySpark backend on a local[2] session; skips when pyspark or Java is missing."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (it comes with ibis-framework[pyspark])")
    if _java() is None:
        pytest.skip("Spark needs Java 17: no java on the PATH or in JAVA_HOME")
    from costloop.warehouse.parquet import spark_backend

    # Tuned for a few hundred rows in a short-lived JVM: few shuffle partitions (the
    # default 200 schedules 200 tasks per stage), no adaptive re-planning between the
    # allocation's many small stages, and the quick-starting JIT tier.
    backend = spark_backend(
        "local[2]",
        **{
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.adaptive.enabled": "false",
            "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
        },
    )
    yield backend
    backend.disconnect()
