"""Reading values as people type them: the one reader behind files and CRM records.

``crmqual assess`` (CSV/JSONL rows) and the mappings' input side (native CRM records) both
turn a raw value into the common model's type here, and nowhere else:

- numbers with thousands separators (``3,389,000``, ``3 389 000``, no-break and narrow
  spaces, ``1'234``), currency signs and codes (``¥``, ``$``, ``€``, ``USD``, ``CNY``,
  ``元``, ``人民币``), full-width digits and punctuation (``１２３，４５６．７``), the Chinese
  units 万, 亿 (``2409.5万`` = 24,095,000; ``1.2亿元`` = 120,000,000) and k / m / bn, a
  percent sign on a 0-100 score (``85%`` = 85) or a ratio (``12%`` = 0.12);
- dates as ``2019-03-05``, ``2019/3/5``, ``2019.3.5``, ``2019年3月5日`` and ISO date-times;
- yes/no values, business statuses and currency codes in English and Chinese.

A separator that could be either the thousands or the decimal mark (``1,234``: 1234 or
1.234? ``1.234``: 1.234 or 1234?) is read by the declared ``locale`` only; without one
such a value is unreadable, never guessed. A value two conventions read alike, or only one
can read (``3,389,000``, ``1,234.5``, ``2409.5``), needs no locale.

What cannot be read raises ``UnreadableValue`` with a reason; the caller makes that input
missing (and says so) rather than failing the record. Values that are read but impossible
(a negative amount, a date in the future) are the model's business (``model.py``).
"""

from __future__ import annotations

import re
import types
import typing
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any

from crmqual.errors import Invalid
from crmqual.model import Account, BusinessStatus


class UnreadableValue(ValueError):
    """A raw value its field's kind cannot be read from; the message says why."""


# -- locales ----------------------------------------------------------------------------------

#: Languages writing 1.234,5 or 1 234,5 (a decimal comma); the others listed write 1,234.5.
_DECIMAL_COMMA = frozenset(
    [
        "af",
        "az",
        "be",
        "bg",
        "bs",
        "ca",
        "cs",
        "da",
        "de",
        "el",
        "es",
        "et",
        "eu",
        "fi",
        "fo",
        "fr",
        "gl",
        "hr",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ka",
        "kk",
        "ky",
        "lt",
        "lv",
        "mk",
        "mn",
        "nb",
        "nl",
        "nn",
        "no",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sq",
        "sr",
        "sv",
        "tr",
        "uk",
        "uz",
        "vi",
    ]
)
_DECIMAL_POINT = frozenset(
    [
        "en",
        "zh",
        "ja",
        "ko",
        "th",
        "he",
        "hi",
        "ms",
        "tl",
        "ta",
        "bn",
        "ur",
        "my",
        "km",
        "lo",
        "sw",
        "ga",
        "mt",
        "cy",
    ]
)
#: Regions that differ from their language.
_REGION_DECIMAL = {"de_ch": ".", "it_ch": ".", "fr_ch": ",", "es_mx": ".", "es_us": ".",
                   "en_za": ",", "de_li": "."}  # fmt: skip


def decimal_mark(locale: str) -> str:
    """The decimal mark of a locale tag (``en``, ``zh_CN``, ``de-DE``, ``de_CH``...).

    Raises ``ValueError`` for a tag not known here (a mapping then names the key).
    """
    tag = locale.strip().replace("-", "_").lower()
    if tag in _REGION_DECIMAL:
        return _REGION_DECIMAL[tag]
    language = tag.split("_")[0]
    if language in _DECIMAL_COMMA:
        return ","
    if language in _DECIMAL_POINT:
        return "."
    raise Invalid(
        f"unknown locale {locale!r}: use a language tag such as en, zh, de, fr",
        f"未知的 locale {locale!r}：请用语言标记，如 en、zh、de、fr",
    )


# -- units ------------------------------------------------------------------------------------

