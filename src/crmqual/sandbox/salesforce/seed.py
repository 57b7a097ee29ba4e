"""Seed data for the Salesforce sandbox: the declared custom input fields, the permission set
that lets the integration user see them, and realistic companies on Account.

The companies are the shared seed's (`seed_identity`, `seed_finance`, `seed_defects`: English
and Chinese companies, statements that add up, health-driven credit and legal records, the
same missing and bad-value rates), mapped onto standard Account fields (`STANDARD`) and the
`__c` fields of `custom_fields.yaml`. Chunks of 5,000 are made in worker processes, each
from its own generator seeded by (seed, chunk), and written with one executemany each.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

import yaml

from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.salesforce.schema import (
    ACCOUNT,
    API_USER_ID,
    API_USER_NUMBER,
    INDUSTRIES,
    OWNER_IDS,
    install,
)
from crmqual.sandbox.salesforce.tooling import create_field, install_layout
from crmqual.sandbox.seed_defects import spoil
from crmqual.sandbox.seed_finance import financials, founding, health, records
from crmqual.sandbox.seed_identity import Pools, identity, pools
from crmqual.sandbox.seed_load import (
    ChunkJob,
    Row,
    check_shares,
    chunk_jobs,
    created_and_modified,
    dumps,
    load_chunks,
)
from crmqual.sandbox.store import SandboxStore, Scan, StoredRecord, iso

CHUNK = 5_000
ID_BASE = 1_000
PERMISSION_SET = "Credit_Inputs"

#: shared seed value -> standard Account field
STANDARD = {
    "Account_Name": "Name",
    "Account_Number": "AccountNumber",
    "Account_Type": "Type",
    "Ownership": "Ownership",
    "Industry": "Industry",
    "Annual_Revenue": "AnnualRevenue",
    "Employees": "NumberOfEmployees",
    "Phone": "Phone",
    "Website": "Website",
    "Billing_Street": "BillingStreet",
    "Billing_City": "BillingCity",
    "Billing_State": "BillingState",
    "Billing_Code": "BillingPostalCode",
    "Billing_Country": "BillingCountry",
    "Currency": "CurrencyIsoCode",
}


@dataclass(frozen=True)
class CustomField:
    api_name: str
    label: str
    type: str
    model: str
    source: str
    metadata: dict[str, Any]


def _load_table() -> tuple[CustomField, ...]:
    text = resources.files("crmqual.sandbox.salesforce").joinpath("custom_fields.yaml")
    rows = yaml.safe_load(text.read_text(encoding="utf-8"))["fields"]
    out = []
    for r in rows:
        meta: dict[str, Any] = {"type": r["type"], "label": r["label"]}
        for key in ("length", "precision", "scale"):
            if key in r:
                meta[key] = r[key]
        if r["type"] == "Picklist":
            meta["valueSet"] = {
                "restricted": True,
                "valueSetDefinition": {
                    "sorted": False,
                    "value": [{"fullName": v, "label": v, "default": False} for v in r["values"]],
                },
            }
        out.append(CustomField(r["api_name"], r["label"], r["type"], r["model"], r["source"], meta))
    return tuple(out)


CUSTOM_FIELDS: tuple[CustomField, ...] = _load_table()
_SOURCES = {f.source: f.api_name for f in CUSTOM_FIELDS}


def install_custom_fields(store: SandboxStore, now: str) -> int:
    """Create the declared custom fields that Account lacks, and a permission set granting
    them (read and edit) assigned to the integration user; returns how many fields were added."""
    install(store, now)
    install_layout(store, now)
    present = {f.api_name for f in store.fields(ACCOUNT)}
    added = [f for f in CUSTOM_FIELDS if f.api_name not in present]
    with store.transaction():
        for row in added:
            create_field(store, f"{ACCOUNT}.{row.api_name}", row.metadata, now)
        if added:
            _grant(store, [f.api_name for f in added], now)
    return len(added)


def _grant(store: SandboxStore, names: list[str], now: str) -> None:
    ps_number = None
    for rec in store.scan(Scan("PermissionSet")):
        if rec.data.get("Name") == PERMISSION_SET:
            ps_number = rec.id
    creator = {"CreatedById": API_USER_ID, "LastModifiedById": API_USER_ID, "LastModifiedDate": now}
    if ps_number is None:
        ps_number = store.next_ids(1, ID_BASE)[0]
        store.insert_records(
            "PermissionSet",
            [StoredRecord("PermissionSet", ps_number, now, now, {
                "Name": PERMISSION_SET, "Label": "Credit Inputs", **creator})],
        )  # fmt: skip
        number = store.next_ids(1, ID_BASE)[0]
        store.insert_records(
            "PermissionSetAssignment",
            [StoredRecord("PermissionSetAssignment", number, now, now, {
                "AssigneeId": sf_id(PREFIXES["User"], API_USER_NUMBER),
                "PermissionSetId": sf_id(PREFIXES["PermissionSet"], ps_number), **creator})],
        )  # fmt: skip
    numbers = store.next_ids(len(names), ID_BASE)
    store.insert_records(
        "FieldPermissions",
        [
            StoredRecord("FieldPermissions", n, now, now, {
                "ParentId": sf_id(PREFIXES["PermissionSet"], ps_number),
                "SobjectType": ACCOUNT, "Field": f"{ACCOUNT}.{name}",
                "PermissionsRead": True, "PermissionsEdit": True, **creator})
            for n, name in zip(numbers, names, strict=True)
        ],
    )  # fmt: skip


_ACCOUNT_TYPES = ("Customer",) * 8 + ("Prospect", "Reseller")
_OWNERSHIP = ("Private",) * 6 + ("Public", "Public", "Subsidiary", "Other")


def company(rng: random.Random, n: int, today: date, p: Pools) -> dict[str, Any]:
    """The shared seed's values of company number `n`, under the shared (Zoho-style) names
    that `seed_defects` knows; `account()` maps them onto Account."""
    h = health(rng)
    industry = INDUSTRIES[rng.randrange(len(INDUSTRIES))]
    values = identity(rng, p, industry, n)
    values["Account_Number"] = f"AC-{n:08d}"
    values["Account_Type"] = _ACCOUNT_TYPES[rng.randrange(len(_ACCOUNT_TYPES))]
    values["Ownership"] = _OWNERSHIP[rng.randrange(len(_OWNERSHIP))]
    values["Industry"] = industry
    values.update(financials(rng, h, values["Currency"], today))
    founded, relationship = founding(rng, h, today)
    values["Founding_Date"] = founded.isoformat()
    values["Relationship_Years"] = relationship
    values["Signed_Agreement"] = rng.random() < 0.45 + 0.45 * h
    values.update(records(rng, h, values["Revenue"] / 1.0))
    return values


def account(values: dict[str, Any]) -> dict[str, Any]:
    """Shared seed values -> Account fields (standard ones and `__c`)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = STANDARD.get(key) or _SOURCES.get(key)
        if name is not None:
            out[name] = value
    if out.get("Signed_Agreement__c") is None:
        out["Signed_Agreement__c"] = False  # a checkbox is never null
    if out.get("Sanctions_Hit__c") is None:
        out["Sanctions_Hit__c"] = False
    return out


