"""The compiled mapping (issue 22, item 4): read_record, to_native, outputs_of and
changed_fields prepared once per Mapping give what the mapping's rules say, record for
record: the same Account, the same values left unreadable, the same problems named."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.inputs import RecordProblems, read_account
from crmqual.mapping import (
    Labels,
    Mapping,
    changed_fields,
    load_mapping,
    native_row,
    outputs_of,
    read_record,
    to_native,
)
from crmqual.model import Account
from crmqual.policy import load_policy
from crmqual.sandbox.seed_defects import spoil
from crmqual.sandbox.seed_identity import pools
from crmqual.sandbox.zoho.schema import OWNERS
from crmqual.sandbox.zoho.seed import company
from crmqual.values import Reading, Unreadable, UnreadableValue, field_reader, read_date
from crmqual.yamlfile import validate

TODAY = date(2026, 3, 2)
AS_OF = datetime(2026, 3, 2, 9, tzinfo=UTC)
POLICY = compiled(load_policy())
LABELS = Labels.of(POLICY.policy)
ZOHO = load_mapping(None, "zoho")[0]

#: Values a CRM field may hold, typed or not, sound or not.
ODD: list[Any] = [
    None, "", "  ", [], {}, 0, 1, -1, 2**53 + 1, 2**60, 3.0, 2.5, -0.0, float("nan"), True,
    False, "12", " 12 ", "1,234", "1.234", "1_000", "2409.5万", "12%", "abc", "2019-03-05",
    "2019/3/5", "2019年3月5日", "05/03/2019", "2019-02-30", "2019-W10-1", "2019-3-5",
    "20190305", " 2019-03-05 ", "2019-03-05T10:00:00Z", date(2019, 3, 5),
    datetime(2019, 3, 5, 10), Decimal("12.5"), ["a"], {"name": "x"}, "Active", "Revoked",
    "nope", "cny", "RMB", "¥", "usd", "人民币", "是", "yes", "maybe", "2099-01-01",
]  # fmt: skip


def zoho_records(n: int, seed: int) -> list[dict[str, Any]]:
    """Accounts as the Zoho sandbox seeds them (30 % with a malformed text value), then up
    to three fields of each replaced by an odd value, and its owner by an odd lookup."""
    rng = random.Random(seed)
    p = pools()
    records = []
    for i in range(n):
        values = company(rng, i + 1, TODAY, p)
        spoil(rng, values, 0.3, 0.3)
        values["id"] = str(5725767000000100000 + i)
        values["Owner"] = OWNERS[i % len(OWNERS)]
        for field in rng.sample(sorted(values), rng.randrange(4)):
            values[field] = rng.choice(ODD)
        if rng.random() < 0.2:
            values["Owner"] = rng.choice([None, {}, [], "Owner", {"name": rng.choice(ODD)}])
        records.append(values)
    return records


def variant() -> Mapping:
    """The Zoho mapping with every kind of rule: constants (one unreadable), defaults,
    maps onto typed and missing values, a unit, date formats, a mapped lookup after the
    other mapped inputs, labels."""
    data = ZOHO.model_dump(mode="json")
    inputs, outputs = data["inputs"], data["outputs"]
    inputs["employees"]["default"] = "12"
    inputs["industry"]["default"] = "Other"
    inputs["currency"]["default"] = "rmb"
    inputs["website"] = {"const": "https://example.test"}
    inputs["esg_score"] = {"const": "lots"}
    inputs["revenue"]["unit"] = "万元"
    inputs["founding_date"]["date_format"] = "%d/%m/%Y"
    inputs["period_end"]["date_format"] = "%Y-%m-%d"
    inputs["signed_agreement"]["map"] = {"True": "yes", "False": None}
    inputs["overdue_count"]["map"] = {"0": "0", "1": "one"}
    inputs["external_rating"] = {"field": "Owner.id", "map": {OWNERS[0]["id"]: "AA"}}
    outputs["status"]["values"] = "en"
    outputs["grade"]["values"] = "zh"
    outputs["flags"] |= {"values": "zh", "type": "text"}
    outputs["reasons"]["language"] = "zh"
    return validate(Mapping, data, "variant")


def said(exc: RecordProblems) -> tuple[str, ...]:
    """The problems of a record as the sync reports them, after its id."""
    return tuple(f"{p.field}: {p.reason}" for p in exc.problems)


def rule_by_rule(
    mapping: Mapping, record: dict[str, Any], needed: frozenset[str]
) -> tuple[Account, tuple[Unreadable, ...]] | tuple[str, ...]:
    """What the mapping's rules say a record reads as: ``native_row``, then the reader."""
    row, unmapped = native_row(mapping, record)
    try:
        return read_account(
            row,
            TODAY,
            mapping.readings,
            needed=needed,
            sources=mapping.sources,
            unreadable=unmapped,
        )
    except RecordProblems as exc:
        return said(exc)


