"""The contract of a native bill connector: a pure mapping from a native table to FOCUS.

A connector never touches files or DuckDB. Given the header of a native export it
returns a :class:`Conversion`: a DuckDB query over the source relation (columns
``__row`` and ``c0 .. cN``, every input column as VARCHAR) that yields FOCUS 1.2
columns, plus the native cost measures whose totals must equal FOCUS totals per
billing account and period. The warehouse runs the query, stages the result and
refuses the load if any measure does not reconcile to the last decimal place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from costloop.connectors.sql import ROW, datetime_expr, decimal_expr, ident, lit
from costloop.core.errors import InputError
from costloop.core.focus import MONEY_SQL_TYPE

__all__ = [
    "SOURCE",
    "Conversion",
    "Header",
    "Measure",
    "NativeFormat",
]

SOURCE = "__source"
"""Name of the source relation inside a conversion query (a CTE the warehouse binds)."""


def _loose(name: str) -> str:
    """Case, punctuation and separator-insensitive key of a column name."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class Header:
    """The columns of one native file, looked up by any of several names.

    ``key`` normalizes names before matching (default: case-insensitive and ignoring
    punctuation), so ``CostInBillingCurrency`` and ``costInBillingCurrency`` are one.
    """

    def __init__(
        self,
        columns: Sequence[str],
        file: str,
        key: Callable[[str], str] = _loose,
    ) -> None:
        self.columns = list(columns)
        self.file = file
        self._key = key
        self._index: dict[str, int] = {}
        for i, name in enumerate(self.columns):
            self._index.setdefault(key(name), i)

    def index(self, *names: str) -> int | None:
        """Position of the first of ``names`` present in the file."""
        for name in names:
            i = self._index.get(self._key(name))
            if i is not None:
                return i
        return None

    def name(self, *names: str) -> str | None:
        """The file's own spelling of the first of ``names`` present."""
        i = self.index(*names)
        return None if i is None else self.columns[i]

    def has(self, *names: str) -> bool:
        """Whether any of ``names`` is present."""
        return self.index(*names) is not None

    def count(self, names: Iterable[str]) -> int:
        """How many of ``names`` are present (for format detection scores)."""
        return sum(1 for n in names if self.has(n))

    def text(self, *names: str) -> str:
        """SQL: the trimmed text of the first present column (NULL if absent/blank)."""
        i = self.index(*names)
        return "CAST(NULL AS VARCHAR)" if i is None else f"nullif(trim(c{i}), '')"

    def dec(self, *names: str) -> str:
        """SQL: the exact decimal of the first present column (NULL if absent/blank).

        A cell that is not a number raises an error naming the file's own column.
        Digits beyond the 18th decimal place (binary-float noise some exports carry)
        are rounded; native totals are computed from the same rounded values.
        """
        i = self.index(*names)
        if i is None:
            return f"CAST(NULL AS {MONEY_SQL_TYPE})"
        return decimal_expr(f"nullif(trim(c{i}), '')", self.columns[i], round_excess=True)

    def dec0(self, *names: str) -> str:
        """Like :meth:`dec` but 0 when absent or blank."""
        return f"coalesce({self.dec(*names)}, CAST(0 AS {MONEY_SQL_TYPE}))"

    def ts(self, *names: str, formats: tuple[str, ...] = ()) -> str:
        """SQL: the UTC timestamp of the first present column (NULL if absent/blank)."""
        i = self.index(*names)
        if i is None:
            return "CAST(NULL AS TIMESTAMP)"
        return datetime_expr(f"nullif(trim(c{i}), '')", self.columns[i], formats)

    def require(self, fmt: str, *groups: Sequence[str]) -> None:
        """Raise naming every missing column; each group is a list of alternatives.

        Raises:
            InputError: at least one group has no column in the file.
        """
        missing = [" or ".join(g) for g in groups if not self.has(*g)]
        if missing:
            raise InputError(
                f"not a complete {fmt} export: missing column(s) {'; '.join(missing)}",
                file=self.file,
                column=groups[[not self.has(*g) for g in groups].index(True)][0],
            )


@dataclass(frozen=True)
class Measure:
    """A native cost measure whose total must equal a FOCUS column's total.

    Attributes:
        native: the native measure as users know it (e.g. ``lineItem/UnblendedCost``).
        sql: per-row SQL over the source relation (summed per account and period).
        focus: the FOCUS column it reconciles with.
    """

    native: str
    sql: str
    focus: str


