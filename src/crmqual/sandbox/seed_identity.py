"""Who a seeded company is: name, registration id, address, people, contact details.

Chinese companies (Faker `zh_CN`) and English-speaking ones (Faker `en_US`, registered in the
United States or the United Kingdom). Faker is slow per call (tens of microseconds), so it
fills fixed pools once per process (`pools()`, seeded, so the pools are the same every time)
and the seeded companies draw from those pools with the caller's `random.Random`: a million
companies cost a million cheap draws, not a million Faker calls.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from faker import Faker

from crmqual.sandbox.uscc import uscc

_POOL_SEED = 20260302
_POOL = 3000

# City, province and the first four digits of its administrative division code (GB/T 2260).
_CN_CITIES = (
    ("上海", "上海市", "3101"),
    ("北京", "北京市", "1101"),
    ("深圳", "广东省", "4403"),
    ("广州", "广东省", "4401"),
    ("东莞", "广东省", "4419"),
    ("杭州", "浙江省", "3301"),
    ("宁波", "浙江省", "3302"),
    ("苏州", "江苏省", "3205"),
    ("南京", "江苏省", "3201"),
    ("成都", "四川省", "5101"),
    ("重庆", "重庆市", "5001"),
    ("武汉", "湖北省", "4201"),
    ("天津", "天津市", "1201"),
    ("西安", "陕西省", "6101"),
    ("青岛", "山东省", "3702"),
    ("厦门", "福建省", "3502"),
    ("长沙", "湖南省", "4301"),
    ("合肥", "安徽省", "3401"),
)
_CN_WORDS = {
    "Agriculture": "农业科技",
    "Chemicals": "化工",
    "Construction": "建设工程",
    "Education": "教育科技",
    "Energy": "能源",
    "Financial Services": "金融服务",
    "Food & Beverage": "食品",
    "Healthcare": "医疗器械",
    "Hospitality": "酒店管理",
    "Logistics": "物流",
    "Manufacturing": "机械制造",
    "Media": "文化传媒",
    "Mining": "矿业",
    "Real Estate": "置业",
    "Retail": "商贸",
    "Technology": "信息技术",
    "Telecommunications": "通信技术",
    "Textiles": "纺织",
    "Wholesale": "贸易",
}
_EN_WORDS = {
    "Agriculture": "Farms",
    "Chemicals": "Chemicals",
    "Construction": "Construction",
    "Education": "Learning",
    "Energy": "Energy",
    "Financial Services": "Capital",
    "Food & Beverage": "Foods",
    "Healthcare": "Health",
    "Hospitality": "Hospitality",
    "Logistics": "Logistics",
    "Manufacturing": "Manufacturing",
    "Media": "Media",
    "Mining": "Mining",
    "Real Estate": "Properties",
    "Retail": "Retail",
    "Technology": "Technologies",
    "Telecommunications": "Telecom",
    "Textiles": "Textiles",
    "Wholesale": "Trading",
}
_CN_SUFFIXES = ("有限公司",) * 7 + ("股份有限公司",) * 2 + ("集团有限公司",)
_US_SUFFIXES = ("Inc.", "LLC", "Corp.", "Co.")
_UK_SUFFIXES = ("Ltd", "Ltd", "PLC", "LLP")
_UK_CITIES = ("London", "Manchester", "Birmingham", "Leeds", "Bristol", "Glasgow", "Edinburgh")


@dataclass(frozen=True)
class Pools:
    """Values Faker made once, to draw from."""

    cn_trade: tuple[str, ...]
    cn_people: tuple[str, ...]
    cn_streets: tuple[str, ...]
    cn_districts: tuple[str, ...]
    cn_domains: tuple[str, ...]
    en_last: tuple[str, ...]
    en_people: tuple[str, ...]
    en_streets: tuple[str, ...]
    us_cities: tuple[tuple[str, str, str], ...]


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@lru_cache(maxsize=1)
def pools() -> Pools:
    """The pools, built once per process from Faker seeded with a fixed value."""
    zh, en = Faker("zh_CN"), Faker("en_US")
    zh.seed_instance(_POOL_SEED)
    en.seed_instance(_POOL_SEED)
    return Pools(
        cn_trade=_unique([zh.company_prefix() for _ in range(_POOL)]),
        cn_people=_unique([zh.name() for _ in range(_POOL)]),
        cn_streets=_unique([zh.street_address() for _ in range(_POOL)]),
        cn_districts=_unique([zh.district() + "区" for _ in range(_POOL)]),
        cn_domains=_unique([zh.domain_word() for _ in range(_POOL)]),
        en_last=_unique([en.last_name() for _ in range(_POOL)]),
        en_people=_unique([en.name() for _ in range(_POOL)]),
        en_streets=_unique([en.street_address() for _ in range(_POOL)]),
        us_cities=tuple((en.city(), en.state(), en.zipcode()) for _ in range(_POOL // 3)),
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def identity(rng: random.Random, p: Pools, industry: str, n: int) -> dict[str, Any]:
    """Native Zoho values naming company number `n`: China half the time, else the United
    States or the United Kingdom. `Currency` is the country's currency."""
    u = rng.random()
    if u < 0.5:
        return _chinese(rng, p, industry)
    return _english(rng, p, industry, n, uk=u > 0.85)


