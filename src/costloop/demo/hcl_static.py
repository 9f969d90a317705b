"""Hand-written parts of the infra repository: providers, variables, modules, Kubernetes."""

from __future__ import annotations

__all__ = ["MODULE_FILES", "STATIC_FILES", "block_comment"]

_COMMENTS: dict[str, list[str]] = {
    "aws_instance.checkout_api": [
        "# Checkout API servers. Sized up for Black Friday 2024 and never sized back down.",
        "# (ana) revisit after the peak season.",
    ],
    "aws_instance.catalog_worker": ["// Catalog import worker (nightly feed from suppliers)."],
    "aws_instance.legacy_resizer": [
        "# Legacy image resizer, replaced by the catalog-image-thumbnailer Lambda.",
        '# Kept around "just in case" - see CAT-412.',
    ],
    "aws_instance.storefront_web": ["# Storefront web tier behind aws_lb.storefront."],
    "aws_instance.jenkins": ["# Old Jenkins controller. CI moved to GitHub Actions runners below."],
    "aws_instance.ci_runner": ["# Self-hosted CI runners (scaled down at night by a cron job)."],
    "aws_instance.reporting_batch": ["# Finance reporting batch. Still on m4 from the 2019 setup."],
    "aws_instance.api": ["# Staging copies of the checkout API. Run 24/7 (nobody set a schedule)."],
    "aws_eip.legacy_checkout": [
        "/* Elastic IP of the pre-ALB checkout endpoint.",
        "   The DNS record moved to aws_lb.checkout in 2025. */",
    ],
    "aws_ebs_volume.scratch": ["# Scratch space for the 2025 backfill. Detached when it finished."],
    "aws_lb.legacy": ["# Old staging load balancer; the staging apps moved to the EKS ingress."],
    "aws_nat_gateway.main": ["# One NAT gateway per AZ."],
    "aws_eks_node_group.general": ["# General-purpose nodes shared by every team's namespaces."],
    "module.checkout_db": ["# Checkout database (covered by the db.r5.large reservation)."],
    "module.search": ["# OpenSearch-compatible search cluster, self-managed on EC2."],
    "aws_db_instance.catalog": ["# Moved to Graviton (r6g) in the spring; see CAT-388."],
}


def block_comment(address: str) -> list[str]:
    """Comment lines written above a block, if it has a story."""
    return _COMMENTS.get(address, [])


def _providers(env: str) -> str:
    return f"""terraform {{
  required_version = ">= 1.6.0"

  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }}
  }}

  backend "s3" {{
    bucket = "stride-terraform-state"
    key    = "{env}/terraform.tfstate"
    region = "us-east-1"
  }}
}}

provider "aws" {{
  region = var.region
}}

data "aws_ami" "al2023" {{
  most_recent = true
  owners      = ["amazon"]

  filter {{
    name   = "name"
    values = ["al2023-ami-2023.*-x86_64"]
  }}
}}
"""


_VARIABLES = """variable "region" {
  type    = string
  default = "us-east-1"
}

variable "private_subnet_ids" {
  description = "Private subnets, one per availability zone"
  type        = list(string)
}

variable "public_subnet_ids" {
  type = list(string)
}

variable "nat_eip_allocation_ids" {
  type    = list(string)
  default = []
}

variable "lambda_role_arn" {
  type    = string
  default = ""
}

variable "eks_cluster_role_arn" {
  type    = string
  default = ""
}

variable "eks_node_role_arn" {
  type    = string
  default = ""
}
"""

MODULE_FILES: dict[str, str] = {
    "terraform/modules/instance_group/main.tf": """\
# A fixed group of identical instances with one data volume each.
resource "aws_instance" "node" {
  count         = var.node_count
  ami           = var.ami_id
  instance_type = var.instance_type
  subnet_id     = element(var.subnet_ids, count.index)

  tags = merge(var.tags, { Name = "${var.name}-${count.index + 1}" })
}

resource "aws_ebs_volume" "data" {
  count             = var.data_volume_size > 0 ? var.node_count : 0
  availability_zone = aws_instance.node[count.index].availability_zone
  size              = var.data_volume_size
  type              = "gp3"
  tags              = var.tags
}

resource "aws_volume_attachment" "data" {
  count       = length(aws_ebs_volume.data)
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data[count.index].id
  instance_id = aws_instance.node[count.index].id
}
""",
    "terraform/modules/instance_group/variables.tf": """variable "name" { type = string }
variable "node_count" { type = number }
variable "instance_type" { type = string }
variable "ami_id" {
  type    = string
  default = "ami-0c101f26f147fa7fd"
}
variable "subnet_ids" { type = list(string) }
variable "data_volume_size" {
  type    = number
  default = 0
}
variable "tags" {
  type    = map(string)
  default = {}
}
""",
    "terraform/modules/rds/main.tf": """resource "aws_db_instance" "this" {
  identifier                  = var.identifier
  engine                      = "postgres"
  engine_version              = "15.7"
  instance_class              = var.instance_class
  allocated_storage           = var.allocated_storage
  storage_type                = "gp2"
  multi_az                    = var.multi_az
  username                    = "stride_admin"
  manage_master_user_password = true
  backup_retention_period     = 14
  tags                        = var.tags
}
""",
    "terraform/modules/rds/variables.tf": """variable "identifier" { type = string }
variable "instance_class" { type = string }
variable "allocated_storage" { type = number }
variable "multi_az" {
  type    = bool
  default = false
}
variable "tags" {
  type    = map(string)
  default = {}
}
""",
}


def _deployment(name: str, namespace: str, team: str, replicas: int, cpu: str, mem: str) -> str:
    return f"""# {name}: owned by {team}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app: {name}
    team: {team}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
        team: {team}
    spec:
      containers:
        - name: {name}
          image: registry.stride.example/{name}:2026.10.1
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: "{cpu}"      # p95 usage is far lower; see the rightsizing report
              memory: {mem}
            limits:
              memory: {mem}
"""


STATIC_FILES: dict[str, str] = {
    "README.md": "# Stride Sneakers infrastructure\n\n"
    "Terraform per environment under `terraform/<env>/`, shared modules under\n"
    "`terraform/modules/`, Kubernetes manifests for the EKS clusters under `k8s/`.\n",
    "CODEOWNERS": "# Who reviews what\n"
    "/terraform/prod/compute.tf    @stride/checkout @stride/catalog\n"
    "/terraform/prod/search.tf     @stride/search\n"
    "/terraform/prod/database.tf   @stride/checkout\n"
    "/terraform/prod/serverless.tf @stride/catalog @stride/checkout\n"
    "/terraform/data/              @stride/data-platform\n"
    "/terraform/                   @stride/platform\n"
    "/k8s/                         @stride/platform\n",
    **{f"terraform/{env}/providers.tf": _providers(env) for env in ("prod", "staging", "data")},
    "terraform/shared/providers.tf": _providers("shared"),
    **{
        f"terraform/{env}/variables.tf": _VARIABLES for env in ("prod", "staging", "data", "shared")
    },
    "k8s/storefront.yaml": _deployment("storefront", "catalog", "catalog", 6, "2", "4Gi"),
    "k8s/search-api.yaml": _deployment("search-api", "search", "search", 4, "1", "2Gi"),
    "k8s/cart-service.yaml": _deployment("cart-service", "checkout", "checkout", 4, "500m", "1Gi"),
    "k8s/recommendations.yaml": _deployment(
        "recommendations", "data-platform", "data-platform", 2, "4", "16Gi"
    ),
}
