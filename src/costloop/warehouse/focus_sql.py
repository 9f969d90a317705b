"""DuckDB SQL that reads a FOCUS file and normalizes it to the ``charges`` columns."""

from __future__ import annotations

from costloop.connectors.files import FileFormat, InputFile, nested_parquet_columns
from costloop.connectors.focus import FocusPlan
from costloop.connectors.native import Conversion
from costloop.connectors.sql import (
    ROW,
    datetime_expr,
    decimal_expr,
    fail,
    ident,
    json_object_expr,
    lit,
)
from costloop.core.focus import ALLOWED_VALUES, COLUMNS, COLUMNS_BY_NAME, DataType

__all__ = [
    "ROW",
    "ident",
    "lit",
    "native_extras",
    "native_select",
    "normalize_select",
    "number_rows",
    "source_relation",
]


def source_relation(item: InputFile, header: list[str], *, numbered: bool = True) -> str:
    """A relation with ``__row`` (1-based data row) and every column as VARCHAR ``c<i>``.

    CSV is read with an explicit dialect and all-VARCHAR columns, so typing is done
    (and errors are located) by :func:`normalize_select`; literal ``NULL`` and empty
    fields are nulls. Numbering CSV rows takes a streaming window, which runs the whole
    query on one thread; with ``numbered=False`` ``__row`` is 0 and the query runs in
    parallel (see :func:`number_rows`).
    """
    path = lit(str(item.path))
    if item.format is FileFormat.PARQUET:
        nested = nested_parquet_columns(item)
        cols = ", ".join(
            f"CAST(to_json({ident(name)}) AS VARCHAR) AS c{i}"
            if name in nested
            else f"CAST({ident(name)} AS VARCHAR) AS c{i}"
            for i, name in enumerate(header)
        )
        return (
            f"(SELECT CAST(file_row_number + 1 AS BIGINT) AS {ROW}, {cols} "
            f"FROM read_parquet({path}, file_row_number = true))"
        )
    if item.format.is_json:
        return _json_relation(item, header, numbered=numbered)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    compression = "gzip" if item.format.gzipped else "none"
    reader = (
        f"read_csv({path}, header = true, auto_detect = false, delim = ',', quote = '\"', "
        f"escape = '\"', columns = {columns}, nullstr = ['NULL', ''], "
        f"compression = '{compression}', strict_mode = true)"
    )
    # Unnumbered rows are row 0 (never NULL: error(NULL) would not raise).
    number = "row_number() OVER ()" if numbered else "0"
    return f"(SELECT CAST({number} AS BIGINT) AS {ROW}, * FROM {reader})"


def _json_relation(item: InputFile, header: list[str], *, numbered: bool) -> str:
    """JSON lines as ``c<i>`` VARCHAR columns: dotted names address nested fields."""
    tops: dict[str, None] = {}
    for name in header:
        tops[name.split(".", 1)[0]] = None
    columns = "{" + ", ".join(f"{lit(t)}: 'JSON'" for t in tops) + "}"
    compression = "gzip" if item.format.gzipped else "uncompressed"
    reader = (
        f"read_json({lit(str(item.path))}, format = 'newline_delimited', records = true, "
        f"columns = {columns}, compression = '{compression}')"
    )
    exprs = []
    for i, name in enumerate(header):
        top, _, rest = name.partition(".")
        path = "$" + "".join(f'."{part}"' for part in rest.split(".")) if rest else "$"
        exprs.append(f"json_extract_string({ident(top)}, {lit(path)}) AS c{i}")
    number = "row_number() OVER ()" if numbered else "0"
    return f"(SELECT CAST({number} AS BIGINT) AS {ROW}, {', '.join(exprs)} FROM {reader})"


def number_rows(staged: str) -> str:
    """SELECT of a Parquet file staged from an unnumbered relation, with ``x_SourceRow`` set.

    DuckDB writes rows in input order (``preserve_insertion_order``), so a row's
    position in the staged file is its data row in the source file.
    """
    return (
        "SELECT * EXCLUDE (file_row_number) "
        "REPLACE (CAST(file_row_number + 1 AS BIGINT) AS x_SourceRow) "
        f"FROM read_parquet({lit(staged)}, file_row_number = true)"
    )


def _decimal(src: str, column: str) -> str:
    return decimal_expr(src, column)


def _datetime(src: str, column: str) -> str:
    return datetime_expr(src, column, what="cannot parse as an ISO 8601 date/time:")


def _json(src: str, column: str) -> str:
    return json_object_expr(src, column)


def _tags_object(src: str) -> str:
    """The ``__tags`` map of a Tags cell; NULL unless a JSON object with unique keys."""
    keys = f"json_keys({src})"
    return (
        f"CASE WHEN json_valid({src}) AND json_type({src}) = 'OBJECT' "
        f"AND length({keys}) = length(list_distinct({keys})) "
        f"THEN CAST(CAST({src} AS JSON) AS MAP(VARCHAR, VARCHAR)) END"
    )


def _tags(src: str) -> str:
    quoted = f"'\"' || {src} || '\"'"
    return (
        f"CASE WHEN {src} IS NULL THEN NULL WHEN {_TAGS} IS NOT NULL THEN {src} "
        f"ELSE {fail('Tags', 'is not a JSON object with unique keys:', quoted)} END"
    )


def _enum(src: str, column: str) -> str:
    arms = " ".join(
        f"WHEN {lit(''.join(ch for ch in v.lower() if ch.isalnum()))} THEN {lit(v)}"
        for v in ALLOWED_VALUES[column]
    )
    return f"CASE regexp_replace(lower({src}), '[^a-z0-9]', '', 'g') {arms} ELSE {src} END"


