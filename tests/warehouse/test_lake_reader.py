"""A long-running reader (``costloop serve``) next to writers in other processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from costloop.warehouse import Lake, LakePaths, LakeReader
from costloop.warehouse.engine import reader_engine

WRITE = """
import sys
from pathlib import Path
from costloop.warehouse import Lake, LakePaths
lake = Lake(LakePaths(Path(sys.argv[1])))
with lake.connect(read_only=False) as con:
    con.execute("INSERT INTO notes VALUES (?)", [int(sys.argv[2])])
print("committed")
"""

OPEN = """
import sys
from pathlib import Path
from costloop.warehouse import Lake, LakePaths
with Lake(LakePaths(Path(sys.argv[1]))).connect():
    pass
"""


def _lake(root: Path) -> Lake:
    lake = Lake(LakePaths(root))
    lake.create()
    with lake.connect(read_only=False) as con:
        con.execute("CREATE TABLE notes (n INTEGER)")
        con.execute("INSERT INTO notes VALUES (1)")
    return lake


def _write_in_another_process(root: Path, n: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WRITE, str(root), str(n)], capture_output=True, text=True
    )


def _journal_mode(lake: Lake) -> str:
    db = sqlite3.connect(lake.paths.catalog)
    try:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        db.close()


def test_catalog_is_in_wal_mode_and_old_catalogs_are_converted(tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake")
    assert _journal_mode(lake) == "wal"
    db = sqlite3.connect(lake.paths.catalog)
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    assert _journal_mode(lake) == "delete"
    # A new process (this one has already checked the catalog) opens it.
    done = subprocess.run(
        [sys.executable, "-c", OPEN, str(lake.paths.root)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert _journal_mode(lake) == "wal"


def test_ingest_commits_while_the_server_reads_and_the_server_sees_it(tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake")
    reader = LakeReader(lake)
    try:
        with reader.connect() as cur:
            assert cur.execute("SELECT count(*) FROM notes").fetchone() == (1,)
            # A request is in the middle of its transaction when the other process commits.
            cur.execute("BEGIN")
            assert cur.execute("SELECT count(*) FROM notes").fetchone() == (1,)
            done = _write_in_another_process(lake.paths.root, 2)
            assert done.returncode == 0, done.stderr
            assert cur.execute("SELECT count(*) FROM notes").fetchone() == (1,)  # its snapshot
            cur.execute("COMMIT")
        with reader_engine(reader) as engine:
            assert engine.rows(engine.table("notes").n.sum().name("s").as_table()) == [{"s": 3}]
    finally:
        reader.close()


def test_in_memory_copy_follows_the_version(tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake")
    reader = LakeReader(lake)
    try:
        assert reader.keep_in_memory("notes", "v1")
        assert reader.in_memory == {"notes"}
        assert _write_in_another_process(lake.paths.root, 5).returncode == 0

        def total() -> int:
            with reader_engine(reader) as engine:
                t = engine.table("notes")
                return int(engine.rows(t.n.sum().name("s").as_table())[0]["s"])

        assert total() == 1  # the copy of version v1
        assert reader.keep_in_memory("notes", "v2")
        assert total() == 6
        assert not reader.keep_in_memory("missing", "v2")
        assert reader.in_memory == {"notes"}
    finally:
        reader.close()


def test_version_changes_with_commits_not_with_readers(tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake")
    before = lake.version()
    reader = LakeReader(lake)
    try:
        with reader.connect() as cur:
            cur.execute("SELECT count(*) FROM notes").fetchall()
        assert lake.version() == before  # a reader opening the catalog changes nothing
        assert _write_in_another_process(lake.paths.root, 9).returncode == 0
        after = lake.version()
        assert after != before
        assert _write_in_another_process(lake.paths.root, 10).returncode == 0
        assert lake.version() not in (before, after)
    finally:
        reader.close()
