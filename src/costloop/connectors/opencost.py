"""OpenCost / Kubecost namespace cost allocation: the allocation API JSON and the CSV export.

Two documented shapes are read:

- the allocation API response (OpenCost ``/allocation`` and ``/allocation/compute``,
  Kubecost ``/model/allocation``): ``{"code": 200, "data": [window, ...]}`` where each
  window maps an allocation name to an allocation with ``properties`` (cluster,
  namespace, ...), a ``window`` (RFC 3339 start and end) and its costs;
- the OpenCost CSV export: one row per allocation per day, columns ``Date``,
  ``Namespace``, ..., ``CPUCost``, ``RAMCost``, ``NetworkCost``, ``PVCost``, ``GPUCost``,
  ``TotalCost`` (no cluster column, unless one was added as ``Cluster``).

Every allocation becomes one row of ``k8s_allocation`` (finer aggregations are kept
as several rows of the same namespace; their sum is the namespace's cost). Numbers are
parsed from the text as Decimal, never through a float. The special allocations
``__idle__``, ``__unallocated__`` and ``__unmounted__`` have no namespace; they keep
that name as their namespace.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path

import pyarrow as pa

from costloop.core.errors import InputError

__all__ = [
    "CSV_REQUIRED",
    "K8S_SCHEMA",
    "SPECIAL_NAMESPACES",
    "is_opencost",
    "opencost_kind",
    "read_opencost",
]

SPECIAL_NAMESPACES = ("__idle__", "__unallocated__", "__unmounted__")
"""Allocations without a real namespace; kept under these names."""

CSV_REQUIRED = ("Date", "Namespace", "TotalCost")
"""Columns that make a CSV file an OpenCost export."""

_COSTS = ("cpu_cost", "ram_cost", "pv_cost", "network_cost", "gpu_cost")
_JSON_COSTS = dict(
    zip(_COSTS, ("cpuCost", "ramCost", "pvCost", "networkCost", "gpuCost"), strict=True)
)
_CSV_COSTS = dict(
    zip(_COSTS, ("CPUCost", "RAMCost", "PVCost", "NetworkCost", "GPUCost"), strict=True)
)
_MONEY = pa.decimal128(38, 18)
_PLACES = Decimal(1).scaleb(-18)
_LIMIT = Decimal(10) ** 20  # DECIMAL(38, 18) holds 20 integer digits
_PEEK = 1 << 16
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STRING = r'"(?:[^"\\]|\\.)*"'
_SCALAR = rf"(?:{_STRING}|-?[0-9][0-9.eE+-]*|true|false|null)"
# The opening of an allocation response: scalar members (code, status, message) and
# then "data": a list whose first window is null, empty, or maps a name to an object.
_API_HEAD = re.compile(
    rf"^\{{\s*(?:{_STRING}\s*:\s*{_SCALAR}\s*,\s*)*\"data\"\s*:\s*\[\s*(?:null\s*,\s*)*"
    rf"(?:\]|null|\{{\s*(?:\}}|{_STRING}\s*:\s*\{{))"
)

K8S_SCHEMA = pa.schema(
    [
        ("window_start", pa.timestamp("us")),
        ("window_end", pa.timestamp("us")),
        ("cluster", pa.string()),
        ("namespace", pa.string()),
        *((name, _MONEY) for name in (*_COSTS, "total_cost")),
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
    ]
)
"""Arrow schema of the rows :func:`read_opencost` returns (``K8S_ALLOCATION_COLUMNS``)."""


class _BadValue(ValueError):
    """A value of one allocation or row that cannot be used, and the field it is in."""

    def __init__(self, column: str, why: str) -> None:
        super().__init__(f"{column}: {why}")
        self.column = column
        self.why = why


def _gzipped(path: Path) -> bool:
    return path.name.lower().endswith((".gz", ".gzip"))


def _peek(path: Path) -> str:
    """The first bytes of a file as text (decompressed), BOM removed; '' if unreadable."""
    opener = gzip.open if _gzipped(path) else open
    try:
        with opener(path, "rb") as f:
            raw = f.read(_PEEK)
    except (OSError, EOFError, zlib.error):
        return ""
    return raw.decode("utf-8", errors="replace").removeprefix("\ufeff")


def opencost_kind(path: Path) -> str | None:
    """``"api"`` for an allocation API JSON, ``"csv"`` for a CSV export, else None.

    Only the start of the file is read: a JSON document whose top-level ``data`` is a
    list of mappings of allocations (objects), or a CSV header naming ``Date``,
    ``Namespace`` and ``TotalCost``.
    """
    name = path.name.lower()
    if not path.is_file():
        return None
    head = _peek(path)
    if name.endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        return "api" if _API_HEAD.match(head.lstrip()) else None
    if name.endswith((".csv", ".csv.gz", ".csv.gzip")):
        first = head.split("\n", 1)[0].rstrip("\r")
        try:
            header = {c.strip() for c in next(csv.reader([first]))}
        except (StopIteration, csv.Error):
            return None
        return "csv" if set(CSV_REQUIRED) <= header else None
    return None


def is_opencost(path: Path) -> bool:
    """Whether ``path`` is an OpenCost / Kubecost allocation export (API JSON or CSV)."""
    return opencost_kind(path) is not None


@dataclass
class _Columns:
    """Column lists of the Arrow table being built."""

    values: dict[str, list[object]] = field(
        default_factory=lambda: {name: [] for name in K8S_SCHEMA.names}
    )

    def add(self, row: Mapping[str, object]) -> None:
        for name, column in self.values.items():
            column.append(row[name])

    def table(self) -> pa.Table:
        return pa.table(self.values, schema=K8S_SCHEMA)


def _money(value: object, where: str) -> Decimal:
    """An exact amount with at most 18 places, from JSON/CSV text; raises _BadValue."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise _BadValue(where, f"not a number: {value!r}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise _BadValue(where, f"not a number: {value!r}") from None
    if not amount.is_finite():
        raise _BadValue(where, f"not a finite number: {value!r}")
    if abs(amount) >= _LIMIT:
        raise _BadValue(where, f"too large for DECIMAL(38, 18): {value!r}")
    with localcontext() as ctx:
        ctx.prec = 60
        # Places beyond 18 are below 1e-18 of a currency unit; the column keeps 18.
        return amount.quantize(_PLACES)


