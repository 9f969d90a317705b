"""Exact money: Decimal parsing, formatting and largest-remainder splits."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

__all__ = [
    "ZERO",
    "decimal_text",
    "format_money",
    "largest_remainder_split",
    "quantize",
    "to_decimal",
]

ZERO = Decimal(0)
STORAGE_PLACES = 18


def to_decimal(value: object) -> Decimal:
    """Convert a stored value (Decimal, int, str) to Decimal; None becomes zero.

    Floats are refused: money never passes through binary floating point.
    """
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (bool, float)):
        raise TypeError(f"refusing to treat {type(value).__name__} {value!r} as money")
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"cannot convert {type(value).__name__} to Decimal")


def decimal_text(value: Decimal) -> str:
    """Exact decimal text for JSON and files: no separators or symbol, at least two
    places, no storage padding (``12.500000000000000000`` → ``12.50``); no digit is
    ever rounded away.

    Example:
        >>> decimal_text(Decimal("120.5000"))
        '120.50'
    """
    with localcontext() as ctx:
        ctx.prec = 80
        text = format(value.normalize(), "f")
    if "." not in text:
        return text + ".00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def quantize(value: Decimal, places: int = 2) -> Decimal:
    """Round half-even to ``places`` decimal places."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def format_money(value: Decimal | int, currency: str = "USD", places: int = 2) -> str:
    """Human format with thousands separators, e.g. ``$1,234.56`` or ``1,234.56 EUR``."""
    q = quantize(Decimal(value), places)
    text = f"{abs(q):,.{places}f}"
    sign = "-" if q < 0 else ""
    if currency == "USD":
        return f"{sign}${text}"
    return f"{sign}{text} {currency}"


def largest_remainder_split(
    total: Decimal, weights: Sequence[Decimal], places: int = STORAGE_PLACES
) -> list[Decimal]:
    """Split ``total`` by ``weights`` so the parts sum to ``total`` exactly.

    Each part is rounded down to ``places`` decimals, and the units left over go
    one each to the parts with the largest remainders (ties to the earlier part).
    Zero total weight splits evenly.
    """
    n = len(weights)
    if n == 0:
        raise ValueError("cannot split across zero parts")
    unit = Decimal(1).scaleb(-places)
    if total.quantize(unit) != total:
        raise ValueError(f"total {total} has more than {places} decimal places")
    weight_sum = sum(weights, ZERO)
    ws = list(weights) if weight_sum != 0 else [Decimal(1)] * n
    weight_sum = sum(ws, ZERO)
    sign = -1 if total < 0 else 1
    units_total = int(abs(total) / unit)
    raw = [Decimal(units_total) * w / weight_sum for w in ws]
    floors = [int(r) for r in raw]
    left = units_total - sum(floors)
    order = sorted(range(n), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * Decimal(f) * unit for f in floors]
