"""crmqual's output values as Salesforce takes them, in JSON (sObject Collections) and in a
Bulk API 2.0 CSV cell, and whether a value read back is the one sent (reconciling a write
whose answer was lost).

Multi-select picklists are one ``;``-joined string (not confirmed, salesforce.md 5);
date-times go in UTC; in a Bulk CSV an empty cell leaves a field unchanged, so a value to be
cleared is written ``#N/A`` (salesforce.md 6).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crmqual.outputs import LIST_SEPARATOR
from crmqual.times import parse_time

BULK_NULL = "#N/A"


def to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list | tuple | set | frozenset):
        return LIST_SEPARATOR.join(str(v) for v in value) or None
    if isinstance(value, str) and value == "":
        return None
    return value


def to_csv(value: Any) -> str:
    plain = to_json(value)
    if plain is None:
        return BULK_NULL
    if isinstance(plain, bool):
        return "true" if plain else "false"
    return str(plain)


def carries(sent: Any, got: Any) -> bool:
    """Does a field read back (``got``, as Salesforce answers it) hold the value ``sent``?"""
    mine = to_json(sent)
    if mine is None:
        return got is None or got == ""
    if got is None:
        return False
    if isinstance(mine, bool):
        return str(got).lower() == str(mine).lower()
    if isinstance(mine, int | float):
        try:
            return math.isclose(float(got), float(mine), rel_tol=1e-9, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    if isinstance(sent, Collection) and not isinstance(sent, str):
        return _items(mine) == _items(got)
    text, theirs = str(mine).strip(), str(got).strip()
    if text == theirs:
        return True
    a, b = parse_time(text), parse_time(theirs)  # one instant, written in two forms
    return a is not None and b is not None and "T" in text and a == b


def _items(value: Any) -> frozenset[str]:
    return frozenset(v.strip() for v in str(value).split(LIST_SEPARATOR) if v.strip())
