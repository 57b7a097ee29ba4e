"""How an assessment is kept in its row, each fact once, and read back.

A sync's row (``AssessmentIn.result`` given) is slim:

* the outputs the report and the lab query are typed columns (status, grade, score, limit,
  its currency, terms, flags, completeness, and the account's name, currency, exposure and
  statement date);
* reasons are ``[code, text id, value]``: each text template is stored once, in
  ``reason_texts``, and rendered when read;
* the native values written are not stored: they are rendered again from the outputs with
  the run's output layout (``runs.layout``: the mapping's output rules and the policy's
  labels), exactly as the sync rendered them;
* the CRM's values before the write are stored only when there were some;
* the account's inputs are a positional list (``INPUTS_V1``), packed with msgpack, without
  the fields held in columns; a flag says whether they are a validated Account's, which
  read back as one without validating again (``decode_account``).

Any other row (a revert's, one recorded before schema 0007, or a caller's own shape) keeps
what it was given as JSON, and fills the typed columns from it as far as they are there.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Collection
from collections.abc import Mapping as MappingABC
from datetime import date, datetime
from enum import Enum
from operator import attrgetter
from typing import Any

import msgpack
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from crmqual.engine import Assessment
from crmqual.model import Account, kept_account

NoneType = type(None)

#: Account inputs kept only when a setting asks (``sync.keep_personal_data``) or the policy's
#: rules read them: people's names and addresses, which neither the scorecard nor the lab use.
PERSONAL = ("legal_representative", "registered_address", "website", "owner")

#: Account inputs held in columns of their own (the report reads them in SQL).
IN_COLUMNS = {
    "name": "name",
    "currency": "currency",
    "current_exposure": "exposure",
    "period_end": "period_end",
}

#: Layout 1 of the positional inputs: every Account field but ``id`` and those in columns.
#: A new Account field is appended as a new layout (old rows keep theirs). So is a change of
#: a field's type or checks: ``VALIDATED`` rows are read back without validating again.
INPUTS_V1: tuple[str, ...] = tuple(
    f for f in Account.model_fields if f != "id" and f not in IN_COLUMNS
)
_INPUT_LAYOUTS = {1: INPUTS_V1}
_ALLOWED = frozenset({"id", *INPUTS_V1, *IN_COLUMNS})
_POSITION = {name: i for i, name in enumerate(INPUTS_V1)}


def _json_native(annotation: Any) -> bool:
    """Are a model field's values JSON's own (text, numbers, booleans), as they are?"""
    for option in typing.get_args(annotation) or (annotation,):
        if typing.get_origin(option) is typing.Annotated:
            option = typing.get_args(option)[0]
        if option not in (NoneType, str, int, float, bool):
            return False
    return True


#: An Account's inputs in ``INPUTS_V1``'s order, read off the model at once.
_INPUT_VALUES = attrgetter(*INPUTS_V1)
#: Where in ``INPUTS_V1`` the inputs whose model values JSON has no type for (dates, a
#: time, an enum) are: they are kept as pydantic's JSON mode gives them.
_NOT_JSON = tuple(
    i for i, name in enumerate(INPUTS_V1) if not _json_native(Account.model_fields[name].annotation)
)


def _reading_of(name: str) -> Callable[[Any], Any]:
    """How a model field's JSON value reads back as the model holds it (pydantic's own
    reading: an ISO date as a date, a status as its enum)."""
    annotation: Any = Account.model_fields[name].annotation
    return TypeAdapter(annotation).validate_python


#: How the packed inputs whose values JSON has no type for read back, by name.
_FROM_JSON = tuple(
    (name, _reading_of(name))
    for name, field in Account.model_fields.items()
    if name != "id" and name not in IN_COLUMNS and not _json_native(field.annotation)
)

#: The flags of packed inputs: the account's id was given; the values are a validated
#: Account's (the model's own values, in JSON form), so they read back as one unchecked.
HAS_ID, VALIDATED = 1, 2


def account_dict(
    account: MappingABC[str, Any] | Account, leave_out: Collection[str] = ()
) -> dict[str, Any]:
    """The inputs a row keeps as a dict: an Account's JSON values but its nulls and
    ``leave_out`` (a dict is taken as it is)."""
    if isinstance(account, Account):
        return account.model_dump(mode="json", exclude=set(leave_out), exclude_none=True)
    return dict(account)


def encode_inputs(
    account_id: str, account: MappingABC[str, Any] | Account, leave_out: Collection[str] = ()
) -> bytes | None:
    """The account's inputs as ``[layout, flags, values...]`` in ``INPUTS_V1``'s order
    (trailing nulls left out), those ``leave_out`` names null; an Account's as
    ``account_dict`` gives them, read off the model without the dict, and flagged
    ``VALIDATED``. ``None`` when a dict holds something else than Account fields, or the
    account another id (kept as JSON instead)."""
    if isinstance(account, Account):
        if account.id != account_id:
            return None
        values = list(_INPUT_VALUES(account))
        for i in _NOT_JSON:
            value = values[i]
            if value is not None:  # an enum's value is its JSON, at a tenth of the cost
                values[i] = value.value if isinstance(value, Enum) else to_jsonable_python(value)
        flags = HAS_ID | VALIDATED
    else:
        if not _ALLOWED.issuperset(account) or account.get("id") not in (None, account_id):
            return None
        values = list(map(account.get, INPUTS_V1))
        flags = HAS_ID if "id" in account else 0
    for name in leave_out:
        if name in _POSITION:
            values[_POSITION[name]] = None
    while values and values[-1] is None:
        values.pop()
    return msgpack.packb([1, flags, *values])  # type: ignore[no-any-return]


def decode_inputs(account_id: str, packed: bytes, columns: MappingABC[str, Any]) -> dict[str, Any]:
    """The account dict ``encode_inputs`` took (its null values left out), with the values
    held in columns put back."""
    layout, flags, *values = msgpack.unpackb(packed)
    account: dict[str, Any] = {"id": account_id} if flags & HAS_ID else {}
    for name, column in IN_COLUMNS.items():
        value = columns[column]
        if value is not None:
            account[name] = value.isoformat() if isinstance(value, date) else value
    account.update(
        {k: v for k, v in zip(_INPUT_LAYOUTS[layout], values, strict=False) if v is not None}
    )
    return account


def decode_account(account_id: str, packed: bytes, columns: MappingABC[str, Any]) -> Account | None:
    """The Account whose inputs ``encode_inputs`` packed, as it was (but for the inputs left
    out), read back without validating again; None unless they were a validated Account's
    (``VALIDATED``): others must be validated (``decode_inputs`` gives their dict)."""
    layout, flags, *values = msgpack.unpackb(packed)
    if not flags & VALIDATED:
        return None
    names = _INPUT_LAYOUTS[layout]
    account = {k: v for k, v in zip(names, values, strict=False) if v is not None}
    for name, from_json in _FROM_JSON:
        value = account.get(name)
        if value is not None:
            account[name] = from_json(value)
    for name, column in IN_COLUMNS.items():
        value = columns[column]
        if value is not None:
            account[name] = value
    account["id"] = account_id
    return kept_account(account)


#: The columns ``account_values`` fills, in its order.
ACCOUNT_COLUMNS = ("name", "currency", "exposure", "period_end")


def account_values(account: MappingABC[str, Any] | Account) -> tuple[Any, ...]:
    """The account's values held in columns (``ACCOUNT_COLUMNS``)."""
    if isinstance(account, Account):
        name, currency = account.name, account.currency
        exposure, period_end = account.current_exposure, account.period_end
    else:
        name, currency = account.get("name"), account.get("currency")
        exposure, period_end = account.get("current_exposure"), account.get("period_end")
    return (
        _text(name),
        _text(currency),
        float(exposure) if isinstance(exposure, int | float) else None,
        _date(period_end),
    )


