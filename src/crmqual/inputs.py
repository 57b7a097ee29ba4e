"""Reading flat account rows (CSV or JSONL) and turning one row into a valid Account.

A row is a dict keyed by the flat names of ``model.Account`` (``total_assets``,
``prior_revenue``, ``overdue_max_days``...). A bad row becomes a ``RowError`` that names
its row number, its id, the fields at fault and why; the caller reports it and goes on.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from crmqual.compiled import CompiledPolicy
from crmqual.engine import Assessment, assess
from crmqual.errors import InputError
from crmqual.model import ACCOUNT_FIELDS, Account
from crmqual.policy import Policy


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str


@dataclass(frozen=True)
class RowError:
    """One input row that could not become an Account."""

    row: int
    record_id: str
    problems: tuple[FieldProblem, ...]

    def __str__(self) -> str:
        what = "; ".join(f"{p.field}: {p.reason}" for p in self.problems)
        return f"row {self.row} (id {self.record_id or '?'}): {what}"


def to_account(data: dict[str, Any], today: date) -> Account:
    """Validate one flat row; dates after ``today`` are impossible values."""
    return Account.model_validate(data, context={"today": today})


def field_problems(exc: ValidationError) -> tuple[FieldProblem, ...]:
    problems = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "(record)"
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] not in ("missing",) and "input" in err and name != "(record)":
            shown = repr(err["input"])
            reason += f" (got {shown[:40]})"
        problems.append(FieldProblem(name, reason))
    return tuple(problems)


def row_error(row_number: int, data: dict[str, Any], exc: ValidationError) -> RowError:
    return RowError(row_number, str(data.get("id") or ""), field_problems(exc))


def unknown_columns(columns: list[str]) -> list[str]:
    """Columns the model does not know (probably misspelt); they are ignored."""
    known = set(ACCOUNT_FIELDS)
    return [c for c in columns if c not in known]


Row = dict[str, Any] | RowError


def read_rows(path: str) -> Iterator[tuple[int, Row]]:
    """(row number, row) of a CSV or JSONL file; ``-`` reads CSV from stdin.

    The file is opened (and a CSV header checked) at once, so an unreadable input fails
    before anything is printed. Row numbers are what a person sees in an editor: the CSV
    header is row 1. A JSONL line that is not a JSON object comes as a RowError.
    """
    if path == "-":
        return _csv_rows(sys.stdin, "<stdin>")
    p = Path(path)
    try:
        handle = p.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if p.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return _closing(handle, _jsonl_rows(handle))
    return _closing(handle, _csv_rows(handle, path))


def _closing(handle: TextIO, rows: Iterator[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
    with handle:
        yield from rows


def _csv_rows(handle: TextIO, name: str) -> Iterator[tuple[int, Row]]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None:
        raise InputError(f"{name}: empty file, expected a CSV header")
    if "id" not in reader.fieldnames:
        raise InputError(f"{name}: the CSV header has no 'id' column")
    return enumerate(reader, start=2)


def _jsonl_rows(handle: TextIO) -> Iterator[tuple[int, Row]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, RowError(number, "", (FieldProblem("(line)", f"not JSON: {exc.msg}"),))
            continue
        if not isinstance(row, dict):
            yield number, RowError(number, "", (FieldProblem("(line)", "not a JSON object"),))
            continue
        yield number, row


def assess_row(
    number: int, row: Row, policy: Policy | CompiledPolicy, as_of: datetime
) -> tuple[Account, Assessment] | RowError:
    """Exactly what ``crmqual assess`` does between reading a row and writing a result."""
    if isinstance(row, RowError):
        return row
    try:
        account = to_account(row, as_of.date())
    except ValidationError as exc:
        return row_error(number, row, exc)
    return account, assess(account, policy, as_of=as_of)
