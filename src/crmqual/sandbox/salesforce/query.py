"""Running SOQL (the `soql` subset) over the store, and the REST `query` / `queryAll`
resources with `nextRecordsUrl` paging (salesforce.md section 4).

Account queries ordered by `Id` or by `SystemModstamp[, Id]` walk the store's indexes by
keyset (a `SystemModstamp >`/`>=` bound or an `Id IN` list narrows the walk), so paging a
million accounts stays flat; other orders are sorted in memory. Every page's cursor is a page
token in the store (so it survives a server restart): the locator id `01g...` followed by
`-{records sent}`, as Salesforce writes it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.salesforce.call import Call
from crmqual.sandbox.salesforce.errors import SalesforceError, json_response
from crmqual.sandbox.salesforce.ids import PREFIXES
from crmqual.sandbox.salesforce.objects import (
    Fields,
    canonical_object,
    fields_for,
    normalise_id,
    record_id,
    record_number,
)
from crmqual.sandbox.salesforce.soql import Compare, Condition, Literal, Logic, Query, parse
from crmqual.sandbox.salesforce.soql import compared_fields as comparisons
from crmqual.sandbox.salesforce.values import full_row, render
from crmqual.sandbox.store import SandboxStore, Scan, iso

Row = dict[str, Any]
_NUMBERS = {"currency", "double", "percent", "int"}
_TEXT = {"string", "textarea", "url", "phone", "email", "picklist", "multipicklist"}


def _no_column(query: Query, name: str, sobject: str, pos: int | None) -> SalesforceError:
    at = pos if pos is not None else query.field_pos.get(name.lower(), 0)
    return SalesforceError(
        400,
        "INVALID_FIELD",
        f"\n{query.text}\n{' ' * at}^\nERROR at Row:1:Column:{at + 1}\n"
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )


@dataclass
class Plan:
    """A parsed, checked query: what to walk, how to filter, what to show."""

    query: Query
    sobject: str
    fields: Fields
    selected: list[FieldDef]
    sort: list[tuple[FieldDef, bool, bool | None]]
    keyset: str | None  # "id" or "Modified_Time": a walk in the store's index order
    modified_after: str | None
    ids: list[int] | None
    tooling: bool = False

    def matches(self, row: Row) -> bool:
        return self.query.where is None or _holds(self.query.where, row, self.fields)


def plan(store: SandboxStore, text: str, user: int, tooling: bool = False) -> Plan:
    query = parse(text)
    sobject = canonical_object(query.sobject, tooling)
    if sobject is None:
        raise SalesforceError(
            400,
            "INVALID_TYPE",
            f"\n{text}\nERROR at Row:1:Column:{text.upper().find(' FROM ') + 7}\n"
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use a "
            "custom object, be sure to append the '__c' after the entity name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )
    seen = fields_for(store, sobject, user, tooling)
    selected = []
    for name in query.fields:
        fdef = seen.readable.get(name.lower())
        if fdef is None:
            raise _no_column(query, name, sobject, None)
        selected.append(fdef)
    for compare in comparisons(query.where):
        fdef = seen.readable.get(compare.field.lower())
        if fdef is None:
            raise _no_column(query, compare.field, sobject, compare.pos)
        for literal in compare.values:
            _check_literal(fdef, literal, query)
    sort = []
    for order in query.order:
        fdef = seen.readable.get(order.field.lower())
        if fdef is None:
            raise _no_column(query, order.field, sobject, None)
        sort.append((fdef, order.descending, order.nulls_last))
    names = [(f.api_name, desc) for f, desc, _ in sort]
    keyset: str | None = None
    if store_backed(sobject, tooling):
        if names in ([], [("Id", False)]):
            keyset = "id"
        elif names in ([("SystemModstamp", False)], [("SystemModstamp", False), ("Id", False)]):
            keyset = "Modified_Time"
    after, ids = _narrowing(query.where)
    return Plan(query, sobject, seen, selected, sort, keyset, after, ids, tooling)


def store_backed(sobject: str, tooling: bool) -> bool:
    return sobject == "Account" and not tooling


def _check_literal(fdef: FieldDef, literal: Literal, query: Query) -> None:
    kind = fdef.data_type
    if literal.kind == "null":
        return
    expected = {
        "datetime": ("datetime", "dateTime"),
        "date": ("date", "date"),
        "boolean": ("boolean", "boolean"),
    }.get(kind)
    if kind in _NUMBERS:
        expected = ("number", "number")
    if expected is None:  # text, ids, picklists
        if literal.kind != "string":
            raise _wrong_kind(fdef, "string", query, literal, quoted=True)
        return
    if literal.kind != expected[0]:
        raise _wrong_kind(fdef, expected[1], query, literal, quoted=False)


def _wrong_kind(
    fdef: FieldDef, kind: str, query: Query, literal: Literal, quoted: bool
) -> SalesforceError:
    how = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return SalesforceError(
        400,
        "INVALID_FIELD",
        f"\n{query.text}\n{' ' * literal.pos}^\nERROR at Row:1:Column:{literal.pos + 1}\n"
        f"value of filter criterion for field '{fdef.api_name}' must be of type {kind} and {how}",
    )


def _narrowing(where: Condition | None) -> tuple[str | None, list[int] | None]:
    """A SystemModstamp lower bound and an Id list from the top-level AND terms."""
    if where is None:
        return None, None
    terms = list(where.parts) if isinstance(where, Logic) and where.op == "AND" else [where]
    after: str | None = None
    ids: list[int] | None = None
    for term in terms:
        if not isinstance(term, Compare):
            continue
        name = term.field.lower()
        if name == "systemmodstamp" and term.op in (">", ">="):
            value = term.values[0].value
            if isinstance(value, datetime):
                bound = value if term.op == ">" else value - timedelta(seconds=1)
                text = iso(bound)
                after = text if after is None or text > after else after
        elif name == "id" and term.op in ("=", "IN"):
            numbers = []
            for literal in term.values:
                n = (
                    record_number("Account", str(literal.value))
                    if literal.kind == "string"
                    else None
                )
                if n is not None:
                    numbers.append(n)
            ids = numbers if ids is None else [n for n in ids if n in set(numbers)]
    return after, ids


def _value(row: Row, fdef: FieldDef) -> Any:
    return row.get(fdef.api_name)


def _literal_value(fdef: FieldDef, literal: Literal) -> Any:
    value = literal.value
    if literal.kind == "datetime":
        # Salesforce compares to the millisecond: a literal's fraction counts (stored times
        # are whole seconds, and their text sorts before the same second with a fraction)
        return iso(value) if not value.microsecond else value.astimezone(UTC).isoformat()
    if literal.kind == "date" and isinstance(value, date):
        return value.isoformat()
    if fdef.data_type in ("id", "reference") and isinstance(value, str):
        return normalise_id(value)
    return value


def _like(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


def _holds(cond: Condition, row: Row, seen: Fields) -> bool:
    if isinstance(cond, Logic):
        if cond.op == "AND":
            return all(_holds(p, row, seen) for p in cond.parts)
        if cond.op == "OR":
            return any(_holds(p, row, seen) for p in cond.parts)
        return not _holds(cond.parts[0], row, seen)
    fdef = seen.readable[cond.field.lower()]
    left = _value(row, fdef)
    if isinstance(left, str) and fdef.data_type in _TEXT:
        left_cmp: Any = left.lower()
    else:
        left_cmp = left
    rights = [_literal_value(fdef, lit) for lit in cond.values]
    rights = [r.lower() if isinstance(r, str) and fdef.data_type in _TEXT else r for r in rights]
    if cond.op == "IN":
        return left_cmp in rights
    if cond.op == "NOT IN":
        return left_cmp not in rights
    if cond.op == "LIKE":
        return left is not None and bool(_like(str(cond.values[0].value)).fullmatch(str(left)))
    return _compare(cond.op, left_cmp, rights[0])


def _rows(store: SandboxStore, p: Plan, after: tuple[Any, int] | None) -> Iterator[tuple[Any, Row]]:
    """(keyset, row) of matching records in walk order, from after `after`."""
    module = p.sobject
    if p.keyset is not None:
        spec = Scan(
            module,
            sort_by=p.keyset,
            modified_after=p.modified_after if p.keyset == "Modified_Time" else None,
            after=after,
            ids=p.ids,
        )
        if p.keyset == "id" and p.modified_after is not None:
            spec.modified_after = p.modified_after
        for rec in store.scan(spec):
            row = full_row(rec, record_id(module, rec.id))
            if p.matches(row):
                key = rec.modified_time if p.keyset == "Modified_Time" else rec.id
                yield (key, rec.id), row
        return
    rows = []
    for rec in store.scan(Scan(module)):
        row = full_row(rec, record_id(module, rec.id))
        if p.matches(row):
            rows.append(row)
    for fdef, descending, nulls_last in reversed(p.sort):
        last = nulls_last if nulls_last is not None else descending
        present = [r for r in rows if r.get(fdef.api_name) is not None]
        absent = [r for r in rows if r.get(fdef.api_name) is None]
        present.sort(key=_keyer(fdef.api_name), reverse=descending)
        rows = present + absent if last else absent + present
    for index, row in enumerate(rows):
        yield (index, index), row


def _keyer(name: str) -> Callable[[Row], Any]:
    def key(row: Row) -> Any:
        value = row.get(name)
        return value.lower() if isinstance(value, str) else value

    return key


def shown(p: Plan, row: Row, version: str) -> dict[str, Any]:
    """One record of a query answer: `attributes`, then the selected fields in order."""
    out: dict[str, Any] = {
        "attributes": {
            "type": p.sobject,
            "url": f"/services/data/v{version}/{'tooling/' if p.tooling else ''}sobjects/"
            f"{p.sobject}/{row['Id']}",
        }
    }
    for fdef in p.selected:
        out[fdef.api_name] = render(fdef.data_type, row.get(fdef.api_name))
    return out


def all_rows(store: SandboxStore, p: Plan) -> Iterator[Row]:
    """Every row of the query's result (LIMIT and OFFSET applied), for Bulk API 2.0."""
    skip = p.query.offset
    left = p.query.limit
    for _, row in _rows(store, p, None):
        if skip:
            skip -= 1
            continue
        if left is not None:
            if left == 0:
                return
            left -= 1
        yield row


