"""COQL: `POST /crm/v8/coql` with `{"select_query": "..."}` (zoho.md section 5).

The subset served: `select <fields> from <module> where <condition> [order by <field> [asc|desc],
...] [limit <n> | limit <offset>, <n> | limit <n> offset <offset>]`, conditions built from
`= != < <= > >=`, `[not] in (...)`, `[not] like '%x%'`, `is [not] null`, `[not] between a and b`
joined by `and`/`or` with brackets. Limits per version (COQL-L): v8 LIMIT <= 2,000 (default 200)
and OFFSET + LIMIT <= 10,000; v2 200 and 200. Errors are HTTP 400 with the OAS codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.store import Scan
from crmqual.sandbox.zoho.call import Call, empty_response, json_response
from crmqual.sandbox.zoho.criteria import coerce
from crmqual.sandbox.zoho.errors import ZohoError
from crmqual.sandbox.zoho.records import full_values, render
from crmqual.sandbox.zoho.scopes import module_scope

MAX_COLUMNS = 50
MAX_CRITERIA = 25
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>|\(|\)|,|\*)"
    r"|(?P<word>[A-Za-z_$][A-Za-z0-9_.$]*))"
)
Predicate = Callable[[dict[str, Any]], bool]


def _syntax(near: str) -> ZohoError:
    return ZohoError.of(400, "SYNTAX_ERROR", "invalid query formed", {"clause": near})


def _invalid_column(name: str) -> ZohoError:
    return ZohoError.of(
        400, "INVALID_QUERY", "column given seems to be invalid", {"column_name": name}
    )


@dataclass
class Query:
    columns: list[str]
    module: str
    where: Predicate
    order: list[tuple[str, bool]]
    offset: int
    limit: int


class _Parser:
    def __init__(self, text: str, fields_of: Callable[[str], dict[str, FieldDef]]) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip().rstrip(";")
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise _syntax(text[pos : pos + 20])
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.i = 0
        self.fields_of = fields_of
        self.fields: dict[str, FieldDef] = {}
        self.criteria = 0

    def peek(self) -> str:
        return self.tokens[self.i][1].lower() if self.i < len(self.tokens) else ""

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise _syntax("end of query")
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, word: str) -> None:
        if self.peek() != word:
            raise _syntax(self.peek() or word)
        self.i += 1

    def name(self) -> str:
        kind, value = self.take()
        if kind != "word":
            raise _syntax(value)
        return value

    def parse(self) -> Query:
        self.expect("select")
        columns = [self.name()]
        while self.peek() == ",":
            self.take()
            columns.append(self.name())
        self.expect("from")
        module = self.name()
        self.fields = self.fields_of(module)
        for column in columns:
            self.field(column)
        if len(columns) > MAX_COLUMNS:
            raise ZohoError.of(
                400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": MAX_COLUMNS, "by": "select"}
            )
        if self.peek() != "where":
            raise _syntax("where")
        self.take()
        where = self.condition()
        order: list[tuple[str, bool]] = []
        if self.peek() == "order":
            self.take()
            self.expect("by")
            while True:
                column = self.field(self.name())
                descending = False
                if self.peek() in ("asc", "desc"):
                    descending = self.take()[1].lower() == "desc"
                order.append((column, descending))
                if self.peek() != ",":
                    break
                self.take()
        offset, limit = 0, 200
        if self.peek() == "limit":
            self.take()
            limit = self.integer()
            if self.peek() == ",":
                self.take()
                offset, limit = limit, self.integer()
            elif self.peek() == "offset":
                self.take()
                offset = self.integer()
        if self.i != len(self.tokens):
            raise _syntax(self.tokens[self.i][1])
        return Query(columns, module, where, order, offset, limit)

    def integer(self) -> int:
        kind, value = self.take()
        if kind != "num" or not value.isdigit():
            raise _syntax(value)
        return int(value)

    def field(self, name: str) -> str:
        if name != "id" and name not in self.fields:
            raise _invalid_column(name)
        return name

    def value(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return int(value) if value.lstrip("-").isdigit() else float(value)
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        if value.lower() == "null":
            return None
        raise _syntax(value)

    def condition(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek() == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.factor()]
        while self.peek() == "and":
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def factor(self) -> Predicate:
        if self.peek() == "(":
            self.take()
            inner = self.condition()
            self.expect(")")
            return inner
        self.criteria += 1
        if self.criteria > MAX_CRITERIA:
            raise ZohoError.of(
                400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": MAX_CRITERIA, "by": "where"}
            )
        column = self.field(self.name())
        kind = "lookup_id" if column == "id" else self.fields[column].data_type
        negate = False
        if self.peek() == "is":
            self.take()
            if self.peek() == "not":
                self.take()
                negate = True
            self.expect("null")
            return lambda r: (r.get(column) in (None, "", [])) != negate
        if self.peek() == "not":
            self.take()
            negate = True
        word = self.peek()
        if word == "in":
            self.take()
            self.expect("(")
            values = [coerce(self.value(), kind)]
            while self.peek() == ",":
                self.take()
                values.append(coerce(self.value(), kind))
            self.expect(")")
            return lambda r: (coerce(r.get(column), kind) in values) != negate
        if word == "like":
            self.take()
            pattern = str(self.value())
            regex = re.compile(
                "^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$", re.IGNORECASE
            )
            return lambda r: bool(regex.match(str(r.get(column) or ""))) != negate
        if word == "between":
            self.take()
            low = coerce(self.value(), kind)
            self.expect("and")
            high = coerce(self.value(), kind)
            return lambda r: _between(coerce(r.get(column), kind), low, high) != negate
        kind_op, op = self.take()
        if kind_op != "op" or op not in ("=", "!=", "<>", "<", "<=", ">", ">="):
            raise _syntax(op)
        right = coerce(self.value(), kind)
        return lambda r: _compare(coerce(r.get(column), kind), op, right)


def _between(value: Any, low: Any, high: Any) -> bool:
    try:
        return value is not None and bool(low <= value <= high)
    except TypeError:
        return False


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "=":
        return left is not None and bool(left == right)
    if op in ("!=", "<>"):
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool(
            {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
        )
    except TypeError:
        return False


def _sort_key(column: str, fields: dict[str, FieldDef]) -> Callable[[dict[str, Any]], Any]:
    kind = "lookup_id" if column == "id" else fields[column].data_type

    def key(values: dict[str, Any]) -> Any:
        value = coerce(values.get(column), kind)
        if kind == "lookup_id" and value is not None:
            value = int(value)
        return (value is None, value if value is not None else 0)

    return key


def coql(call: Call) -> Response:
    """Run a COQL query over the store (a scan: fine for tests and demos, not for speed)."""
    body = call.json_body()
    text = body.get("select_query") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise _syntax("select_query")
    match = re.search(r"\bfrom\s+([A-Za-z_]+)", text, re.IGNORECASE)
    module = match.group(1) if match else "Accounts"
    call.require((("ZohoCRM.coql.READ",), (module_scope(module, "READ"),)))

    def fields_of(name: str) -> dict[str, FieldDef]:
        if name not in call.store.modules():
            raise ZohoError.of(400, "INVALID_QUERY", "invalid query formed", {"module": name})
        return call.module_fields(name)

    parser = _Parser(text, fields_of)
    query = parser.parse()
    per_call, reach = (200, 200) if call.version == "v2" else (2000, 10_000)
    if query.limit > per_call or query.limit < 1:
        raise ZohoError.of(
            400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": per_call, "by": "limit"}
        )
    if query.offset + query.limit > reach:
        raise ZohoError.of(
            400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": reach, "by": "offset"}
        )
    matched = [
        (values, record)
        for record in call.store.scan(Scan(query.module))
        if query.where(values := full_values(record))
    ]
    for column, descending in reversed(query.order):
        by_values = _sort_key(column, parser.fields)

        def key(pair: tuple[dict[str, Any], Any], by: Any = by_values) -> Any:
            return by(pair[0])

        matched.sort(key=key, reverse=descending)
    window = matched[query.offset : query.offset + query.limit]
    if not window:
        return empty_response(204)
    data = [render(record, query.columns) for _, record in window]
    info = {"count": len(data), "more_records": len(matched) > query.offset + query.limit}
    return json_response({"data": data, "info": info})
