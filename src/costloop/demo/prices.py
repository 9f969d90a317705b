"""Public list prices the demo estate bills at (USD; see NOTICE for sources)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "AZURE_VM",
    "EC2",
    "GCE",
    "RATES",
    "RDS",
    "RDS_RI_RATE",
    "SP_DISCOUNT",
    "InstanceSpec",
    "sp_rate",
]


@dataclass(frozen=True)
class InstanceSpec:
    """A machine size: capacity and its on-demand Linux price per hour."""

    vcpu: int
    memory_gib: Decimal
    hourly: Decimal


# Amazon EC2 Linux on-demand, us-east-1, from vantage-sh/ec2instances.info (MIT),
# file opszero-app/instances.json ("ondemand" field, region us-east-1): the types the
# estate runs and the ones a rightsizing may move them to.
EC2: dict[str, InstanceSpec] = {
    "t3.nano": InstanceSpec(2, Decimal("0.5"), Decimal("0.0052")),
    "t3.micro": InstanceSpec(2, Decimal("1"), Decimal("0.0104")),
    "t3.small": InstanceSpec(2, Decimal("2"), Decimal("0.0208")),
    "t3.medium": InstanceSpec(2, Decimal("4"), Decimal("0.0416")),
    "t3.large": InstanceSpec(2, Decimal("8"), Decimal("0.0832")),
    "t3.xlarge": InstanceSpec(4, Decimal("16"), Decimal("0.1664")),
    "t4g.nano": InstanceSpec(2, Decimal("0.5"), Decimal("0.0042")),
    "t4g.micro": InstanceSpec(2, Decimal("1"), Decimal("0.0084")),
    "t4g.small": InstanceSpec(2, Decimal("2"), Decimal("0.0168")),
    "t4g.medium": InstanceSpec(2, Decimal("4"), Decimal("0.0336")),
    "t4g.large": InstanceSpec(2, Decimal("8"), Decimal("0.0672")),
    "t4g.xlarge": InstanceSpec(4, Decimal("16"), Decimal("0.1344")),
    "m4.large": InstanceSpec(2, Decimal("8"), Decimal("0.1")),
    "m4.xlarge": InstanceSpec(4, Decimal("16"), Decimal("0.2")),
    "m4.2xlarge": InstanceSpec(8, Decimal("32"), Decimal("0.4")),
    "c4.xlarge": InstanceSpec(4, Decimal("7.5"), Decimal("0.199")),
    "m5.large": InstanceSpec(2, Decimal("8"), Decimal("0.096")),
    "m5.xlarge": InstanceSpec(4, Decimal("16"), Decimal("0.192")),
    "m5.2xlarge": InstanceSpec(8, Decimal("32"), Decimal("0.384")),
    "m5.4xlarge": InstanceSpec(16, Decimal("64"), Decimal("0.768")),
    "m6i.large": InstanceSpec(2, Decimal("8"), Decimal("0.096")),
    "m6i.xlarge": InstanceSpec(4, Decimal("16"), Decimal("0.192")),
    "m6i.2xlarge": InstanceSpec(8, Decimal("32"), Decimal("0.384")),
    "m6i.4xlarge": InstanceSpec(16, Decimal("64"), Decimal("0.768")),
    "m6g.large": InstanceSpec(2, Decimal("8"), Decimal("0.077")),
    "m6g.xlarge": InstanceSpec(4, Decimal("16"), Decimal("0.154")),
    "m6g.2xlarge": InstanceSpec(8, Decimal("32"), Decimal("0.308")),
    "m6g.4xlarge": InstanceSpec(16, Decimal("64"), Decimal("0.616")),
    "m7g.large": InstanceSpec(2, Decimal("8"), Decimal("0.0816")),
    "m7g.xlarge": InstanceSpec(4, Decimal("16"), Decimal("0.1632")),
    "m7g.2xlarge": InstanceSpec(8, Decimal("32"), Decimal("0.3264")),
    "m7g.4xlarge": InstanceSpec(16, Decimal("64"), Decimal("0.6528")),
    "c5.large": InstanceSpec(2, Decimal("4"), Decimal("0.085")),
    "c5.xlarge": InstanceSpec(4, Decimal("8"), Decimal("0.17")),
    "c5.2xlarge": InstanceSpec(8, Decimal("16"), Decimal("0.34")),
    "c5.4xlarge": InstanceSpec(16, Decimal("32"), Decimal("0.68")),
    "c6g.large": InstanceSpec(2, Decimal("4"), Decimal("0.068")),
    "c6g.xlarge": InstanceSpec(4, Decimal("8"), Decimal("0.136")),
    "c6g.2xlarge": InstanceSpec(8, Decimal("16"), Decimal("0.272")),
    "c6g.4xlarge": InstanceSpec(16, Decimal("32"), Decimal("0.544")),
    "c7g.large": InstanceSpec(2, Decimal("4"), Decimal("0.0725")),
    "c7g.xlarge": InstanceSpec(4, Decimal("8"), Decimal("0.145")),
    "c7g.2xlarge": InstanceSpec(8, Decimal("16"), Decimal("0.29")),
    "c7g.4xlarge": InstanceSpec(16, Decimal("32"), Decimal("0.58")),
    "r5.large": InstanceSpec(2, Decimal("16"), Decimal("0.126")),
    "r5.xlarge": InstanceSpec(4, Decimal("32"), Decimal("0.252")),
    "r5.2xlarge": InstanceSpec(8, Decimal("64"), Decimal("0.504")),
    "r5.4xlarge": InstanceSpec(16, Decimal("128"), Decimal("1.008")),
    "r6g.large": InstanceSpec(2, Decimal("16"), Decimal("0.1008")),
    "r6g.xlarge": InstanceSpec(4, Decimal("32"), Decimal("0.2016")),
    "r6g.2xlarge": InstanceSpec(8, Decimal("64"), Decimal("0.4032")),
    "r6g.4xlarge": InstanceSpec(16, Decimal("128"), Decimal("0.8064")),
    "r7g.large": InstanceSpec(2, Decimal("16"), Decimal("0.1071")),
    "r7g.xlarge": InstanceSpec(4, Decimal("32"), Decimal("0.2142")),
    "r7g.2xlarge": InstanceSpec(8, Decimal("64"), Decimal("0.4284")),
    "r7g.4xlarge": InstanceSpec(16, Decimal("128"), Decimal("0.8568")),
}

# Amazon RDS for PostgreSQL, single-AZ on-demand, us-east-1, from vantage-sh/ec2instances.info
# (MIT), file www/rds/instances.json (pricing.us-east-1.PostgreSQL.ondemand).
RDS: dict[str, InstanceSpec] = {
    "db.t3.medium": InstanceSpec(2, Decimal("4"), Decimal("0.072")),
    "db.m5.large": InstanceSpec(2, Decimal("8"), Decimal("0.178")),
    "db.r5.large": InstanceSpec(2, Decimal("16"), Decimal("0.25")),
    "db.r5.xlarge": InstanceSpec(4, Decimal("32"), Decimal("0.5")),
    "db.m6g.large": InstanceSpec(2, Decimal("8"), Decimal("0.159")),
    "db.r6g.large": InstanceSpec(2, Decimal("16"), Decimal("0.225")),
    "db.r6g.xlarge": InstanceSpec(4, Decimal("32"), Decimal("0.45")),
}

# Effective hourly rate of a 1-year No Upfront RDS reserved instance (illustrative).
RDS_RI_RATE: dict[str, Decimal] = {"db.r5.large": Decimal("0.175")}

# Azure Virtual Machines, Linux pay-as-you-go, East US (Azure retail prices API).
AZURE_VM: dict[str, InstanceSpec] = {
    "Standard_D2s_v5": InstanceSpec(2, Decimal("8"), Decimal("0.096")),
    "Standard_D4s_v5": InstanceSpec(4, Decimal("16"), Decimal("0.192")),
}

# Google Compute Engine on-demand, us-central1, from Cyclenerd/google-cloud-pricing-
# cost-calculator (Apache-2.0), pricing.yml.
GCE: dict[str, InstanceSpec] = {
    "n2-standard-4": InstanceSpec(4, Decimal("16"), Decimal("0.194236")),
    "e2-standard-2": InstanceSpec(2, Decimal("8"), Decimal("0.06701142")),
}

# Compute Savings Plan discount off on-demand, 3-year No Upfront (illustrative, by family).
SP_DISCOUNT: dict[str, Decimal] = {
    "t3": Decimal("0.25"),
    "t4g": Decimal("0.27"),
    "m4": Decimal("0.22"),
    "c4": Decimal("0.22"),
    "m5": Decimal("0.28"),
    "m6i": Decimal("0.29"),
    "m6g": Decimal("0.29"),
    "m7g": Decimal("0.30"),
    "c5": Decimal("0.27"),
    "c6g": Decimal("0.28"),
    "c7g": Decimal("0.29"),
    "r5": Decimal("0.28"),
    "r6g": Decimal("0.29"),
    "r7g": Decimal("0.30"),
}

# Other unit prices (AWS us-east-1, Azure East US, GCP us-central1 public price pages).
RATES: dict[str, Decimal] = {
    "ebs.gp2": Decimal("0.10"),  # per GB-month
    "ebs.gp3": Decimal("0.08"),
    "ebs.snapshot": Decimal("0.05"),
    "eip.hour": Decimal("0.005"),  # public IPv4 address per hour
    "s3.storage": Decimal("0.023"),  # S3 Standard per GB-month
    "s3.put": Decimal("0.005"),  # per 1,000 PUT/COPY/POST/LIST requests
    "s3.get": Decimal("0.0004"),  # per 1,000 GET requests
    "nat.hour": Decimal("0.045"),
    "nat.gb": Decimal("0.045"),
    "dt.out": Decimal("0.09"),  # data transfer out to the internet per GB
    "dt.az": Decimal("0.01"),  # inter-AZ per GB (each direction)
    "eks.hour": Decimal("0.10"),
    "lambda.request": Decimal("0.0000002"),
    "lambda.gbs": Decimal("0.0000166667"),
    "logs.ingest": Decimal("0.50"),
    "logs.storage": Decimal("0.03"),
    "alb.hour": Decimal("0.0225"),
    "alb.lcu": Decimal("0.008"),
    "rds.gp2": Decimal("0.115"),
    "azure.disk.p20": Decimal("73.22"),  # Premium SSD P20 (512 GiB) per month
    "azure.disk.p10": Decimal("19.71"),  # Premium SSD P10 (128 GiB) per month
    "azure.blob.hot": Decimal("0.0184"),
    "azure.bandwidth": Decimal("0.087"),
    "gcp.pd.balanced": Decimal("0.10"),
    "gcs.standard": Decimal("0.020"),
    "bq.analysis": Decimal("6.25"),  # per TiB scanned
    "bq.storage": Decimal("0.02"),  # active logical storage per GB-month
}


def sp_rate(instance_type: str) -> Decimal:
    """Savings Plan hourly rate of an EC2 type, rounded to 6 places as AWS publishes."""
    family = instance_type.split(".")[0]
    rate = EC2[instance_type].hourly * (1 - SP_DISCOUNT[family])
    return rate.quantize(Decimal("0.000001"))