def batch_size(call: Call) -> int:
    header = call.request.headers.get("Sforce-Query-Options", "")
    m = re.search(r"batchSize\s*=\s*(\d+)", header)
    lim = call.limits
    if m is None:
        return lim.default_batch
    return max(lim.min_batch, min(lim.max_batch, int(m.group(1))))


def query(call: Call, include_deleted: bool = False, tooling: bool = False) -> Response:
    """`GET query?q=` / `queryAll?q=`: the first page."""
    text = call.request.args.get("q")
    if text is None:
        raise SalesforceError(400, "MALFORMED_QUERY", "A query string is required")
    p = plan(call.store, text, call.user, tooling)
    if p.query.count:  # SELECT COUNT(): the row count as totalSize, no records
        total = sum(1 for _ in _rows(call.store, p, None))
        return json_response({"totalSize": total, "done": True, "records": []})
    batch = batch_size(call)
    state = {"q": text, "tooling": tooling, "all": include_deleted, "batch": batch}
    first: list[Row] = []
    total = 0
    last_key: Any = None
    skip = p.query.offset
    cap = p.query.limit
    for key, row in _rows(call.store, p, None):
        if skip:
            skip -= 1
            continue
        if cap is not None and total >= cap:
            break
        total += 1
        if len(first) < batch:
            first.append(row)
            last_key = key
    state.update({"total": total, "sent": len(first), "after": last_key, "user": call.user})
    return json_response(_page(call, p, first, state))


