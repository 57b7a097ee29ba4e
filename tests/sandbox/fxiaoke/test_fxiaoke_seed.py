"""The Fxiaoke seed on 10,000 accounts: Chinese companies whose statements add up (in 万元),
valid 统一社会信用代码, 万元 amounts equal to the 元 values / 10,000, missing and malformed
values at the rates asked (malformed as Chinese users type them), grades spread over A..E."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sandbox_helpers import START

from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.mapping import RecordProblems, load_mapping, read_record
from crmqual.policy import load_policy
from crmqual.sandbox.command import sandbox
from crmqual.sandbox.fxiaoke.backend import FxiaokeSandbox
from crmqual.sandbox.fxiaoke.schema import INDUSTRY_BY_DIVISION
from crmqual.sandbox.fxiaoke.seed import CUSTOM_FIELDS, seed_fxiaoke
from crmqual.sandbox.fxiaoke.tenant import OWNERS
from crmqual.sandbox.zoho.seed import CUSTOM_FIELDS as ZOHO_FIELDS

ACCOUNTS = 10_000
MISSING, BAD = 0.10, 0.03
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015, written out again here
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")


def uscc_is_valid(code: str) -> bool:
    if not _USCC.match(code):
        return False
    weights = [3**i % 31 for i in range(17)]
    total = sum(_CHARS.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return _CHARS[(31 - total % 31) % 31] == code[17]


class Tenant:
    """Seeded records with their fields resolved by label, as a client would."""

    def __init__(self, box: FxiaokeSandbox) -> None:
        self.fields = {f.label.split("(")[0]: f for f in box.fields() if f.custom}
        self.units = box.units()
        self.records = sorted(box.records(), key=lambda r: r["account_no"])

    def name(self, label: str) -> str:
        return self.fields[label].api_name

    def yuan(self, record: dict[str, Any], label: str) -> float | None:
        """An amount in 元 whatever its field's unit."""
        f = self.fields[label]
        value = record[f.api_name]
        if value is None:
            return None
        return float(value) * (10_000 if self.units.get(f.api_name) == "万元" else 1)


def _seed(path: Path, yuan_share: float | None) -> Tenant:
    box = FxiaokeSandbox(path)
    box.clock.freeze(START)
    seed_fxiaoke(
        box.store,
        ACCOUNTS,
        seed=42,
        missing_rate=MISSING,
        bad_rate=BAD,
        yuan_share=yuan_share,
        workers=0,
    )
    tenant = Tenant(box)
    box.close()
    return tenant


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    return _seed(tmp_path_factory.mktemp("fxseed") / "fx.db", None)


STATEMENT = (
    "营业收入",
    "息税前利润",
    "净利润",
    "利息费用",
    "折旧与摊销",
    "资产总额",
    "负债总额",
    "流动资产",
    "流动负债",
    "货币资金",
    "存货",
    "应收账款",
    "所有者权益",
    "未分配利润",
    "经营活动现金流量净额",
)


def test_companies_are_chinese_and_registered(seeded: Tenant) -> None:
    uscc, rep = seeded.name("统一社会信用代码"), seeded.name("法定代表人")
    checked = 0
    for r in seeded.records:
        assert re.search(r"(有限公司|股份有限公司)$", r["name"]), r["name"]
        if r[uscc] is not None:
            assert uscc_is_valid(r[uscc]), r[uscc]
            assert r["province"] == r[uscc][2:4] + "0000"  # registered where it is
            checked += 1
        if r[rep] is not None:
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", r[rep])
        assert r["country"] == "248" and r["owner"][0] in {o.employee_id for o in OWNERS}
        assert r["industry_level2"] is None or r["industry_level2"].startswith(r["industry_level1"])
    assert checked > 0.95 * ACCOUNTS


