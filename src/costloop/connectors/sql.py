"""Pure SQL text builders shared by the connectors and the warehouse.

Connectors describe conversions as DuckDB SQL over a source relation whose columns
are ``__row`` (the 1-based data row of the input file) and ``c0 .. cN`` (every input
column as VARCHAR, in header order). The parse helpers here raise DuckDB errors of the
form ``row N column NAME: ...`` which the warehouse turns into an ``InputError``
naming the file, row and column.
"""

from __future__ import annotations

from costloop.core.focus import MONEY_SQL_TYPE

__all__ = [
    "ROW",
    "datetime_expr",
    "decimal_expr",
    "fail",
    "ident",
    "json_object_expr",
    "lit",
]

ROW = "__row"
_FAST_DECIMAL = "DECIMAL(18, 10)"


def lit(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def fail(column: str, what: str, raw: str) -> str:
    """SQL raising ``row N column COLUMN: WHAT <raw>`` for the current row."""
    return f"error(printf('row %d column %s: %s %s', {ROW}, {lit(column)}, {lit(what)}, {raw}))"


def _quoted(src: str) -> str:
    return f"'\"' || {src} || '\"'"


def decimal_expr(src: str, column: str, *, round_excess: bool = False) -> str:
    """Exact DECIMAL(38, 18) of VARCHAR ``src``; NULL stays NULL; bad text raises.

    ``column`` is the name used in the error (the input file's own column name). Text
    with more than 18 decimal places raises, unless ``round_excess``: then it is
    rounded to 18 places (half away from zero; native exports written from binary
    floats carry such noise, always below 1e-18).
    """
    quoted = _quoted(src)
    # Parsing into 64-bit DECIMAL(18, 10) is several times faster than into the 128-bit
    # storage type; text the fast type would round or overflow takes the exact path.
    fast = (
        f"CASE WHEN strpos({src}, 'e') = 0 AND strpos({src}, 'E') = 0 AND "
        f"(strpos({src}, '.') = 0 OR length({src}) - strpos({src}, '.') <= 10) "
        f"THEN CAST(TRY_CAST({src} AS {_FAST_DECIMAL}) AS {MONEY_SQL_TYPE}) END"
    )
    exact = f"TRY_CAST({src} AS {MONEY_SQL_TYPE})"
    wide = f"TRY_CAST({src} AS DECIMAL(38, 24))"
    if round_excess:  # the cast rounds digits beyond the 18th
        return (
            f"CASE WHEN {src} IS NULL THEN NULL ELSE COALESCE({fast}, {exact}, "
            f"{fail(column, 'cannot parse as a decimal number:', quoted)}) END"
        )
    return (
        f"CASE WHEN {src} IS NULL THEN NULL ELSE COALESCE({fast}, CASE "
        f"WHEN {exact} IS NULL THEN {fail(column, 'cannot parse as a decimal number:', quoted)} "
        f"WHEN {wide} IS NOT NULL AND {wide} <> {exact} THEN "
        f"{fail(column, 'has more than 18 decimal places:', quoted)} "
        f"ELSE {exact} END) END"
    )


def datetime_expr(
    src: str,
    column: str,
    formats: tuple[str, ...] = (),
    what: str = "cannot parse as a date/time:",
) -> str:
    """UTC TIMESTAMP of VARCHAR ``src``; NULL stays NULL; unparseable text raises.

    ISO 8601 with ``T``/``Z``, a space, fractions or offsets is accepted; ``formats``
    adds strptime layouts tried first (e.g. ``%m/%d/%Y`` for US-style dates).
    """
    quoted = _quoted(src)
    layouts = ", ".join(lit(f) for f in (*formats, "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"))
    # Fixed layouts parse about 10x faster than the general cast, which also handles
    # offsets (converted to UTC: the session time zone is UTC) and fractions.
    return (
        f"CASE WHEN {src} IS NULL THEN NULL "
        f"ELSE COALESCE(try_strptime({src}, [{layouts}]), "
        f"CAST(TRY_CAST({src} AS TIMESTAMPTZ) AS TIMESTAMP), "
        f"{fail(column, what, quoted)}) END"
    )


def json_object_expr(src: str, column: str) -> str:
    """``src`` when it is a JSON object (or NULL); anything else raises."""
    quoted = _quoted(src)
    return (
        f"CASE WHEN {src} IS NULL THEN NULL "
        f"WHEN json_valid({src}) AND json_type({src}) = 'OBJECT' THEN {src} "
        f"ELSE {fail(column, 'is not a JSON object:', quoted)} END"
    )