def _page(call: Call, p: Plan, rows: list[Row], state: dict[str, Any]) -> dict[str, Any]:
    done = state["sent"] >= state["total"]
    body: dict[str, Any] = {"totalSize": state["total"], "done": done}
    if not done:
        locator = state.get("locator") or _locator(call.store)
        state["locator"] = locator
        resource = "queryAll" if state["all"] else "query"
        prefix = f"{call.base()}/tooling" if state["tooling"] else call.base()
        token = f"{locator}-{state['sent']}"
        expires = iso(call.now + timedelta(days=1))
        call.store.put_page_token(f"sf:{token}", state, expires)
        body["nextRecordsUrl"] = f"{prefix}/{resource}/{token}"
    body["records"] = [shown(p, row, call.version) for row in rows]
    return body


def _locator(store: SandboxStore) -> str:
    from crmqual.sandbox.salesforce.ids import sf_id

    number = store.next_ids(1, 1_000)[0]
    return sf_id(PREFIXES["QueryLocator"], number * 1000 + secrets.randbelow(1000))


def query_more(
    call: Call, locator: str, include_deleted: bool = False, tooling: bool = False
) -> Response:
    """`GET query/{locator}-{n}`: the next page."""
    found = call.store.get_page_token(f"sf:{locator}")
    if found is None or found[1] <= iso(call.now):
        raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    state = dict(found[0])
    p = plan(call.store, state["q"], int(state["user"]), bool(state["tooling"]))
    batch = int(state["batch"])
    remaining = int(state["total"]) - int(state["sent"])
    rows: list[Row] = []
    if p.keyset is not None:
        after = state["after"]
        for key, row in _rows(call.store, p, (after[0], after[1]) if after else None):
            if len(rows) >= min(batch, remaining):
                break
            rows.append(row)
            state["after"] = key
    else:
        start = int(state["sent"]) + p.query.offset
        for index, (_, row) in enumerate(_rows(call.store, p, None)):
            if index < start:
                continue
            if len(rows) >= min(batch, remaining):
                break
            rows.append(row)
    state["sent"] = int(state["sent"]) + len(rows)
    if len(rows) < min(batch, remaining):  # records changed under the cursor
        state["total"] = state["sent"]
    return json_response(_page(call, p, rows, state))
