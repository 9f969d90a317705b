"""Every Azure sample through the real CLI: totals reconcile with an independent sum.

The native totals are recomputed here with Python's csv module and Decimal, from
Microsoft's definitions (finops-toolkit ``docs-mslearn/focus/convert.md``): in an actual-
cost file the cost column totals BilledCost, in an amortized file EffectiveCost; rows
covered by a reservation or savings plan (and unused-commitment rows) are not billed,
commitment purchases and refunds are not amortized cost.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.conftest import Cli

FIXTURES = Path(__file__).parents[2] / "fixtures" / "native" / "azure"
FMT = "azure-cost-details"
Q = Decimal("1e-18")
D0 = Decimal(0)
EA_ACCOUNT = "/providers/Microsoft.Billing/billingAccounts/"
COMMITMENT_MODELS = {"reservation", "savingsplan"}


def _key(name: str) -> str:
    m = re.fullmatch(r".*\(([^()]+)\)\s*", name)
    return re.sub(r"[^a-z0-9]", "", (m.group(1) if m else name).lower())


def read(path: Path) -> list[dict[str, str]]:
    """Rows keyed like the connector: case/punctuation-insensitive, localized names."""
    text = path.read_bytes().decode("utf-8-sig")
    return [
        {_key(k): (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(text, newline=""))
    ]


def first(row: dict[str, str], *names: str) -> str:
    for name in names:
        if _key(name) in row:
            return row[_key(name)]
    return ""


def dec(row: dict[str, str], *names: str) -> Decimal | None:
    text = first(row, *names)
    return Decimal(text).quantize(Q, ROUND_HALF_UP) if text else None


def day(text: str) -> datetime:
    for layout in ("%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ValueError(text)


def period(row: dict[str, str]) -> str:
    start = first(row, "BillingPeriodStartDate")
    when = day(start) if start else day(first(row, "Date", "UsageDateTime")).replace(day=1)
    return f"{when:%Y-%m}"


def _money(x: Decimal) -> Decimal:
    return x.quantize(Q, ROUND_HALF_UP)


def list_cost(row: dict[str, str], cost: Decimal) -> Decimal:
    """Azure's list cost: PaygCostInBillingCurrency, else list price × quantity, else cost."""
    payg_cost = dec(row, "PaygCostInBillingCurrency")
    if payg_cost is not None:
        return payg_cost
    payg, unit = dec(row, "PayGPrice"), dec(row, "UnitPrice", "ResourceRate")
    qty, rate = dec(row, "Quantity", "UsageQuantity"), dec(row, "ExchangeRatePricingToBilling")
    price = payg if payg is not None and (payg != 0 or not unit) else unit
    if price is None or qty is None:
        return cost
    if rate is not None:
        price = _money(price * rate)
    return _money(price * qty)


def native_totals(path: Path) -> dict[str, dict[str, Decimal]]:
    """Billing period YYYY-MM → cost, billed, amortized and list totals of the file."""
    out: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"cost": D0, "BilledCost": D0, "EffectiveCost": D0, "ListCost": D0}
    )
    for row in read(path):
        cost = dec(row, "CostInBillingCurrency", "Cost", "PreTaxCost") or D0
        charge = first(row, "ChargeType").lower() or "usage"
        model = first(row, "PricingModel").lower().replace(" ", "")
        commitment = model in COMMITMENT_MODELS or (
            not model and bool(first(row, "ReservationId", "BenefitId"))
        )
        covered = (charge == "usage" and commitment) or charge.startswith("unused")
        purchase = charge in ("purchase", "refund") and (
            commitment
            or first(row, "ConsumedService").lower()
            in ("microsoft.capacity", "microsoft.billingbenefits")
        )
        t = out[period(row)]
        t["cost"] += cost
        t["BilledCost"] += D0 if covered else cost
        t["EffectiveCost"] += D0 if purchase else cost
        t["ListCost"] += list_cost(row, cost)
    return dict(out)