def compiled_read(
    mapping: Mapping, record: dict[str, Any], needed: frozenset[str]
) -> tuple[Account, tuple[Unreadable, ...]] | tuple[str, ...]:
    try:
        return read_record(mapping, record, TODAY, needed)
    except RecordProblems as exc:
        return said(exc)


@pytest.mark.parametrize("mapping", [ZOHO, variant()], ids=["zoho", "every-rule"])
def test_records_read_as_the_rules_say(mapping: Mapping) -> None:
    records = zoho_records(600, seed=22)
    kinds = {"read": 0, "unreadable": 0, "failed": 0}
    for needed in (frozenset(), POLICY.knockout_inputs | {"founding_date", "employees"}):
        for record in records:
            got = compiled_read(mapping, record, needed)
            assert got == rule_by_rule(mapping, record, needed), record["id"]
            if isinstance(got[0], str):
                kinds["failed"] += 1
            else:
                kinds["unreadable" if got[1] else "read"] += 1
    assert kinds["failed"] > 50 and kinds["unreadable"] > 50  # each path taken, many times
    # (The variant's constant esg_score "lots" is unreadable in every record.)
    assert kinds["read"] > 50 or mapping is not ZOHO


def test_a_malformed_value_names_its_native_field() -> None:
    record = company(random.Random(1), 1, TODAY, pools()) | {
        "id": "5725767000000100001",
        "Owner": OWNERS[0],
        "Founding_Date": "2019-02-30",
        "Employees": 2**53 + 1,  # beyond the model's bounds, and beyond a float
        "Business_Status": "Dormant",
    }
    with pytest.raises(RecordProblems) as caught:
        read_record(ZOHO, record, TODAY, frozenset({"founding_date"}))
    assert said(caught.value) == (
        "Founding_Date (founding_date): could not read '2019-02-30':"
        " does not match '%Y-%m-%d': no such date",
        "Business_Status (business_status): could not read 'Dormant': not one of the mapped"
        " values ['Active', 'Deregistered', 'In Liquidation', 'Revoked', 'Suspended']",
    )
    with pytest.raises(RecordProblems) as caught:
        read_record(ZOHO, record, TODAY)
    assert said(caught.value) == (
        "Employees (employees): Input should be less than or equal to 1000000000"
        " (got 9007199254740992)",  # as read, through a float, as ever
        "Business_Status (business_status): could not read 'Dormant': not one of the mapped"
        " values ['Active', 'Deregistered', 'In Liquidation', 'Revoked', 'Suspended']",
        "Founding_Date (founding_date): could not read '2019-02-30':"
        " does not match '%Y-%m-%d': no such date",
    )


@given(st.dates(min_value=date(1, 1, 1)))
def test_an_iso_date_format_reads_as_strptime_does(day: date) -> None:
    iso = Reading(date_format="%Y-%m-%d")
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    assert field_reader("founding_date", iso)(text) == day == read_date(text, iso)


@pytest.mark.parametrize(
    "text",
    ["2019-03-05", " 2019-03-05 ", "2019-3-5", "2019-02-30", "2019-W10-1", "20190305",
     "2019/3/5", "2019年3月5日", "2019-03-05T10:00:00Z", "0000-01-01", "2019-13-01", "soon"],
)  # fmt: skip
@pytest.mark.parametrize("date_format", ["%Y-%m-%d", "%Y-%d-%m", "%d/%m/%Y"])
def test_a_date_format_reads_a_date_as_strptime_first_does(text: str, date_format: str) -> None:
    """fromisoformat where the format allows it, strptime (then the forms that need no
    format) otherwise: the same day, or the same reason why not."""
    reading = Reading(date_format=date_format)

    def outcome(read: Any) -> date | str:
        try:
            return read(text)  # type: ignore[no-any-return]
        except UnreadableValue as exc:
            return str(exc)

    assert outcome(field_reader("founding_date", reading)) == outcome(
        lambda t: read_date(t, reading)
    )


