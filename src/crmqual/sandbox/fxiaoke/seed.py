"""Seed data for the Fxiaoke sandbox: the declared custom input fields (created as the console
would, `field_xxxxx__c` names at random) and Chinese companies.

The companies come from the shared seed (`seed_identity` in zh_CN, `seed_finance`,
`seed_defects`): names as registered (…有限公司 / 股份有限公司), a 统一社会信用代码 with valid
check characters, 法定代表人, 成立日期, 注册资本 and statements in CNY. Amounts go into each
field in its unit (万元: the 元 value / 10,000, to six decimals, i.e. to the fen; 元: as is).
Missing inputs at `missing_rate` (the shared `spoil`), and at `bad_rate` one value typed the
way Chinese users type it into the text fields 注册资本 / 成立日期.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

import yaml

from crmqual.sandbox.fxiaoke.fields import NewField, add_field, by_label, units_of
from crmqual.sandbox.fxiaoke.records import epoch_ms, new_record, touched
from crmqual.sandbox.fxiaoke.schema import (
    ACCOUNT,
    ACCOUNT_LEVELS,
    ACCOUNT_SOURCES,
    ACCOUNT_TYPES,
    ID_BASE,
    INDUSTRY,
    PLACES,
    install,
)
from crmqual.sandbox.fxiaoke.tenant import INTEGRATION_USER, OWNERS
from crmqual.sandbox.seed_defects import spoil
from crmqual.sandbox.seed_finance import financials, founding, health, records
from crmqual.sandbox.seed_identity import identity, pools
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

CHUNK = 5_000
WAN = "万元"
YUAN = "元"
BUSINESS_STATUS = {
    "Active": "存续",
    "Suspended": "停业",
    "Revoked": "吊销",
    "Deregistered": "注销",
    "In Liquidation": "清算",
}
CURRENCY = {
    "CNY": "人民币",
    "USD": "美元",
    "EUR": "欧元",
    "GBP": "英镑",
    "JPY": "日元",
    "INR": "印度卢比",
}
TEXT_NUMBER_SOURCE = "Registered_Capital"
TEXT_DATE_SOURCE = "Founding_Date"
_INDUSTRIES = tuple(INDUSTRY)


@dataclass(frozen=True)
class CustomField:
    label: str
    kind: str
    model: str
    source: str
    unit: str | None = None
    options: tuple[str, ...] = ()
    decimals: int | None = None


def _load_table() -> tuple[CustomField, ...]:
    text = resources.files("crmqual.sandbox.fxiaoke").joinpath("custom_fields.yaml").read_text()
    return tuple(
        CustomField(
            label=r["label"],
            kind=r["type"],
            model=r["model"],
            source=r["source"],
            unit=r.get("unit"),
            options=tuple(r.get("options", ())),
            decimals=r.get("decimals"),
        )
        for r in yaml.safe_load(text)["fields"]
    )


CUSTOM_FIELDS: tuple[CustomField, ...] = _load_table()


def labelled(row: CustomField, unit: str | None) -> str:
    """A field's label in the tenant: amounts carry their unit, `营业收入(万元)`."""
    if unit is None or row.label.endswith(")"):
        return row.label
    return f"{row.label}({unit})"


def _unit(row: CustomField, yuan_share: float | None, index: int, count: int) -> str | None:
    if row.unit is None or yuan_share is None or row.kind != "currency":
        return row.unit
    return YUAN if index < round(yuan_share * count) else WAN


def install_custom_fields(store: SandboxStore, now: str, yuan_share: float | None = None) -> int:
    """Create the declared fields the tenant lacks (looked up by label without unit); returns
    how many. `yuan_share` (0..1) puts that share of the currency fields in 元 (the first ones
    in the table), the rest in 万元; None keeps each field's declared unit."""
    install(store, now)
    present = {f.label.split("(")[0] for f in store.fields(ACCOUNT) if f.custom}
    amounts = [r for r in CUSTOM_FIELDS if r.kind == "currency" and r.unit is not None]
    added = 0
    for row in CUSTOM_FIELDS:
        if row.label.split("(")[0] in present:
            continue
        index = amounts.index(row) if row in amounts else 0
        unit = _unit(row, yuan_share, index, len(amounts))
        add_field(
            store,
            NewField(labelled(row, unit), row.kind, row.options, row.decimals, unit),
            now,
        )
        added += 1
    return added