_TAGS = "__tags"
_EMPTY_TAGS = "CAST(MAP {} AS MAP(VARCHAR, VARCHAR))"


def _tags_map(present: bool) -> str:
    """``x_TagsNormalized`` from the ``__tags`` map (see :func:`normalize_select`)."""
    if not present:
        return _EMPTY_TAGS
    # Keys are trimmed and lower-cased; when two keys collide the first one wins. Maps
    # whose keys are all normalized already (the usual case) are kept as they are.
    return (
        f"CASE WHEN {_TAGS} IS NULL THEN {_EMPTY_TAGS} "
        f"WHEN list_bool_and(list_transform(map_keys({_TAGS}), k -> k = lower(trim(k)))) "
        f"THEN {_TAGS} ELSE "
        f"map_from_entries(list_filter("
        f"list_transform(map_entries({_TAGS}), e -> {{'key': lower(trim(e.key)), "
        f"'value': e.value}}), "
        f"(e, i) -> list_position(list_transform(map_keys({_TAGS}), k -> lower(trim(k))), "
        f"e.key) = i)) END"
    )


def normalize_select(
    plan: FocusPlan,
    relation: str,
    *,
    load_id: str,
    source_name: str,
    file: str,
) -> str:
    """SELECT producing exactly the ``charges`` columns (plus the file's ``x_`` extras)."""
    exprs: list[str] = []
    for col in COLUMNS:
        index = plan.source.get(col.name)
        if index is None:
            exprs.append(f"CAST(NULL AS {col.dtype.sql}) AS {ident(col.name)}")
            continue
        src = f"c{index}"
        if col.dtype is DataType.DECIMAL:
            expr = _decimal(src, col.name)
        elif col.dtype is DataType.DATETIME:
            expr = _datetime(src, col.name)
        elif col.name == "Tags":
            expr = _tags(src)
        elif col.dtype is DataType.JSON:
            expr = _json(src, col.name)
        elif col.name in ALLOWED_VALUES:
            expr = _enum(src, col.name)
        else:
            expr = src
        exprs.append(f"{expr} AS {ident(col.name)}")
    tags = plan.source.get("Tags")
    exprs += [
        f"{lit(load_id)} AS x_SourceId",
        f"{lit(source_name)} AS x_SourceName",
        f"{lit(file)} AS x_SourceFile",
        f"{ROW} AS x_SourceRow",
        f"{lit(plan.version)} AS x_FocusVersion",
        f"{_tags_map(tags is not None)} AS x_TagsNormalized",
    ]
    exprs += [f"c{index} AS {ident(name)}" for index, name in plan.extras]
    if tags is not None:  # parse Tags once per row, for its check and x_TagsNormalized
        relation = f"(SELECT *, {_tags_object(f'c{tags}')} AS {_TAGS} FROM {relation})"
    return "SELECT " + ",\n  ".join(exprs) + f"\nFROM {relation}"


def native_select(
    conversion: Conversion,
    relation: str,
    *,
    load_id: str,
    source_name: str,
    file: str,
    staged: str | None = None,
) -> str:
    """SELECT producing the ``charges`` columns from a native conversion's output.

    The conversion yields typed FOCUS columns; enumerations are canonicalized here
    as for FOCUS files, and lineage is added (``x_SourceRow`` is the native row a
    FOCUS row comes from; rows a conversion synthesizes share their origin's row).
    """
    produced = set(conversion.columns)
    exprs: list[str] = []
    for col in COLUMNS:
        if col.name not in produced:
            exprs.append(f"CAST(NULL AS {col.dtype.sql}) AS {ident(col.name)}")
            continue
        src = ident(col.name)
        expr = _enum(src, col.name) if col.name in ALLOWED_VALUES else src
        if col.name == "ServiceName":  # FOCUS: ASCII only ("Red Hat®" → "Red Hat(R)")
            expr = _ascii(src)
        exprs.append(f"CAST({expr} AS {col.dtype.sql}) AS {ident(col.name)}")
    has_tags = "Tags" in produced
    exprs += [
        f"{lit(load_id)} AS x_SourceId",
        f"{lit(source_name)} AS x_SourceName",
        f"{lit(file)} AS x_SourceFile",
        f"CAST({ROW} AS BIGINT) AS x_SourceRow",
        "'1.2' AS x_FocusVersion",
        f"{_tags_map(has_tags)} AS x_TagsNormalized",
    ]
    exprs += [
        f"CAST({ident(name)} AS VARCHAR) AS {ident(name)}" for name in native_extras(conversion)
    ]
    inner = f"({conversion.sql(relation, staged)})"
    if has_tags:
        inner = f"(SELECT *, {_tags_object(ident('Tags'))} AS {_TAGS} FROM {inner})"
    return "SELECT " + ",\n  ".join(exprs) + f"\nFROM {inner}"


def _ascii(src: str) -> str:
    """ASCII text: accents stripped, (R)/(TM)/(C) spelled out, other symbols dropped."""
    spelled = (
        f"replace(replace(replace(strip_accents({src}), '®', '(R)'), '™', '(TM)'), '©', '(C)')"
    )
    return f"trim(regexp_replace({spelled}, '[^\\x00-\\x7F]', '', 'g'))"


def native_extras(conversion: Conversion) -> list[str]:
    """The ``x_`` columns a conversion adds to ``charges``."""
    return [c for c in conversion.columns if c not in COLUMNS_BY_NAME and c != ROW]