#: Magnitude words a value or a mapping's ``unit:`` may carry (with or without 元).
UNITS: dict[str, int] = {
    "": 1,
    "十": 10,
    "百": 100,
    "千": 1_000,
    "万": 10_000,
    "十万": 100_000,
    "百万": 1_000_000,
    "千万": 10_000_000,
    "亿": 100_000_000,
    "十亿": 1_000_000_000,
    "百亿": 10_000_000_000,
    "千亿": 100_000_000_000,
    "万亿": 1_000_000_000_000,
    "k": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "bn": 1_000_000_000,
}


def unit_scale(unit: str) -> int:
    """The factor of a declared unit (``万元`` 10,000, ``亿`` 10^8, ``元`` 1, ``k`` 1,000)."""
    word = unicodedata.normalize("NFKC", unit).strip().lower()
    word = word.removesuffix("元").removesuffix("人民币").strip()
    if word not in UNITS:
        raise Invalid(
            f"unknown unit {unit!r}: use e.g. 元, 千元, 万元, 百万元, 亿元, k, m",
            f"未知的单位 {unit!r}：可用 元、千元、万元、百万元、亿元、k、m 等",
        )
    return UNITS[word]


# -- how a field is read -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """How one field's raw values are read: its unit, the locale's decimal mark, a date format.

    ``scale`` multiplies a plain number (a unit written in the value itself, ``2409.5万``,
    replaces it: the value says what it is). ``decimal`` is ``"."``, ``","`` or None
    (no locale declared: an ambiguous separator is unreadable).
    """

    scale: int | float | None = None
    decimal: str | None = None
    date_format: str | None = None


PLAIN = Reading()


# -- numbers ----------------------------------------------------------------------------------

#: What a program writes: an optional sign, digits, an optional point and decimals, an exponent.
_PLAIN = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
#: A plain number a decimal-comma locale would read as thousands: ``1.234``, ``-12.500``.
_DOT_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}\.\d{3}")
_CURRENCY_PREFIX = re.compile(
    r"(?:US\$|HK\$|NT\$|S\$|A\$|C\$|[¥$€£₩₹]|人民币|[A-Za-z]{3}(?=[\s\d.+-]))\s*"
)
_DIGITS = re.compile(r"\.?\d(?:[\d.,' ’]*\d)?")
_SUFFIX = re.compile(
    r"\s*(?P<unit>万亿|千亿|百亿|十亿|亿|千万|百万|十万|万|千|百|十|bn|mn|k|m)?"
    r"\s*(?P<yuan>元|圆|块)?\s*(?P<currency>人民币|[A-Za-z]{3}|[¥$€£₩₹])?\s*(?P<percent>%)?",
    re.IGNORECASE,
)
_GROUPING = " '’"
_SPECIAL = {"nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity"}


def _grouped(digits: str, decimal: str) -> Decimal | None:
    """``digits`` read with this decimal mark (the other mark, spaces or ' group), or None."""
    group_mark = "," if decimal == "." else "."
    if digits.count(decimal) > 1:
        return None
    whole, _, fraction = digits.partition(decimal)
    if not fraction.isdigit() and decimal in digits:
        return None
    marks = {c for c in whole if not c.isdigit()}
    if marks:
        if len(marks) > 1 or not marks <= {group_mark, *_GROUPING}:
            return None
        groups = whole.split(marks.pop())
        first = groups[0]
        if not 1 <= len(first) <= 3 or first[0] == "0" or any(len(g) != 3 for g in groups[1:]):
            return None
        whole = "".join(groups)
    if not whole and not fraction:
        return None
    return Decimal(f"{whole or '0'}.{fraction}" if fraction else whole)


def _separators(digits: str, decimal: str | None) -> Decimal:
    if decimal is not None:
        number = _grouped(digits, decimal)
        if number is None:
            mark = "decimal point" if decimal == "." else "decimal comma"
            raise UnreadableValue(f"separators do not fit the locale's {mark}")
        return number
    point, comma = _grouped(digits, "."), _grouped(digits, ",")
    if point is None and comma is None:
        raise UnreadableValue("misplaced separators")
    if point is not None and comma is not None and point != comma:
        raise UnreadableValue(f"ambiguous separator ({point:f} or {comma:f}?): declare a locale")
    return point if point is not None else comma  # type: ignore[return-value]


def parse_number(text: str, decimal: str | None = None) -> tuple[Decimal, int | None, bool]:
    """(number, factor of a unit written in the text or None, written with a percent sign).

    The slow path for any text that is not a plain number; raises ``UnreadableValue``.
    """
    s = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    negative = False
    if s[:1] == "(" and s[-1:] == ")":  # accounting style: (1,234) is -1,234
        negative, s = True, s[1:-1].strip()
    if s[:1] in "+-" and s:
        negative, s = negative ^ (s[0] == "-"), s[1:].lstrip()
    prefix = _CURRENCY_PREFIX.match(s)
    if prefix:
        s = s[prefix.end() :]
        if s[:1] in "+-" and s:
            negative, s = negative ^ (s[0] == "-"), s[1:].lstrip()
    digits = _DIGITS.match(s)
    if digits is None:
        raise UnreadableValue("not a number")
    suffix = _SUFFIX.fullmatch(s, digits.end())
    if suffix is None:
        raise UnreadableValue(f"not a number (cannot read {s[digits.end() :].strip()!r})")
    unit, yuan, currency, percent = suffix.group("unit", "yuan", "currency", "percent")
    if percent and (unit or yuan or currency or prefix):
        raise UnreadableValue("a percentage cannot carry a unit or currency")
    if prefix and currency:
        raise UnreadableValue("two currencies")
    number = _separators(digits.group(), decimal)
    factor = UNITS[unit.lower()] if unit else (1 if yuan else None)
    return (-number if negative else number), factor, bool(percent)


def _scale(reading: Reading) -> Decimal:
    return Decimal(str(reading.scale))


def _number(raw: Any, reading: Reading, percent: float | None) -> float | str:
    """A float, or a plain numeric string the model parses itself (the fast path)."""
    cls = raw.__class__
    if cls is float or cls is int:
        return raw if reading.scale is None else float(Decimal(str(raw)) * _scale(reading))
    if cls is not str:
        if cls is Decimal:
            return float(raw if reading.scale is None else raw * _scale(reading))
        raise UnreadableValue("not a number")
    text: str = raw
    if _PLAIN.fullmatch(text) and (
        reading.decimal == "."
        or (reading.decimal is None and not _DOT_THOUSANDS.fullmatch(text))
        or (reading.decimal == "," and "." not in text)
    ):
        if reading.scale is None:
            return text
        return float(Decimal(text) * _scale(reading))
    if text.strip().lower() in _SPECIAL:
        return text  # NaN and infinity are the model's to refuse, as impossible values
    number, factor, is_percent = parse_number(text, reading.decimal)
    if is_percent:
        if percent is None:
            raise UnreadableValue("a percentage where an amount or count belongs")
        return float(number * Decimal(str(percent)))
    if factor is None and reading.scale is not None:
        factor = reading.scale  # type: ignore[assignment]
    if factor is not None:
        number *= Decimal(str(factor))
    return float(number)


def read_number(raw: Any, reading: Reading = PLAIN) -> float:
    """A raw number as a float (a percent sign is refused: amounts carry none)."""
    value = _number(raw, reading, None)
    return float(value)


def read_ratio(raw: Any, reading: Reading = PLAIN) -> float:
    """A ratio: ``12%`` is 0.12, ``0.12`` is 0.12."""
    return float(_number(raw, reading, 0.01))


def _read_score(raw: Any, reading: Reading) -> float | str:
    return _number(raw, reading, 1.0)  # a 0-100 score: 85% is 85 points


def _read_amount(raw: Any, reading: Reading) -> float | str:
    return _number(raw, reading, None)


def _read_integer(raw: Any, reading: Reading) -> int | str:
    if raw.__class__ is str and raw.isascii() and raw.isdigit() and reading.scale is None:
        return raw
    if raw.__class__ is bool:
        raise UnreadableValue("not a number")
    value = _number(raw, reading, None)
    try:
        number = float(value)
    except ValueError:
        return str(value)
    if not number.is_integer():
        raise UnreadableValue("not a whole number")
    return int(number)


# -- dates ------------------------------------------------------------------------------------

_DATE = re.compile(
    r"(?P<y>\d{4})\s*(?P<s>[-/.年])\s*(?P<m>\d{1,2})\s*(?P<t>[-/.月])\s*(?P<d>\d{1,2})\s*日?"
    r"(?P<time>[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def _date_of(text: str) -> date | datetime:
    """A date, or a date-time when the text gives a time; raises ``UnreadableValue``."""
    s = unicodedata.normalize("NFKC", text).strip()
    try:
        if len(s) == 10:
            return date.fromisoformat(s)
        return datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        pass
    m = _DATE.fullmatch(s)
    if m is None or (m["s"] == "年") != (m["t"] == "月") or (m["s"] != "年" and m["s"] != m["t"]):
        raise UnreadableValue("not a date (write it as 2019-03-05, 2019/3/5 or 2019年3月5日)")
    try:
        day = date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        raise UnreadableValue("no such date") from None
    if m["time"]:
        try:
            clock = m["time"].strip(" T").replace("Z", "+00:00")
            return datetime.fromisoformat(f"{day.isoformat()}T{clock}")
        except ValueError:
            raise UnreadableValue("not a time of day") from None
    return day


def _read_date(raw: Any, reading: Reading) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        raise UnreadableValue("not a date")
    if reading.date_format is not None:
        try:
            return datetime.strptime(raw.strip(), reading.date_format).date()
        except ValueError:
            pass  # the forms below are unambiguous (year first): still read them
    try:
        value = _date_of(raw)
    except UnreadableValue as exc:
        if reading.date_format is not None:
            raise UnreadableValue(f"does not match {reading.date_format!r}: {exc}") from None
        raise
    return value.date() if isinstance(value, datetime) else value


def read_date(raw: Any, reading: Reading = PLAIN) -> date:
    """A date as files and CRMs write it (2019-03-05, 2019/3/5, 2019年3月5日, an ISO
    date-time); raises ``UnreadableValue`` saying why not."""
    return _read_date(raw, reading)


def _read_datetime(raw: Any, reading: Reading) -> datetime:
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day)
    if not isinstance(raw, str):
        raise UnreadableValue("not a date-time")
    value = _date_of(raw)
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


# -- yes/no, codes, text ----------------------------------------------------------------------

_BOOLS = {
    **dict.fromkeys(("true", "yes", "y", "t", "1", "on", "是", "有", "真", "对", "√", "✓"), True),
    **dict.fromkeys(
        ("false", "no", "n", "f", "0", "off", "否", "无", "没有", "假", "×", "✗"), False
    ),
}
#: Business statuses as Chinese registers write them; anything else must be mapped.
_STATUSES = {
    **{s.value: s.value for s in BusinessStatus},
    **dict.fromkeys(("存续", "在业", "开业", "正常"), "active"),
    **dict.fromkeys(("停业", "歇业"), "suspended"),
    "注销": "deregistered",
    "已注销": "deregistered",
    "清算": "liquidation",
    "清算中": "liquidation",
}
_CURRENCY_NAMES = {"rmb": "CNY", "人民币": "CNY", "元": "CNY", "€": "EUR", "£": "GBP"}


def _read_bool(raw: Any, reading: Reading) -> bool:
    if raw.__class__ is bool:
        return bool(raw)
    if raw.__class__ is int and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        found = _BOOLS.get(unicodedata.normalize("NFKC", raw).strip().lower())
        if found is not None:
            return found
    raise UnreadableValue("not yes or no")


def _read_status(raw: Any, reading: Reading) -> str:
    if isinstance(raw, str):
        found = _STATUSES.get(unicodedata.normalize("NFKC", raw).strip().lower())
        if found is not None:
            return found
    codes = ", ".join(s.value for s in BusinessStatus)
    raise UnreadableValue(f"not a business status ({codes}); map it in the mapping")


def _read_currency(raw: Any, reading: Reading) -> str:
    if isinstance(raw, str):
        s = unicodedata.normalize("NFKC", raw).strip()
        code = _CURRENCY_NAMES.get(s.lower(), s.upper())
        if len(code) == 3 and code.isascii() and code.isalpha():
            return code
    raise UnreadableValue("not a three-letter currency code such as CNY or USD")


def _read_text(raw: Any, reading: Reading) -> str:
    if isinstance(raw, str):
        return raw
    if raw.__class__ is int:
        return str(raw)
    if raw.__class__ is float and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, float | Decimal):
        return str(raw)
    raise UnreadableValue("not text")


