"""A mapping compiled for the per-record path: each field's getter, reader and writer.

``crmqual.mapping`` says what a mapping means, rule by rule (``native_row``, then
``crmqual.values`` reads the row). A sync applies it to every record, so what a rule
would otherwise make each record look up again is prepared here once per Mapping object
(``Mapping.compiled``): for each input its native key or path, the reader of its model
field under its reading, its ``map:`` table and its constant or default, both already
read; for each output the Assessment attribute it writes, how, and how its values are
compared. The results are the rule-by-rule ones, value for value and message for message.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from crmqual.contract import FieldType
from crmqual.inputs import RecordProblems, checked_account
from crmqual.model import TEXT_FIELDS, Account
from crmqual.outputs import LIST_SEPARATOR
from crmqual.values import (
    FIELD_KINDS,
    MISSING,
    PLAIN,
    UNREADABLE_ERRORS,
    Kind,
    Reading,
    Unreadable,
    field_readers,
    shown,
    unreadable,
)

if TYPE_CHECKING:
    from crmqual.compiled import Reason
    from crmqual.engine import Assessment
    from crmqual.mapping import Labels, Mapping, OutputRule

NoneType = type(None)

# -- native -> model ------------------------------------------------------------------------

#: A constant, default or mapped value read once: (value or MISSING, the fault or None).
Outcome = tuple[Any, Unreadable | None]

#: Raw values of a field's kind its reader would return unchanged (None and blank text are
#: dropped by the model as they are by the reader). Whole numbers, nearly: the reader
#: makes a float of an int and back, which changes those beyond 2**53 (far beyond what
#: the model accepts: a record holding one is read again exactly, to name it as read).
_AS_IS: dict[Kind, frozenset[type]] = {
    Kind.TEXT: frozenset([NoneType, str]),
    Kind.AMOUNT: frozenset([NoneType, int, float]),
    Kind.SCORE: frozenset([NoneType, int, float]),
    Kind.INTEGER: frozenset([NoneType, int]),
    Kind.BOOL: frozenset([NoneType, bool]),
    Kind.DATE: frozenset([NoneType, date]),
    Kind.DATETIME: frozenset([NoneType, datetime]),
}


@dataclass(frozen=True, slots=True)
class _Input:
    """One model field and where its raw value comes from."""

    position: int  # in the row ``native_row`` makes: the order of unreadable values
    name: str
    key: str | None  # the native field; None for a path
    path: tuple[str, ...]  # ``Owner.name`` -> ("Owner", "name"); () for a plain key
    as_is: frozenset[type]  # raw value classes kept unchanged
    read: Callable[[Any], Any]  # ``crmqual.values.field_reader`` under the field's reading
    source: str  # the native field, as messages name it
    default: Outcome | None  # a blank raw value reads as this (None: stays missing)
    table: dict[str, Outcome] | None  # ``map:``: str(raw) -> its value read
    unmapped: str  # why a raw value ``map:`` does not know is refused


def _outcome(read: Callable[[Any], Any], name: str, source: str, raw: Any) -> Outcome:
    if raw is None:
        return MISSING, None
    try:
        return read(raw), None
    except UNREADABLE_ERRORS as exc:
        return MISSING, unreadable(name, raw, exc, {name: source})


def _input(
    position: int,
    name: str,
    field: str | None,
    reading: Reading,
    *,
    const: Any = None,
    default: Any = None,
    table: dict[str, Any] | None = None,
    split: bool = True,
) -> _Input | Outcome:
    """How one input is read; a constant (or an input named by a label never found) is
    read once: its outcome. ``split``: a dot in the field walks into a lookup."""
    read = field_readers(reading)[name]
    source = field or name
    if field is None:
        return _outcome(read, name, source, const)
    path = tuple(field.split(".")) if split else (field,)
    kind = FIELD_KINDS[name]
    as_is = _AS_IS.get(kind, frozenset([NoneType]))
    if kind in (Kind.AMOUNT, Kind.SCORE, Kind.INTEGER) and reading.scale is not None:
        as_is = frozenset([NoneType])  # numbers are scaled
    if default is not None or table is not None:
        as_is = frozenset()  # a blank value takes the default; a mapped one is looked up
    return _Input(
        position,
        name,
        field if len(path) == 1 else None,
        path if len(path) > 1 else (),
        as_is,
        read,
        source,
        None if default is None else _outcome(read, name, source, default),
        None if table is None else {k: _outcome(read, name, source, v) for k, v in table.items()},
        "" if table is None else f"not one of the mapped values {sorted(table)}",
    )


def _at(record: MappingABC[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for part in path:
        if not isinstance(value, MappingABC):
            return None
        value = value.get(part)
    return value


class _Reader:
    """Native records as Accounts: ``crmqual.mapping.read_record``, compiled."""

    def __init__(self, mapping: Mapping) -> None:
        readings = mapping.readings
        inputs: list[_Input] = []
        constants: dict[str, Any] = {}
        #: Constants that cannot be read, with their position: every record reports them.
        self.constant_faults: list[tuple[int, Unreadable]] = []
        names = ["id", *mapping.inputs]
        results = [_input(0, "id", mapping.id_field, PLAIN, split=False)]  # the id as it is
        results += [
            _input(
                position,
                name,
                rule.field,
                readings[name],
                const=rule.const,
                default=rule.default,
                table=rule.map,
            )
            for position, (name, rule) in enumerate(mapping.inputs.items(), start=1)
        ]
        for position, got in enumerate(results):
            if isinstance(got, _Input):
                inputs.append(got)
                continue
            value, fault = got
            if value is not MISSING:
                constants[names[position]] = value
            if fault is not None:
                self.constant_faults.append((position, fault))
        #: (native key, model field, classes kept as they are, the input) of the inputs
        #: read from a top-level native field; ``exact``: ints of whole-number fields read.
        flat = [(i.key, i) for i in inputs if i.key is not None]
        self.columns = tuple((key, i.name, i.as_is, i) for key, i in flat)
        self.exact = tuple(
            (key, i.name, i.as_is - {int} if FIELD_KINDS[i.name] is Kind.INTEGER else i.as_is, i)
            for key, i in flat
        )
        self.walked = tuple(i for i in inputs if i.key is None)  # ``Owner.name``
        self.positions = {i.name: i.position for i in inputs}
        #: Every field a record may set, None (missing to the model) until it does.
        self.template = dict.fromkeys(names) | constants
        self.sources = mapping.sources
        #: The fields whose values are text (the others are read to numbers, dates, flags
        #: or a status): stripped, and a blank value made None, before validating.
        self.texts = tuple(name for name in names[1:] if name in TEXT_FIELDS)

    def values(
        self, record: MappingABC[str, Any], exact: bool = False
    ) -> tuple[dict[str, Any], tuple[Unreadable, ...]]:
        """(values the model validates, values that could not be read) of a record.

        A value kept as it is may be None or blank text: the model drops those, as the
        reader does. ``exact``: every int of a whole-number field is read too."""
        values = self.template.copy()  # presized: filling it in grows nothing
        get = record.get
        others = [(field, _at(record, field.path)) for field in self.walked]
        for key, name, as_is, field in self.exact if exact else self.columns:
            raw = get(key)
            if raw.__class__ in as_is:
                values[name] = raw
            else:
                others.append((field, raw))
        found = list(self.constant_faults)
        unmapped: list[Unreadable] = []
        for field, raw in others:
            if raw is None or raw == "" or raw == []:
                if field.default is None:
                    continue
                value, fault = field.default
            elif field.table is not None:
                known = field.table.get(str(raw))
                if known is None:
                    unmapped.append(
                        Unreadable(field.name, field.source, shown(raw), field.unmapped)
                    )
                    continue
                value, fault = known
            else:
                try:
                    value, fault = field.read(raw), None
                except UNREADABLE_ERRORS as exc:
                    value = MISSING
                    fault = unreadable(field.name, raw, exc, self.sources)
            if value is not MISSING:
                values[field.name] = value
            if fault is not None:
                found.append((field.position, fault))
        if not found and not unmapped:
            return values, ()
        found.sort(key=lambda item: item[0])
        unmapped.sort(key=lambda u: self.positions[u.field])
        return values, (*unmapped, *(fault for _, fault in found))

    def blank_free(self, values: dict[str, Any]) -> bool:
        """Strip text values and make a blank one None, in place, as the model would; False
        when the id is missing or not text (the model names that itself)."""
        for name in self.texts:
            value = values[name]
            if isinstance(value, str):
                values[name] = value.strip() or None
        record_id = values["id"]
        if not isinstance(record_id, str) or not record_id.strip():
            return False
        values["id"] = record_id.strip()
        return True

    def read(
        self, record: MappingABC[str, Any], today: date, needed: Collection[str]
    ) -> tuple[Account, tuple[Unreadable, ...]]:
        values, lost = self.values(record)
        clean = self.blank_free(values)
        try:
            return checked_account(values, lost, today, needed, self.sources, blank_free=clean)
        except RecordProblems:
            values, lost = self.values(record, exact=True)
            return checked_account(values, lost, today, needed, self.sources)


# -- model -> native ------------------------------------------------------------------------


def _reason_lines(language: str) -> Callable[[tuple[Reason, ...], Labels], str]:
    """The reasons as written: a line each, ``code: text`` in one language or both."""
    if language == "both":
        return lambda reasons, _: "\n".join([f"{r.code}: {r.en} / {r.zh}" for r in reasons])
    if language == "en":
        return lambda reasons, _: "\n".join([f"{r.code}: {r.en}" for r in reasons])
    return lambda reasons, _: "\n".join([f"{r.code}: {r.zh}" for r in reasons])


class _Timestamp:
    """An assessment time as written (to the second); a run assesses every account as of
    one moment, so the last text is kept."""

    def __init__(self) -> None:
        self.last: tuple[datetime | None, str] = (None, "")

    def __call__(self, at: datetime, _: Labels) -> str:
        last, text = self.last
        if at is not last:
            text = at.isoformat(timespec="seconds")
            self.last = (at, text)
        return text


Writer = Callable[[Any, "Labels"], Any]


def _writer(name: str, rule: OutputRule) -> Writer | None:
    """How an output's Assessment attribute becomes its native value (None: as it is)."""
    coded = rule.values == "code"  # Labels.write gives a code back as it is
    multiselect = rule.type == FieldType.MULTISELECT
    if name in ("status", "grade", "payment_terms"):
        if coded:
            return None
        return lambda code, labels: labels.write(name, rule, code)
    if name == "flags":
        if coded:
            return (lambda flags, _: list(flags)) if multiselect else _joined
        if multiselect:
            return lambda flags, labels: [labels.write(name, rule, f) for f in flags]
        return lambda flags, labels: LIST_SEPARATOR.join(labels.write(name, rule, f) for f in flags)
    if name == "reasons":
        return _reason_lines(rule.language)
    if name == "assessed_at":
        return _Timestamp()
    return None


