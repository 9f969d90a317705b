"""The Stride Sneakers demo estate: billing, inventory, metrics, org and infra repo.

``generate_estate(out)`` writes, under ``out``::

    estate.json                          the manifest (EstateManifest.to_json)
    billing/<aws|azure|gcp>/<YYYY-MM>.csv FOCUS 1.2, one file per provider and month
    inventory/inventory.csv              resources at the end of the last month
    metrics/utilization.csv              90 days of daily cpu/memory/disk/request stats
    business/orders.csv                  orders and active users per day and channel
    org.yaml                             teams, owners, channels, account owners
    labels/anomalies.json                the planted anomalies
    infra/                               a git repository: terraform/<env>/*.tf, k8s/*.yaml

``simulate_next_month`` bills the following month with changes applied, and
``generate_scaled`` writes one large FOCUS file for load tests.
"""

from costloop.demo.company import CloudAccount
from costloop.demo.estate import generate_estate, simulate_next_month
from costloop.demo.manifest import AppliedChange, EstateManifest
from costloop.demo.scaled import generate_scaled

__all__ = [
    "AppliedChange",
    "CloudAccount",
    "EstateManifest",
    "generate_estate",
    "generate_scaled",
    "simulate_next_month",
]