# -- the model's fields -----------------------------------------------------------------------

Reader = Callable[[Any, Reading], Any]


class Kind(StrEnum):
    AMOUNT = "amount"
    SCORE = "score"
    INTEGER = "integer"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    STATUS = "status"
    CURRENCY = "currency"
    TEXT = "text"


READERS: dict[Kind, Reader] = {
    Kind.AMOUNT: _read_amount,
    Kind.SCORE: _read_score,
    Kind.INTEGER: _read_integer,
    Kind.DATE: _read_date,
    Kind.DATETIME: _read_datetime,
    Kind.BOOL: _read_bool,
    Kind.STATUS: _read_status,
    Kind.CURRENCY: _read_currency,
    Kind.TEXT: _read_text,
}


def _kind(annotation: Any) -> Kind:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    inner = args[0] if isinstance(annotation, types.UnionType) or args else annotation
    base = typing.get_args(inner)[0] if typing.get_origin(inner) is typing.Annotated else inner
    meta = typing.get_args(inner)[1:] if typing.get_origin(inner) is typing.Annotated else ()
    if base is float:
        bounds = [getattr(m, "metadata", []) for m in meta]
        highest = [getattr(b, "le", None) for group in bounds for b in group]
        return Kind.SCORE if 100 in highest else Kind.AMOUNT
    simple = {int: Kind.INTEGER, bool: Kind.BOOL, date: Kind.DATE, datetime: Kind.DATETIME}
    if base in simple:
        return simple[base]
    if base is BusinessStatus:
        return Kind.STATUS
    if base is str and meta:
        return Kind.CURRENCY  # the one annotated string: an ISO 4217 code
    return Kind.TEXT


