"""Input files: discovery, format detection, header reading and integrity checks."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from costloop.core.errors import InputError

__all__ = [
    "FileFormat",
    "InputFile",
    "discover",
    "file_digest",
    "json_columns",
    "line_endings",
    "nested_parquet_columns",
    "read_header",
]

_CHUNK = 1 << 20


class FileFormat(StrEnum):
    """Container formats costloop reads."""

    CSV = "csv"
    CSV_GZIP = "csv.gz"
    PARQUET = "parquet"
    JSONL = "jsonl"
    JSONL_GZIP = "jsonl.gz"

    @property
    def gzipped(self) -> bool:
        """Whether the file is gzip-compressed."""
        return self in (FileFormat.CSV_GZIP, FileFormat.JSONL_GZIP)

    @property
    def is_json(self) -> bool:
        """Whether the file holds JSON lines (one object per line)."""
        return self in (FileFormat.JSONL, FileFormat.JSONL_GZIP)


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
    if name.endswith((".json.gz", ".jsonl.gz", ".ndjson.gz")):
        return FileFormat.JSONL_GZIP
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return FileFormat.JSONL
    return None


def _is_manifest(path: Path) -> bool:
    """Export manifests (AWS CUR ``*-Manifest.json``, Azure ``manifest.json``) hold no charges."""
    return path.name.lower().endswith("manifest.json")


def discover(paths: list[Path]) -> list[InputFile]:
    """Expand files and folders (recursively) into input files, sorted by path.

    Inside folders, export manifests (``*manifest.json``) are skipped.

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
                if p.is_file() and (fmt := _format_of(p)) is not None and not _is_manifest(p)
            ]
            if not inside:
                raise InputError(
                    "folder holds no .csv, .csv.gz, .parquet or .json(l) file", file=str(path)
                )
            found.extend(inside)
        else:
            fmt = _format_of(path)
            if fmt is None:
                raise InputError(
                    "unknown file type (expected .csv, .csv.gz, .parquet or .json/.jsonl)",
                    file=str(path),
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
    elif item.format.is_json:
        names = json_columns(item)
    else:
        if item.size == 0:
            raise InputError("file is empty", file=file)
        opener = gzip.open if item.format.gzipped else open
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


JSON_SAMPLE_LINES = 10_000
"""JSON lines files: the columns are the union of the keys of this many first lines."""


def _flatten(value: object, prefix: str, out: dict[str, None]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _flatten(inner, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = None


def json_columns(item: InputFile) -> list[str]:
    """Dotted column names of a JSON lines file (nested objects flattened: ``a.b``).

    Arrays and scalars are leaves; the names are the union, in order of first
    appearance, over the first :data:`JSON_SAMPLE_LINES` lines.

    Raises:
        InputError: empty file, a line that is not a JSON object, bad encoding.
    """
    file = str(item.path)
    if item.size == 0:
        raise InputError("file is empty", file=file)
    names: dict[str, None] = {}
    opener = gzip.open if item.format.gzipped else open
    try:
        with opener(item.path, "rt", encoding="utf-8-sig") as f:
            for number, line in enumerate(f, start=1):
                if number > JSON_SAMPLE_LINES:
                    break
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    if number == 1 and line.strip() in ("{", "["):
                        raise InputError(
                            "a multi-line JSON document, not JSON lines: costloop reads one "
                            "JSON object per line (e.g. BigQuery's NEWLINE_DELIMITED_JSON)",
                            file=file,
                        ) from None
                    raise InputError(
                        f"line is not valid JSON: {exc.msg}", file=file, row=number
                    ) from None
                if not isinstance(record, dict):
                    raise InputError("line is not a JSON object", file=file, row=number)
                for key, value in record.items():
                    _flatten(value, str(key), names)
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 (byte {exc.start})", file=file) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read: {exc}", file=file) from None
    if not names:
        raise InputError("file holds no JSON object", file=file)
    return list(names)


def nested_parquet_columns(item: InputFile) -> frozenset[str]:
    """Names of a Parquet file's map, struct and list columns (read as JSON text)."""
    schema = pq.read_schema(item.path)
    return frozenset(
        f.name
        for f in schema
        if pa.types.is_map(f.type)
        or pa.types.is_struct(f.type)
        or pa.types.is_list(f.type)
        or pa.types.is_large_list(f.type)
    )


def line_endings(item: InputFile) -> str | None:
    """A message when a CSV file mixes CRLF and LF line endings, else None.

    The CSV reader needs one line-ending style per file; this names the first line
    that breaks the style of the header line.
    """
    if item.format.is_json or item.format is FileFormat.PARQUET:
        return None
    opener = gzip.open if item.format.gzipped else open
    crlf: bool | None = None
    quotes = 0  # '"' seen so far: newlines inside quotes are data
    line = 1
    last = b""
    with opener(item.path, "rb") as f:
        while chunk := f.read(_CHUNK):
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                quotes += chunk.count(b'"', start, end)
                if quotes % 2 == 0:
                    before = chunk[end - 1 : end] if end else last
                    style = before == b"\r"
                    if crlf is None:
                        crlf = style
                    elif style != crlf:
                        first, this = ("CRLF", "LF") if crlf else ("LF", "CRLF")
                        return (
                            f"the file mixes line endings: the header ends in {first} but "
                            f"line {line} ends in {this}; save it with one style "
                            "(e.g. `dos2unix FILE`)"
                        )
                    line += 1
                start = end + 1
            quotes += chunk.count(b'"', start)
            last = chunk[-1:]
    return None


def file_digest(item: InputFile) -> str:
    """SHA-256 of the file's bytes; for gzip also verifies the stream is complete.

    Raises:
        InputError: a gzip file is truncated or corrupt.
    """
    digest = hashlib.sha256()
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16) if item.format.gzipped else None
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
