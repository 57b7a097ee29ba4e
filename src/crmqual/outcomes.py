"""Outcomes: what really happened to an account, and when (the policy lab's ground truth).

An outcome is defaulted, 90+ days overdue, written off (each "bad") or paid as agreed.
``read_outcomes`` reads them from an ERP or collections export (CSV or JSONL with the
columns ``id``, ``date``, ``outcome``), in whatever encoding ``crmqual assess`` reads (BOM,
UTF-8, GBK/GB18030 detected); a row that cannot be read is reported with its line and why,
and the rest are still read.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any

from crmqual.errors import InputError
from crmqual.inputs import RowError, read_rows
from crmqual.state.lab import CreditHistory, OutcomeIn
from crmqual.texts import t
from crmqual.values import UnreadableValue, read_date


class Outcome(StrEnum):
    DEFAULTED = "defaulted"
    OVERDUE_90 = "overdue_90"
    WRITTEN_OFF = "written_off"
    PAID = "paid_as_agreed"


#: Outcomes that make an account "bad" in a backtest.
BAD = frozenset({Outcome.DEFAULTED, Outcome.OVERDUE_90, Outcome.WRITTEN_OFF})

#: What exports write for each outcome (compared lower-case, spaces and dashes as ``_``).
ALIASES: dict[str, Outcome] = {
    **{o.value: o for o in Outcome},
    "default": Outcome.DEFAULTED,
    "defaults": Outcome.DEFAULTED,
    "违约": Outcome.DEFAULTED,
    "90+": Outcome.OVERDUE_90,
    "90_plus": Outcome.OVERDUE_90,
    "90dpd": Outcome.OVERDUE_90,
    "dpd90": Outcome.OVERDUE_90,
    "overdue_90+": Outcome.OVERDUE_90,
    "overdue90": Outcome.OVERDUE_90,
    "逾期90天": Outcome.OVERDUE_90,
    "逾期90天以上": Outcome.OVERDUE_90,
    "written_off": Outcome.WRITTEN_OFF,
    "write_off": Outcome.WRITTEN_OFF,
    "writeoff": Outcome.WRITTEN_OFF,
    "核销": Outcome.WRITTEN_OFF,
    "坏账核销": Outcome.WRITTEN_OFF,
    "paid": Outcome.PAID,
    "paid_as_agreed": Outcome.PAID,
    "good": Outcome.PAID,
    "正常还款": Outcome.PAID,
    "按时还款": Outcome.PAID,
    "正常": Outcome.PAID,
}

COLUMNS = ("id", "date", "outcome")


def outcome_of(text: str) -> Outcome | None:
    key = re.sub(r"[\s\-]+", "_", text.strip().lower())
    return ALIASES.get(key)


#: Why a row was not read: a key of ``crmqual.texts`` and its values ("" for a text as is).
Why = tuple[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row of an outcomes file that was not recorded: where it is and why."""

    line: int
    record_id: str
    whys: tuple[Why, ...]

    def reason(self, lang: str = "en") -> str:
        texts = [t(key, lang, **values) if key else values["text"] for key, values in self.whys]
        return "; ".join(texts)

    def __str__(self) -> str:
        return f"line {self.line} (id {self.record_id or '?'}): {self.reason()}"


def read_outcomes(
    path: str, encoding: str | None = None, *, today: date
) -> list[OutcomeIn | BadRow]:
    """The outcomes in a CSV or JSONL file, in file order; a row that cannot be read is a
    ``BadRow`` (its line, id and why). Raises ``InputError`` for a file that cannot be read
    at all (missing, no header, no ``id`` column).

    Without ``encoding``, the file is read as ``crmqual assess`` detects it and, when that
    leaves rows unread, also as GB18030; the reading with fewer unread rows wins. A short
    GBK file can pass for UTF-8 (违约 in GBK is valid UTF-8 for "ΥԼ"), and an outcome file's
    words are known, so the reading that makes sense of them is the right one.
    """
    first = list(_outcomes(path, encoding, today))
    if encoding is not None or not any(isinstance(item, BadRow) for item in first):
        return first
    try:
        other = list(_outcomes(path, "gb18030", today))
    except InputError:
        return first
    unread = sum(isinstance(item, BadRow) for item in first)
    return other if sum(isinstance(item, BadRow) for item in other) < unread else first


