"""FOCUS validation rules evaluated in one scan over a staged file."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from costloop.connectors.focus import FocusPlan
from costloop.core.focus import ALLOWED_VALUES, COLUMNS, Level

__all__ = ["Issue", "validate_stage"]


@dataclass(frozen=True)
class Issue:
    """A validation rule that some rows of a file violate."""

    file: str
    rule: str
    column: str
    violations: int
    first_rows: tuple[int, ...]
    message: str


def _rules(plan: FocusPlan) -> list[tuple[str, str, str, str]]:
    """(rule id, column, SQL predicate true on violation, message)."""
    rules: list[tuple[str, str, str, str]] = []
    for col in COLUMNS:
        if col.name not in plan.source:
            continue
        q = f'"{col.name}"'
        if col.level is Level.MANDATORY and not col.nullable:
            rules.append(
                (f"{col.name}-not-null", col.name, f"{q} IS NULL", f"{col.name} must not be null")
            )
        if col.name in ALLOWED_VALUES:
            allowed = ", ".join("'" + v + "'" for v in ALLOWED_VALUES[col.name])
            rules.append(
                (
                    f"{col.name}-allowed-values",
                    col.name,
                    f"{q} IS NOT NULL AND {q} NOT IN ({allowed})",
                    f"{col.name} must be one of: {', '.join(ALLOWED_VALUES[col.name])}",
                )
            )
    rules += [
        (
            "ChargePeriod-half-open",
            "ChargePeriodEnd",
            '"ChargePeriodEnd" <= "ChargePeriodStart"',
            "ChargePeriodEnd must be after ChargePeriodStart (periods are [start, end))",
        ),
        (
            "BillingPeriod-half-open",
            "BillingPeriodEnd",
            '"BillingPeriodEnd" <= "BillingPeriodStart"',
            "BillingPeriodEnd must be after BillingPeriodStart (periods are [start, end))",
        ),
        (
            "ChargePeriod-within-BillingPeriod",
            "ChargePeriodStart",
            "\"ChargeClass\" IS DISTINCT FROM 'Correction' AND ("
            '"ChargePeriodStart" < "BillingPeriodStart" OR "ChargePeriodEnd" > "BillingPeriodEnd")',
            "a charge that is not a Correction must lie within its billing period",
        ),
    ]
    if "ChargeClass" in plan.source:
        rules.append(
            (
                "Correction-refers-to-earlier-period",
                "ChargeClass",
                '"ChargeClass" = \'Correction\' AND "ChargePeriodStart" >= "BillingPeriodStart"'
                ' AND "ChargePeriodEnd" <= "BillingPeriodEnd"',
                "a Correction corrects a previously invoiced period, so its charge period "
                "should precede its billing period",
            )
        )
    return rules


def validate_stage(
    con: duckdb.DuckDBPyConnection, stage: str, plan: FocusPlan, file: str
) -> list[Issue]:
    """Evaluate every applicable rule over the staged Parquet file in one scan."""
    rules = _rules(plan)
    parts = []
    for i, (_, _, pred, _) in enumerate(rules):
        parts.append(f"count(*) FILTER (WHERE {pred}) AS n{i}")
        parts.append(f"(list(x_SourceRow ORDER BY x_SourceRow) FILTER (WHERE {pred}))[1:5] AS r{i}")
    row = con.execute(
        f"SELECT {', '.join(parts)} FROM read_parquet('{stage.replace(chr(39), chr(39) * 2)}')"
    ).fetchone()
    assert row is not None
    issues = []
    for i, (rule, column, _, message) in enumerate(rules):
        count = int(row[2 * i])
        if count:
            issues.append(Issue(file, rule, column, count, tuple(row[2 * i + 1] or ()), message))
    return issues
