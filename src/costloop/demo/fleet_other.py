"""Stride's Azure subscription (marketing site) and GCP project (analytics)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costloop.demo.company import account
from costloop.demo.fleet import hours_meter, resource, storage_meter, team_tags, traffic_meter
from costloop.demo.model import Meter, Resource

__all__ = ["azure_resources", "gcp_resources"]

_SUB = account("stride-marketing").id
_RG = f"/subscriptions/{_SUB}/resourcegroups/rg-marketing-prod/providers"
_PROJECT = account("stride-analytics-prod").id


def _azure(
    name: str, kind: str, rtype: str, path: str, meters: tuple[Meter, ...], **kw: Any
) -> Resource:
    tags: dict[str, str] | None = kw.pop("tags", None)
    return resource(
        f"{_RG}/{path}",
        name,
        "azure",
        _SUB,
        "eastus",
        kind,
        rtype,
        meters,
        team="marketing-web",
        env="prod",
        tags=team_tags(name, "marketing-web", "prod", managed=False) if tags is None else tags,
        az=None,
        **kw,
    )


def azure_resources() -> list[Resource]:
    """The marketing CMS: VMs with OS disks, one idle preview VM, a stray disk, blob storage."""
    out: list[Resource] = []
    vms = [(f"cms-web-{i}", "Standard_D4s_v5", "normal") for i in (1, 2, 3)]
    vms.append(("marketing-preview", "Standard_D2s_v5", "idle"))
    for name, size, profile in vms:
        vm_path = f"microsoft.compute/virtualmachines/{name}"
        out.append(
            _azure(
                name,
                "instance",
                "Virtual Machine",
                vm_path,
                (hours_meter("azure_vm"),),
                size=size,
                profile=profile,
                created_days_ago=680,
                waste="idle-instance" if profile == "idle" else None,
                last_used_days_ago=95 if profile == "idle" else 0,
            )
        )
        disk = storage_meter(
            "azure_disk",
            "azure.disk.p10",
            1.0,
            "P10 LRS Disk",
            "Premium SSD Managed Disks - P10 LRS - Disk",
            unit="Months",
        )
        out.append(
            _azure(
                f"{name}_OsDisk",
                "volume",
                "Disk",
                f"microsoft.compute/disks/{name}_osdisk",
                (disk,),
                size="P10",
                size_gib=Decimal(128),
                state="in-use",
                attached_to=out[-1].rid,
                profile="volume",
                created_days_ago=680,
            )
        )
    disk = storage_meter(
        "azure_disk",
        "azure.disk.p20",
        1.0,
        "P20 LRS Disk",
        "Premium SSD Managed Disks - P20 LRS - Disk",
        unit="Months",
    )
    out.append(
        _azure(
            "cms-old-data",
            "volume",
            "Disk",
            "microsoft.compute/disks/cms-old-data",
            (disk,),
            size="P20",
            size_gib=Decimal(512),
            state="available",
            profile="unattached",
            waste="unattached-volume",
            created_days_ago=520,
            last_used_days_ago=300,
            tags={},
        )
    )
    blob = storage_meter(
        "azure_storage",
        "azure.blob.hot",
        4096.0,
        "Hot LRS Data Stored",
        "Blob Storage - Hot LRS - Data Stored",
        growth=0.03,
    )
    egress = traffic_meter(
        "egress",
        "azure_bw",
        "azure.bandwidth",
        150.0,
        "Data Transfer Out",
        "GB",
        "Bandwidth - Standard Data Transfer Out - Zone 1",
        weekend=-0.2,
    )
    out.append(
        _azure(
            "stridemktassets",
            "bucket",
            "Storage Account",
            "microsoft.storage/storageaccounts/stridemktassets",
            (blob, egress),
            state="active",
            profile="none",
            size_gib=Decimal(4096),
            created_days_ago=900,
        )
    )
    return out


def _gcp(
    name: str, kind: str, rtype: str, rid: str, meters: tuple[Meter, ...], **kw: Any
) -> Resource:
    tags: dict[str, str] | None = kw.pop("tags", None)
    return resource(
        rid,
        name,
        "gcp",
        _PROJECT,
        "us-central1",
        kind,
        rtype,
        meters,
        team="data-platform",
        env="prod",
        tags=team_tags(name, "data-platform", "prod", managed=False) if tags is None else tags,
        **kw,
    )


def gcp_resources() -> list[Resource]:
    """Analytics on GCP: ETL VMs with disks, lake buckets and BigQuery."""
    out: list[Resource] = []
    zone = "us-central1-a"
    for name, size, profile in (
        ("etl-worker-1", "n2-standard-4", "busy"),
        ("etl-worker-2", "n2-standard-4", "busy"),
        ("airflow-gcp", "e2-standard-2", "normal"),
    ):
        base = f"//compute.googleapis.com/projects/{_PROJECT}/zones/{zone}"
        out.append(
            _gcp(
                name,
                "instance",
                "Virtual Machine",
                f"{base}/instances/{name}",
                (hours_meter("gce", places=2),),
                az=zone,
                size=size,
                profile=profile,
                created_days_ago=450,
            )
        )
        pd = storage_meter(
            "gcp_pd",
            "gcp.pd.balanced",
            200.0,
            "Balanced PD Capacity",
            "Balanced PD Capacity in Iowa",
        )
        out.append(
            _gcp(
                f"{name}-disk",
                "volume",
                "Persistent Disk",
                f"{base}/disks/{name}",
                (pd,),
                az=zone,
                size="pd-balanced",
                size_gib=Decimal(200),
                state="in-use",
                attached_to=out[-1].rid,
                profile="volume",
                created_days_ago=450,
            )
        )
    for bucket, tb, growth in (
        ("stride-lake-raw-gcp", 30.0, 0.05),
        ("stride-ml-features", 5.0, 0.03),
    ):
        meter = storage_meter(
            "gcs",
            "gcs.standard",
            tb * 1024,
            "Standard Storage US Regional",
            "Standard Storage Iowa",
            growth=growth,
        )
        out.append(
            _gcp(
                bucket,
                "bucket",
                "Bucket",
                f"//storage.googleapis.com/projects/_/buckets/{bucket}",
                (meter,),
                state="active",
                profile="none",
                size_gib=Decimal(int(tb * 1024)),
                created_days_ago=800,
            )
        )
    analysis = traffic_meter(
        "analysis",
        "bq",
        "bq.analysis",
        3.0,
        "Analysis",
        "TiB",
        "BigQuery Analysis (on-demand) in US multi-region",
        weekend=0.3,
    )
    storage = storage_meter(
        "bq",
        "bq.storage",
        40960.0,
        "Active Logical Storage",
        "BigQuery Active Logical Storage",
        growth=0.04,
    )
    out.append(
        _gcp(
            "analytics",
            "dataset",
            "Dataset",
            f"//bigquery.googleapis.com/projects/{_PROJECT}/datasets/analytics",
            (analysis, storage),
            state="active",
            profile="none",
            created_days_ago=900,
        )
    )
    return out
