"""The loop's steps as services shared by the CLI (and later the web app)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from costloop.core.findings import Finding
from costloop.detectors import run_detectors
from costloop.feedback import VerifyOutcome, verify_executed
from costloop.opportunities.model import SyncResult
from costloop.opportunities.store import sync_findings
from costloop.pricing.catalog import PricingCatalog
from costloop.warehouse.engine import open_engine
from costloop.warehouse.query import WarehouseReader
from costloop.workspace import Workspace

__all__ = ["DiscoverResult", "data_now", "detector_overrides", "discover", "verify"]


def detector_overrides(ws: Workspace) -> dict[str, dict[str, object]]:
    """Detector parameters from the workspace settings."""
    c = ws.config
    floor = c.decimal("detectors.min_monthly_savings")
    lookback = c.int_("detectors.lookback_days")
    return {
        "unattached-volume": {"min_monthly_savings": floor},
        "idle-instance": {
            "min_monthly_savings": floor,
            "lookback_days": lookback,
            "idle_cpu_p95": c.value("detectors.idle_cpu_p95"),
        },
        "rightsizing": {
            "min_monthly_savings": floor,
            "lookback_days": lookback,
            "headroom": c.value("detectors.rightsize_headroom"),
        },
    }


def data_now(reader: WarehouseReader) -> datetime:
    """'Now' for detectors: the day after the latest utilization or inventory data.

    Detectors look back from now; anchoring it on the data keeps results stable when
    the data is a few days old (exports lag) and reproducible on historical data.
    """
    rows = reader.rows(
        "SELECT greatest(coalesce((SELECT max(ts) FROM utilization), TIMESTAMP '1970-01-01'), "
        "coalesce((SELECT max(snapshot_time) FROM inventory), TIMESTAMP '1970-01-01'))"
    )
    latest = rows[0][0] if rows else None
    if not isinstance(latest, datetime) or latest.year == 1970:
        return datetime.now(UTC).replace(tzinfo=None)
    return latest.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


@dataclass(frozen=True)
class DiscoverResult:
    """Findings of one discovery run and what they did to the backlog."""

    now: datetime
    findings: list[Finding]
    sync: SyncResult


def discover(ws: Workspace, *, now: datetime | None = None) -> DiscoverResult:
    """Run every detector and sync the findings into the opportunity backlog."""
    with WarehouseReader(ws.lake) as reader:
        when = now or data_now(reader)
        findings = run_detectors(
            reader,
            PricingCatalog.load_default(),
            overrides=detector_overrides(ws),
            now=when,
            currency=ws.config.str_("currency.default"),
        )
    sync = sync_findings(
        ws.state,
        findings,
        ws.org,
        hourly_rate=ws.config.decimal("assessment.hourly_rate"),
        now=when.replace(tzinfo=UTC),
        tag_keys=ws.config.list_("allocation.team_tag_keys"),
    )
    return DiscoverResult(when, findings, sync)


def verify(ws: Workspace, *, now: datetime | None = None) -> list[VerifyOutcome]:
    """Measure realized savings of every executed opportunity from billing."""
    with open_engine(ws.lake) as engine:
        return verify_executed(
            engine,
            ws.state,
            now=now or datetime.now(UTC).replace(tzinfo=None),
            settle_days=ws.config.int_("verify.settle_days"),
        )
