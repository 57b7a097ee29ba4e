"""Reading flat account rows (CSV or JSONL) and turning one row into a valid Account.

A row is a dict keyed by the flat names of ``model.Account`` (``total_assets``,
``prior_revenue``, ``overdue_max_days``...). Nothing a file holds is dropped silently: a
row that cannot be read whole (a stray quote, a cell count that differs from the header's,
a repeated id, bytes that are not text) becomes a ``RowError`` naming its row number, its
line in the file, its id and why; the caller reports it and goes on. Values are read by
``crmqual.values``; one that cannot be read makes that input missing (an ``Unreadable``
the assessment names), unless the policy's knock-outs need it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple

from pydantic import ValidationError

from crmqual.compiled import CompiledPolicy, compiled
from crmqual.engine import Assessment, assess
from crmqual.errors import InputError, cannot_read
from crmqual.model import ACCOUNT_FIELDS, Account, blank_free_context
from crmqual.policy import Policy
from crmqual.values import PLAIN, Reading, Unreadable, plain_row, read_fields, shown


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str


@dataclass(frozen=True)
class RowError:
    """One input row that could not become an Account (``line``: where it starts in the file)."""

    row: int
    record_id: str
    problems: tuple[FieldProblem, ...]
    line: int | None = None

    def __str__(self) -> str:
        what = "; ".join(f"{p.field}: {p.reason}" for p in self.problems)
        where = f" at line {self.line}" if self.line is not None else ""
        return f"row {self.row} (id {self.record_id or '?'}){where}: {what}"


class RecordProblems(Exception):
    """A record that cannot be assessed: each field at fault and why."""

    def __init__(self, problems: tuple[FieldProblem, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))


def to_account(data: Mapping[str, Any], today: date, *, blank_free: bool = False) -> Account:
    """Validate one row of typed values; dates after ``today`` are impossible values.
    ``blank_free``: no value is blank text, text is stripped and the id is set
    (``model.blank_free_context``)."""
    context = blank_free_context(today) if blank_free else {"today": today}
    return Account.model_validate(data, context=context)


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


def read_account(
    row: Mapping[str, Any],
    today: date,
    readings: Mapping[str, Reading] | None = None,
    *,
    default: Reading = PLAIN,
    needed: Collection[str] = (),
    sources: Mapping[str, str] | None = None,
    unreadable: tuple[Unreadable, ...] = (),
) -> tuple[Account, tuple[Unreadable, ...]]:
    """A raw row as an Account, and the values that could not be read (left missing).

    Raises ``RecordProblems`` for an id that is missing or cannot be read, for an unreadable
    value in ``needed`` (the inputs of the policy's knock-outs: grading without one could
    approve a company that must be rejected) and for impossible values; the problems then
    list every value that could not be read too. ``sources`` names fields as the source
    does (a CRM's api names) in messages; ``unreadable`` adds values refused upstream.
    """
    if readings is None and default is PLAIN and not unreadable and plain_row(row):
        # The fast path: plain values are read by the model exactly as by the reader.
        try:
            return to_account(row, today), ()
        except ValidationError:
            pass  # something is not plain after all (or impossible): the reader says which
    values, found = read_fields(row, readings, default, sources)
    return checked_account(values, (*unreadable, *found), today, needed, sources)


def checked_account(
    values: dict[str, Any],
    lost: tuple[Unreadable, ...],
    today: date,
    needed: Collection[str] = (),
    sources: Mapping[str, str] | None = None,
    *,
    blank_free: bool = False,
) -> tuple[Account, tuple[Unreadable, ...]]:
    """The Account of values read (``read_fields``), and ``lost``, the values that could
    not be; raises ``RecordProblems`` as ``read_account`` says. ``blank_free``: as
    ``to_account`` says."""

    def name(field: str) -> str:
        return field if sources is None else f"{sources.get(field, field)} ({field})"

    if lost:
        problems = [
            FieldProblem(name(u.field), f"could not read {u.raw!r}: {u.reason}")
            for u in lost
            if u.field == "id" or u.field in needed
        ]
        if problems:
            problems += [
                FieldProblem(name(u.field), f"could not read {u.raw!r}: {u.reason}")
                for u in lost
                if u.field != "id" and u.field not in needed
            ]
            raise RecordProblems(tuple(problems))
    try:
        account = to_account(values, today, blank_free=blank_free)
    except ValidationError as exc:
        refused = [FieldProblem(name(p.field), p.reason) for p in field_problems(exc)]
        refused += [
            FieldProblem(name(u.field), f"could not read {u.raw!r}: {u.reason}") for u in lost
        ]
        raise RecordProblems(tuple(refused)) from None
    return account, lost


def unknown_columns(columns: list[str]) -> list[str]:
    """Columns the model does not know (probably misspelt); they are ignored."""
    known = set(ACCOUNT_FIELDS)
    return [c for c in columns if c not in known]


Row = dict[str, Any] | RowError


class InputRow(NamedTuple):
    """A row of an input file: its number (the CSV header is row 1), its first line, its data."""

    row: int
    line: int
    data: Row


# -- text: encodings --------------------------------------------------------------------------

#: How much of a file decides its encoding.
SAMPLE_BYTES = 1 << 20


def _cjk_share(text: str) -> float:
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 0.0
    cjk = sum(
        1
        for c in wide
        if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
    )
    return cjk / len(wide)


def detect_encoding(head: bytes) -> str:
    """The encoding of a file from its first bytes: a BOM; else UTF-8 when the lines that are
    not ASCII read as UTF-8; else GB18030 (GBK's superset, Chinese Excel's default) when
    they read as Chinese text in it; else UTF-8 (the lines that fail are then reported)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("a UTF-16 file: save it as CSV (UTF-8), or give --encoding utf-16")
    lines = head.split(b"\n")
    if len(head) >= SAMPLE_BYTES:
        lines = lines[:-1]  # cut off by the sample
    good, bad = 0, []
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad.append(line)
    if len(bad) > good:
        try:
            text = b"\n".join(bad).decode("gb18030")
        except UnicodeDecodeError:
            return "utf-8"
        if _cjk_share(text) >= 0.9:
            return "gb18030"
    return "utf-8"


def _ascii_compatible(encoding: str) -> bool:
    try:
        return "a,\n".encode(encoding) == b"a,\n"
    except (LookupError, UnicodeError):
        return False


class _Line(NamedTuple):
    number: int
    text: str
    fault: str | None  # why its bytes are not text in the file's encoding


def _text_lines(handle: IO[bytes], name: str, encoding: str | None) -> Iterator[_Line]:
    """The file's lines as text, numbered from 1; a line that does not decode carries why."""
    head = handle.read(SAMPLE_BYTES)
    if encoding is None:
        encoding = detect_encoding(head)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"{name}: unknown encoding {encoding!r}") from None
        if not _ascii_compatible(encoding):
            raise InputError(f"{name}: {encoding} files are not supported: save as CSV (UTF-8)")
    skip = 0
    if encoding.replace("_", "-").lower() in ("utf-8-sig", "utf8-sig"):
        encoding, skip = "utf-8", len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    handle.seek(skip)
    decoder = codecs.getdecoder(encoding)
    for number, raw in enumerate(handle, start=1):
        try:
            yield _Line(number, decoder(raw)[0], None)
        except UnicodeDecodeError as exc:
            text = raw.decode(encoding, errors="replace")
            fault = (
                f"byte 0x{raw[exc.start]:02X} at column {exc.start + 1} is not {encoding}"
                " text (give the file's encoding: --encoding, or encoding: in the connection)"
            )
            yield _Line(number, text, fault)