def test_identities_hold_in_wan_yuan(seeded: Tenant) -> None:
    checked = 0
    tolerance = 0.011 / 10_000 + 2e-6
    for r in seeded.records:
        for p in ("", "上期"):
            v = {label: r[seeded.name(p + label)] for label in STATEMENT}
            ta, tl, eq = v["资产总额"], v["负债总额"], v["所有者权益"]
            if None not in (ta, tl, eq):
                assert ta == pytest.approx(tl + eq, abs=tolerance)
                checked += 1
            ca, cl = v["流动资产"], v["流动负债"]
            if None not in (ca, ta):
                assert 0 <= ca <= ta + tolerance
            parts = [v["货币资金"], v["存货"], v["应收账款"]]
            if ca is not None and None not in parts:
                assert sum(parts) <= ca + tolerance
            if None not in (cl, tl):
                assert 0 <= cl <= tl + tolerance
    assert checked > 1.8 * ACCOUNTS


def test_wan_yuan_amounts_are_the_yuan_values_over_10000(
    seeded: Tenant, tmp_path_factory: pytest.TempPathFactory
) -> None:
    in_yuan = _seed(tmp_path_factory.mktemp("fxyuan") / "fx.db", 1.0)
    amounts = [r.label for r in CUSTOM_FIELDS if r.kind == "currency"]
    wan = [label for label in amounts if seeded.units[seeded.name(label)] == "万元"]
    assert len(wan) >= 30 and all(in_yuan.units[in_yuan.name(x)] == "元" for x in amounts)
    assert seeded.fields["营业收入"].label == "营业收入(万元)"
    assert in_yuan.fields["营业收入"].label == "营业收入(元)"
    compared = 0
    for a, b in zip(seeded.records, in_yuan.records, strict=True):
        assert a["account_no"] == b["account_no"]
        for label in wan:
            w, y = a[seeded.name(label)], b[in_yuan.name(label)]
            assert (w is None) == (y is None)
            if w is not None:
                assert w == pytest.approx(y / 10_000, abs=5e-7), (label, w, y)
                compared += 1
    assert compared > 30 * ACCOUNTS * 0.9


def _malformed(t: Tenant, r: dict[str, Any]) -> bool:
    capital, founded = r[t.name("注册资本")], r[t.name("成立日期")]
    if capital is not None and not _PLAIN.match(capital):
        return True
    if founded is not None:
        try:
            datetime.strptime(founded, "%Y-%m-%d")
        except ValueError:
            return True
    return False


