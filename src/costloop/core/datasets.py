"""Schemas of the non-billing inputs: inventory, utilization, business metrics."""

from __future__ import annotations

__all__ = [
    "BUSINESS_METRICS_COLUMNS",
    "INVENTORY_COLUMNS",
    "K8S_ALLOCATION_COLUMNS",
    "UTILIZATION_COLUMNS",
]

INVENTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("snapshot_time", "TIMESTAMP"),
    ("provider", "VARCHAR"),  # FOCUS ProviderName: AWS, Microsoft, Google Cloud
    ("account_id", "VARCHAR"),  # FOCUS SubAccountId
    ("region", "VARCHAR"),
    ("resource_id", "VARCHAR"),  # equals FOCUS ResourceId of the resource's charges
    ("resource_name", "VARCHAR"),
    # instance | volume | ip-address | snapshot | database | bucket | cluster |
    # nat-gateway | function | load-balancer
    ("resource_type", "VARCHAR"),
    ("size", "VARCHAR"),  # instance type, volume type (gp2/gp3), DB class
    ("size_gib", "DECIMAL(18, 3)"),
    ("state", "VARCHAR"),  # running | stopped | available | in-use | associated | ...
    ("attached_to", "VARCHAR"),  # instance id of a volume / IP, source volume of a snapshot
    ("created_at", "TIMESTAMP"),
    ("last_used_at", "TIMESTAMP"),
    ("tags", "VARCHAR"),  # JSON object
    ("iac_address", "VARCHAR"),  # e.g. aws_instance.web[0] or module.db.aws_db_instance.main
    ("iac_file", "VARCHAR"),  # path in the IaC repository, e.g. terraform/prod/compute.tf
)
"""One row per resource per snapshot; documented in docs/formats.md."""

UTILIZATION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("resource_id", "VARCHAR"),
    ("ts", "TIMESTAMP"),  # start of the (daily) interval, UTC
    ("metric", "VARCHAR"),  # cpu | memory | network_in | network_out | disk_iops | connections
    ("statistic", "VARCHAR"),  # avg | max | p95 | p99
    ("value", "DOUBLE"),  # percent for cpu/memory; bytes, ops or counts otherwise
)

BUSINESS_METRICS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("date", "DATE"),
    ("metric", "VARCHAR"),  # e.g. orders, active_users
    ("value", "DECIMAL(38, 6)"),
    ("dimension", "VARCHAR"),  # optional, e.g. a product name
)

K8S_ALLOCATION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("window_start", "TIMESTAMP"),  # start of the allocation window, UTC
    ("window_end", "TIMESTAMP"),
    ("cluster", "VARCHAR"),  # null when the export does not name it (OpenCost CSV)
    ("namespace", "VARCHAR"),
    ("cpu_cost", "DECIMAL(38, 18)"),
    ("ram_cost", "DECIMAL(38, 18)"),
    ("pv_cost", "DECIMAL(38, 18)"),
    ("network_cost", "DECIMAL(38, 18)"),
    ("gpu_cost", "DECIMAL(38, 18)"),
    ("total_cost", "DECIMAL(38, 18)"),
    ("source_file", "VARCHAR"),
    ("source_row", "BIGINT"),  # 1-based data row or allocation entry
)
"""Kubernetes namespace costs from OpenCost / Kubecost, for ``metric`` shared-cost pools."""
