"""Field values: how the store keeps them, how the API shows them (JSON and Bulk CSV) and how
a write is checked (per describe type).

The store keeps strings, numbers, booleans, dates as `YYYY-MM-DD` and datetimes in the store's
ISO form; the API shows datetimes as `2026-05-01T02:03:04.000+0000` (salesforce.md 4).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.store import StoredRecord, iso

TEXT_TYPES = {"string", "textarea", "url", "phone", "email", "reference", "id", "picklist"}
NUMBER_TYPES = {"currency", "double", "percent"}


class FieldProblem(Exception):
    """A value a field refuses: a SaveResult error `code` with `message`."""

    def __init__(self, code: str, message: str, field_name: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field_name


def sf_datetime(stored: str | None) -> str | None:
    """`2026-05-01T02:03:04+00:00` -> `2026-05-01T02:03:04.000+0000`."""
    if stored is None:
        return None
    return datetime.fromisoformat(stored).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def full_row(record: StoredRecord, sf_id: str) -> dict[str, Any]:
    """Every field of a stored record under its API name (system fields included)."""
    row = dict(record.data)
    row["Id"] = sf_id
    row["SystemModstamp"] = record.modified_time
    row.setdefault("CreatedDate", record.created_time)
    row.setdefault("LastModifiedDate", record.modified_time)
    row.setdefault("IsDeleted", False)
    return row


def render(kind: str, value: Any) -> Any:
    """A stored value as the REST API shows it in JSON."""
    if value is None:
        return None
    if kind == "datetime":
        return sf_datetime(value)
    if kind == "int":
        return int(value)
    if kind in NUMBER_TYPES:
        return float(value)
    return value


def render_csv(kind: str, value: Any) -> str:
    """A stored value as Bulk API 2.0 writes it in a CSV cell (empty for null)."""
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "datetime":
        return sf_datetime(value) or ""
    if kind in NUMBER_TYPES and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _digits_ok(value: float, fdef: FieldDef) -> bool:
    precision = fdef.length or 18
    scale = fdef.decimal_place or 0
    whole = abs(int(value))
    return len(str(whole)) <= max(1, precision - scale)


def check(fdef: FieldDef, value: Any, restricted: bool, picklist_values: set[str]) -> Any:
    """The stored form of `value` for `fdef`, or raise FieldProblem (Salesforce's codes)."""
    name = fdef.api_name
    kind = fdef.data_type
    if value is None:
        if fdef.system_mandatory:
            raise FieldProblem(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", name
            )
        return None
    wrong = FieldProblem(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{fdef.label}: value not of required type: {value}",
        name,
    )
    if kind in TEXT_TYPES or kind in ("textarea", "multipicklist"):
        if not isinstance(value, str):
            raise wrong
        if fdef.length and len(value) > fdef.length:
            raise FieldProblem(
                "STRING_TOO_LONG",
                f"{fdef.label}: data value too large: {value[:40]} (max length={fdef.length})",
                name,
            )
        if kind in ("picklist", "multipicklist") and restricted and value != "":
            chosen = value.split(";") if kind == "multipicklist" else [value]
            bad = [v for v in chosen if v not in picklist_values]
            if bad:
                raise FieldProblem(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{fdef.label}: bad value for restricted picklist field: {bad[0]}",
                    name,
                )
        return value
    if kind in NUMBER_TYPES or kind == "int":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise wrong
        if kind == "int" and not float(value).is_integer():
            raise wrong
        if not _digits_ok(float(value), fdef):
            raise FieldProblem(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{fdef.label}: value outside of valid range on numeric field: {value}",
                name,
            )
        return (
            int(value)
            if kind == "int"
            else (
                round(float(value), fdef.decimal_place or 0)
                if fdef.decimal_place is not None
                else float(value)
            )
        )
    if kind == "boolean":
        if not isinstance(value, bool):
            raise wrong
        return value
    if kind == "date":
        try:
            return (
                date.fromisoformat(str(value)[:10]).isoformat() if len(str(value)) == 10 else _bad()
            )
        except ValueError:
            raise wrong from None
    if kind == "datetime":
        try:
            text = str(value).replace("Z", "+00:00")
            if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
                text = text[:-2] + ":" + text[-2:]
            instant = datetime.fromisoformat(text)
        except ValueError:
            raise wrong from None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return iso(instant)
    return value


def _bad() -> str:
    raise ValueError("not a date")


def from_csv(kind: str, cell: str) -> Any:
    """A Bulk API 2.0 cell typed by its field (an empty cell and `#N/A` are handled before)."""
    if kind == "boolean":
        low = cell.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        return cell
    if kind in NUMBER_TYPES or kind == "int":
        try:
            number = float(cell)
        except ValueError:
            return cell
        return int(number) if kind == "int" and number.is_integer() else number
    return cell