def _chinese(rng: random.Random, p: Pools, industry: str) -> dict[str, Any]:
    city, province, division = _CN_CITIES[rng.randrange(len(_CN_CITIES))]
    trade = p.cn_trade[rng.randrange(len(p.cn_trade))]
    suffix = _CN_SUFFIXES[rng.randrange(len(_CN_SUFFIXES))]
    district = p.cn_districts[rng.randrange(len(p.cn_districts))]
    return {
        "Account_Name": f"{city}{trade}{_CN_WORDS[industry]}{suffix}",
        "Registration_ID": uscc(rng, f"{division}{rng.randint(1, 18):02d}"),
        "Legal_Representative": p.cn_people[rng.randrange(len(p.cn_people))],
        "Billing_Street": district + p.cn_streets[rng.randrange(len(p.cn_streets))],
        "Billing_City": city,
        "Billing_State": province,
        "Billing_Code": f"{division[:2]}{rng.randrange(10_000):04d}",
        "Billing_Country": "China",
        "Phone": f"+86 1{rng.choice('3589')}{rng.randrange(10**9):09d}",
        "Website": f"https://www.{p.cn_domains[rng.randrange(len(p.cn_domains))]}.cn",
        "Currency": "CNY",
    }


def _english(rng: random.Random, p: Pools, industry: str, n: int, *, uk: bool) -> dict[str, Any]:
    last = p.en_last
    a, b = last[rng.randrange(len(last))], last[rng.randrange(len(last))]
    word = _EN_WORDS[industry]
    suffixes = _UK_SUFFIXES if uk else _US_SUFFIXES
    suffix = suffixes[rng.randrange(len(suffixes))]
    form = rng.randrange(4)
    if form == 0:
        name = f"{a} {word} {suffix}"
    elif form == 1:
        name = f"{a} & {b} {suffix}"
    elif form == 2:
        name = f"{a}-{b} {word}"
    else:
        name = f"{a}, {b} and {last[rng.randrange(len(last))]} {suffix}"
    values: dict[str, Any] = {
        "Account_Name": name,
        "Legal_Representative": p.en_people[rng.randrange(len(p.en_people))],
        "Billing_Street": p.en_streets[rng.randrange(len(p.en_streets))],
        "Website": f"https://www.{_slug(a)}{_slug(word)}{n % 1000}." + ("co.uk" if uk else "com"),
    }
    if uk:
        values.update(
            {
                "Registration_ID": f"{rng.randrange(1, 16_000_000):08d}",  # Companies House
                "Billing_City": _UK_CITIES[rng.randrange(len(_UK_CITIES))],
                "Billing_Code": f"{rng.choice('EFKLMNSW')}{rng.randint(1, 20)} "
                f"{rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTU')}",
                "Billing_Country": "United Kingdom",
                "Phone": f"+44 20 {rng.randrange(10**8):08d}",
                "Currency": "GBP",
            }
        )
    else:
        city, state, zipcode = p.us_cities[rng.randrange(len(p.us_cities))]
        values.update(
            {
                "Registration_ID": f"{rng.randint(10, 99)}-{rng.randrange(10**7):07d}",  # EIN
                "Billing_City": city[:30],
                "Billing_State": state,
                "Billing_Code": zipcode,
                "Billing_Country": "United States",
                "Phone": f"+1 {rng.randint(201, 989)}-555-{rng.randrange(10_000):04d}",
                "Currency": "USD",
            }
        )
    return values
