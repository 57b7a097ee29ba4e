"""Seed data for the Zoho sandbox: the declared custom input fields and realistic companies.

`CUSTOM_FIELDS` (from `custom_fields.yaml`) is the table `mappings/zoho.yaml` reads.
`seed_zoho` adds N companies in English and Chinese (`seed_identity`), with two statements
that add up and credit and legal records that follow each company's health (`seed_finance`),
and with missing and malformed values at the rates asked (`seed_defects`). Reproducible for a
seed; fast enough for a million accounts (pools instead of Faker calls per record, chunks made
in worker processes, one executemany per chunk with bulk-load PRAGMAs).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

import yaml

from crmqual.sandbox.fielddef import FieldDef
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
from crmqual.sandbox.store import SandboxStore, iso
from crmqual.sandbox.zoho.layouts import install_layouts, place_inputs
from crmqual.sandbox.zoho.schema import (
    API_USER,
    ID_BASE,
    INDUSTRIES,
    MODULE,
    OWNERS,
    default_length,
    install,
    picklist,
)


@dataclass(frozen=True)
class CustomField:
    """One row of the declared table."""

    api_name: str
    label: str
    data_type: str
    model: str
    pick_list_values: tuple[str, ...] = ()


def _load_table() -> tuple[CustomField, ...]:
    text = resources.files("crmqual.sandbox.zoho").joinpath("custom_fields.yaml").read_text()
    rows = yaml.safe_load(text)["fields"]
    return tuple(
        CustomField(
            api_name=r["api_name"],
            label=r["label"],
            data_type=r["data_type"],
            model=r["model"],
            pick_list_values=tuple(r.get("pick_list_values", ())),
        )
        for r in rows
    )


CUSTOM_FIELDS: tuple[CustomField, ...] = _load_table()


def install_custom_fields(store: SandboxStore, now: str) -> int:
    """Create the declared custom fields that the module lacks; returns how many were added."""
    install(store, now)
    install_layouts(store, MODULE, now)
    present = {f.api_name for f in store.fields(MODULE)}
    added = 0
    for row in CUSTOM_FIELDS:
        if row.api_name in present:
            continue
        ids = store.next_ids(1 + (len(row.pick_list_values) + 1), ID_BASE + 100)
        store.put_field(
            MODULE,
            FieldDef(
                id=str(ids[0]),
                api_name=row.api_name,
                label=row.label,
                data_type=row.data_type,
                custom=True,
                length=default_length(row.data_type),
                decimal_place=2 if row.data_type in ("currency", "double") else None,
                picklist=picklist(row.pick_list_values, ids[1:]) if row.pick_list_values else (),
                created_time=now,
                modified_time=now,
            ),
        )
        added += 1
    declared = {row.api_name for row in CUSTOM_FIELDS}
    inputs = [f.id for f in store.fields(MODULE) if f.api_name in declared]
    place_inputs(store, MODULE, inputs, now)
    return added


_ACCOUNT_TYPES = ("Customer",) * 8 + ("Prospect", "Reseller")
_OWNERSHIP = ("Private",) * 6 + ("Public", "Public", "Subsidiary", "Partnership")


def company(rng: random.Random, n: int, today: date, pools: Pools) -> dict[str, Any]:
    """The native values of seeded company number `n` (standard and custom Accounts fields),
    before any deliberate defect; every declared custom field has a value."""
    h = health(rng)
    industry = INDUSTRIES[rng.randrange(len(INDUSTRIES))]
    values = identity(rng, pools, industry, n)
    values.update(
        {
            "Account_Number": f"AC-{n:08d}",
            "Account_Type": _ACCOUNT_TYPES[rng.randrange(len(_ACCOUNT_TYPES))],
            "Ownership": _OWNERSHIP[rng.randrange(len(_OWNERSHIP))],
            "Industry": industry,
        }
    )
    values.update(financials(rng, h, values["Currency"], today))
    founded, relationship = founding(rng, h, today)
    values["Founding_Date"] = founded.isoformat()
    values["Relationship_Years"] = relationship
    values["Signed_Agreement"] = rng.random() < 0.45 + 0.45 * h
    values.update(records(rng, h, values["Revenue"] / 1.0))
    return values


def chunk_rows(job: ChunkJob) -> list[Row]:
    """The rows of one chunk. Each chunk has its own generator seeded by (seed, chunk), so a
    chunk's accounts never depend on how many processes made the others."""
    rng = random.Random(f"crmqual-sandbox:{job.seed}:{job.index}")
    p = pools()
    today = job.instant.date()
    creator = dict(API_USER)
    rows: list[Row] = []
    for k in range(job.count):
        n = job.first + k
        values = company(rng, n + 1, today, p)
        spoil(rng, values, job.missing_rate, job.bad_rate)
        created, modified = created_and_modified(rng, job.instant)
        values["Owner"] = OWNERS[rng.randrange(len(OWNERS))]
        values["Created_By"] = creator
        values["Modified_By"] = creator
        rows.append((job.first_id + k, iso(created), iso(modified), dumps(values)))
    return rows


def seed_zoho(
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
    """Add `accounts` companies (and the custom fields, if missing); returns how many.

    The same seed, count, rates and sandbox time give the same values (ids too, in a fresh
    file). `missing_rate` and `bad_rate` are the shares of accounts with some inputs missing
    and with one malformed text value (`seed_defects`). `workers` processes make the rows
    while this one writes them (default: one per CPU beyond the first; 0 makes them here).
    `on_progress` hears how many are in and of how many, after each chunk.
    """
    from crmqual.sandbox.clock import SandboxClock

    check_shares(missing_rate=missing_rate, bad_rate=bad_rate)
    instant = now or SandboxClock(store).now()
    install_custom_fields(store, iso(instant))
    if accounts == 0:
        return 0
    ids = store.next_ids(accounts, ID_BASE + 1_000_000)
    jobs = chunk_jobs(seed, accounts, ids[0], instant, missing_rate, bad_rate)
    load_chunks(store, MODULE, jobs, chunk_rows, accounts, workers=workers, on_progress=on_progress)
    return accounts
