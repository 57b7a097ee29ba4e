"""Zoho's search criteria, `((Field:operator:value)and(Field:operator:value))` (zoho.md 5).

`parse(text)` gives a predicate tree; `matches(tree, record, fields)` evaluates it against one
record's values. Backslash escapes commas and parentheses inside values. Comparison follows the
field's type: numbers as numbers, dates and datetimes as instants, text case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmqual.sandbox.fielddef import FieldDef

V2_OPERATORS = frozenset({"equals", "starts_with"})
V8_OPERATORS = frozenset(
    {
        "equals",
        "not_equal",
        "starts_with",
        "in",
        "not_in",
        "greater_than",
        "greater_equal",
        "less_than",
        "less_equal",
        "between",
        "not_between",
    }
)
MAX_CONDITIONS = 10


class CriteriaError(ValueError):
    """The criteria text cannot be parsed or names something that does not exist."""


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    operator: str  # "and" | "or"
    parts: tuple[Condition | Group, ...]


Tree = Condition | Group


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> Tree:
        tree = self._expression()
        if self.pos != len(self.text):
            raise CriteriaError(f"unexpected text at {self.pos}: {self.text[self.pos :]!r}")
        return tree

    def _expression(self) -> Tree:
        parts = [self._group()]
        joins: set[str] = set()
        while self.text.startswith(("and", "or"), self.pos):
            join = "and" if self.text.startswith("and", self.pos) else "or"
            self.pos += len(join)
            joins.add(join)
            parts.append(self._group())
        if len(joins) > 1:
            raise CriteriaError("mixing and/or needs brackets")
        return parts[0] if len(parts) == 1 else Group(joins.pop(), tuple(parts))

    def _group(self) -> Tree:
        if not self.text.startswith("(", self.pos):
            raise CriteriaError(f"expected '(' at {self.pos}")
        self.pos += 1
        nested = self.text.startswith("(", self.pos)
        tree: Tree = self._expression() if nested else self._condition()
        if not self.text.startswith(")", self.pos):
            raise CriteriaError(f"expected ')' at {self.pos}")
        self.pos += 1
        return tree

    def _condition(self) -> Condition:
        raw: list[str] = []
        escaped = False
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if escaped:
                raw.append("\\" + ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == ")":
                break
            else:
                raw.append(ch)
            self.pos += 1
        pieces = "".join(raw).split(":", 2)
        if len(pieces) != 3:
            raise CriteriaError(f"condition needs field:operator:value, got {''.join(raw)!r}")
        field, operator, value = pieces
        return Condition(field.strip(), operator.strip(), _split_values(value))


def _split_values(text: str) -> tuple[str, ...]:
    values: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if text[i] == ",":
            values.append("".join(current))
            current = []
        else:
            current.append(text[i])
        i += 1
    values.append("".join(current))
    return tuple(values)


def conditions(tree: Tree) -> list[Condition]:
    if isinstance(tree, Condition):
        return [tree]
    return [c for part in tree.parts for c in conditions(part)]


def parse(text: str, fields: dict[str, FieldDef], operators: frozenset[str]) -> Tree:
    """Parse and check against the module's fields and the version's operators."""
    tree = _Parser(text.strip()).parse()
    found = conditions(tree)
    if len(found) > MAX_CONDITIONS:
        raise CriteriaError(f"at most {MAX_CONDITIONS} criteria")
    for cond in found:
        if cond.field != "id" and cond.field not in fields:
            raise CriteriaError(f"no field {cond.field!r}")
        if cond.operator not in operators:
            raise CriteriaError(f"operator {cond.operator!r} not supported")
        if cond.operator in ("between", "not_between") and len(cond.values) != 2:
            raise CriteriaError("between needs two values")
    return tree


def coerce(value: Any, data_type: str) -> Any:
    """Make a criteria value or a stored value comparable under the field's type."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("id") or value.get("name")
    if data_type in ("integer", "bigint", "double", "currency", "percent", "decimal"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if data_type == "datetime":
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    if data_type == "boolean":
        return str(value).lower() == "true"
    if data_type == "lookup_id":
        return str(value)
    return str(value).lower()


def _compare(cond: Condition, stored: Any, data_type: str) -> bool:
    left = coerce(stored, data_type)
    rights = [coerce(v, data_type) for v in cond.values]
    op = cond.operator
    if op == "equals":
        return left is not None and bool(left == rights[0])
    if op == "not_equal":
        return bool(left != rights[0])
    if op == "in":
        return left in rights
    if op == "not_in":
        return left not in rights
    if op == "starts_with":
        return left is not None and str(left).startswith(str(rights[0]))
    if left is None or any(r is None for r in rights):
        return False
    if op == "greater_than":
        return bool(left > rights[0])
    if op == "greater_equal":
        return bool(left >= rights[0])
    if op == "less_than":
        return bool(left < rights[0])
    if op == "less_equal":
        return bool(left <= rights[0])
    inside = bool(rights[0] <= left <= rights[1])
    return inside if op == "between" else not inside


def matches(tree: Tree, values: dict[str, Any], fields: dict[str, FieldDef]) -> bool:
    """Does a record (all its values, system fields included) satisfy the criteria?"""
    if isinstance(tree, Group):
        results = (matches(part, values, fields) for part in tree.parts)
        return all(results) if tree.operator == "and" else any(results)
    data_type = "lookup_id" if tree.field == "id" else fields[tree.field].data_type
    return bool(_compare(tree, values.get(tree.field), data_type))