def test_missing_and_malformed_rates(seeded: Tenant) -> None:
    inputs = [f.api_name for f in seeded.fields.values()] + ["industry_level1", "url"]
    missing = sum(1 for r in seeded.records if any(r[n] is None for n in inputs))
    malformed = [r for r in seeded.records if _malformed(seeded, r)]
    assert abs(missing / ACCOUNTS - MISSING) <= 0.01
    assert abs(len(malformed) / ACCOUNTS - BAD) <= 0.01
    typed = Counter()
    for r in malformed:
        for text in (r[seeded.name("注册资本")] or "", r[seeded.name("成立日期")] or ""):
            typed["万"] += bool(re.fullmatch(r"[\d,]+\.\d万", text))  # 2,409.5万
            typed["亿"] += text.endswith("亿")
            typed["full-width"] += bool(re.search(r"[０-９]", text))
            typed["年月日"] += bool(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", text))
    assert all(typed[k] > 5 for k in ("万", "亿", "full-width", "年月日")), typed


def as_zoho(t: Tenant, r: dict[str, Any]) -> dict[str, Any]:
    """The record in the shape mappings/zoho.yaml reads, converted from what a client sees
    (labels, 万元, epoch-ms dates, option codes), to grade it with the default policy."""
    by_model = {row.model: row for row in CUSTOM_FIELDS}
    zoho = {row.model: row.api_name for row in ZOHO_FIELDS}
    out: dict[str, Any] = {
        "id": r["_id"],
        "Account_Name": r["name"],
        "Billing_Country": "China",
        "Billing_Street": r["address"],
        "Industry": INDUSTRY_BY_DIVISION.get(r["industry_level2"] or ""),
        "Website": r["url"],
        "Owner": {"name": r["owner"][0]},
        "Currency": "CNY",
        "Employees": r[t.name("员工人数")],
    }
    labels = {
        "存续": "Active",
        "停业": "Suspended",
        "吊销": "Revoked",
        "注销": "Deregistered",
        "清算": "In Liquidation",
        "人民币": "CNY",
    }
    for model, row in by_model.items():
        if model not in zoho:
            continue
        f = t.fields[row.label.split("(")[0]]
        value = r[f.api_name]
        if value is not None and row.kind == "currency":
            value = t.yuan(r, row.label.split("(")[0])
        elif value is not None and row.kind == "date":
            day = datetime.fromtimestamp(value / 1000, UTC) + timedelta(hours=8)
            value = day.date().isoformat()
        elif value is not None and row.kind == "select_one":
            label = next(p.display_value for p in f.picklist if p.actual_value == value)
            value = labels[label]
        elif value is not None and model == "registered_capital" and _PLAIN.match(value):
            value = str(round(float(value) * 10_000))
        out[zoho[model]] = value
    return out


def test_default_policy_spreads_grades_over_a_to_e(seeded: Tenant) -> None:
    mapping, _ = load_mapping(None, "zoho")
    policy = compiled(load_policy())
    grades: Counter[str] = Counter()
    refused = 0
    for r in seeded.records:
        try:
            account, lost = read_record(
                mapping, as_zoho(seeded, r), START.date(), policy.knockout_inputs
            )
        except RecordProblems:
            refused += 1
            continue
        grades[assess(account, policy, as_of=START, unreadable=lost).grade] += 1
    assert refused == 0
    shares = {g: grades[g] / ACCOUNTS for g in "ABCDE"}
    assert all(share >= 0.05 for share in shares.values()), shares


def test_seed_serve_stats_and_fields_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    done = runner.invoke(
        sandbox, ["seed", "--crm", "fxiaoke", "--accounts", "30", "--db", db, "--bad-rate", "0.2"]
    )
    assert done.exit_code == 0, done.output
    assert "seeded 30 fxiaoke accounts" in done.output
    done = runner.invoke(
        sandbox,
        [
            "fields",
            "add",
            "--crm",
            "fxiaoke",
            "--db",
            db,
            "--label",
            "信用等级",
            "--type",
            "select_one",
            "--options",
            "A,B,C",
        ],
    )
    assert done.exit_code == 0, done.output
    name = done.output.split("\t")[0]
    assert re.fullmatch(r"field_[A-Za-z0-9]{5}__c", name)
    done = runner.invoke(sandbox, ["fields", "list", "--crm", "fxiaoke", "--db", db, "--json"])
    assert done.exit_code == 0
    assert '"label": "信用等级"' in done.output and name in done.output
    done = runner.invoke(
        sandbox,
        ["fields", "add", "--crm", "fxiaoke", "--db", db, "--label", "信用等级", "--type", "text"],
    )
    assert done.exit_code != 0 and "exists already" in done.output
    done = runner.invoke(
        sandbox, ["fields", "add", "--crm", "zoho", "--db", db, "--label", "x", "--type", "text"]
    )
    assert done.exit_code != 0
    done = runner.invoke(sandbox, ["stats", "--crm", "fxiaoke", "--db", db, "--json"])
    assert done.exit_code == 0 and '"calls_total": 0' in done.output
    done = runner.invoke(sandbox, ["serve", "--crm", "fxiaoke", "--db", db, "--edition", "free"])
    assert done.exit_code != 0 and "--edition" in done.output
    done = runner.invoke(sandbox, ["serve", "--crm", "zoho", "--db", db, "--rate", "5"])
    assert done.exit_code != 0 and "--rate" in done.output
