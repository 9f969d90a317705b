"""Billing periods: half-open UTC months ``[start, end)``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from costloop.core.errors import InputError

__all__ = ["Month", "parse_month"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, the unit of FOCUS billing periods."""

    year: int
    month: int

    @classmethod
    def of(cls, value: date | datetime) -> Month:
        """The month containing ``value``."""
        return cls(value.year, value.month)

    @property
    def start(self) -> datetime:
        """Inclusive start (UTC midnight of the 1st)."""
        return datetime(self.year, self.month, 1)

    @property
    def end(self) -> datetime:
        """Exclusive end: the start of the next month."""
        return self.next().start

    def next(self) -> Month:
        """The following month."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        """The preceding month."""
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_month(text: str) -> Month:
    """Parse ``YYYY-MM``; raises InputError naming the bad value."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(f"expected a month as YYYY-MM, got {text!r}")
    return Month(int(m.group(1)), int(m.group(2)))