def account_columns(account: MappingABC[str, Any] | Account) -> dict[str, Any]:
    """``account_values`` by column."""
    return dict(zip(ACCOUNT_COLUMNS, account_values(account), strict=True))


def output_columns(outputs: MappingABC[str, Any]) -> dict[str, Any]:
    """The outputs' values held in columns (as far as ``outputs`` has them)."""
    limit = outputs.get("credit_limit")
    score = outputs.get("score")
    completeness = outputs.get("data_completeness")
    flags = outputs.get("flags")
    return {
        "credit_status": _text(outputs.get("status")),
        "score": int(score) if isinstance(score, int | float) else None,
        "credit_limit": float(limit) if isinstance(limit, int | float) else None,
        "limit_currency": _text(outputs.get("limit_currency")),
        "payment_terms": _text(outputs.get("payment_terms")),
        "flags": [str(f) for f in flags] if isinstance(flags, list) else None,
        "data_completeness": int(completeness) if isinstance(completeness, int | float) else None,
        "downgraded_at": _datetime(outputs.get("downgraded_at")),
    }


#: The output columns ``result_values`` fills, in its order.
RESULT_COLUMNS = (
    "credit_status",
    "score",
    "credit_limit",
    "limit_currency",
    "payment_terms",
    "flags",
    "data_completeness",
    "downgraded_at",
)


def result_values(result: Assessment) -> tuple[Any, ...]:
    """A sync's outputs as columns (``RESULT_COLUMNS``; what ``RowReader.assessment`` reads
    back)."""
    return (
        result.status,
        result.score,
        None if result.credit_limit is None else float(result.credit_limit),
        result.limit_currency,
        result.payment_terms,
        list(result.flags),
        result.data_completeness,
        result.downgraded_at,
    )


def compact_previous(previous: MappingABC[str, Any]) -> dict[str, Any] | None:
    """The CRM's values before a write, only those there were (``None``: none at all)."""
    kept = {k: v for k, v in previous.items() if v is not None}
    return kept or None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None
