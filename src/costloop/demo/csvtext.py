"""Fast, exact CSV text: integer units as plain decimals, minimal RFC 4180 quoting."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["decimal_text", "write_rows"]


def decimal_text(units: npt.NDArray[np.int64], scale: int) -> pa.StringArray:
    """``units * 10**-scale`` as plain decimal text without exponent or trailing zeros.

    Vectorized through Arrow's decimal128 to-string cast; the few values Arrow would
    print with an exponent (zero and magnitudes below 1e-6) are formatted exactly in
    Python.
    """
    u = np.ascontiguousarray(units, dtype=np.int64)
    words = np.empty((len(u), 2), dtype=np.int64)
    words[:, 0] = u
    words[:, 1] = u >> 63  # sign extension to 128 bits
    dec = pa.Array.from_buffers(pa.decimal128(38, scale), len(u), [None, pa.py_buffer(words)])
    text = pc.cast(dec, pa.string())
    text = pc.utf8_rtrim(pc.utf8_rtrim(text, "0"), ".")
    odd = np.nonzero(np.abs(u) < 10 ** max(scale - 6, 0))[0]
    if len(odd):
        fixed = [_exact(int(v), scale) for v in u[odd]]
        values = text.to_numpy(zero_copy_only=False).astype(object)
        values[odd] = fixed
        text = pa.array(values, pa.string())
    return text


def _exact(value: int, scale: int) -> str:
    text = format(Decimal(value).scaleb(-scale), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _quoted(column: pa.Array) -> pa.Array:
    needs = pc.match_substring_regex(column, '[",\\r\\n]')
    if not pc.any(needs).as_py():
        return column
    escaped = pc.replace_substring(column, '"', '""')
    wrapped = pc.binary_join_element_wise('"', escaped, '"', "")
    return pc.if_else(needs, wrapped, column)


def write_rows(
    out: BinaryIO, columns: Sequence[pa.Array], header: Sequence[str] | None = None
) -> int:
    """Append CSV lines for string columns (nulls become empty fields); returns rows."""
    if header is not None:
        out.write((",".join(header) + "\n").encode())
    if not columns or len(columns[0]) == 0:
        return 0
    parts = [_quoted(c) for c in columns]
    row = pc.binary_join_element_wise(*parts, ",", null_handling="replace", null_replacement="")
    row = pc.binary_join_element_wise(row, "\n", "")
    if isinstance(row, pa.ChunkedArray):
        row = row.combine_chunks()
    offsets = np.frombuffer(row.buffers()[1], dtype=np.int32, count=len(row) + 1, offset=0)
    start, end = int(offsets[row.offset]), int(offsets[row.offset + len(row)])
    out.write(memoryview(row.buffers()[2])[start:end])
    return len(row)