# -- rows -------------------------------------------------------------------------------------


def read_rows(
    path: str, encoding: str | None = None, id_column: str = "id", *, unique_ids: bool = True
) -> Iterator[InputRow]:
    """The rows of a CSV or JSONL file; ``-`` reads CSV from stdin.

    The file is opened (and a CSV header checked) at once, so an unreadable input fails
    before anything is printed. Row numbers are what a person sees in a spreadsheet: the
    CSV header is row 1; lines are the file's own (a value over several lines makes them
    differ). ``encoding`` None detects it (``detect_encoding``). ``unique_ids`` False lets
    an id repeat (a file of events, several per account).
    """
    handle: IO[bytes]
    if path == "-":
        handle = io.BytesIO(sys.stdin.buffer.read())
        name, jsonl = "<stdin>", False
    else:
        p = Path(path)
        try:
            handle = p.open("rb")
        except OSError as exc:
            en, zh = cannot_read(exc)
            raise InputError(f"{path}: {en}", zh=f"{path}：{zh}") from None
        name, jsonl = path, p.suffix.lower() in (".jsonl", ".ndjson", ".json")
    try:
        lines = _text_lines(handle, name, encoding)
        rows = (
            _jsonl_rows(lines, id_column, unique_ids)
            if jsonl
            else _csv_rows(lines, name, id_column, unique_ids)
        )
    except BaseException:
        handle.close()
        raise
    return _closing(handle, rows)