#: How each common-model field is read.
FIELD_KINDS: dict[str, Kind] = {
    name: _kind(info.annotation) for name, info in Account.model_fields.items()
}
_NUMERIC = frozenset(
    k for k, kind in FIELD_KINDS.items() if kind in (Kind.AMOUNT, Kind.SCORE, Kind.INTEGER)
)
_NOT_BOOL = frozenset(k for k, kind in FIELD_KINDS.items() if kind is not Kind.BOOL)
_CURRENCIES = tuple(k for k, kind in FIELD_KINDS.items() if kind is Kind.CURRENCY)


def plain_row(row: Mapping[str, Any]) -> bool:
    """Would the model's own parsing read this row exactly as ``read_fields`` does?

    True when every value is plain (digits with an optional point that cannot be a
    thousands mark, ISO dates, codes): then validating the row as it is gives the same
    account, at the model's speed, and only a row the model refuses goes through the
    reader. False for what the model would read differently: ``1.234`` (ambiguous),
    ``1_000``, a yes/no where a number belongs, ``RMB`` or a non-ASCII currency.
    """
    if not _plain_values(row):
        return False
    for key in _CURRENCIES:
        raw = row.get(key)
        if raw.__class__ is str and (not raw.isascii() or raw.strip().upper() == "RMB"):
            return False
    return True