def _joined(flags: tuple[str, ...], _: Labels) -> str:
    return LIST_SEPARATOR.join(flags)


# -- comparing native values ----------------------------------------------------------------


def _items(value: Any) -> frozenset[str]:
    items = value if isinstance(value, list) else str(value).split(LIST_SEPARATOR)
    return frozenset(str(v).strip() for v in items if str(v).strip())


def _normal_list(value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    return _items(value)


def _normal_number(value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return _items(value)
    try:
        return round(float(value), 6)
    except (TypeError, ValueError):
        return str(value)


def _normal_datetime(value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return _items(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)


def _normal_text(value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return _items(value)
    return str(value).strip().replace("\r\n", "\n")


#: What a native value is compared as, by field type: a written value and the CRM's
#: (a list or ";"-joined text, 42 or 42.0, an ISO time in another zone) compare alike.
NORMALISERS: dict[FieldType, Callable[[Any], Any]] = {
    t: _normal_list
    if t == FieldType.MULTISELECT
    else _normal_number
    if t in (FieldType.INTEGER, FieldType.NUMBER, FieldType.CURRENCY)
    else _normal_datetime
    if t == FieldType.DATETIME
    else _normal_text
    for t in FieldType
}

#: Classes whose equal values (of the same class) normalise alike, by normaliser: such a
#: pair needs no normalising. Not float for text: 0.0 == -0.0, but their texts differ.
#: (Two equal ints beyond 1e308 are the same number here; normalising them would fail.)
_SAME_WHEN_EQUAL: dict[Callable[[Any], Any], frozenset[type]] = {
    _normal_list: frozenset([NoneType, str]),
    _normal_number: frozenset([NoneType, int, float]),
    _normal_datetime: frozenset([NoneType, str]),
    _normal_text: frozenset([NoneType, str, int, bool]),
}


# -- the compiled mapping -------------------------------------------------------------------


class CompiledOutputs:
    """Output rules prepared once: an assessment's native values (``to_native``). The state
    store renders a stored row's values with its run's rules through this too."""

    def __init__(self, rules: MappingABC[str, OutputRule]) -> None:
        outputs = list(rules.items())
        #: Native output fields, in the mapping's order.
        self.natives = tuple(rule.native for _, rule in outputs)
        self.attributes = attrgetter(*(name for name, _ in outputs))
        writers = ((i, _writer(name, rule)) for i, (name, rule) in enumerate(outputs))
        self.writers = tuple((i, w) for i, w in writers if w is not None)

    def to_native(self, labels: Labels, a: Assessment) -> dict[str, Any]:
        values = list(self.attributes(a))
        for i, write in self.writers:
            values[i] = write(values[i], labels)
        return dict(zip(self.natives, values, strict=True))


class CompiledMapping(CompiledOutputs):
    """Everything the per-record functions of ``crmqual.mapping`` need, prepared once."""

    def __init__(self, mapping: Mapping) -> None:
        super().__init__(mapping.outputs)
        self.reader = _Reader(mapping)
        outputs = list(mapping.outputs.items())
        normal = [NORMALISERS[rule.type] for _, rule in outputs]
        self.comparisons = tuple(
            (native, n, _SAME_WHEN_EQUAL[n]) for native, n in zip(self.natives, normal, strict=True)
        )

    def read(
        self, record: MappingABC[str, Any], today: date, needed: Collection[str] = ()
    ) -> tuple[Account, tuple[Unreadable, ...]]:
        return self.reader.read(record, today, needed)

    def outputs_of(self, record: MappingABC[str, Any]) -> dict[str, Any]:
        natives = self.natives
        return dict(zip(natives, map(record.get, natives), strict=True))

    def changed_fields(self, new: MappingABC[str, Any], current: MappingABC[str, Any]) -> list[str]:
        changed = []
        for native, normal, same in self.comparisons:
            x, y = new.get(native), current.get(native)
            if x.__class__ is y.__class__ and x.__class__ in same and x == y:
                continue
            if y is None:  # not written yet: every normaliser gives None for blanks only
                if not (x is None or x == "" or x == []):
                    changed.append(native)
            elif normal(x) != normal(y):
                changed.append(native)
        return changed