def _timestamp(value: object, where: str) -> datetime:
    """A naive UTC datetime from an RFC 3339 string; raises _BadValue."""
    if not isinstance(value, str) or not value.strip():
        raise _BadValue(where, f"missing or not a date-time: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _BadValue(where, f"not an RFC 3339 date-time: {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _special(name: str) -> str | None:
    """The special namespace an allocation name stands for (``cluster/__idle__`` too)."""
    for part in name.split("/"):
        if part in SPECIAL_NAMESPACES:
            return part
    return None


def _window(alloc: Mapping[str, object]) -> tuple[datetime, datetime]:
    """Start and end of an allocation's window; raises _BadValue naming the field."""
    window = alloc.get("window")
    if isinstance(window, Mapping):
        start, end, names = window.get("start"), window.get("end"), ("window.start", "window.end")
    elif "start" in alloc or "end" in alloc:
        start, end, names = alloc.get("start"), alloc.get("end"), ("start", "end")
    else:
        raise _BadValue("window", "the allocation has no window (window.start, window.end)")
    begin, finish = _timestamp(start, names[0]), _timestamp(end, names[1])
    if finish <= begin:
        raise _BadValue("window", f"the window ends ({end}) before it starts ({start})")
    return begin, finish


def _json_row(name: str, alloc: Mapping[str, object], cluster: str | None) -> dict[str, object]:
    """The k8s_allocation values of one API allocation; raises _BadValue."""
    start, end = _window(alloc)
    props = alloc.get("properties")
    props = props if isinstance(props, Mapping) else {}
    namespace = _special(name) or props.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        raise _BadValue(
            "properties.namespace",
            "the allocation names no namespace; export with "
            "aggregate=namespace (or a finer aggregation that includes it)",
        )
    named = props.get("cluster")
    row: dict[str, object] = {
        "window_start": start,
        "window_end": end,
        "cluster": named if isinstance(named, str) and named else cluster,
        "namespace": namespace,
    }
    for column, key in _JSON_COSTS.items():
        value = alloc.get(key)
        row[column] = Decimal(0) if value is None else _money(value, key)
    if alloc.get("totalCost") is None:
        raise _BadValue("totalCost", "the allocation has no totalCost")
    row["total_cost"] = _money(alloc["totalCost"], "totalCost")
    return row


def _load_json(path: Path) -> object:
    file = str(path)
    opener = gzip.open if _gzipped(path) else open
    try:
        with opener(path, "rb") as f:
            text = f.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 (byte {exc.start})", file=file) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read: {exc}", file=file) from None
    try:
        # NaN / Infinity stay text, so the number check below refuses them by name.
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not a JSON document: {exc.msg} (line {exc.lineno}, column {exc.colno})", file=file
        ) from None