@dataclass(frozen=True)
class Plan:
    """Where each source value goes: (source, api name, kind, unit, {label: code})."""

    columns: tuple[tuple[str, str, str, str | None, tuple[tuple[str, str], ...]], ...]


def plan(store: SandboxStore) -> Plan:
    fields = by_label(store)
    units = units_of(store)
    columns = []
    for row in CUSTOM_FIELDS:
        found = next(
            f for label, f in fields.items() if label.split("(")[0] == row.label.split("(")[0]
        )
        codes = tuple((p.display_value, p.actual_value) for p in found.picklist)
        columns.append((row.source, found.api_name, row.kind, units.get(found.api_name), codes))
    return Plan(tuple(columns))


_BEIJING = timedelta(hours=8)


def date_ms(text: str) -> int:
    """A date field's value: epoch ms of that day's midnight in Beijing (UTC+8)."""
    day = date.fromisoformat(text)
    return epoch_ms(datetime(day.year, day.month, day.day, tzinfo=UTC) - _BEIJING)


def wan(value: float) -> float:
    """元 -> 万元, to the fen."""
    return round(value / 10_000, 6)


def plain(value: float) -> str:
    """A decimal without trailing zeros: 1250.5, 300."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


_FULL = str.maketrans("0123456789.-", "０１２３４５６７８９．－")
_WORDS = ("不详", "待定", "暂无", "—", "见营业执照")


def bad_capital(rng: random.Random, yuan: float) -> str:
    """注册资本 as Chinese users type it (the field holds 万元)."""
    w = yuan / 10_000
    kind = rng.randrange(5)
    if kind == 0:
        return f"{w:,.1f}万"  # 2,409.5万
    if kind == 1:
        return plain(round(w / 10_000, 2) or 0.01) + "亿"  # 1.2亿
    if kind == 2:
        return plain(round(w, 2)).translate(_FULL)  # full-width digits
    if kind == 3:
        return rng.choice(("{}万元", "人民币{}万元", "{}万人民币")).format(plain(round(w, 2)))
    return rng.choice(_WORDS)


def bad_date(rng: random.Random, iso_date: str) -> str:
    """成立日期 as Chinese users type it, or a day that does not exist."""
    day = date.fromisoformat(iso_date)
    y, m, d = day.year, day.month, day.day
    return rng.choice(
        (
            f"{y}年{m}月{d}日",
            f"{y}.{m}.{d}",
            f"{y}/{m}/{d}",
            f"{y}年{m}月",
            iso_date.translate(_FULL),
            f"{y}-02-30",
        )
    )


def _spoil_chinese(rng: random.Random, values: dict[str, Any], bad_rate: float) -> bool:
    """One malformed value at `bad_rate` (one draw per account whatever the rate)."""
    u, pick = rng.random(), rng.random()
    if u >= bad_rate:
        return False
    order = (TEXT_NUMBER_SOURCE, TEXT_DATE_SOURCE)
    if pick >= 0.5:
        order = order[::-1]
    for name in order:
        if values.get(name) is None:
            continue
        if name == TEXT_NUMBER_SOURCE:
            values[name] = ("bad", bad_capital(rng, float(values[name])))
        else:
            values[name] = ("bad", bad_date(rng, values[name]))
        return True
    return False


def company(rng: random.Random, n: int, today: date) -> dict[str, Any]:
    """A Chinese company's values under the shared seed's names."""
    p = pools()
    h = health(rng)
    industry = _INDUSTRIES[rng.randrange(len(_INDUSTRIES))]
    values = identity(rng, p, industry, n)
    while values["Billing_Country"] != "China":  # Fxiaoke's tenants keep Chinese companies
        values = identity(rng, p, industry, n)
    values["Industry"] = industry
    values.update(financials(rng, h, "CNY", today))
    founded, relationship = founding(rng, h, today)
    values["Founding_Date"] = founded.isoformat()
    values["Relationship_Years"] = relationship
    values["Signed_Agreement"] = rng.random() < 0.45 + 0.45 * h
    values.update(records(rng, h, values["Revenue"]))
    return values


def _custom(source: Any, kind: str, unit: str | None, codes: dict[str, str]) -> Any:
    if source is None:
        return None
    if isinstance(source, tuple):  # a malformed text value, as typed
        return source[1]
    if kind == "select_one":
        label = BUSINESS_STATUS.get(source) or CURRENCY.get(source) or source
        return codes[label]
    if kind == "date":
        return date_ms(source)
    if kind == "currency" or unit is not None:
        amount = float(source)
        converted = wan(amount) if unit == WAN else round(amount, 2)
        return plain(converted) if kind == "text" else converted
    return source


def fxiaoke_values(rng: random.Random, n: int, v: dict[str, Any], p: Plan) -> dict[str, Any]:
    """Native Fxiaoke values of company `n` from the shared seed's values `v`."""
    city = v["Billing_City"]
    province_code, province, city_code, city_name = PLACES[city]
    industry = INDUSTRY.get(v["Industry"]) if v.get("Industry") else None
    address = v["Billing_Street"]
    out: dict[str, Any] = {
        "name": v["Account_Name"],
        "account_no": f"KH{n:08d}",
        "account_type": ACCOUNT_TYPES[1 if rng.random() < 0.8 else rng.randrange(3)][0],
        "account_level": ACCOUNT_LEVELS[rng.randrange(3)][0],
        "account_source": ACCOUNT_SOURCES[rng.randrange(len(ACCOUNT_SOURCES))][0],
        "tel": v["Phone"].replace("+86 ", ""),
        "url": v.get("Website"),
        "country": "248",
        "province": province_code,
        "city": city_code,
        "address": address,
        "area_location": {
            "area_detail_address": address,
            "address": f"{province}{city_name}{address}",
        },
        "industry_level1": industry[0] if industry else None,
        "industry_level2": industry[2] if industry else None,
        "remark": None,
    }
    for source, api_name, kind, unit, codes in p.columns:
        out[api_name] = _custom(v.get(source), kind, unit, dict(codes))
    return out