def csv_header(path: str, encoding: str | None = None) -> list[str]:
    """The column names of a CSV file (decoded as ``read_rows`` does)."""
    try:
        with Path(path).open("rb") as handle:
            lines = (line.text for line in _text_lines(handle, path, encoding))
            first = next(csv.reader(lines), [])
    except OSError as exc:
        en, zh = cannot_read(exc)
        raise InputError(f"{path}: {en}", zh=f"{path}：{zh}") from None
    return [name.strip() for name in first]


def _closing(handle: IO[bytes], rows: Iterator[InputRow]) -> Iterator[InputRow]:
    with handle:
        yield from rows


class _Source:
    """Lines for ``csv.reader``, remembering those each record took; lines can be put back."""

    def __init__(self, lines: Iterator[_Line]) -> None:
        self.lines = lines
        self.back: deque[_Line] = deque()
        self.taken: list[_Line] = []

    def __iter__(self) -> _Source:
        return self

    def __next__(self) -> str:
        line = self.back.popleft() if self.back else next(self.lines)
        self.taken.append(line)
        return line.text


def _looks_like_rows(taken: list[_Line], width: int) -> bool:
    """Does a record over several lines hold whole rows? (Then a stray quote swallowed them.)

    A real multi-line value ends with its closing quote, an odd number of quotes on the
    line; a swallowed row has an even number and, read alone, the header's cell count.
    """
    for line in taken[1:]:
        if line.text.count('"') % 2 == 0:
            cells = next(csv.reader([line.text]), [])
            if len(cells) == width:
                return True
    return False


def _csv_rows(
    lines: Iterator[_Line], name: str, id_column: str, unique_ids: bool = True
) -> Iterator[InputRow]:
    """Rows of a CSV, checked as they come.

    A quote that opens a value and never closes on its line makes the csv module read the
    following lines into that value. Such a record is recognised by lines inside it that
    read as whole rows on their own (``_looks_like_rows``); it is reported by its first
    line, and the lines it swallowed are put back and read again as rows. A record of
    another cell count than the header's, a repeated id (the first row wins) and a line
    whose bytes are not text are reported too; none of these rows is assessed.
    """
    source = _Source(lines)
    reader = csv.reader(source)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{name}: empty file, expected a CSV header") from None
    except csv.Error as exc:
        raise InputError(f"{name}: line 1: not a CSV header: {exc}") from None
    if any(line.fault for line in source.taken):
        fault = next(line.fault for line in source.taken if line.fault)
        raise InputError(f"{name}: line 1: {fault}")
    header = [h.strip() for h in header]
    if id_column not in header:
        raise InputError(f"{name}: the CSV header has no {id_column!r} column")
    return _csv_body(source, reader, header, header.index(id_column), unique_ids)


