"""Validating the sandbox's answers against Zoho's own OpenAPI description (shared/reference).

Two readings of the description are needed to use it at all, and both are in the README:
- `oneOf` of the response schemas is read as "one of the branches that declare the body's
  top-level keys must validate": the description's branches are not mutually exclusive (an
  object with no required keys matches `API_Exception` and `Response_Wrapper` alike), so a
  literal `oneOf` rejects every body, success or error.
- the record calls declare only `200`, with error bodies under it; a status the operation does
  not declare is checked against its `200` schema (zoho.md section 7).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import ValidationError, validators
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

BASE = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"
OAS_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "zoho-oas"

# Where zoho.md documents behaviour the description lacks or contradicts, the sandbox follows
# zoho.md; each such answer is listed here (key: "<file>:<code>") and in the sandbox README.
DEVIATIONS: dict[str, str] = {
    "record.json:DISCRETE_PAGINATION_LIMIT_EXCEEDED": (
        "zoho.md 4: the code (and its message) are absent from the OAS code enum"
    ),
    "record.json:OAUTH_SCOPE_MISMATCH": (
        "zoho.md 3.2: message 'invalid oauth scope to access this URL' is not in the OAS enum"
    ),
    "record.json:INVALID_DATA/maximum_length": (
        "zoho.md 6: maximum_length is sent as an integer (common.json), record.json types it string"
    ),
    "fields.json:DUPLICATE_DATA": (
        "a duplicate label on create: the OAS error wrappers of create have no DUPLICATE_DATA"
    ),
    "fields.json:OAUTH_SCOPE_MISMATCH": "the fields description models no auth errors",
    "fields.json:INVALID_TOKEN": "the fields description models no auth errors",
    "fields.json:AUTHENTICATION_FAILURE": "the fields description models no auth errors",
    "coql.json:OAUTH_SCOPE_MISMATCH": "the COQL description models no auth errors",
    "layouts.json:OAUTH_SCOPE_MISMATCH": "zoho.md 3.2: the layouts error enum lacks the code",
    "layouts.json:INVALID_MODULE": (
        "layouts.json spells it InvalidModule; record.json and fields.json use INVALID_MODULE"
    ),
    "layouts.json:INVALID_DATA": (
        "a GET of an unknown layout id: the description's GET errors name only the module"
    ),
    "layouts.json:LIMIT_EXCEEDED": (
        "zoho.md 14: a per-request limit (not confirmed) answered as the Fields API does"
    ),
    "coql.json:INVALID_TOKEN": "the COQL description models no auth errors",
}

_ROUTES: tuple[tuple[str, str, str], ...] = (
    (r"^/crm/v8/settings/layouts/[^/]+$", "layouts.json", "/crm/v8/settings/layouts/{id}"),
    (r"^/crm/v8/settings/layouts$", "layouts.json", "/crm/v8/settings/layouts"),
    (r"^/crm/v8/settings/fields/[^/]+$", "fields.json", "/crm/v8/settings/fields/{field}"),
    (r"^/crm/v8/settings/fields$", "fields.json", "/crm/v8/settings/fields"),
    (r"^/crm/v8/coql$", "coql.json", "/crm/v8/coql"),
    (r"^/crm/v8/[A-Za-z_]+/search$", "record.json", "/crm/v8/{module_api_name}/search"),
    (r"^/crm/v8/[A-Za-z_]+/\d+$", "record.json", "/crm/v8/{module_api_name}/{id}"),
    (r"^/crm/v8/[A-Za-z_]+$", "record.json", "/crm/v8/{module_api_name}"),
)


def _one_of(validator: Any, branches: list[Any], instance: Any, schema: Any) -> Iterator[Any]:
    def declared(branch: Any) -> set[str]:
        while isinstance(branch, dict) and "$ref" in branch:
            branch = validator._resolver.lookup(branch["$ref"]).contents
        return set(branch.get("properties", {})) if isinstance(branch, dict) else set()

    candidates = branches
    if isinstance(instance, dict):
        keyed = [b for b in branches if declared(b) & set(instance)]
        candidates = keyed or branches
    collected: list[Any] = []
    for branch in candidates:
        errors = list(validator.descend(instance, branch))
        if not errors:
            return
        collected.extend(errors)
    yield ValidationError(
        "no oneOf branch declaring these keys validates", context=collected, instance=instance
    )


_Validator = validators.extend(OAS30Validator, {"oneOf": _one_of})


class ZohoOas:
    """The description loaded once; `errors(...)` validates one answer."""

    def __init__(self, folder: Path = OAS_DIR) -> None:
        self.docs = {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
        self.registry: Registry[Any] = Registry().with_resources(
            (BASE + name, DRAFT4.create_resource(doc)) for name, doc in self.docs.items()
        )

    def operation(self, method: str, path: str) -> tuple[str, str] | None:
        """(file, OAS path) of the operation covering a sandbox request, if the OAS has one."""
        for pattern, name, oas_path in _ROUTES:
            declared = self.docs[name]["paths"].get(oas_path, {})
            if re.match(pattern, path) and method.lower() in declared:
                return name, oas_path
        return None

    def errors(
        self, name: str, oas_path: str, method: str, status: int, body: bytes
    ) -> list[tuple[tuple[Any, ...], str]]:
        """(path in the body, message) of each problem; empty when the answer validates."""
        responses = self.docs[name]["paths"][oas_path][method.lower()]["responses"]
        key = str(status)
        if key not in responses:
            # An undeclared error status is checked against the declared 400, else the 200.
            key = "400" if status >= 400 and "400" in responses else "200"
        response = responses[key]
        if "$ref" in response:
            pointer = response["$ref"].removeprefix("#/")
            response = self.docs[name]
            for part in pointer.split("/"):
                response = response[part]
        content = response.get("content", {}).get("application/json")
        if status in (204, 304) or content is None:
            # 204 and 304 are bodiless; the record calls do not model them (zoho.md 4, 7).
            return [] if not body else [((), f"{status}: the OAS declares no body")]
        escaped = oas_path.replace("~", "~0").replace("/", "~1")
        if "$ref" in responses[key]:
            ref = f"{BASE}{name}{responses[key]['$ref']}/content/application~1json/schema"
        else:
            ref = (
                f"{BASE}{name}#/paths/{escaped}/{method.lower()}/responses/{key}"
                "/content/application~1json/schema"
            )
        validator = _Validator(
            {"$ref": ref}, registry=self.registry, format_checker=oas30_format_checker
        )
        return [_describe(e) for e in validator.iter_errors(json.loads(body))]


def _describe(error: ValidationError) -> tuple[tuple[Any, ...], str]:
    deepest = min(error.context or [error], key=lambda e: -len(e.absolute_path))
    return tuple(deepest.absolute_path), deepest.message[:300]


def deviation_keys(name: str, body: Any, paths: list[tuple[Any, ...]]) -> set[str]:
    """The DEVIATIONS keys of the error objects at the failing paths (an item of `data[]` or
    `fields[]`, else the body itself); a failing non-error object gives no key."""
    keys: set[str] = set()
    for path in paths:
        item = body
        if len(path) >= 2 and path[0] in ("data", "fields", "layouts") and isinstance(path[1], int):
            item = body[path[0]][path[1]]
        elif isinstance(body, dict) and isinstance(body.get("fields"), list) and body["fields"]:
            item = body["fields"][0]
        if not (isinstance(item, dict) and item.get("status") == "error"):
            return set()
        suffix = "/maximum_length" if "maximum_length" in (item.get("details") or {}) else ""
        keys.add(f"{name}:{item.get('code')}{suffix}")
    return keys
