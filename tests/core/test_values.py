"""Values as people type them (issue 13, section 2): one reader for files and CRM records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.inputs import RecordProblems, read_account
from crmqual.policy import Policy
from crmqual.values import (
    Reading,
    UnreadableValue,
    decimal_mark,
    read_fields,
    read_number,
    read_ratio,
    unit_scale,
)

EN, DE = Reading(decimal="."), Reading(decimal=",")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3389000", 3_389_000),
        ("3,389,000", 3_389_000),
        ("3 389 000", 3_389_000),
        ("3\u202f389\u202f000", 3_389_000),  # narrow no-break spaces
        ("3\u00a0389\u00a0000", 3_389_000),  # no-break spaces
        ("¥3,389,000", 3_389_000),
        ("￥3,389,000", 3_389_000),  # full-width yen
        ("$1,234.50", 1_234.5),
        ("€ 1,234.50", 1_234.5),
        ("USD 1,000,000", 1_000_000),
        ("1,000,000 USD", 1_000_000),
        ("CNY3389000", 3_389_000),
        ("3389000元", 3_389_000),
        ("１２３，４５６．７", 123_456.7),
        ("2409.5万", 24_095_000),
        ("2409.5万元", 24_095_000),
        ("1.2亿", 120_000_000),
        ("1.2亿元", 120_000_000),
        ("３万", 30_000),
        ("3.39m", 3_390_000),
        ("-1,234.5", -1_234.5),
        ("(1,234.5)", -1_234.5),
        ("−12", -12),  # a typographic minus
        ("1,234.5", 1_234.5),  # both marks: only one reading
        ("1.234,5", 1_234.5),
        ("1.234.567", 1_234_567),
        ("2409.5", 2_409.5),
        ("0.125", 0.125),
        ("1e6", 1_000_000),
    ],
)
def test_numbers_as_people_type_them(text: str, value: float) -> None:
    assert read_number(text) == value


@pytest.mark.parametrize("text", ["1,234", "1.234", "12,000", "-123.456"])
def test_an_ambiguous_separator_is_unreadable_without_a_locale(text: str) -> None:
    with pytest.raises(UnreadableValue, match="declare a locale"):
        read_number(text)


@pytest.mark.parametrize(
    ("text", "en", "de"),
    [("1,234", 1_234, 1.234), ("1.234", 1.234, 1_234), ("12,000", 12_000, 12)],
)
def test_the_declared_locale_decides(text: str, en: float, de: float) -> None:
    assert read_number(text, EN) == en
    assert read_number(text, DE) == de


def test_a_locale_refuses_what_it_cannot_read() -> None:
    with pytest.raises(UnreadableValue):
        read_number("1.234,5", EN)
    with pytest.raises(UnreadableValue):
        read_number("1,234.5", DE)


@pytest.mark.parametrize(
    "text", ["about two million", "TBD", "待定", "n/a", "—", "5 kg", "12%", "1,23,456", "$100 USD"]
)
def test_what_is_no_number_is_unreadable(text: str) -> None:
    with pytest.raises(UnreadableValue):
        read_number(text)


def test_percent_where_the_field_is_a_ratio_or_a_score() -> None:
    assert read_ratio("12%") == pytest.approx(0.12)
    assert read_ratio("0.12") == pytest.approx(0.12)
    values, lost = read_fields({"esg_score": "85%", "revenue": "12%"})
    assert values == {"esg_score": 85.0}  # a 0-100 score: 85% is 85 points
    assert [u.field for u in lost] == ["revenue"]  # an amount carries no percent


def test_units_and_scale() -> None:
    assert unit_scale("万元") == unit_scale("万") == 10_000
    assert unit_scale("亿元") == 100_000_000
    assert unit_scale("元") == 1
    wan = Reading(scale=10_000)
    assert read_number("2409.5", wan) == 24_095_000
    assert read_number(2409.5, wan) == 24_095_000
    assert read_number("2409.5万", wan) == 24_095_000  # the value's own unit wins
    assert read_number("24095000元", wan) == 24_095_000
    assert read_number("¥2409.5", wan) == 24_095_000  # a currency sign is no unit
    with pytest.raises(ValueError, match="unknown unit"):
        unit_scale("dozen")


def test_locales() -> None:
    assert decimal_mark("en") == decimal_mark("zh_CN") == decimal_mark("ja-JP") == "."
    assert decimal_mark("de") == decimal_mark("fr_FR") == decimal_mark("ru") == ","
    assert decimal_mark("de_CH") == "."
    with pytest.raises(ValueError, match="unknown locale"):
        decimal_mark("xx")


@pytest.mark.parametrize(
    "text",
    [
        "2019-03-05",
        "2019/3/5",
        "2019/03/05",
        "2019.3.5",
        "2019-3-5",
        "2019年3月5日",
        "2019年03月05日",
        "２０１９年３月５日",
        "2019-03-05T10:30:00",
        "2019-03-05T10:30:00Z",
        "2019-03-05T23:30:00+08:00",
        "2019-03-05 10:30:00",
        "2019/3/5 10:30",
        "20190305",
    ],
)
def test_each_date_form(text: str) -> None:
    values, lost = read_fields({"founding_date": text})
    assert (values, lost) == ({"founding_date": date(2019, 3, 5)}, [])


@pytest.mark.parametrize("text", ["2019-02-30", "2019-13-01", "5/3/2019", "2019/3-5", "March"])
def test_impossible_or_ambiguous_dates_are_unreadable(text: str) -> None:
    values, lost = read_fields({"founding_date": text})
    assert values == {} and [u.field for u in lost] == ["founding_date"]


def test_a_date_format_and_a_datetime() -> None:
    values, _ = read_fields(
        {"founding_date": "05/03/2019"}, {"founding_date": Reading(date_format="%d/%m/%Y")}
    )
    assert values == {"founding_date": date(2019, 3, 5)}
    values, _ = read_fields({"modified_time": "2019-03-05T10:30:00Z"})
    assert values["modified_time"] == datetime(2019, 3, 5, 10, 30, tzinfo=UTC)
    values, _ = read_fields({"modified_time": "2019年3月5日"})
    assert values["modified_time"] == datetime(2019, 3, 5)


def test_yes_no_statuses_currencies_counts() -> None:
    values, lost = read_fields(
        {
            "sanctions_hit": "否",
            "signed_agreement": "是",
            "business_status": "存续",
            "currency": "RMB",
            "statement_currency": "usd",
            "employees": "1.2万",
            "overdue_count": "3",
        }
    )
    assert lost == []
    assert values == {
        "sanctions_hit": False,
        "signed_agreement": True,
        "business_status": "active",
        "currency": "CNY",
        "statement_currency": "USD",
        "employees": 12_000,
        "overdue_count": "3",  # plain digits: the model parses them itself
    }
    _, lost = read_fields({"overdue_count": "2.5", "sanctions_hit": "maybe", "currency": "¥"})
    assert [u.field for u in lost] == ["overdue_count", "sanctions_hit", "currency"]


# -- properties -------------------------------------------------------------------------------

amounts = st.decimals(
    min_value=Decimal(0), max_value=Decimal("999999999999"), places=2, allow_nan=False
)


def _grouped(value: Decimal, group: str, point: str) -> str:
    whole, _, fraction = f"{value:.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return group.join(groups) + point + fraction


_FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


@st.composite
def written(draw: st.DrawFn) -> tuple[Decimal, str, Reading]:
    """(a plain amount, the same amount as a person might type it, how it is read)."""
    value = draw(amounts)
    style = draw(st.sampled_from(["en", "de", "space", "nnbsp", "plain"]))
    group, point, reading = {
        "en": (",", ".", EN),
        "de": (".", ",", DE),
        "space": (" ", ".", Reading()),
        "nnbsp": ("\u202f", ",", Reading()),
        "plain": ("", ".", Reading()),
    }[style]
    text = _grouped(value, group, point)
    if draw(st.booleans()):
        text = text.translate(_FULL_WIDTH)
    unit = draw(st.sampled_from(["", "万", "亿", "元", "万元", "k"]))
    if unit in ("万", "万元", "亿", "k"):
        factor = {"万": 10_000, "万元": 10_000, "亿": 100_000_000, "k": 1_000}[unit]
        value = value * factor  # the same amount, written in that unit
    currency = draw(st.sampled_from(["", "¥", "$", "USD ", "CNY"]))
    if currency in ("CNY",) and not unit:
        text = f"{text} {currency}"
    elif currency:
        text = f"{currency}{text}"
    return value, text + unit, reading


@settings(max_examples=400, deadline=None)
@given(written())
def test_a_number_written_any_way_reads_as_the_plain_number(
    case: tuple[Decimal, str, Reading],
) -> None:
    value, text, reading = case
    assert read_number(text, reading) == float(value)


AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
_FIELDS = ("revenue", "total_assets", "total_liabilities", "equity", "net_income")


@settings(  # the fixtures are read, never changed
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(written(), min_size=len(_FIELDS), max_size=len(_FIELDS)))
def test_an_account_written_both_ways_gets_the_same_assessment(
    policy: Policy, sound: dict[str, Any], cases: list[tuple[Decimal, str, Reading]]
) -> None:
    plain = sound | {f: float(v) for f, (v, _, _) in zip(_FIELDS, cases, strict=True)}
    typed = sound | {f: text for f, (_, text, _) in zip(_FIELDS, cases, strict=True)}
    readings = {f: r for f, (_, _, r) in zip(_FIELDS, cases, strict=True)}
    cp = compiled(policy)
    try:
        a, lost_a = read_account(plain, AS_OF.date())
    except RecordProblems:
        with pytest.raises(RecordProblems):
            read_account(typed, AS_OF.date(), readings)
        return
    b, lost_b = read_account(typed, AS_OF.date(), readings)
    assert lost_a == lost_b == ()
    x, y = assess(a, cp, as_of=AS_OF), assess(b, cp, as_of=AS_OF)
    assert (x.score, x.grade, x.credit_limit, x.data_completeness) == (
        y.score,
        y.grade,
        y.credit_limit,
        y.data_completeness,
    )


# -- unreadable inputs ------------------------------------------------------------------------


def test_an_unreadable_optional_value_is_missing_and_named(
    policy: Policy, sound: dict[str, Any]
) -> None:
    account, lost = read_account(sound | {"registered_capital": "about two million"}, AS_OF.date())
    assert account.registered_capital is None
    result = assess(account, policy, as_of=AS_OF, unreadable=lost)
    assert "INCOMPLETE_DATA" in result.flags
    reason = next(r for r in result.reasons if r.code == "UNREADABLE_VALUE")
    assert "registered_capital" in reason.en and "about two million" in reason.en
    assert "registered_capital" in reason.zh and "about two million" in reason.zh
    assert "无法识别" in reason.zh


def test_an_unreadable_knock_out_input_fails_the_record(
    policy: Policy, sound: dict[str, Any]
) -> None:
    needed = compiled(policy).knockout_inputs
    assert {"business_status", "sanctions_hit", "defaults"} <= needed
    for field, raw in (("business_status", "吊销"), ("sanctions_hit", "maybe"), ("defaults", "?")):
        with pytest.raises(RecordProblems) as info:
            read_account(sound | {field: raw}, AS_OF.date(), needed=needed)
        assert [p.field for p in info.value.problems] == [field]


def test_an_unreadable_id_fails_the_record() -> None:
    with pytest.raises(RecordProblems) as info:
        read_account({"id": {"nested": 1}, "revenue": "5"}, AS_OF.date())
    assert [p.field for p in info.value.problems] == ["id"]


def test_the_fast_path_reads_plain_rows_as_the_reader_does(sound: dict[str, Any]) -> None:
    from crmqual.inputs import to_account
    from crmqual.values import plain_row

    as_text = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in sound.items()}
    for row in (sound, as_text, as_text | {"revenue": "2409.5", "esg_score": "61.25"}):
        assert plain_row(row)
        values, lost = read_fields(row)
        assert read_account(row, AS_OF.date()) == (to_account(values, AS_OF.date()), ())
    for odd in (
        {"revenue": "1.234"},
        {"revenue": "1_000"},
        {"defaults": True},
        {"currency": "rmb"},
    ):
        assert not plain_row(as_text | odd)
    account, lost = read_account(as_text | {"currency": "rmb", "revenue": "1,000"}, AS_OF.date())
    assert (account.currency, account.revenue, lost) == ("CNY", None, (lost[0],))