@dataclass(frozen=True)
class Sample:
    """A bill sample and what users must see after loading it."""

    path: str
    rows: int
    view: str  # "actual" (cost = BilledCost), "amortized" (= EffectiveCost) or "either"
    account: str
    categories: dict[str, int]
    commitments: dict[str, int] = field(default_factory=dict)  # "<type>/<status>" → rows
    regions: frozenset[str] = frozenset()
    spot: int = 0
    other_service: int = 0  # rows whose service is not in the FinOps toolkit's table


SAMPLES = [
    Sample(
        "finops-toolkit/EA_ActualCost_Small.csv",
        11,
        "actual",
        EA_ACCOUNT + "8611537",
        {"Purchase": 1, "Usage": 10},
        {"Reservation/-": 1},
        frozenset({"UK South", "South Central US", "East US", "West US 2", "UK West"}),
    ),
    Sample(
        "finops-toolkit/EA_AmortizedCost_Small.csv",
        28,
        "amortized",
        EA_ACCOUNT + "8611537",
        {"Usage": 28},
        {"Reservation/Used": 1, "Savings Plan/Used": 1},
        frozenset({"East US", "East US 2", "Central US", "West US", "UK West"}),
    ),
    Sample(
        "focus-converters/sample-anonymous-ea-export-dataset.csv",
        27,
        "either",
        EA_ACCOUNT + "12345678",
        {"Usage": 27},
        regions=frozenset({"Central US", "West US 2", "East US 2", "West US"}),
        spot=3,
    ),
    Sample(
        "koku/azure_version_2.csv",
        5,
        "either",
        EA_ACCOUNT + "99999999",
        {"Usage": 4, "Purchase": 1},
        regions=frozenset({"North Central US", "Global"}),
        other_service=1,  # the Marketplace purchase (no ConsumedService)
    ),
    Sample(
        "koku/camel_azure_version_2.csv",
        4,
        "either",
        EA_ACCOUNT + "3c100a8a-215e-5a7e-24b2-61aa86945012/billingProfiles/NF5V-BI6B-BG7-PGB",
        {"Usage": 4},
        regions=frozenset({"East US", "East US 2"}),
    ),
    Sample(
        "koku/azure_camelCased.csv",
        3,
        "either",
        "/subscriptions/2639de71-ca37-4a17-a104-17665a50e7fc",
        {"Usage": 3},
        regions=frozenset({"East US 2"}),
    ),
    Sample(
        "koku/costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv",
        3,
        "either",
        "/subscriptions/0039de71-ca37-4a17-a104-17665a50e7fc",
        {"Usage": 3},
        regions=frozenset({"East US 2"}),
    ),
    Sample(
        "opencost/headersets/Enterprise.csv",
        1,
        "either",
        EA_ACCOUNT + "12345678",
        {"Usage": 1},
        {"Reservation/Used": 1},
        frozenset({"Canada Central"}),
    ),
    Sample(
        "opencost/headersets/EnterpriseCamel.csv",
        1,
        "either",
        "/subscriptions/11111111-1111-1111-1111-123456789012",
        {"Usage": 1},
        regions=frozenset({"West US"}),
    ),
    Sample(
        "opencost/headersets/German.csv",
        1,
        "either",
        "/subscriptions/11111111-12ab-34dc-56ef-123456abcdef",
        {"Usage": 1},
        regions=frozenset({"East US"}),
    ),
    Sample(
        "opencost/headersets/PayAsYouGo.csv",
        1,
        "either",
        "/subscriptions/11111111-12ab-34dc-56ef-123456abcdef",
        {"Usage": 1},
        regions=frozenset({"East US"}),
    ),
    Sample(
        "opencost/headersets/YA.csv",
        1,
        "either",
        "/subscriptions/11111111-12ab-34dc-56ef-123456abcdef",
        {"Usage": 1},
        regions=frozenset({"East US"}),
    ),
]
NOT_BILLS = [
    (
        "opencost/values/MissingBrackets.csv",
        "column BillingCurrencyCode: not a complete Azure cost details export: missing "
        "column(s) BillingCurrencyCode or BillingCurrency or Currency",
    ),
    (
        "opencost/values/Template.csv",
        "missing column(s) BillingCurrencyCode or BillingCurrency or Currency",
    ),
    (
        "opencost/values/VirtualMachine.csv",
        "missing column(s) BillingCurrencyCode or BillingCurrency or Currency",
    ),
    ("opencost/headersets/BOM.csv", "row 1, column SubscriptionGuid: is empty"),
]