def _read_api(path: Path, cluster: str | None) -> pa.Table:
    file = str(path)
    doc = _load_json(path)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("data"), list):
        raise InputError(
            'not an allocation API response: expected {"code": 200, "data": [...]}',
            file=file,
            column="data",
        )
    code = doc.get("code")
    if code is not None and code != 200:
        raise InputError(
            f"the response is an error (code {code}): {doc.get('message', '')}".rstrip(": "),
            file=file,
            column="code",
        )
    out = _Columns()
    position = 0
    for index, window in enumerate(doc["data"], start=1):
        if window is None:
            continue
        if not isinstance(window, Mapping):
            raise InputError(
                f"window {index} of data is not a mapping of allocations", file=file, column="data"
            )
        for name, alloc in window.items():
            position += 1
            if not isinstance(alloc, Mapping):
                raise InputError(
                    f"window {index}, allocation {name!r}: not an object", file=file, row=position
                )
            try:
                row = _json_row(str(name), alloc, cluster)
            except _BadValue as exc:
                raise InputError(
                    f"window {index}, allocation {name!r}: {exc.why}",
                    file=file,
                    row=position,
                    column=exc.column,
                ) from None
            row["source_file"] = file
            row["source_row"] = position
            out.add(row)
    return out.table()


def _csv_lines(path: Path) -> Iterator[str]:
    opener = gzip.open if _gzipped(path) else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            yield from f
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 (byte {exc.start})", file=str(path)) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None


def _csv_row(record: Mapping[str, str], header: set[str], cluster: str | None) -> dict[str, object]:
    """The k8s_allocation values of one CSV export row; raises _BadValue."""
    day_text = record["Date"].strip()
    if not _DATE.match(day_text):
        raise _BadValue("Date", f"expected YYYY-MM-DD, got {day_text!r}")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise _BadValue("Date", f"not a calendar date: {day_text!r}") from None
    start = datetime(day.year, day.month, day.day)
    named = record.get("Cluster", "").strip() if "Cluster" in header else ""
    row: dict[str, object] = {
        "window_start": start,
        "window_end": start + timedelta(days=1),
        "cluster": named or cluster,
        # The export writes an empty Namespace for what OpenCost calls unallocated.
        "namespace": record["Namespace"].strip() or "__unallocated__",
    }
    for column, name in _CSV_COSTS.items():
        text = record.get(name, "").strip() if name in header else ""
        row[column] = _money(text, name) if text else Decimal(0)
    total = record["TotalCost"].strip()
    if not total:
        raise _BadValue("TotalCost", "empty")
    row["total_cost"] = _money(total, "TotalCost")
    return row


def _read_csv(path: Path, cluster: str | None) -> pa.Table:
    file = str(path)
    reader = csv.reader(_csv_lines(path))
    try:
        names = [n.strip() for n in next(reader)]
    except StopIteration:
        raise InputError("file is empty", file=file) from None
    except csv.Error as exc:
        raise InputError(f"unreadable CSV header: {exc}", file=file, row=0) from None
    missing = [c for c in CSV_REQUIRED if c not in names]
    if missing:
        raise InputError(
            f"missing required column(s) {', '.join(missing)}", file=file, column=missing[0]
        )
    header = set(names)
    out = _Columns()
    number = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"unreadable CSV row: {exc}", file=file, row=number + 1) from None
        number += 1
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(names):
            raise InputError(
                f"{len(fields)} fields but the header has {len(names)}", file=file, row=number
            )
        try:
            row = _csv_row(dict(zip(names, fields, strict=True)), header, cluster)
        except _BadValue as exc:
            raise InputError(exc.why, file=file, row=number, column=exc.column) from None
        row["source_file"] = file
        row["source_row"] = number
        out.add(row)
    return out.table()


def read_opencost(path: Path, *, cluster: str | None = None) -> pa.Table:
    """Rows of ``k8s_allocation`` from an OpenCost / Kubecost export.

    Args:
        path: an allocation API response (``.json``, optionally gzipped) or an
            OpenCost CSV export (``.csv`` / ``.csv.gz``).
        cluster: the cluster of rows whose file does not name one (the CSV export
            has no cluster column; an API allocation may lack ``properties.cluster``).

    Returns:
        A table with :data:`K8S_SCHEMA`: Decimal costs (18 places), naive UTC window
        bounds, ``source_row`` = the 1-based data row (CSV) or the 1-based position of
        the allocation in the document (JSON, counted over all windows in order).

    Raises:
        InputError: not an OpenCost export, or a bad value; names the file, the row
            (JSON: the allocation's position, with its window index and name in the
            message) and the column.
    """
    kind = opencost_kind(path)
    if kind is None:
        raise InputError(
            "not an OpenCost/Kubecost export (an allocation API JSON response, or a CSV "
            "with Date, Namespace and TotalCost columns)",
            file=str(path),
        )
    table = _read_api(path, cluster) if kind == "api" else _read_csv(path, cluster)
    if table.num_rows == 0:
        raise InputError("the export holds no allocations", file=str(path))
    return table
