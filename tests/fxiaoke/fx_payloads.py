"""Answers shaped like the documented Fxiaoke payloads (shared/reference/fxiaoke.md), for
`responses`, and an adapter on a fake clock whose waits are recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from crmqual.adapters.fxiaoke.adapter import FxiaokeAdapter
from crmqual.adapters.fxiaoke.config import FxiaokeConnection, FxiaokeLimits
from crmqual.http import HttpSettings

HOST = "https://www.fxiaoke.com"
HEADER_TOKEN_URL = f"{HOST}/oauth2.0/token"
BODY_TOKEN_URL = f"{HOST}/cgi/corpAccessToken/get/V2"
QUERY_URL = f"{HOST}/cgi/crm/v2/data/query"
GET_URL = f"{HOST}/cgi/crm/v2/data/get"
UPDATE_URL = f"{HOST}/cgi/crm/v2/data/update"
CREATE_URL = f"{HOST}/cgi/crm/v2/data/create"
DESCRIBE_URL = f"{HOST}/cgi/crm/v2/object/describe"
DATE = "Mon, 02 Mar 2026 09:00:00 GMT"

APP_ID = "FSAID_131a2b3"
APP_SECRET = "app-secret-value-0123456789"
PERMANENT_CODE = "PERMANENT-CODE-ABCDEF012345"
EMPLOYEE = "1000"
OPEN_USER = "FSUID_6A1F0E3C2B8D4F7A9C1E5B3D8F2A4C6E"
EA = "590056"
CORP_ID = "FSCID_0123456789ABCDEF"
TOKENS = ("ACCESSTOKENONE0123456789", "ACCESSTOKENTWO9876543210")
GRADE, SCORE, ASSESSED = "field_Gr4de__c", "field_Sc0re__c", "field_At123__c"


@dataclass
class FakeTime:
    """A monotonic clock that only the recorded sleeps move."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def connection(mode: str = "header", **overrides: Any) -> FxiaokeConnection:
    values: dict[str, Any] = {
        "base_url": HOST,
        "token_mode": mode,
        "app_id": APP_ID,
        "app_secret": SecretStr(APP_SECRET),
        "permanent_code": SecretStr(PERMANENT_CODE),
        "user": EMPLOYEE if mode == "header" else OPEN_USER,
        "limits": FxiaokeLimits(page_size=2, rate_per_second=1000, overlap_seconds=0),
        **overrides,
    }
    return FxiaokeConnection(**values)


def adapter(time: FakeTime, mode: str = "header", **overrides: Any) -> FxiaokeAdapter:
    settings = HttpSettings(max_attempts=4, jitter=False, backoff_base=0.5)
    return FxiaokeAdapter(
        connection(mode, **overrides), sleep=time.sleep, clock=time.clock, settings=settings
    )


def envelope(code: int = 0, message: str = "OK", **extra: Any) -> dict[str, Any]:
    return {"errorCode": code, "errorMessage": message, "traceId": "E-O.test.1", **extra}


def header_token(access: str = TOKENS[0], expires: int = 7200) -> dict[str, Any]:
    """fxiaoke.md 2.2: the client-credentials answer."""
    return envelope(
        0,
        "success",
        accessToken=access,
        expiresIn=expires,
        openUserId=OPEN_USER,
        appId=APP_ID,
        ea=EA,
    )


def body_token(access: str = TOKENS[0]) -> dict[str, Any]:
    """fxiaoke.md 2.1: the legacy answer."""
    return envelope(0, "success", corpAccessToken=access, corpId=CORP_ID, expiresIn=7200)


def describe_body() -> dict[str, Any]:
    """fxiaoke.md 5: describe with standard fields and the admin's custom output fields."""
    fields = {
        "_id": {"api_name": "_id", "label": "_id", "type": "text"},
        "name": {"api_name": "name", "label": "客户名称", "type": "text"},
        "last_modified_time": {
            "api_name": "last_modified_time",
            "label": "最后修改时间",
            "type": "date_time",
        },
        "owner": {"api_name": "owner", "label": "负责人", "type": "employee"},
        GRADE: {
            "api_name": GRADE,
            "label": "风险等级",
            "type": "select_one",
            "define_type": "custom",
            "options": [{"label": g, "value": f"code{g}"} for g in "ABCDE"],
        },
        SCORE: {
            "api_name": SCORE,
            "label": "信用评分",
            "type": "number",
            "decimal_places": 0,
            "define_type": "custom",
        },
        ASSESSED: {"api_name": ASSESSED, "label": "评估时间", "type": "date_time"},
    }
    return envelope(data={"describe": {"api_name": "AccountObj", "fields": fields}})


def record(n: int, **values: Any) -> dict[str, Any]:
    return {
        "_id": f"5f3a3de57c604a00017d{n:04x}",
        "name": f"客户{n}",
        "last_modified_time": 1772441000000 + n * 1000,
        **values,
    }


def page(rows: list[dict[str, Any]], offset: int, total: int = -1) -> dict[str, Any]:
    return envelope(data={"dataList": rows, "total": total, "offset": offset, "limit": 2})


def sent(call: Any) -> dict[str, Any]:
    """The JSON body a recorded request carried."""
    body: dict[str, Any] = json.loads(call.request.body)
    return body