@pytest.fixture(scope="module")
def workspace(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One workspace; every test loads into its own source (slices never collide)."""
    ws = tmp_path_factory.mktemp("azure") / "ws"
    assert cli("init", ws).returncode == 0
    return ws


def source_of(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path)


def ingest(cli: Cli, ws: Path, file: Path, source: str) -> tuple[int, dict[str, Any], str]:
    done = cli("ingest", "-w", ws, "--source", source, "--json", file)
    return done.returncode, (json.loads(done.stdout) if done.returncode == 0 else {}), done.stderr


def query(cli: Cli, ws: Path, sql: str) -> list[dict[str, Any]]:
    done = cli("sql", "-w", ws, "--json", sql)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)["rows"]
    return rows


def bill_file(sample: Sample, tmp_path: Path) -> Path:
    """The sample itself, or for the mixed-line-ending koku file a copy with LF endings."""
    path = FIXTURES / sample.path
    raw = path.read_bytes()
    if b"\r\n" in raw and raw.count(b"\r\n") != raw.count(b"\n"):
        copy = tmp_path / path.name
        copy.write_bytes(raw.replace(b"\r\n", b"\n"))
        return copy
    return path


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.path for s in SAMPLES])
def test_sample_reconciles_with_independent_native_totals(
    cli: Cli, workspace: Path, tmp_path: Path, sample: Sample
) -> None:
    source = source_of(sample.path)
    file = bill_file(sample, tmp_path)
    code, out, err = ingest(cli, workspace, file, source)
    assert code == 0, err
    assert [(f["format"], f["rows"]) for f in out["files"]] == [(FMT, sample.rows)]
    assert sum(s["rows"] for s in out["loads"]) == sample.rows
    assert {s["billing_account_id"] for s in out["loads"]} == {sample.account}
    expected = native_totals(file)
    seen: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for check in out["reconciliation"]:
        assert check["reconciled"], check
        assert Decimal(check["native_total"]) == Decimal(check["focus_total"])
        seen[check["billing_period_start"][:7]][check["focus_column"]] = Decimal(
            check["native_total"]
        )
    assert seen == {p: {c: v for c, v in t.items() if c != "cost"} for p, t in expected.items()}
    # The proof users care about: the file's total cost is one FOCUS column's total.
    for p, t in expected.items():
        if sample.view in ("actual", "either"):
            assert seen[p]["BilledCost"] == t["cost"]
        if sample.view in ("amortized", "either"):
            assert seen[p]["EffectiveCost"] == t["cost"]
    rows = query(
        cli,
        workspace,
        'SELECT "ChargeCategory" AS cat, "CommitmentDiscountType" AS ct, '
        '"CommitmentDiscountStatus" AS cs, "RegionName" AS region, "ServiceCategory" AS sc, '
        '"ServiceName" AS sn, "PricingCategory" AS pc, x_SourceRow AS line '
        f"FROM charges WHERE x_SourceName = '{source}'",
    )
    assert len(rows) == sample.rows
    assert sorted(r["line"] for r in rows) == list(range(1, sample.rows + 1))
    assert Counter(r["cat"] for r in rows) == sample.categories
    assert Counter(f"{r['ct']}/{r['cs'] or '-'}" for r in rows if r["ct"]) == sample.commitments
    assert {r["region"] for r in rows} - {None} >= sample.regions
    assert all(r["sc"] and r["sn"] for r in rows)
    assert sum(r["sc"] == "Other" for r in rows) == sample.other_service
    assert sum(r["pc"] == "Dynamic" for r in rows) == sample.spot


@pytest.mark.parametrize(("path", "message"), NOT_BILLS)
def test_non_bills_fail_clearly_and_load_nothing(
    cli: Cli, workspace: Path, path: str, message: str
) -> None:
    source = source_of(path)
    code, _, err = ingest(cli, workspace, FIXTURES / path, source)
    assert code == 2
    assert message in err and "Traceback" not in err
    n = query(cli, workspace, f"SELECT count(*) AS n FROM charges WHERE x_SourceName = '{source}'")
    assert n == [{"n": 0}]


def test_mixed_line_endings_sample_is_refused_naming_the_line(cli: Cli, workspace: Path) -> None:
    """The CSV reader needs one line-ending style; the error says so and where."""
    path = "koku/camel_azure_version_2.csv"
    code, _, err = ingest(cli, workspace, FIXTURES / path, source_of(path) + "-raw")
    assert code == 2
    assert "mixes line endings: the header ends in CRLF but line 5 ends in LF" in err
    raw = source_of(path) + "-raw"
    loaded = query(
        cli, workspace, f"SELECT count(*) AS n FROM charges WHERE x_SourceName = '{raw}'"
    )
    assert loaded == [{"n": 0}]


def test_reference_values_of_the_ea_samples(cli: Cli, workspace: Path) -> None:
    """What a user looks at first, on the Microsoft demo tenant's actual and amortized days."""
    for view in ("Actual", "Amortized"):
        file = FIXTURES / "finops-toolkit" / f"EA_{view}Cost_Small.csv"
        code, _, err = ingest(cli, workspace, file, f"ref-{view.lower()}")
        assert code == 0, err
    rows = query(
        cli,
        workspace,
        'SELECT x_SourceName AS src, "ChargeCategory" AS cat, "CommitmentDiscountStatus" AS st, '
        '"CommitmentDiscountType" AS ct, "PricingCategory" AS pc, "BilledCost" AS billed, '
        '"EffectiveCost" AS eff, "ListCost" AS list, "ResourceId" AS rid, '
        '"CommitmentDiscountId" AS cid, "ServiceName" AS svc FROM charges '
        "WHERE x_SourceName LIKE 'ref-%' AND \"CommitmentDiscountId\" IS NOT NULL "
        "ORDER BY src, ct",
    )
    purchase, ri, sp = rows
    assert (purchase["cat"], purchase["pc"], purchase["st"]) == ("Purchase", "Standard", None)
    assert (Decimal(purchase["billed"]), Decimal(purchase["eff"])) == (Decimal("3.25"), D0)
    assert purchase["rid"] == purchase["cid"] and purchase["svc"] == "Azure Reservations"
    assert (ri["ct"], ri["st"], ri["pc"]) == ("Reservation", "Used", "Committed")
    assert (Decimal(ri["billed"]), Decimal(ri["eff"])) == (D0, Decimal("0.493152"))
    assert Decimal(ri["list"]) == Decimal("1.168")  # UnitPrice 0.146 × 8 h (PayGPrice is 0)
    assert (sp["ct"], sp["st"], Decimal(sp["eff"])) == (
        "Savings Plan",
        "Used",
        Decimal("0.006000000468"),
    )


def test_loading_the_other_view_replaces_the_billing_period(cli: Cli, workspace: Path) -> None:
    """Actual then amortized for the same account and period: the second load replaces it."""
    source = "ea-views"
    assets = FIXTURES / "finops-toolkit"
    code, first_load, err = ingest(cli, workspace, assets / "EA_ActualCost_Small.csv", source)
    assert code == 0, err
    code, second, err = ingest(cli, workspace, assets / "EA_AmortizedCost_Small.csv", source)
    assert code == 0, err
    (load,) = second["loads"]
    assert (load["rows"], load["replaced_rows"]) == (28, first_load["loads"][0]["rows"])
    amortized = native_totals(assets / "EA_AmortizedCost_Small.csv")["2023-09"]["cost"]
    total = query(
        cli,
        workspace,
        'SELECT count(*) AS n, sum("EffectiveCost") AS eff FROM charges '
        f"WHERE x_SourceName = '{source}'",
    )
    assert total[0]["n"] == 28 and Decimal(total[0]["eff"]) == amortized


def test_azure_focus_export_loads_as_focus_with_its_x_columns(
    cli: Cli, workspace: Path, tmp_path: Path
) -> None:
    """A file with the columns of Azure's FOCUS 1.2 export is FOCUS, not cost details."""
    meta = json.loads((FIXTURES / "finops-toolkit" / "FocusCost_1.2-preview.json").read_text())
    columns = [c["ColumnName"] for c in meta["Columns"]]
    values = {
        "BilledCost": "2.64",
        "EffectiveCost": "2.64",
        "ListCost": "2.88",
        "ContractedCost": "2.64",
        "BillingAccountId": EA_ACCOUNT + "8611537",
        "BillingAccountName": "Trey Research",
        "BillingAccountType": "Billing Account",
        "BillingCurrency": "USD",
        "BillingPeriodStart": "2024-09-01T00:00:00Z",
        "BillingPeriodEnd": "2024-10-01T00:00:00Z",
        "ChargePeriodStart": "2024-09-04T00:00:00Z",
        "ChargePeriodEnd": "2024-09-05T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "ChargeDescription": "Virtual Machines D2 v3",
        "PricingCategory": "Standard",
        "PricingQuantity": "24",
        "PricingUnit": "Hours",
        "ConsumedQuantity": "24",
        "ConsumedUnit": "Hours",
        "ListUnitPrice": "0.12",
        "ContractedUnitPrice": "0.11",
        "InvoiceIssuerName": "Microsoft",
        "ProviderName": "Microsoft",
        "PublisherName": "Microsoft",
        "ServiceName": "Virtual Machines",
        "ServiceCategory": "Compute",
        "ServiceSubcategory": "Virtual Machines",
        "SubAccountId": "/subscriptions/1caaa5a3-2b66-438e-8ab4-bce37d518c5d",
        "SubAccountType": "Subscription",
        "RegionId": "eastus",
        "RegionName": "East US",
        "SkuId": "1099985",
        "SkuPriceId": "1099985",
        "Tags": '{"env":"prod"}',
        "x_SkuMeterCategory": "Virtual Machines",
        "x_BillingProfileId": "8611537",
        "x_PricingBlockSize": "1",
        "x_ResourceGroupName": "rg-web",
    }
    file = tmp_path / "part_0_0001.csv"
    with file.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerow([values.get(c, "") for c in columns])
    code, out, err = ingest(cli, workspace, file, "azure-focus")
    assert code == 0, err
    assert [f["format"] for f in out["files"]] == ["focus"]
    assert out["reconciliation"] == []
    (row,) = query(
        cli,
        workspace,
        "SELECT x_SkuMeterCategory AS meter, x_BillingProfileId AS profile, "
        'x_ResourceGroupName AS rg, x_PricingBlockSize AS block, "BilledCost" AS billed '
        "FROM charges WHERE x_SourceName = 'azure-focus'",
    )
    assert {**row, "billed": Decimal(row["billed"])} == {
        "meter": "Virtual Machines",
        "profile": "8611537",
        "rg": "rg-web",
        "block": "1",
        "billed": Decimal("2.64"),
    }


def test_parquet_export_with_typed_columns(cli: Cli, workspace: Path, tmp_path: Path) -> None:
    """Exports written as Parquet carry numbers and dates typed; they convert the same."""
    csv_file = FIXTURES / "finops-toolkit" / "EA_AmortizedCost_Small.csv"
    parquet = tmp_path / "part_1_0001.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{csv_file}', header = true)) TO '{parquet}' "
        "(FORMAT parquet)"
    )
    code, out, err = ingest(cli, workspace, parquet, "parquet")
    assert code == 0, err
    assert [(f["format"], f["rows"]) for f in out["files"]] == [(FMT, 28)]
    assert all(check["reconciled"] for check in out["reconciliation"])
    effective = {c["focus_column"]: Decimal(c["focus_total"]) for c in out["reconciliation"]}[
        "EffectiveCost"
    ]
    # The Parquet file holds binary doubles: equal to the CSV total up to float noise.
    assert abs(effective - native_totals(csv_file)["2023-09"]["cost"]) < Decimal("1e-12")
