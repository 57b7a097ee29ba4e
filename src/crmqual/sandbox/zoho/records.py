"""Zoho's record API: list, get one, search, update (zoho.md sections 4-6).

Paging: `page` reaches the first `limits.page_records` records (v8; v2 pages without a cap, see
the README); every page that has more records also carries a `next_page_token`, a keyset cursor
kept in the store for `limits.page_token_hours`, which reaches `limits.page_token_records`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.store import Scan, StoredRecord, iso, sort_value
from crmqual.sandbox.zoho.call import Call, empty_response, json_response
from crmqual.sandbox.zoho.criteria import (
    V2_OPERATORS,
    V8_OPERATORS,
    CriteriaError,
    Tree,
    matches,
    parse,
)
from crmqual.sandbox.zoho.errors import (
    FIELD_LIMIT_MESSAGE,
    INVALID_DATA_MESSAGE,
    INVALID_ID_MESSAGE,
    MANDATORY_MESSAGE,
    RECORD_COUNT_MESSAGE,
    ZohoError,
    error_body,
    invalid_param,
    missing_param,
)
from crmqual.sandbox.zoho.schema import API_USER, SYSTEM_FIELDS
from crmqual.sandbox.zoho.scopes import module_scope
from crmqual.sandbox.zoho.values import check, is_record_id

DISCRETE_MESSAGE = "cannot fetch more than {limit} records without using page_token param"
SEARCH_SCOPE = "ZohoSearch.securesearch.READ"


# -- rendering ---------------------------------------------------------------------------------
def render(record: StoredRecord, names: list[str] | None) -> dict[str, Any]:
    """A record as the API shows it: `id` as a digit string, then the asked fields (all if
    `names` is None). Fields without a value come back as null, as in Zoho."""
    values = full_values(record)
    out: dict[str, Any] = {"id": str(record.id)}
    for name in names if names is not None else [k for k in values if k != "id"]:
        if name != "id":
            out[name] = values.get(name)
    return out


def full_values(record: StoredRecord) -> dict[str, Any]:
    return {
        "id": str(record.id),
        **record.data,
        "Created_Time": record.created_time,
        "Modified_Time": record.modified_time,
    }


# -- parameters --------------------------------------------------------------------------------
def _int_param(call: Call, name: str, default: int, high: int | None = None) -> int:
    raw = call.request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid_param(name) from exc
    if value < 1 or (high is not None and value > high):
        raise invalid_param(name, **({"limit": high} if high else {}))
    return value


def _field_names(call: Call, fields: dict[str, FieldDef], required: bool) -> list[str] | None:
    raw = call.request.args.get("fields")
    if raw is None or not raw.strip():
        if required:
            raise missing_param("fields")
        return None
    names = list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if len(names) > call.limits.fields_per_call:
        raise ZohoError.of(
            400,
            "LIMIT_EXCEEDED",
            FIELD_LIMIT_MESSAGE,
            {"limit": call.limits.fields_per_call, "param_name": "fields"},
        )
    for name in names:
        if name != "id" and name not in fields:
            raise ZohoError.of(
                400,
                "INVALID_DATA",
                INVALID_DATA_MESSAGE,
                {"api_name": name, "param_name": "fields"},
            )
    return names


def _since(call: Call) -> str | None:
    raw = call.request.headers.get("If-Modified-Since")
    if not raw:
        return None
    try:
        instant = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            instant = parsedate_to_datetime(raw)
        except (TypeError, ValueError) as exc:
            raise invalid_param("If-Modified-Since") from exc
    if instant.tzinfo is None:
        raise invalid_param("If-Modified-Since")
    return iso(instant)


def _criteria(call: Call, text: str, fields: dict[str, FieldDef], param: str) -> Tree:
    operators = V2_OPERATORS if call.version == "v2" else V8_OPERATORS
    try:
        return parse(text, fields, operators)
    except CriteriaError as exc:
        raise invalid_param(param, reason=str(exc)) from exc


def _ids(call: Call) -> list[int] | None:
    raw = call.request.args.get("ids")
    if raw is None:
        return None
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts or not all(is_record_id(p) for p in parts):
        raise invalid_param("ids")
    if len(parts) > call.limits.ids_per_call:
        raise ZohoError.of(
            400,
            "LIMIT_EXCEEDED",
            RECORD_COUNT_MESSAGE,
            {"limit": call.limits.ids_per_call, "param_name": "ids"},
        )
    return [int(p) for p in parts]


def _take(records: Iterator[StoredRecord], skip: int, count: int) -> list[StoredRecord]:
    """Skip, then take `count` + 1 (the extra one only tells whether more records exist)."""
    taken: list[StoredRecord] = []
    for n, record in enumerate(records):
        if n < skip:
            continue
        taken.append(record)
        if len(taken) > count:
            break
    return taken


def _filtered(
    call: Call, scan: Scan, tree: Tree | None, fields: dict[str, FieldDef]
) -> Iterator[StoredRecord]:
    for record in call.store.scan(scan):
        if tree is None or matches(tree, full_values(record), fields):
            yield record


# -- list --------------------------------------------------------------------------------------
def list_records(call: Call, module: str) -> Response:
    call.require(((module_scope(module, "READ"),),))
    fields = call.module_fields(module)
    args = call.request.args
    names = _field_names(call, fields, required=call.version != "v2")
    per_page = _int_param(call, "per_page", call.limits.per_page, call.limits.per_page)
    since = _since(call)
    ids = _ids(call)
    token_text = args.get("page_token")
    if token_text is not None and args.get("page") is not None:
        raise invalid_param("page_token", reason="page and page_token cannot be combined")
    if token_text is not None:
        if call.version == "v2":
            raise invalid_param("page_token")
        return _page_by_token(call, module, fields, names, per_page, token_text)

    sort_by = args.get("sort_by")
    cvid = args.get("cvid")
    if cvid is not None and sort_by is not None:
        raise invalid_param("sort_by", reason="sort_by cannot be used with cvid")
    sort_by = sort_by or "id"
    if sort_by not in ("id", "Created_Time", "Modified_Time"):
        raise invalid_param("sort_by")
    sort_order = args.get("sort_order", "desc")
    if sort_order not in ("asc", "desc"):
        raise invalid_param("sort_order")
    tree = _view_criteria(call, module, cvid, fields)
    page = _int_param(call, "page", 1)
    if ids is not None:
        page, per_page = 1, call.limits.ids_per_call
    capped = call.version != "v2" or call.limits.v2_page_cap
    if ids is None and capped and page * per_page > call.limits.page_records:
        raise ZohoError.of(
            400,
            "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
            DISCRETE_MESSAGE.format(limit=call.limits.page_records),
            {"limit": call.limits.page_records},
        )
    state: dict[str, Any] = {
        "module": module,
        "sort_by": sort_by,
        "descending": sort_order == "desc",
        "since": since,
        "cvid": cvid,
        "ids": ids,
        "offset": (page - 1) * per_page,
        "after": None,
    }
    scan = Scan(module, sort_by, sort_order == "desc", since, None, ids)
    taken = _take(_filtered(call, scan, tree, fields), (page - 1) * per_page, per_page)
    return _answer(call, state, taken, names, per_page, page, with_token=ids is None)


def _view_criteria(
    call: Call, module: str, cvid: str | None, fields: dict[str, FieldDef]
) -> Tree | None:
    if cvid is None:
        return None
    view = call.store.custom_view(cvid)
    if view is None or view[0] != module:
        raise invalid_param("cvid")
    return _criteria(call, view[2], fields, "cvid")


def _page_by_token(
    call: Call,
    module: str,
    fields: dict[str, FieldDef],
    names: list[str] | None,
    per_page: int,
    token: str,
) -> Response:
    found = call.store.get_page_token(token)
    if found is None or found[1] <= iso(call.now) or found[0]["module"] != module:
        raise invalid_param("page_token", reason="invalid or expired page_token")
    state = found[0]
    if state["offset"] >= call.limits.page_token_records:
        raise ZohoError.of(
            400,
            "LIMIT_EXCEEDED",
            RECORD_COUNT_MESSAGE,
            {"limit": call.limits.page_token_records, "param_name": "page_token"},
        )
    per_page = min(per_page, call.limits.page_token_records - state["offset"])
    tree = _view_criteria(call, module, state["cvid"], fields)
    after: tuple[Any, int] | None = (
        (state["after"][0], int(state["after"][1])) if state["after"] else None
    )
    scan = Scan(module, state["sort_by"], state["descending"], state["since"], after)
    taken = _take(_filtered(call, scan, tree, fields), 0, per_page)
    page = state["offset"] // per_page + 1
    return _answer(call, state, taken, names, per_page, page, with_token=True)


def _answer(
    call: Call,
    state: dict[str, Any],
    taken: list[StoredRecord],
    names: list[str] | None,
    per_page: int,
    page: int,
    with_token: bool,
) -> Response:
    more = len(taken) > per_page
    rows = taken[:per_page]
    if not rows:
        return empty_response(304 if state["since"] is not None else 204)
    info: dict[str, Any] = {
        "per_page": per_page,
        "count": len(rows),
        "page": page,
        "sort_by": state["sort_by"],
        "sort_order": "desc" if state["descending"] else "asc",
        "more_records": more,
    }
    if more and with_token and call.version != "v2":
        last = rows[-1]
        next_state = {
            **state,
            "offset": state["offset"] + len(rows),
            "after": [sort_value(last, state["sort_by"]), last.id],
        }
        expiry = call.now + timedelta(hours=call.limits.page_token_hours)
        token = secrets.token_hex(32)
        call.store.put_page_token(token, next_state, iso(expiry))
        info["next_page_token"] = token
        info["page_token_expiry"] = iso(expiry)
    return json_response({"data": [render(r, names) for r in rows], "info": info})


# -- get one -----------------------------------------------------------------------------------
def get_record(call: Call, module: str, record_id: int) -> Response:
    call.require(((module_scope(module, "READ"),),))
    fields = call.module_fields(module)
    names = _field_names(call, fields, required=False)
    since = _since(call)
    record = call.store.get_records(module, [record_id]).get(record_id)
    if record is None:
        return empty_response(204)
    if since is not None and record.modified_time <= since:
        return empty_response(304)
    return json_response({"data": [render(record, names)]})


# -- search ------------------------------------------------------------------------------------
def search_records(call: Call, module: str) -> Response:
    call.require(((module_scope(module, "READ"), SEARCH_SCOPE),))
    fields = call.module_fields(module)
    args = call.request.args
    names = _field_names(call, fields, required=False)
    per_page = _int_param(call, "per_page", call.limits.per_page, call.limits.per_page)
    page = _int_param(call, "page", 1)
    test = _search_test(call, args.to_dict(), fields)
    scan = Scan(module, "id", False)
    taken = _take(
        (r for r in call.store.scan(scan) if test(full_values(r))), (page - 1) * per_page, per_page
    )
    rows = taken[:per_page]
    if not rows:
        return empty_response(204)
    info = {"per_page": per_page, "count": len(rows), "page": page}
    info["more_records"] = len(taken) > per_page
    return json_response({"data": [render(r, names) for r in rows], "info": info})


def _search_test(call: Call, args: dict[str, str], fields: dict[str, FieldDef]) -> Any:
    if args.get("criteria"):
        tree = _criteria(call, args["criteria"], fields, "criteria")
        return lambda values: matches(tree, values, fields)
    for key, types in (("email", ("email",)), ("phone", ("phone",))):
        if args.get(key):
            wanted = args[key].strip().lower()
            names = [f.api_name for f in fields.values() if f.data_type in types]
            return lambda values, w=wanted, n=names: any(
                str(values.get(k) or "").lower() == w for k in n
            )
    if args.get("word"):
        word = args["word"].strip().lower()
        texts = [
            f.api_name
            for f in fields.values()
            if f.data_type in ("text", "textarea", "email", "phone", "website", "picklist")
        ]
        return lambda values: any(word in str(values.get(k) or "").lower() for k in texts)
    raise missing_param("criteria")


# -- update ------------------------------------------------------------------------------------
def data_items(call: Call) -> list[Any]:
    """The body's ``data`` list of a write (update or insert): 400 MANDATORY_NOT_FOUND
    without one, LIMIT_EXCEEDED past the records a write may carry."""
    body = call.json_body()
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise ZohoError.of(
            400,
            "MANDATORY_NOT_FOUND",
            MANDATORY_MESSAGE,
            {"api_name": "data", "json_path": "$.data"},
        )
    if len(items) > call.limits.records_per_write:
        raise ZohoError.of(
            400,
            "LIMIT_EXCEEDED",
            RECORD_COUNT_MESSAGE,
            {"limit": call.limits.records_per_write, "api_name": "data", "json_path": "$.data"},
        )
    return items


def update_records(call: Call, module: str, record_id: int | None = None) -> Response:
    """PUT: per-record results; 200 when all succeed, 207 when some fail, 400 when none does."""
    token = call.require(((module_scope(module, "UPDATE"),),))
    fields = call.module_fields(module)
    items = data_items(call)
    if record_id is not None and isinstance(items[0], dict):
        items = [{**items[0], "id": items[0].get("id", record_id)}]
    wanted = [int(i["id"]) for i in items if isinstance(i, dict) and is_record_id(i.get("id"))]
    with call.store.transaction():
        existing = call.store.get_records(module, wanted)
        results = [
            _update_one(call, module, fields, existing, item, n, token.user_id)
            for n, item in enumerate(items)
        ]
    failures = sum(1 for r in results if r["status"] == "error")
    status = 200 if failures == 0 else (400 if failures == len(results) else 207)
    return json_response({"data": results}, status)


def _update_one(
    call: Call,
    module: str,
    fields: dict[str, FieldDef],
    existing: dict[int, StoredRecord],
    item: Any,
    index: int,
    user_id: str,
) -> dict[str, Any]:
    path = f"$.data[{index}]"
    if not isinstance(item, dict):
        return error_body("INVALID_DATA", INVALID_DATA_MESSAGE, {"json_path": path})
    if "id" not in item:
        return error_body(
            "MANDATORY_NOT_FOUND", MANDATORY_MESSAGE, {"api_name": "id", "json_path": f"{path}.id"}
        )
    raw_id = item["id"]
    if not is_record_id(raw_id) or int(raw_id) not in existing:
        return error_body("INVALID_DATA", INVALID_ID_MESSAGE, {"id": str(raw_id)})
    record = existing[int(raw_id)]
    if call.record_fault(index):
        # A fault: the org's validation rule refuses the record's first field, whole record.
        name = next((k for k in item if k != "id"), "id")
        details = {"api_name": name, "json_path": f"{path}.{name}"}
        return error_body("INVALID_DATA", INVALID_DATA_MESSAGE, details)
    new_values: dict[str, Any] = {}
    for name, value in item.items():
        if name == "id":
            continue
        problem = _field_problem(fields, name, value)
        if problem is not None:
            code, details = problem
            message = MANDATORY_MESSAGE if code == "MANDATORY_NOT_FOUND" else INVALID_DATA_MESSAGE
            return error_body(
                code, message, {**details, "api_name": name, "json_path": f"{path}.{name}"}
            )
        new_values[name] = value
    return apply_write(call, record, new_values, source="api", client=call.client(), user=user_id)


def _field_problem(
    fields: dict[str, FieldDef], name: str, value: Any
) -> tuple[str, dict[str, Any]] | None:
    f = fields.get(name)
    if f is None or f.read_only or name in SYSTEM_FIELDS:
        return "INVALID_DATA", {}
    return check(f, value)


def apply_write(
    call: Call, record: StoredRecord, values: dict[str, Any], *, source: str, client: str, user: str
) -> dict[str, Any]:
    """Store new values, move Modified_Time/Modified_By (on every write, as Zoho does), log it,
    and return the success item."""
    modifier = {k: API_USER[k] for k in ("id", "name", "email")}
    stored, changes = written(record, values, call.now, modifier)
    call.store.update_record(stored, source=source, client=client, user_id=user, changes=changes)
    return success_item(stored)


def written(
    record: StoredRecord, values: dict[str, Any], now: datetime, modifier: dict[str, str]
) -> tuple[StoredRecord, dict[str, tuple[Any, Any]]]:
    """The record after a write of `values` by `modifier` at `now`, and what changed."""
    data = dict(record.data)
    changes = {k: (data.get(k), v) for k, v in values.items() if data.get(k) != v}
    data.update(values)
    data["Modified_By"] = modifier
    stored = StoredRecord(record.module, record.id, record.created_time, iso(now), data)
    return stored, changes


def success_item(record: StoredRecord) -> dict[str, Any]:
    return {
        "code": "SUCCESS",
        "details": {
            "Modified_Time": record.modified_time,
            "Modified_By": record.data.get("Modified_By"),
            "Created_Time": record.created_time,
            "id": str(record.id),
            "Created_By": record.data.get("Created_By"),
        },
        "message": "record updated",
        "status": "success",
    }
