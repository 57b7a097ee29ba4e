"""Answers shaped like the documented Salesforce payloads (shared/reference/salesforce.md),
for `responses`: logins, query pages, SaveResults, Bulk API 2.0 jobs and their CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crmqual.adapters.salesforce.adapter import SalesforceAdapter
from crmqual.adapters.salesforce.config import SalesforceConnection

LOGIN = "https://login.salesforce.com"
MY_DOMAIN = "https://acme.my.salesforce.com"
INSTANCE = "https://acme.my.salesforce.com"
V = "62.0"
BASE = f"{INSTANCE}/services/data/v{V}"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
QUERY_URL = f"{BASE}/query/"
DESCRIBE_URL = f"{BASE}/sobjects/Account/describe"
COLLECTIONS_URL = f"{BASE}/composite/sobjects"
JOBS = f"{BASE}/jobs"
DATE = "Mon, 02 Mar 2026 09:00:00 GMT"

CLIENT_ID = "3MVG9.consumer.key.value"
CLIENT_SECRET = "s3cr3t-consumer-secret-4f1c"
USERNAME = "integration@acme.example"
PASSWORD = "Pa55word-value-7d2e"
SECURITY_TOKEN = "T0ken-value-91ab"
SESSIONS = ("00Dxx0000001gPL!AR.session.one.0123456789", "00Dxx0000001gPL!AR.session.two.98765")

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_PEM = KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
PUBLIC_PEM = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def connection(**overrides: Any) -> SalesforceConnection:
    values: dict[str, Any] = {
        "flow": "jwt",
        "client_id": CLIENT_ID,
        "username": USERNAME,
        "private_key": KEY_PEM,
        **overrides,
    }
    return SalesforceConnection(**values)


def adapter(
    sleeps: list[float], key_file: Path | None = None, **overrides: Any
) -> SalesforceAdapter:
    return SalesforceAdapter(
        connection(max_attempts=4, **overrides), key_file=key_file, sleep=sleeps.append
    )


def token_body(session: str = SESSIONS[0], instance: str = INSTANCE) -> dict[str, Any]:
    """salesforce.md 2: the token endpoint's answer (JWT bearer, client credentials)."""
    return {
        "access_token": session,
        "scope": "api",
        "instance_url": instance,
        "id": f"{LOGIN}/id/00Dxx0000001gPLEAY/005xx000001Sv6AAE",
        "token_type": "Bearer",
        "issued_at": "1772442000000",
    }


def soap_login_body(session: str = SESSIONS[0]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
        f"<serverUrl>{INSTANCE}/services/Soap/u/{V}/00Dxx0000001gPL</serverUrl>"
        f"<sessionId>{session}</sessionId><userId>005xx000001Sv6AAE</userId>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def soap_fault(code: str, message: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{message}</faultstring><detail>"
        f"<sf:LoginFault><sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{message}</sf:exceptionMessage></sf:LoginFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


def account(n: int, **values: Any) -> dict[str, Any]:
    """A query record (salesforce.md 4): ``attributes`` first, datetimes in UTC with +0000."""
    rid = f"001xx00000{n:05d}AAA"
    return {
        "attributes": {"type": "Account", "url": f"/services/data/v{V}/sobjects/Account/{rid}"},
        "Id": rid,
        "SystemModstamp": f"2026-03-01T10:00:{n:02d}.000+0000",
        **values,
    }


def rid(n: int) -> str:
    return str(account(n)["Id"])


def page(records: list[dict[str, Any]], total: int, next_url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"totalSize": total, "done": next_url is None, "records": records}
    if next_url is not None:
        body["nextRecordsUrl"] = next_url
    return body


def error(code: str, message: str) -> list[dict[str, Any]]:
    """salesforce.md 3: REST errors are a JSON array."""
    return [{"message": message, "errorCode": code}]


def saved(record_id: str) -> dict[str, Any]:
    return {"id": record_id, "success": True, "errors": []}


def refused(record_id: str, code: str, message: str, fields: list[str]) -> dict[str, Any]:
    return {
        "id": record_id,
        "success": False,
        "errors": [{"statusCode": code, "message": message, "fields": fields}],
    }


def describe(*fields: tuple[str, str]) -> dict[str, Any]:
    """``sobjects/Account/describe`` with (name, type) fields."""
    return {
        "name": "Account",
        "fields": [
            {"name": name, "type": kind, "label": name, "length": 0, "picklistValues": []}
            for name, kind in fields
        ],
    }


def soql_of(url: str) -> str:
    """The SOQL a query URL carries."""
    return parse_qs(urlsplit(url).query)["q"][0]


def job(job_id: str, state: str, kind: str = "ingest", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job_id,
        "operation": "query" if kind == "query" else "update",
        "object": "Account",
        "state": state,
        "contentType": "CSV",
        "apiVersion": float(V),
        "lineEnding": "LF",
        "columnDelimiter": "COMMA",
        **extra,
    }
    return body


def body_json(call: Any) -> Any:
    raw = call.request.body
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
