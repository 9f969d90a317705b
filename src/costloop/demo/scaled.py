"""A large FOCUS 1.2 CSV for load tests: vectorized, chunked, constant memory."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from costloop.core.errors import InputError
from costloop.core.periods import Month
from costloop.demo.csvtext import decimal_text
from costloop.demo.focusfile import FOCUS_12
from costloop.demo.scaled_catalog import Templates, build_templates

__all__ = ["CHUNK_ROWS", "generate_scaled"]

CHUNK_ROWS = 250_000
_VARIABLE = (
    "BilledCost",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountQuantity",
    "ConsumedQuantity",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceId",
    "ListCost",
    "PricingCurrencyEffectiveCost",
    "PricingQuantity",
)
# Variable columns next to each other are produced as one piece.
_JOINED = {"BillingPeriodStart": "BillingPeriodEnd", "ChargePeriodStart": "ChargePeriodEnd"}


def _segments(t: Templates) -> list[pa.Array]:
    """Per template, the constant text between consecutive variable pieces."""
    segments: list[list[str]] = [[] for _ in range(t.count)]
    current = ["" for _ in range(t.count)]
    for i, name in enumerate(FOCUS_12):
        sep = "," if i else ""
        if name in _JOINED:
            continue
        if name in _VARIABLE:
            for k in range(t.count):
                segments[k].append(current[k] + sep)
                current[k] = ""
        else:
            column = t.text[name]
            for k in range(t.count):
                current[k] += sep + column[k]
    for k in range(t.count):
        segments[k].append(current[k] + "\n")
    return [pa.array([s[j] for s in segments], pa.string()) for j in range(len(segments[0]))]


def _chunk(
    t: Templates, segs: Sequence[pa.Array], first: int, n: int, total: int, seed: int
) -> pa.Array:
    rng = np.random.default_rng([seed, first // CHUNK_ROWS])
    rows = np.arange(first, first + n, dtype=np.int64)
    month = rows * len(t.months) // total
    tpl = rng.choice(t.count, size=n, p=t.weights)
    offset = (rng.random(n) * t.month_days[month]).astype(np.int64)
    day = t.month_first[month] + offset
    qty = np.maximum(np.rint(t.typical[tpl] * rng.lognormal(0.0, 0.35, n)), 1).astype(np.int64)
    qty = np.where(t.fixed[tpl], t.typical[tpl].astype(np.int64), qty)
    list_cost = t.list_price[tpl] * qty
    contracted = t.contracted_price[tpl] * qty
    committed = t.committed[tpl]
    take = pa.array(tpl)
    qty_text = decimal_text(qty, 4)
    list_text = decimal_text(list_cost, 10)
    discounted = t.contracted_price[tpl] != t.list_price[tpl]
    contracted_text = list_text
    if discounted.any():
        contracted_text = pc.replace_with_mask(
            list_text, pa.array(discounted), decimal_text(contracted[discounted], 10)
        )
    effective_text = contracted_text
    if committed.any():
        amortized = t.commit_rate[tpl][committed] * qty[committed]
        effective_text = pc.replace_with_mask(
            contracted_text, pa.array(committed), decimal_text(amortized, 10)
        )
    mask = pa.array(committed)
    billed_text = pc.if_else(mask, pa.scalar("0"), contracted_text)
    pieces = {
        "BilledCost": billed_text,
        "BillingPeriodEnd": t.period_text.take(pa.array(month)),
        "ChargePeriodEnd": t.day_text.take(pa.array(day)),
        "CommitmentDiscountQuantity": pc.if_else(mask, qty_text, pa.scalar("")),
        "ConsumedQuantity": qty_text,
        "ContractedCost": contracted_text,
        "EffectiveCost": effective_text,
        "InvoiceId": t.invoice_text.take(pa.array(t.account[tpl] * len(t.months) + month)),
        "ListCost": list_text,
        "PricingCurrencyEffectiveCost": effective_text,
        "PricingQuantity": qty_text,
    }
    parts: list[pa.Array] = [segs[0].take(take)]
    j = 1
    for name in FOCUS_12:
        if name in pieces:
            parts += [pieces[name], segs[j].take(take)]
            j += 1
    joined = pc.binary_join_element_wise(*parts, "")
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def _write(out: BinaryIO, row: pa.Array) -> None:
    offsets = np.frombuffer(row.buffers()[1], dtype=np.int32, count=len(row) + 1)
    start, end = int(offsets[row.offset]), int(offsets[row.offset + len(row)])
    out.write(memoryview(row.buffers()[2])[start:end])


def generate_scaled(
    out_file: Path,
    *,
    rows: int,
    seed: int = 7,
    months: int = 12,
    end_month: Month = Month(2026, 10),
) -> int:
    """Write one FOCUS 1.2 CSV of ``rows`` usage rows; returns the rows written.

    Rows come from a catalogue of synthetic resource meters (several providers,
    billing accounts and sub-accounts) spread over ``months`` billing periods, in
    period order. Each row satisfies ListCost = ListUnitPrice x PricingQuantity and
    ContractedCost = ContractedUnitPrice x PricingQuantity exactly; commitment-covered
    rows bill 0 and carry their amortized EffectiveCost. Memory stays constant: rows
    are built and written in chunks of ``CHUNK_ROWS``, two chunks at a time.
    """
    if rows < 1:
        raise InputError(f"rows must be positive, got {rows}")
    start = end_month
    for _ in range(months - 1):
        start = start.previous()
    t = build_templates(seed, start, months, rows)
    segs = _segments(t)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    starts = list(range(0, rows, CHUNK_ROWS))
    with out_file.open("wb") as fh, ThreadPoolExecutor(max_workers=1) as pool:
        fh.write((",".join(FOCUS_12) + "\n").encode())
        pending = None
        for first in starts:
            job = pool.submit(_chunk, t, segs, first, min(CHUNK_ROWS, rows - first), rows, seed)
            if pending is not None:
                _write(fh, pending.result())
            pending = job
        if pending is not None:
            _write(fh, pending.result())
    return rows