def _plain_values(row: Mapping[str, Any]) -> bool:
    for key, raw in row.items():
        cls = raw.__class__
        if cls is str:
            if ("." in raw or "_" in raw) and key in _NUMERIC:
                text = raw.strip()
                if "_" in text or _DOT_THOUSANDS.fullmatch(text):
                    return False
        elif cls is bool and key in _NOT_BOOL:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Unreadable:
    """One value that could not be read: the input becomes missing, and the record says so."""

    field: str  # the common model's field
    source: str  # the field as the source names it (a CSV column, a CRM's api name)
    raw: str  # the raw value, as text
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: could not read {self.raw!r} ({self.reason})"


def shown(raw: Any, limit: int = 60) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: What a field reader returns for a blank value: the input is missing, and no fault.
MISSING: Any = object()
#: What a reader raises for a value it cannot read.
UNREADABLE_ERRORS = (UnreadableValue, InvalidOperation, OverflowError)
#: Date formats a text date can be read in by ``date.fromisoformat`` first: wherever that
#: succeeds, ``strptime`` with the format reads the same day or fails and falls back to it.
_ISO_FORMATS = frozenset(["%Y-%m-%d"])
#: Integers a float holds exactly.
_EXACT = 2**53


@cache
def field_readers(reading: Reading = PLAIN) -> dict[str, Callable[[Any], Any]]:
    """``field_reader`` of every field of the model under one reading."""
    return {key: field_reader(key, reading) for key in FIELD_KINDS}