@dataclass(frozen=True)
class Conversion:
    """A native file's mapping to FOCUS 1.2.

    Attributes:
        format: connector name (e.g. ``aws-cur``).
        query: SELECT over :data:`SOURCE` (and ``ctes``) yielding ``__row``, FOCUS columns (typed:
            DECIMAL(38, 18), TIMESTAMP, VARCHAR; Tags as JSON object text) and
            ``x_`` columns, exactly the names in ``columns`` plus ``__row``.
        columns: FOCUS and ``x_`` column names the query yields.
        account: SQL over :data:`SOURCE`: the BillingAccountId of a native row.
        period: SQL over :data:`SOURCE`: the BillingPeriodStart of a native row.
        measures: native totals that must equal FOCUS totals per account and period.
        notes: decisions taken for this file (shown to the user).
        ctes: (name, SELECT) common table expressions the query uses; each may read
            :data:`SOURCE` and the ones before it.
        totals_from: the relation ``account``, ``period`` and the measures are
            evaluated over: :data:`SOURCE`, or one of ``ctes`` (e.g. a typed layer
            that parses each native column once).
        staged: a CTE (the first of ``ctes``, reading only :data:`SOURCE`, one row per
            source row in source order, carrying ``__row``) that the warehouse may
            compute in a first parallel pass and store; the query and the totals then
            read the stored layer instead of re-parsing the source.
    """

    format: str
    query: str
    columns: tuple[str, ...]
    account: str
    period: str
    measures: tuple[Measure, ...]
    notes: tuple[str, ...] = field(default=())
    ctes: tuple[tuple[str, str], ...] = field(default=())
    totals_from: str = SOURCE
    staged: str | None = None

    def _ctes(self, relation: str, staged: str | None) -> list[str]:
        if staged is None:
            return [f"{SOURCE} AS ({relation})", *(f"{n} AS ({q})" for n, q in self.ctes)]
        # The staged layer was computed from the source in an earlier pass.
        return [
            f"{SOURCE} AS (SELECT NULL AS {ROW} WHERE false)",
            *(f"{n} AS ({staged if n == self.staged else q})" for n, q in self.ctes),
        ]

    def sql(self, relation: str, staged: str | None = None) -> str:
        """The conversion query with the source relation (or the staged layer) bound."""
        return "WITH " + ",\n".join(self._ctes(relation, staged)) + "\n" + self.query

    def staged_sql(self, relation: str) -> str:
        """The ``staged`` layer over the source, without ``__row`` (for a first pass)."""
        if self.staged is None:
            raise ValueError("this conversion has no staged layer")
        first = f"{self.staged} AS ({dict(self.ctes)[self.staged]})"
        return f"WITH {SOURCE} AS ({relation}), {first} SELECT * EXCLUDE ({ROW}) FROM {self.staged}"

    def totals_sql(self, relation: str, staged: str | None = None) -> str:
        """Native totals per (BillingAccountId, BillingPeriodStart) of the source.

        ``account``, ``period`` and the measures are evaluated over ``totals_from``
        (the source itself unless the conversion names one of its CTEs).
        """
        sums = ", ".join(f"coalesce(sum({m.sql}), 0) AS m{i}" for i, m in enumerate(self.measures))
        ctes = self._ctes(relation, staged)
        if self.totals_from == SOURCE:
            ctes = ctes[:1]
        return (
            "WITH " + ",\n".join(ctes) + "\n"
            f"SELECT {self.account} AS account, {self.period} AS period, {sums} "
            f"FROM {self.totals_from} GROUP BY ALL"
        )


@dataclass(frozen=True)
class NativeFormat:
    """A native export format: how to recognise it and how to convert it.

    Attributes:
        name: the ``--format`` value.
        provider: cloud provider.
        title: one-line description.
        detected_from: what detection looks at (shown by ``costloop sources``).
        options: notes on variants and options (shown by ``costloop sources``).
        score: header → detection score (0: not this format; highest wins).
        convert: header → conversion (raises InputError naming missing columns).
    """

    name: str
    provider: str
    title: str
    detected_from: str
    options: str
    score: Callable[[Header], int]
    convert: Callable[[Header], Conversion]
    key: Callable[[str], str] = _loose


def nulls(columns: Iterable[tuple[str, str]]) -> list[str]:
    """``CAST(NULL AS type) AS "name"`` select items."""
    return [f"CAST(NULL AS {t}) AS {ident(n)}" for n, t in columns]


__all__ += ["ROW", "ident", "lit", "nulls"]