def _csv_body(
    source: _Source, reader: Any, header: list[str], at: int, unique_ids: bool = True
) -> Iterator[InputRow]:
    width = len(header)
    seen: dict[str, tuple[int, int]] = {}
    row = 1
    taken = source.taken
    while True:
        taken.clear()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if not taken:
                return
            row += 1
            first = taken[0]
            source.back.extendleft(reversed(taken[1:]))
            yield InputRow(row, first.number, _problem(row, "", first.number, f"not CSV: {exc}"))
            continue
        if not cells or not any(c.strip() for c in cells):
            continue  # a blank line holds nothing
        row += 1
        first = taken[0]
        record_id = cells[at].strip() if at < len(cells) and "\n" not in cells[at] else ""
        if len(taken) > 1 and _looks_like_rows(taken, width):
            last = taken[-1].number
            source.back.extendleft(reversed(taken[1:]))
            why = (
                f'a quote (") opens a value that runs on to line {last}, swallowing whole rows;'
                " this row is not assessed, the lines after it are read again as rows"
            )
            yield InputRow(row, first.number, _problem(row, record_id, first.number, why))
            continue
        fault = next((line.fault for line in taken if line.fault), None)
        if fault is not None:
            yield InputRow(row, first.number, _problem(row, record_id, first.number, fault))
            continue
        if len(cells) != width:
            why = f"{len(cells)} cells where the header has {width}; not assessed"
            yield InputRow(row, first.number, _problem(row, record_id, first.number, why))
            continue
        if record_id and unique_ids:
            if record_id in seen:
                was_row, was_line = seen[record_id]
                why = f"repeated id, first at row {was_row} (line {was_line}), which is assessed"
                yield InputRow(row, first.number, _problem(row, record_id, first.number, why))
                continue
            seen[record_id] = (row, first.number)
        yield InputRow(row, first.number, dict(zip(header, cells, strict=True)))


def _problem(row: int, record_id: str, line: int, why: str) -> RowError:
    return RowError(row, record_id, (FieldProblem("(row)", why),), line)


def _jsonl_rows(
    lines: Iterator[_Line], id_column: str, unique_ids: bool = True
) -> Iterator[InputRow]:
    seen: dict[str, int] = {}
    for number, text, fault in lines:
        if not text.strip():
            continue
        if fault is not None:
            yield InputRow(number, number, _problem(number, "", number, fault))
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            why = f"not JSON: {exc.msg}"
            yield InputRow(
                number, number, RowError(number, "", (FieldProblem("(line)", why),), number)
            )
            continue
        if not isinstance(row, dict):
            why = "not a JSON object"
            yield InputRow(
                number, number, RowError(number, "", (FieldProblem("(line)", why),), number)
            )
            continue
        record_id = row.get(id_column)
        key = "" if record_id is None else str(record_id).strip()
        if key and unique_ids:
            if key in seen:
                why = f"repeated id, first at line {seen[key]}, which is assessed"
                yield InputRow(number, number, _problem(number, key, number, why))
                continue
            seen[key] = number
        yield InputRow(number, number, row)


# -- assessing a row --------------------------------------------------------------------------


class Assessed(NamedTuple):
    account: Account
    assessment: Assessment
    unreadable: tuple[Unreadable, ...]


def assess_row(
    number: int,
    row: Row,
    policy: Policy | CompiledPolicy,
    as_of: datetime,
    *,
    line: int | None = None,
    reading: Reading = PLAIN,
) -> Assessed | RowError:
    """Exactly what ``crmqual assess`` does between reading a row and writing a result."""
    if isinstance(row, RowError):
        return row
    cp = compiled(policy)
    try:
        account, unreadable = read_account(
            row, as_of.date(), default=reading, needed=cp.knockout_inputs
        )
    except RecordProblems as exc:
        return RowError(number, shown(row.get("id") or ""), exc.problems, line)
    return Assessed(account, assess(account, cp, as_of=as_of, unreadable=unreadable), unreadable)
