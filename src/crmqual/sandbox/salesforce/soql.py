"""The SOQL subset the sandbox understands, parsed into a `Query` (salesforce.md section 4).

    SELECT field, ... FROM Object
    [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]

Conditions: `field op literal` with `= != <> < <= > >=`, `field [NOT] IN (literal, ...)`,
`field LIKE 'pattern'`, joined by `AND` / `OR` / `NOT` with parentheses. Literals: quoted
strings with SOQL's backslash escapes, unquoted dateTime (`2026-05-01T00:00:00Z`, with
fractions or a `+hh:mm` offset) and date (`2026-05-01`) literals, numbers, `true`, `false`,
`null`. `SELECT COUNT() FROM Object [WHERE condition]` counts rows (answered as `totalSize`
with no records). Errors are Salesforce's: `MALFORMED_QUERY` (400) for syntax, `INVALID_FIELD` for
unknown fields and for literals of the wrong kind, `INVALID_TYPE` for an unknown object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from crmqual.sandbox.salesforce.errors import SalesforceError, malformed

_KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "ORDER", "BY", "ASC", "DESC",
    "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "LIKE", "TRUE", "FALSE", "NULL",
}  # fmt: skip
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
    |(?P<number>-?\d+(?:\.\d+)?)(?![\w])
    |(?P<string>')
    |(?P<op><>|!=|<=|>=|=|<|>)
    |(?P<punct>[(),])
    |(?P<name>[A-Za-z_][\w.]*)
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


@dataclass(frozen=True)
class Token:
    kind: str  # name, keyword, string, datetime, date, number, op, punct, end
    text: str
    value: Any
    pos: int


@dataclass(frozen=True)
class Literal:
    kind: str  # string, datetime, date, number, boolean, null
    value: Any
    pos: int


@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # = != < <= > >= IN NOT IN LIKE
    values: tuple[Literal, ...]
    pos: int


@dataclass(frozen=True)
class Logic:
    op: str  # AND OR NOT
    parts: tuple[Condition, ...]


Condition = Compare | Logic


@dataclass(frozen=True)
class Order:
    field: str
    descending: bool = False
    nulls_last: bool | None = None


@dataclass
class Query:
    text: str
    fields: list[str]
    sobject: str
    where: Condition | None = None
    order: list[Order] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    field_pos: dict[str, int] = field(default_factory=dict)
    #: `SELECT COUNT() FROM ...`: only `totalSize` is answered, no records
    count: bool = False


def _string(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "'":
            return "".join(out), i + 1
        if char == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt in ("_", "%"):  # valid inside LIKE only; kept escaped for the pattern
                out.append("\\" + nxt)
                i += 2
                continue
            raise malformed(
                f"\n{text}\n{' ' * i}^\nERROR at Row:1:Column:{i + 1}\n"
                "Invalid string literal. Illegal character sequence "
                f"'\\{nxt}' in string literal."
            )
        out.append(char)
        i += 1
    raise malformed(
        f"\n{text}\nERROR at Row:1:Column:{start + 1}\nunexpected token: '{text[start:]}'"
    )


def _datetime(text: str) -> datetime:
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text).astimezone(UTC)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            raise _unexpected(text, i, text[i])
        kind = m.lastgroup or ""
        if kind == "ws":
            i = m.end()
            continue
        if kind == "string":
            value, end = _string(text, i)
            tokens.append(Token("string", text[i:end], value, i))
            i = end
            continue
        raw = m.group()
        parsed: Any = raw
        try:
            if kind == "datetime":
                parsed = _datetime(raw)
            elif kind == "date":
                parsed = date.fromisoformat(raw)
        except ValueError:
            raise _unexpected(text, i, raw) from None
        if kind == "number":
            parsed = float(raw) if "." in raw else int(raw)
        if kind == "name" and raw.upper() in _KEYWORDS:
            kind, parsed = "keyword", raw.upper()
        tokens.append(Token(kind, raw, parsed, i))
        i = m.end()
    tokens.append(Token("end", "", None, len(text)))
    return tokens


def _unexpected(text: str, pos: int, token: str) -> SalesforceError:
    shown = token if token else "<EOF>"
    return malformed(
        f"\n{text}\n{' ' * pos}^\nERROR at Row:1:Column:{pos + 1}\nunexpected token: '{shown}'"
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, token: Token | None = None) -> SalesforceError:
        token = token or self.peek()
        return _unexpected(self.text, token.pos, token.text)

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "keyword" and token.value == word:
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise self.fail()

    def name(self) -> Token:
        token = self.take()
        if token.kind != "name":
            raise self.fail(token)
        return token

    def parse(self) -> Query:
        self.expect("SELECT")
        fields: list[str] = []
        positions: dict[str, int] = {}
        if self._count():
            self.expect("FROM")
            query = Query(self.text, [], self.name().text, count=True)
            if self.keyword("WHERE"):
                query.where = self.expr()
            if self.peek().kind != "end":
                raise self.fail()
            return query
        while True:
            token = self.name()
            fields.append(token.text)
            positions.setdefault(token.text.lower(), token.pos)
            if not (self.peek().kind == "punct" and self.peek().text == ","):
                break
            self.take()
        self.expect("FROM")
        query = Query(self.text, fields, self.name().text, field_pos=positions)
        if self.keyword("WHERE"):
            query.where = self.expr()
        if self.keyword("ORDER"):
            self.expect("BY")
            while True:
                name = self.name().text
                descending = False
                if self.keyword("DESC"):
                    descending = True
                else:
                    self.keyword("ASC")
                nulls_last = None
                if self.keyword("NULLS"):
                    if self.keyword("LAST"):
                        nulls_last = True
                    else:
                        self.expect("FIRST")
                        nulls_last = False
                query.order.append(Order(name, descending, nulls_last))
                if not (self.peek().kind == "punct" and self.peek().text == ","):
                    break
                self.take()
        if self.keyword("LIMIT"):
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            query.offset = self.integer()
        if self.peek().kind != "end":
            raise self.fail()
        return query

    def _count(self) -> bool:
        """`COUNT()` as the whole field list (SOQL's row count; no alias, no field)."""
        head = self.tokens[self.i : self.i + 3]
        if [t.text.upper() if t.kind == "name" else t.text for t in head] != ["COUNT", "(", ")"]:
            return False
        self.i += 3
        return True

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise self.fail(token)
        return int(token.value)

    def expr(self) -> Condition:
        parts = [self.conj()]
        while self.keyword("OR"):
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else Logic("OR", tuple(parts))

    def conj(self) -> Condition:
        parts = [self.unary()]
        while self.keyword("AND"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Logic("AND", tuple(parts))

    def unary(self) -> Condition:
        if self.keyword("NOT"):
            return Logic("NOT", (self.unary(),))
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            self.take()
            inner = self.expr()
            closing = self.take()
            if closing.text != ")":
                raise self.fail(closing)
            return inner
        name = self.name()
        if self.keyword("NOT"):
            self.expect("IN")
            return Compare(name.text, "NOT IN", self.values(), name.pos)
        if self.keyword("IN"):
            return Compare(name.text, "IN", self.values(), name.pos)
        if self.keyword("LIKE"):
            literal = self.literal()
            if literal.kind != "string":
                raise self.fail()
            return Compare(name.text, "LIKE", (literal,), name.pos)
        op = self.take()
        if op.kind != "op":
            raise self.fail(op)
        return Compare(name.text, "!=" if op.text == "<>" else op.text, (self.literal(),), name.pos)

    def values(self) -> tuple[Literal, ...]:
        opening = self.take()
        if opening.text != "(":
            raise self.fail(opening)
        out = [self.literal()]
        while self.peek().text == ",":
            self.take()
            out.append(self.literal())
        closing = self.take()
        if closing.text != ")":
            raise self.fail(closing)
        return tuple(out)

    def literal(self) -> Literal:
        token = self.take()
        if token.kind in ("string", "datetime", "date", "number"):
            return Literal(token.kind, token.value, token.pos)
        if token.kind == "keyword" and token.value in ("TRUE", "FALSE"):
            return Literal("boolean", token.value == "TRUE", token.pos)
        if token.kind == "keyword" and token.value == "NULL":
            return Literal("null", None, token.pos)
        raise self.fail(token)


def parse(text: str) -> Query:
    """The query `text` means; raises `SalesforceError` (MALFORMED_QUERY) if it is not SOQL
    the sandbox understands."""
    if not text or not text.strip():
        raise malformed("A query string is required")
    return _Parser(text).parse()


def compared_fields(condition: Condition | None) -> list[Compare]:
    """Every comparison in a condition, depth first."""
    if condition is None:
        return []
    if isinstance(condition, Compare):
        return [condition]
    return [c for part in condition.parts for c in compared_fields(part)]
