"""Portable column types: exact decimals and UTC timestamps on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ExactDecimal", "UTCDateTime", "exact_decimal_column"]


def exact_decimal_column(precision: int = 20, scale: int = 4) -> TypeEngine[Any]:
    """The DDL type of an exact decimal column, as migrations declare it.

    PostgreSQL gets ``NUMERIC(precision, scale)``. SQLite has no exact decimal type
    (its NUMERIC affinity converts through binary floating point), so there the value
    is an ``INTEGER`` count of ``10**-scale`` units: exact, and it still sorts, sums
    and compares correctly in SQL.
    """
    return Numeric(precision, scale).with_variant(BigInteger(), "sqlite")


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal column stored exactly on every dialect (see ``exact_decimal_column``).

    Values are rounded half-even to ``scale`` places on the way in, so SQLite and
    PostgreSQL return the same Decimal (e.g. ``Decimal("140.1600")``).
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 20, scale: int = 4) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._unit = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """INTEGER units on SQLite, NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Quantize; scale to integer units on SQLite."""
        if value is None:
            return None
        if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
            raise TypeError(
                f"refusing to store {type(value).__name__} {value!r} as an exact decimal"
            )
        q = Decimal(value).quantize(self._unit, rounding=ROUND_HALF_EVEN)
        if dialect.name == "sqlite":
            return int(q.scaleb(self.scale))
        return q

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Back to a Decimal with exactly ``scale`` places."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            if isinstance(value, float):
                # e.g. AVG() over the column: SQLite computes it in floating point.
                return Decimal(repr(value)).scaleb(-self.scale).quantize(self._unit)
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._unit)
        return Decimal(value).quantize(self._unit, rounding=ROUND_HALF_EVEN)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp, stored as naive UTC on every dialect.

    Naive datetimes are refused on the way in: every timestamp in costloop is UTC.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        """Convert to UTC and drop the zone."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"refusing a naive datetime {value.isoformat()}: use UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Attach UTC."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
