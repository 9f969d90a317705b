"""Input files: discovery, format detection, header reading and integrity checks."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyarrow.parquet as pq

from costloop.core.errors import InputError

__all__ = ["FileFormat", "InputFile", "discover", "file_digest", "read_header"]

_CHUNK = 1 << 20


class FileFormat(StrEnum):
    """Container formats costloop reads."""

    CSV = "csv"
    CSV_GZIP = "csv.gz"
    PARQUET = "parquet"


@dataclass(frozen=True)
class InputFile:
    """A file to ingest."""

    path: Path
    format: FileFormat

    @property
    def size(self) -> int:
        """Size on disk in bytes."""
        return self.path.stat().st_size


def _format_of(path: Path) -> FileFormat | None:
    name = path.name.lower()
    if name.endswith((".csv.gz", ".csv.gzip")):
        return FileFormat.CSV_GZIP
    if name.endswith(".csv"):
        return FileFormat.CSV
    if name.endswith(".parquet"):
        return FileFormat.PARQUET
    return None


def discover(paths: list[Path]) -> list[InputFile]:
    """Expand files and folders (recursively) into input files, sorted by path.

    Raises:
        InputError: a path does not exist, a named file has an unknown extension,
            or a folder holds no readable file.
    """
    found: list[InputFile] = []
    for path in paths:
        if not path.exists():
            raise InputError("no such file or directory", file=str(path))
        if path.is_dir():
            inside = [
                InputFile(p, fmt)
                for p in sorted(path.rglob("*"))
                if p.is_file() and (fmt := _format_of(p)) is not None
            ]
            if not inside:
                raise InputError("folder holds no .csv, .csv.gz or .parquet file", file=str(path))
            found.extend(inside)
        else:
            fmt = _format_of(path)
            if fmt is None:
                raise InputError(
                    "unknown file type (expected .csv, .csv.gz or .parquet)", file=str(path)
                )
            found.append(InputFile(path, fmt))
    return found


def _decode_header(raw: bytes, file: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("file is UTF-16 encoded; save it as UTF-8", file=file)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"header is not valid UTF-8 (byte {exc.start}); save the file as UTF-8",
            file=file,
        ) from None


def _first_line(f: io.BufferedIOBase | gzip.GzipFile, file: str) -> bytes:
    try:
        line = f.readline(1 << 22)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read: {exc}", file=file) from None
    return line


def read_header(item: InputFile) -> list[str]:
    """Column names of a file, in order, exactly as written (BOM removed).

    Raises:
        InputError: empty file, unreadable encoding, corrupt container, or
            duplicate column names.
    """
    file = str(item.path)
    if item.format is FileFormat.PARQUET:
        try:
            names = list(pq.read_schema(item.path).names)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise InputError(f"not a readable Parquet file: {exc}", file=file) from None
    else:
        if item.size == 0:
            raise InputError("file is empty", file=file)
        opener = gzip.open if item.format is FileFormat.CSV_GZIP else open
        with opener(item.path, "rb") as f:
            raw = _first_line(f, file)
        text = _decode_header(raw, file).rstrip("\r\n")
        if not text.strip():
            raise InputError("file is empty (no header line)", file=file)
        names = next(csv.reader([text]))
    seen: dict[str, int] = {}
    for pos, name in enumerate(names, start=1):
        key = name.strip()
        if key in seen:
            raise InputError(
                f"duplicate column name {key!r} in the header (positions {seen[key]} and {pos})",
                file=file,
                column=key,
            )
        seen[key] = pos
    return [n.strip() for n in names]


def file_digest(item: InputFile) -> str:
    """SHA-256 of the file's bytes; for gzip also verifies the stream is complete.

    Raises:
        InputError: a gzip file is truncated or corrupt.
    """
    digest = hashlib.sha256()
    inflater = (
        zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        if item.format is FileFormat.CSV_GZIP
        else None
    )
    with item.path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            if inflater is not None:
                try:
                    inflater.decompress(chunk, 0)
                    while inflater.eof and inflater.unused_data:
                        rest = inflater.unused_data  # concatenated gzip members
                        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
                        inflater.decompress(rest, 0)
                except zlib.error as exc:
                    raise InputError(f"corrupt gzip data: {exc}", file=str(item.path)) from None
    if inflater is not None and not inflater.eof:
        raise InputError("gzip file is truncated (stream ends early)", file=str(item.path))
    return digest.hexdigest()