@dataclass(frozen=True)
class FxiaokeChunkJob(ChunkJob):
    """A chunk and the tenant's plan of its custom fields."""

    plan: Plan


def chunk_rows(job: FxiaokeChunkJob) -> list[Row]:
    """The rows of one chunk, from a generator seeded by (seed, chunk)."""
    rng = random.Random(f"crmqual-sandbox-fxiaoke:{job.seed}:{job.index}")
    today = job.instant.date()
    rows: list[Row] = []
    for k in range(job.count):
        n = job.first + k + 1
        values = company(rng, n, today)
        spoil(rng, values, job.missing_rate, 0.0)  # missing inputs; bad values are ours
        _spoil_chinese(rng, values, job.bad_rate)
        native = fxiaoke_values(rng, n, values, job.plan)
        created, modified = created_and_modified(rng, job.instant)
        owner = OWNERS[rng.randrange(len(OWNERS))]
        record = new_record(ACCOUNT, native, created, INTEGRATION_USER)
        record["owner"] = [owner.employee_id]
        record["data_own_department"] = [owner.department]
        record["last_modified_time"] = epoch_ms(modified)
        record["version"] = str(1 + rng.randrange(6))
        rows.append((job.first_id + k, iso(created), iso(modified), dumps(record)))
    return rows


def seed_fxiaoke(
    store: SandboxStore,
    accounts: int,
    seed: int = 0,
    now: datetime | None = None,
    *,
    missing_rate: float = 0.10,
    bad_rate: float = 0.0,
    yuan_share: float | None = None,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Add `accounts` Chinese companies (and the custom fields, if missing); returns how many.
    Reproducible for a seed, whatever the workers. `yuan_share` applies only when the fields
    are created (a tenant's units do not change afterwards)."""
    from crmqual.sandbox.clock import SandboxClock

    check_shares(missing_rate=missing_rate, bad_rate=bad_rate)
    if yuan_share is not None:
        check_shares(yuan_share=yuan_share)
    instant = now or SandboxClock(store).now()
    install_custom_fields(store, iso(instant), yuan_share)
    if accounts == 0:
        return 0
    p = plan(store)
    ids = store.next_ids(accounts, ID_BASE)
    jobs = [
        FxiaokeChunkJob(**vars(job), plan=p)
        for job in chunk_jobs(seed, accounts, ids[0], instant, missing_rate, bad_rate)
    ]
    load_chunks(
        store, ACCOUNT, jobs, chunk_rows, accounts, workers=workers, on_progress=on_progress
    )
    touched(store, ACCOUNT)
    return accounts