def field_reader(key: str, reading: Reading = PLAIN) -> Callable[[Any], Any]:
    """How one field of the model reads a raw value (never None): the value the model
    validates, ``MISSING`` for a blank one, or ``UNREADABLE_ERRORS`` saying why not.

    Text is kept as it is (the model strips it); other text is stripped first. The fast
    paths, for what files and CRMs mostly hold (plain digits, ISO dates), come before the
    kind's reader.
    """
    kind = FIELD_KINDS[key]
    reader = READERS[kind]
    if kind is Kind.TEXT:

        def read_text(raw: Any) -> Any:
            if raw.__class__ is str:
                return raw if raw and not raw.isspace() else MISSING
            if raw == [] or raw == {}:
                return MISSING
            return reader(raw, reading)

        return read_text
    digits = kind in (Kind.AMOUNT, Kind.SCORE, Kind.INTEGER) and reading.scale is None
    whole = kind is Kind.INTEGER and reading.scale is None
    iso = kind is Kind.DATE and (reading.date_format is None or reading.date_format in _ISO_FORMATS)
    code = kind is Kind.CURRENCY

    def read(raw: Any) -> Any:
        if raw.__class__ is int and whole and -_EXACT <= raw <= _EXACT:
            return raw  # what the reader gives back, through a float, for these
        if raw.__class__ is str:
            raw = raw.strip()
            if not raw:
                return MISSING
            if digits and raw.isdigit() and raw.isascii():
                return raw  # the model parses plain digits itself, under any locale
            if iso and len(raw) == 10:
                try:
                    return date.fromisoformat(raw)
                except ValueError:
                    pass
            if code and len(raw) == 3 and raw.isascii() and raw.isalpha():
                return _CURRENCY_NAMES.get(raw.lower()) or raw.upper()  # as _read_currency
        elif raw == [] or raw == {}:
            return MISSING
        return reader(raw, reading)

    return read


def unreadable(
    key: str, raw: Any, exc: Exception, sources: Mapping[str, str] | None = None
) -> Unreadable:
    """The record of a raw value ``field_reader`` refused with ``exc``."""
    name = key if sources is None else sources.get(key, key)
    shown_raw = shown(raw.strip() if raw.__class__ is str else raw)
    return Unreadable(key, name, shown_raw, str(exc) or "unreadable")


def read_fields(
    row: Mapping[str, Any],
    readings: Mapping[str, Reading] | None = None,
    default: Reading = PLAIN,
    sources: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[Unreadable]]:
    """(values the model validates, values that could not be read) of a flat row.

    Keys that are not fields of the model are left out; blank values are missing. The id
    is kept as text; the caller decides what an empty one means.
    """
    values: dict[str, Any] = {}
    lost: list[Unreadable] = []
    plain = field_readers(default)
    for key, raw in row.items():
        read = plain.get(key)
        if read is None or raw is None:
            continue
        if readings is not None:
            reading = readings.get(key)
            if reading is not None:
                read = field_readers(reading)[key]
        try:
            value = read(raw)
        except UNREADABLE_ERRORS as exc:
            lost.append(unreadable(key, raw, exc, sources))
            continue
        if value is not MISSING:
            values[key] = value
    return values, lost