def chunk_rows(job: ChunkJob) -> list[Row]:
    rng = random.Random(f"crmqual-sandbox:{job.seed}:{job.index}")
    p = pools()
    today = job.instant.date()
    rows: list[Row] = []
    for k in range(job.count):
        values = company(rng, job.first + k + 1, today, p)
        spoil(rng, values, job.missing_rate, job.bad_rate)
        created, modified = created_and_modified(rng, job.instant)
        data = account(values)
        data["OwnerId"] = OWNER_IDS[rng.randrange(len(OWNER_IDS))]
        data["CreatedById"] = API_USER_ID
        data["LastModifiedById"] = API_USER_ID
        data["LastModifiedDate"] = iso(modified)
        rows.append((job.first_id + k, iso(created), iso(modified), dumps(data)))
    return rows


def seed_salesforce(
    store: SandboxStore,
    accounts: int,
    seed: int = 0,
    now: datetime | None = None,
    *,
    missing_rate: float = 0.10,
    bad_rate: float = 0.0,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Add `accounts` companies (and the custom fields and their grant, if missing)."""
    from crmqual.sandbox.clock import SandboxClock

    check_shares(missing_rate=missing_rate, bad_rate=bad_rate)
    instant = now or SandboxClock(store).now()
    install_custom_fields(store, iso(instant))
    if accounts == 0:
        return 0
    ids = store.next_ids(accounts, ID_BASE)
    jobs = chunk_jobs(seed, accounts, ids[0], instant, missing_rate, bad_rate)
    load_chunks(
        store, ACCOUNT, jobs, chunk_rows, accounts, workers=workers, on_progress=on_progress
    )
    return accounts
