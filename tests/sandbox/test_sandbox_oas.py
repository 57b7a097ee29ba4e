"""The OAS check itself: it can fail, and every listed deviation is real (the answer does fail
the description, so the README's list stays true). Ordinary answers are validated by the `api`
fixture in every other test of this folder."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import Api
from sandbox_oas import DEVIATIONS, OAS_DIR, ZohoOas, deviation_keys

pytestmark = pytest.mark.skipif(not OAS_DIR.is_dir(), reason="shared/reference/zoho-oas missing")

LIST = ("record.json", "/crm/v8/{module_api_name}", "GET")
PUT = ("record.json", "/crm/v8/{module_api_name}", "PUT")
CREATE = ("fields.json", "/crm/v8/settings/fields", "POST")
COQL = ("coql.json", "/crm/v8/coql", "POST")
SCOPE = {
    "code": "OAUTH_SCOPE_MISMATCH",
    "details": {},
    "message": "invalid oauth scope to access this URL",
    "status": "error",
}
TOKEN = {
    "code": "INVALID_TOKEN",
    "details": {},
    "message": "invalid oauth token",
    "status": "error",
}


@pytest.fixture(scope="module")
def oas() -> ZohoOas:
    return ZohoOas()


def _errors(oas: ZohoOas, op: tuple[str, str, str], status: int, body: Any) -> list[Any]:
    return oas.errors(op[0], op[1], op[2], status, json.dumps(body).encode())


def test_the_check_rejects_malformed_answers(oas: ZohoOas, api: Api) -> None:
    good = api.get("/crm/v8/Accounts", params={"fields": "Account_Name,Total_Assets"}).json()
    assert _errors(oas, LIST, 200, good) == []
    bad = {**good, "info": {**good["info"], "count": "10"}}
    assert _errors(oas, LIST, 200, bad)
    unknown_code = {"code": "NO_SUCH_CODE", "details": {}, "message": "x", "status": "error"}
    assert _errors(oas, LIST, 400, unknown_code)
    put_item = {"code": "SUCCESS", "details": {"id": 5}, "message": "record updated"}
    assert _errors(oas, PUT, 200, {"data": [{**put_item, "status": "success"}]})


@pytest.mark.parametrize(
    ("key", "op", "status", "body"),
    [
        (
            "record.json:DISCRETE_PAGINATION_LIMIT_EXCEEDED",
            LIST,
            400,
            {
                "code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                "details": {"limit": 2000},
                "message": "cannot fetch more than 2000 records without using page_token param",
                "status": "error",
            },
        ),
        (
            "record.json:OAUTH_SCOPE_MISMATCH",
            LIST,
            401,
            {
                "code": "OAUTH_SCOPE_MISMATCH",
                "details": {},
                "message": "invalid oauth scope to access this URL",
                "status": "error",
            },
        ),
        (
            "record.json:INVALID_DATA/maximum_length",
            PUT,
            400,
            {
                "data": [
                    {
                        "code": "INVALID_DATA",
                        "details": {
                            "maximum_length": 40,
                            "api_name": "A",
                            "json_path": "$.data[0].A",
                        },
                        "message": "invalid data",
                        "status": "error",
                    }
                ]
            },
        ),
        (
            "fields.json:DUPLICATE_DATA",
            CREATE,
            400,
            {
                "fields": [
                    {
                        "code": "DUPLICATE_DATA",
                        "details": {
                            "api_name": "field_label",
                            "json_path": "$.fields[0].field_label",
                        },
                        "message": "duplicate data",
                        "status": "error",
                    }
                ]
            },
        ),
        (
            "fields.json:OAUTH_SCOPE_MISMATCH",
            CREATE,
            401,
            {
                "code": "OAUTH_SCOPE_MISMATCH",
                "details": {},
                "message": "invalid oauth scope to access this URL",
                "status": "error",
            },
        ),
        (
            "fields.json:INVALID_TOKEN",
            CREATE,
            401,
            {
                "code": "INVALID_TOKEN",
                "details": {},
                "message": "invalid oauth token",
                "status": "error",
            },
        ),
        (
            "fields.json:AUTHENTICATION_FAILURE",
            CREATE,
            401,
            {
                "code": "AUTHENTICATION_FAILURE",
                "details": {},
                "message": "Authentication failed",
                "status": "error",
            },
        ),
        ("coql.json:OAUTH_SCOPE_MISMATCH", COQL, 401, SCOPE),
        ("coql.json:INVALID_TOKEN", COQL, 401, TOKEN),
    ],
)
def test_each_listed_deviation_is_real(
    oas: ZohoOas, key: str, op: tuple[str, str, str], status: int, body: Any
) -> None:
    assert key in DEVIATIONS
    problems = _errors(oas, op, status, body)
    assert problems, f"{key} validates: remove it from DEVIATIONS and the README"
    assert deviation_keys(op[0], body, [p for p, _ in problems]) == {key}


def test_every_deviation_is_exercised() -> None:
    tested = {
        "record.json:DISCRETE_PAGINATION_LIMIT_EXCEEDED",
        "record.json:OAUTH_SCOPE_MISMATCH",
        "record.json:INVALID_DATA/maximum_length",
        "fields.json:DUPLICATE_DATA",
        "fields.json:OAUTH_SCOPE_MISMATCH",
        "fields.json:INVALID_TOKEN",
        "fields.json:AUTHENTICATION_FAILURE",
        "coql.json:OAUTH_SCOPE_MISMATCH",
        "coql.json:INVALID_TOKEN",
        # test_sandbox_layouts.py
        "layouts.json:OAUTH_SCOPE_MISMATCH",
        "layouts.json:INVALID_MODULE",
        "layouts.json:INVALID_DATA",
        "layouts.json:LIMIT_EXCEEDED",
    }
    assert set(DEVIATIONS) == tested