def _outcomes(path: str, encoding: str | None, today: date) -> Iterator[OutcomeIn | BadRow]:
    for _, line, data in read_rows(path, encoding, unique_ids=False):
        if isinstance(data, RowError):
            yield BadRow(
                line, data.record_id, tuple(("", {"text": p.reason}) for p in data.problems)
            )
            continue
        record_id = str(data.get("id") or "").strip()
        missing = [c for c in COLUMNS if c not in data]
        if missing:
            yield BadRow(line, record_id, (("lab.why_columns", {"columns": ", ".join(missing)}),))
            continue
        whys: list[Why] = []
        if not record_id:
            whys.append(("lab.why_no_id", {}))
        raw_outcome = str(data.get("outcome") or "").strip()
        kind = outcome_of(raw_outcome)
        if kind is None:
            known = ", ".join(o.value for o in Outcome)
            whys.append(("lab.why_outcome", {"value": repr(raw_outcome), "known": known}))
        raw_date = data.get("date")
        day: date | None = None
        if raw_date is None or not str(raw_date).strip():
            whys.append(("lab.why_no_date", {}))
        else:
            try:
                day = read_date(str(raw_date))
            except UnreadableValue as exc:
                whys.append(("lab.why_date", {"value": repr(raw_date), "why": str(exc)}))
            else:
                if day > today:
                    whys.append(("lab.why_future", {"value": day.isoformat()}))
        if whys or kind is None or day is None:
            yield BadRow(line, record_id, tuple(whys))
            continue
        yield OutcomeIn(record_id, kind.value, day)


def from_records(
    records: Iterable[Mapping[str, Any]],
    id_field: str,
    field: str,
    date_field: str | None,
    today: date,
) -> Iterator[OutcomeIn | BadRow]:
    """The outcomes CRM records hold in ``field`` (empty: no outcome yet), dated by
    ``date_field`` or ``today``; a value that is no outcome, or a date that
    cannot be read, is a ``BadRow`` (line 0: a record has no line) naming the record."""
    for record in records:
        raw = str(record.get(field) or "").strip()
        if not raw:
            continue
        record_id = str(record.get(id_field) or "")
        kind = outcome_of(raw)
        if kind is None:
            known = ", ".join(o.value for o in Outcome)
            yield BadRow(0, record_id, (("lab.why_outcome", {"value": repr(raw), "known": known}),))
            continue
        day = today
        if date_field is not None:
            raw_date = record.get(date_field)
            if raw_date is None or not str(raw_date).strip():
                yield BadRow(0, record_id, (("lab.why_no_date", {}),))
                continue
            try:
                day = read_date(str(raw_date)[:10] if "T" in str(raw_date) else str(raw_date))
            except UnreadableValue as exc:
                why = {"value": repr(raw_date), "why": str(exc)}
                yield BadRow(0, record_id, (("lab.why_date", why),))
                continue
        yield OutcomeIn(record_id, kind.value, day)


# -- the window a backtest looks at ------------------------------------------------------------

_WINDOW = re.compile(r"^\s*(\d+)\s*([my]?)\s*$", re.IGNORECASE)


def parse_window(text: str) -> int:
    """``12m``, ``18m``, ``1y`` or ``12`` (months) as a number of months; ValueError else."""
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window such as 12m, 6m or 1y")
    n = int(match.group(1)) * (12 if match.group(2).lower() == "y" else 1)
    if n < 1:
        raise ValueError(f"{text!r}: the window must be at least one month")
    return n


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the month's last day when it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# -- outcomes the credit record shows ----------------------------------------------------------

#: The source of outcomes derived from the credit record (what `outcomes list` shows).
DERIVED_SOURCE = "credit record"
#: Days overdue from which a payment counts as seriously late.
SERIOUSLY_LATE_DAYS = 90


def derived(histories: Iterable[CreditHistory]) -> Iterator[OutcomeIn]:
    """Outcomes the stored credit-record inputs show appearing: the first assessment at which
    an account's defaults rose (``defaulted``), and the first at which its longest overdue
    reached 90 days (``overdue_90``) when it was below before; dated on that assessment's
    day. What the first assessment already showed is no event: it was known when graded."""
    for account_id, history in histories:
        for kind, crossed in (
            (Outcome.DEFAULTED, _defaults_rose),
            (Outcome.OVERDUE_90, _late_reached),
        ):
            for (_, before), (at, after) in pairwise(history):
                if crossed(before, after):
                    yield OutcomeIn(account_id, kind.value, at.date())
                    break


def _number(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, int | float) else None


def _defaults_rose(before: dict[str, Any], after: dict[str, Any]) -> bool:
    was, now = _number(before, "defaults"), _number(after, "defaults")
    return now is not None and now > (was or 0)


def _late_reached(before: dict[str, Any], after: dict[str, Any]) -> bool:
    was, now = _number(before, "overdue_max_days"), _number(after, "overdue_max_days")
    return now is not None and now >= SERIOUSLY_LATE_DAYS and (was or 0) < SERIOUSLY_LATE_DAYS
