"""Write blocks as FOCUS 1.2 CSV files, one per provider and billing period."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from costloop.core.focus import COLUMNS, DataType
from costloop.demo.charges import SCALE, Block
from costloop.demo.company import PROVIDERS
from costloop.demo.csvtext import decimal_text, write_rows
from costloop.demo.model import Calendar

__all__ = ["FOCUS_12", "invoice_id", "write_billing"]

FOCUS_12: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.since != "1.3")
_DECIMALS = {c.name for c in COLUMNS if c.dtype is DataType.DECIMAL}
_MIRRORS = {
    "PricingCurrencyContractedUnitPrice": "ContractedUnitPrice",
    "PricingCurrencyEffectiveCost": "EffectiveCost",
    "PricingCurrencyListUnitPrice": "ListUnitPrice",
}
_DERIVED = {
    "InvoiceId",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
}
I64 = npt.NDArray[np.int64]


def invoice_id(provider: str, month: str) -> str:
    """The invoice of a billing account for a month, e.g. ``AWS-431209876543-2026-10``."""
    info = PROVIDERS[provider]
    return f"{info.invoice_prefix}-{info.billing_account_id}-{month}"


class _Rows:
    """All blocks flattened to rows, sorted by charge day."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        sizes = np.array([len(b.day) for b in blocks], dtype=np.int64)
        self.block = np.repeat(np.arange(len(blocks)), sizes)
        self.day = np.concatenate([b.day for b in blocks])
        self.end = np.concatenate([b.end_day for b in blocks])
        self.month = np.concatenate([b.month for b in blocks])
        slugs = list(PROVIDERS)
        self.provider = np.repeat(np.array([slugs.index(b.provider) for b in blocks]), sizes)
        self.order = np.argsort(self.day, kind="stable")
        self.values: dict[str, tuple[I64, npt.NDArray[np.bool_]]] = {}
        starts = np.concatenate([[0], np.cumsum(sizes)])
        for name in _DECIMALS:
            vals = np.zeros(len(self.day), dtype=np.int64)
            valid = np.zeros(len(self.day), dtype=np.bool_)
            for i, b in enumerate(blocks):
                v = b.values.get(name)
                if v is not None:
                    vals[starts[i] : starts[i + 1]] = v
                    valid[starts[i] : starts[i + 1]] = True
            self.values[name] = (vals, valid)
        self.attrs = {
            name: pa.array([b.attrs.get(name) for b in blocks], pa.string())
            for name in FOCUS_12
            if name not in _DECIMALS and name not in _DERIVED
        }


def _columns(rows: _Rows, sel: I64, cal: Calendar, provider: str, month: int) -> list[pa.Array]:
    n = len(sel)
    stamps = pa.array(cal.stamps, pa.string())
    idx = pa.array(rows.block[sel])
    cols: list[pa.Array] = []
    for name in FOCUS_12:
        if name in _DECIMALS:
            vals, valid = rows.values[_MIRRORS.get(name, name)]
            text = decimal_text(vals[sel], SCALE)
            ok = valid[sel]
            if not ok.all():
                text = pc.if_else(pa.array(ok), text, pa.scalar(None, pa.string()))
            cols.append(text)
        elif name == "InvoiceId":
            cols.append(pa.array([invoice_id(provider, str(cal.months[month]))] * n, pa.string()))
        elif name in ("BillingPeriodStart", "BillingPeriodEnd"):
            first = cal.months[month] if name.endswith("Start") else cal.months[month].next()
            cols.append(pa.array([f"{first}-01T00:00:00Z"] * n, pa.string()))
        elif name == "ChargePeriodStart":
            cols.append(stamps.take(pa.array(rows.day[sel])))
        elif name == "ChargePeriodEnd":
            cols.append(stamps.take(pa.array(rows.end[sel])))
        else:
            cols.append(rows.attrs[name].take(idx))
    return cols


def write_billing(
    blocks: Sequence[Block], cal: Calendar, out: Path, months: Sequence[int]
) -> tuple[list[Path], int]:
    """Write ``billing/<provider>/<YYYY-MM>.csv`` for the given month indexes.

    Returns the files written and the number of rows.
    """
    rows = _Rows(blocks)
    written: list[Path] = []
    total = 0
    codes = list(PROVIDERS)
    for slug in codes:
        for m in months:
            in_file = (rows.provider[rows.order] == codes.index(slug)) & (
                rows.month[rows.order] == m
            )
            sel = rows.order[in_file]
            path = out / "billing" / slug / f"{cal.months[m]}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                total += write_rows(fh, _columns(rows, sel, cal, slug, m), FOCUS_12)
            written.append(path)
    return written, total
