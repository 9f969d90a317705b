"""Stride's AWS managed services: S3 buckets, Lambda functions and CloudWatch log groups."""

from __future__ import annotations

from decimal import Decimal

from costloop.demo.fleet import parse_table, storage_meter, team_tags, traffic_meter
from costloop.demo.fleet_awsbase import ACCOUNT_IDS, arn, aws, env_of, tf_path
from costloop.demo.model import Resource

__all__ = ["managed_services"]

_BUCKETS = """
# bucket                    acct    team           TB    get_M  put_M  growth  tf
stride-product-images       prod    catalog        8     15     2      0.03    prod/storage
stride-checkout-receipts    prod    checkout       0.5   1      0.5    0.03    prod/storage
stride-web-assets           prod    catalog        1.2   25     0.2    0.02    prod/storage
stride-prod-logs            prod    -              12    0.5    1      0.04    -
stride-clickstream-raw      data    data-platform  30    5      4      0.05    data/storage
stride-lake-curated         data    data-platform  15    20     2      0.04    data/storage
stride-terraform-state      shared  platform       0.01  0.05   0.01   0.0     shared/ci
stride-search-snapshots     prod    search         2.5   0.2    0.4    0.03    prod/storage
stride-order-exports        prod    checkout       0.8   0.6    0.3    0.03    prod/storage
stride-marketing-uploads    prod    marketing-web  0.6   3      0.1    0.02    -
stride-ml-training          data    data-platform  6     2      0.5    0.04    data/storage
stride-athena-results       data    -              1.5   4      1.2    0.03    -
stride-ci-artifacts         shared  platform       3     1      0.8    0.02    shared/ci
"""

_FUNCTIONS = """
# function                    acct  team           M_requests  GB_seconds
catalog-image-thumbnailer     prod  catalog        2.0         400000
checkout-fraud-score          prod  checkout       0.8         120000
order-events-fanout           prod  checkout       3.0         90000
search-index-sync             prod  search         1.5         150000
clickstream-ingest            data  data-platform  12.0        600000
checkout-tax-quote            prod  checkout       1.1         60000
cart-abandonment-mailer       prod  checkout       0.2         30000
catalog-price-sync            prod  catalog        0.6         80000
inventory-webhook             prod  catalog        0.9         45000
search-query-logger           prod  search         2.2         50000
sitemap-generator             prod  marketing-web  0.05        20000
data-quality-checks           data  data-platform  0.3         140000
"""

_LOG_GROUPS = """
# log group                              acct    team           GB_day  tf
/aws/eks/stride-prod/cluster             prod    -              20      -
/stride/checkout-api                     prod    checkout       18      prod/serverless
/stride/storefront                       prod    catalog        25      prod/serverless
/aws/lambda/catalog-image-thumbnailer    prod    catalog        4       prod/serverless
/stride/etl                              data    data-platform  12      data/main
/aws/vpc/flow-logs                       shared  -              12      -
/stride/checkout-worker                  prod    checkout       6       prod/serverless
/stride/search                           prod    search         9       prod/serverless
/aws/lambda/clickstream-ingest           data    data-platform  5       data/main
/aws/rds/instance/checkout-db/postgresql prod    checkout       3       prod/serverless
/aws/eks/stride-staging/cluster          staging -              4       -
/stride/ci                               shared  platform       2       shared/ci
"""


def _buckets() -> list[Resource]:
    out = []
    for bucket, acct, team, tb, gets, puts, growth, tf in parse_table(_BUCKETS):
        meters = (
            storage_meter(
                "s3",
                "s3.storage",
                float(tb) * 1024,
                "TimedStorage-ByteHrs",
                "$0.023 per GB - first 50 TB / month of storage used",
                growth=float(growth),
            ),
            traffic_meter(
                "get",
                "s3",
                "s3.get",
                float(gets) * 1000,
                "Requests-Tier2",
                "1000 Requests",
                "$0.0004 per 1,000 GET and all other requests",
                places=3,
            ),
            traffic_meter(
                "put",
                "s3",
                "s3.put",
                float(puts) * 1000,
                "Requests-Tier1",
                "1000 Requests",
                "$0.005 per 1,000 PUT, COPY, POST, or LIST requests",
                places=3,
            ),
        )
        tags = {} if team == "-" else team_tags(bucket, team, env_of(acct), managed=tf != "-")
        short = bucket.removeprefix("stride-").replace("-", "_")
        out.append(
            aws(
                bucket,
                bucket,
                acct,
                "bucket",
                "Bucket",
                meters,
                team,
                tags,
                state="active",
                size_gib=Decimal(int(float(tb) * 1024)),
                iac_address=None if tf == "-" else f"aws_s3_bucket.{short}",
                iac_file=tf_path(tf),
                created_days_ago=1200,
                profile="none",
            )
        )
    return out


def _serverless() -> list[Resource]:
    out = []
    for name, acct, team, m_req, gb_s in parse_table(_FUNCTIONS):
        meters = (
            traffic_meter(
                "requests",
                "lambda",
                "lambda.request",
                float(m_req) * 1e6,
                "Request",
                "Requests",
                "AWS Lambda - Total Requests - US East (N. Virginia)",
                places=0,
            ),
            traffic_meter(
                "duration",
                "lambda",
                "lambda.gbs",
                float(gb_s),
                "Lambda-GB-Second",
                "GB-Seconds",
                "AWS Lambda - Total Compute - US East (N. Virginia)",
                places=0,
            ),
        )
        tf = "prod/serverless" if acct == "prod" else "data/main"
        out.append(
            aws(
                arn("lambda", ACCOUNT_IDS[acct], f"function:{name}"),
                name,
                acct,
                "function",
                "Function",
                meters,
                team,
                team_tags(name, team, env_of(acct)),
                size="arm64",
                state="active",
                iac_address=f"aws_lambda_function.{name.replace('-', '_')}",
                iac_file=tf_path(tf),
                created_days_ago=500,
                profile="none",
            )
        )
    for path, acct, team, gb, tf in parse_table(_LOG_GROUPS):
        meters = (
            traffic_meter(
                "ingest",
                "logs",
                "logs.ingest",
                float(gb),
                "USE1-DataProcessing-Bytes",
                "GB",
                "$0.50 per GB custom log data ingested",
            ),
            storage_meter(
                "logs",
                "logs.storage",
                float(gb) * 30,
                "USE1-TimedStorage-ByteHrs",
                "$0.03 per GB-mo of log storage",
                growth=0.03,
            ),
        )
        tags = {} if team == "-" else team_tags(path, team, env_of(acct))
        short = path.strip("/").replace("/", "_").replace("-", "_")
        out.append(
            aws(
                arn("logs", ACCOUNT_IDS[acct], f"log-group:{path}"),
                path,
                acct,
                "log-group",
                "Log Group",
                meters,
                team,
                tags,
                state="active",
                iac_address=None if tf == "-" else f"aws_cloudwatch_log_group.{short}",
                iac_file=tf_path(tf),
                created_days_ago=600,
                profile="none",
            )
        )
    return out


def managed_services() -> list[Resource]:
    """Buckets, functions and log groups."""
    return _buckets() + _serverless()