def test_a_day_first_format_is_not_read_as_iso() -> None:
    reading = Reading(date_format="%Y-%d-%m")
    assert field_reader("founding_date", reading)("2019-05-03") == date(2019, 3, 5)


def test_the_mapping_is_compiled_once_per_mapping() -> None:
    mapping = load_mapping(None, "zoho")[0]
    assert mapping.compiled is mapping.compiled
    renamed = mapping.with_fields({"score": "Score_2"}, "test")
    assert renamed.compiled is not mapping.compiled
    assert "Score_2" in renamed.compiled.natives


@pytest.mark.parametrize("mapping", [ZOHO, variant()], ids=["zoho", "every-rule"])
def test_outputs_are_written_in_the_mapping_s_order_and_language(mapping: Mapping) -> None:
    results = []
    for record in zoho_records(200, seed=4):
        try:
            account, lost = read_record(mapping, record, TODAY)
        except RecordProblems:
            continue
        results.append(assess(account, POLICY, as_of=AS_OF, unreadable=lost))
    assert any(a.flags for a in results) and any(len(a.reasons) > 1 for a in results)
    rules = mapping.outputs
    for a in results:
        native = to_native(mapping, LABELS, a)
        assert list(native) == [rule.native for rule in rules.values()]
        assert native[rules["score"].native] == a.score
        assert native[rules["status"].native] == LABELS.write("status", rules["status"], a.status)
        assert native[rules["grade"].native] == LABELS.write("grade", rules["grade"], a.grade)
        flags = [LABELS.write("flags", rules["flags"], f) for f in a.flags]
        written = native[rules["flags"].native]
        assert written == (flags if isinstance(written, list) else ";".join(flags))
        language = rules["reasons"].language
        texts = {
            "both": [f"{r.code}: {r.en} / {r.zh}" for r in a.reasons],
            "en": [f"{r.code}: {r.en}" for r in a.reasons],
            "zh": [f"{r.code}: {r.zh}" for r in a.reasons],
        }
        assert native[rules["reasons"].native] == "\n".join(texts[language])
        assert native[rules["assessed_at"].native] == "2026-03-02T09:00:00+00:00"
        assert outputs_of(mapping, {"Other": 1} | native) == native
        assert changed_fields(mapping, native, {}) == [
            f for f, v in native.items() if v not in (None, "", [])
        ]
        assert changed_fields(mapping, native, dict(native)) == []


@pytest.mark.parametrize(
    ("output", "written", "read_back", "changed"),
    [
        ("flags", ["A", "B"], "B; A", False),  # a multiselect read back as text
        ("flags", ["A", "B"], ["A"], True),
        ("flags", [], None, False),
        ("flags", [], "", False),
        ("score", 80, 80.0, False),
        ("score", 80, "80", False),
        ("score", 80, 80.0000001, False),  # to the sixth decimal
        ("score", 80, 81, True),
        ("credit_limit", float("nan"), float("nan"), True),
        ("credit_limit", None, 0, True),
        ("assessed_at", "2026-03-02T09:00:00+00:00", "2026-03-02T17:00:00+08:00", False),
        ("assessed_at", "2026-03-02T09:00:00+00:00", "2026-03-02T09:00:00Z", False),
        ("assessed_at", "2026-03-02T09:00:00+00:00", "2026-03-02T09:00:01+00:00", True),
        ("reasons", "A: x\nB: y", "A: x\r\nB: y ", False),
        ("reasons", "0.0", -0.0, True),  # texts: "0.0" and "-0.0"
        ("reasons", 0.0, -0.0, True),  # equal numbers, not equal texts
        ("reasons", 1, "1", False),
        ("reasons", True, "True", False),
        ("status", "approved", None, True),
        ("status", " ", None, True),  # blank text, not nothing
        ("status", "approved", ["approved"], True),  # a list is compared as a set of texts
    ],
)
def test_changed_fields_compares_values_as_their_field_type(
    output: str, written: Any, read_back: Any, changed: bool
) -> None:
    field = ZOHO.outputs[output].native
    assert changed_fields(ZOHO, {field: written}, {field: read_back}) == ([field] * changed)
    assert changed_fields(ZOHO, {field: read_back}, {field: written}) == ([field] * changed)
