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
    if round_excess:
        return _rounded_decimal(src, column, quoted, exact)
    return (
        f"CASE WHEN {src} IS NULL THEN NULL ELSE COALESCE({fast}, CASE "
        f"WHEN {exact} IS NULL THEN {fail(column, 'cannot parse as a decimal number:', quoted)} "
        f"WHEN {wide} IS NOT NULL AND {wide} <> {exact} THEN "
        f"{fail(column, 'has more than 18 decimal places:', quoted)} "
        f"ELSE {exact} END) END"
    )


def plain_number(src: str) -> str:
    """SQL: numeric text without exponent notation (``-4.8E-7`` → ``-0.00000048``).

    The digits are only moved, never rounded, so the result parses exactly; text that
    is not ``<mantissa>e<integer>`` is returned unchanged.
    """
    low = f"lower({src})"
    mant = f"split_part({low}, 'e', 1)"
    exp = f"TRY_CAST(split_part({low}, 'e', 2) AS INTEGER)"
    neg = f"starts_with({mant}, '-')"
    body = f"ltrim({mant}, '+-')"
    digits = f"replace({body}, '.', '')"
    point = (
        f"(CASE WHEN strpos({body}, '.') = 0 THEN length({body}) "
        f"ELSE strpos({body}, '.') - 1 END + {exp})"
    )
    moved = (
        f"CASE WHEN {point} <= 0 THEN '0.' || repeat('0', -{point}) || {digits} "
        f"WHEN {point} >= length({digits}) "
        f"THEN {digits} || repeat('0', {point} - length({digits})) "
        f"ELSE {digits}[1:{point}] || '.' || {digits}[{point} + 1:] END"
    )
    return (
        f"CASE WHEN strpos({low}, 'e') = 0 OR {exp} IS NULL OR abs({exp}) > 60 THEN {src} "
        f"ELSE CASE WHEN {neg} THEN '-' ELSE '' END || {moved} END"
    )


def _rounded_decimal(src: str, column: str, quoted: str, exact: str) -> str:
    """DECIMAL(38, 18) of ``src`` rounded to 18 places; see :func:`decimal_expr`."""
    plain = plain_number(src)
    decimals = "CASE WHEN strpos(p, '.') = 0 THEN 0 ELSE length(p) - strpos(p, '.') END"
    # 64-bit decimals parse far faster than the 128-bit storage type: plain numbers take
    # the narrowest scale that holds them (digits past the 18th are rounded by the cast;
    # an overflow falls through to the next scale, then to the exact cast).
    scales = " ".join(
        f"WHEN {decimals} <= {scale} AND TRY_CAST(p AS DECIMAL(18, {scale})) IS NOT NULL "
        f"THEN CAST(TRY_CAST(p AS DECIMAL(18, {scale})) AS {MONEY_SQL_TYPE})"
        for scale in (10, 14, 17)
    )
    parse = (
        f"(p -> CASE WHEN p IS NULL THEN NULL {scales} "
        f"WHEN TRY_CAST(p AS DECIMAL(18, 18)) IS NOT NULL "
        f"THEN CAST(TRY_CAST(p AS DECIMAL(18, 18)) AS {MONEY_SQL_TYPE}) "
        f"ELSE TRY_CAST(p AS {MONEY_SQL_TYPE}) END)"
    )
    value = f"list_transform([{plain}], {parse})[1]"
    return (
        f"CASE WHEN {src} IS NULL THEN NULL ELSE COALESCE({value}, "
        f"{fail(column, 'cannot parse as a decimal number:', quoted)}) END"
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
    # ISO text without a UTC offset (a trailing Z is UTC) takes the plain cast, the
    # fastest parser; text with an offset is converted to UTC by the TIMESTAMPTZ cast.
    tail = f"substr({src}, 11)"
    no_offset = f"strpos({tail}, '+') = 0 AND strpos({tail}, '-') = 0"
    custom = f"try_strptime({src}, [{', '.join(lit(f) for f in formats)}]), " if formats else ""
    return (
        f"CASE WHEN {src} IS NULL THEN NULL "
        f"ELSE COALESCE({custom}CASE WHEN {no_offset} THEN TRY_CAST({src} AS TIMESTAMP) END, "
        f"try_strptime({src}, [{layouts}]), "
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
