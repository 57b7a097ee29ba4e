"""A thin Fxiaoke client written only from `shared/reference/fxiaoke.md` (requests, nothing
from the sandbox): the evidence that a client built from the documentation works against it.

Body mode (reference 2.1): `POST /cgi/corpAccessToken/get/V2`, then `corpAccessToken`,
`corpId` and `currentOpenUserId` beside `data` in every body. Header mode (2.2):
`POST /oauth2.0/token?thirdTraceId=<uuid4>` with `grantType: app_secret`, then
`authorization: Bearer`, `x-fs-ea`, `x-fs-userid` headers and a fresh `thirdTraceId` per call.
Every answer is HTTP 200 with `errorCode` (0 = success); on 20016 fetch a new token and retry
once (reference 2.2, 6). Paging (3): `offset += limit` while `total > offset + limit`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import requests

TOKEN_EXPIRED = 20016
RENEW_AFTER = 6_600  # seconds: cache at least this long, renew between 6,600 and 7,200 s


class FxApiError(Exception):
    def __init__(self, code: int, message: str, body: dict[str, Any]) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.body = body


class FxClient:
    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        permanent_code: str,
        open_user_id: str,
        *,
        mode: str = "body",
        employee_id: str | None = None,
        timeout: float = 30,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = {"appId": app_id, "appSecret": app_secret, "permanentCode": permanent_code}
        self.open_user_id = open_user_id
        self.employee_id = employee_id
        self.mode = mode
        self.timeout = timeout
        self.session = requests.Session()
        self.token: str | None = None
        self.corp_id: str | None = None
        self.ea: str | None = None
        self.fetched_at = 0.0
        self.token_calls = 0

    # -- tokens -----------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        response = self.session.post(
            self.base_url + path, json=body, timeout=self.timeout, **kwargs
        )
        if response.status_code != 200:  # a transport failure (reference 6)
            raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
        answer: dict[str, Any] = response.json()
        return answer

    def fetch_token(self) -> None:
        self.token_calls += 1
        if self.mode == "body":
            answer = self._post("/cgi/corpAccessToken/get/V2", dict(self.app))
            self._check(answer)
            self.token, self.corp_id = answer["corpAccessToken"], answer["corpId"]
        else:
            answer = self._post(
                "/oauth2.0/token",
                {**self.app, "grantType": "app_secret"},
                params={"thirdTraceId": str(uuid.uuid4())},
            )
            self._check(answer)
            self.token, self.ea = answer["accessToken"], answer["ea"]
            if self.employee_id is None:
                self.employee_id = answer["openUserId"]
        self.fetched_at = time.monotonic()

    @staticmethod
    def _check(answer: dict[str, Any]) -> None:
        if answer.get("errorCode") != 0:
            raise FxApiError(int(answer["errorCode"]), str(answer.get("errorMessage")), answer)

    # -- calls ------------------------------------------------------------------------------
    def call(self, path: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """POST `data` (and companions such as `triggerWorkFlow`) to `path`; one retry with a
        new token on 20016."""
        for attempt in (1, 2):
            if self.token is None or time.monotonic() - self.fetched_at > RENEW_AFTER:
                self.fetch_token()
            if self.mode == "body":
                body = {
                    "corpAccessToken": self.token,
                    "corpId": self.corp_id,
                    "currentOpenUserId": self.open_user_id,
                    "data": data,
                    **extra,
                }
                answer = self._post(path, body)
            else:
                headers = {
                    "authorization": f"Bearer {self.token}",
                    "x-fs-ea": str(self.ea),
                    "x-fs-userid": str(self.employee_id),
                }
                answer = self._post(
                    path,
                    {"data": data, **extra},
                    headers=headers,
                    params={"thirdTraceId": str(uuid.uuid4())},
                )
            if answer.get("errorCode") == TOKEN_EXPIRED and attempt == 1:
                self.token = None
                continue
            self._check(answer)
            return answer
        raise AssertionError("unreachable")

    def query_page(
        self,
        obj: str,
        offset: int,
        limit: int = 100,
        filters: list[dict[str, Any]] | None = None,
        orders: list[dict[str, Any]] | None = None,
        projection: list[str] | None = None,
    ) -> dict[str, Any]:
        data = {
            "dataObjectApiName": obj,
            "find_explicit_total_num": True,
            "search_query_info": {
                "limit": limit,
                "offset": offset,
                "filters": filters or [],
                "orders": orders or [],
                "fieldProjection": projection or [],
            },
        }
        page: dict[str, Any] = self.call("/cgi/crm/v2/data/query", data)["data"]
        return page

    def query_all(self, obj: str, limit: int = 100, **kwargs: Any) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.query_page(obj, offset, limit, **kwargs)
            yield from page["dataList"]
            if not page["total"] > offset + limit:
                return
            offset += limit

    def get(self, obj: str, record_id: str) -> dict[str, Any]:
        data = {"dataObjectApiName": obj, "objectDataId": record_id}
        record: dict[str, Any] = self.call("/cgi/crm/v2/data/get", data)["data"]
        return record

    def update(self, obj: str, record_id: str, values: dict[str, Any]) -> dict[str, Any]:
        data = {
            "object_data": {"dataObjectApiName": obj, "_id": record_id, **values},
            "optionInfo": {
                "skipFuncValidate": True,
                "useValidationRule": False,
                "isDuplicateSearch": False,
            },
        }
        return self.call(
            "/cgi/crm/v2/data/update", data, triggerWorkFlow=False, triggerApprovalFlow=False
        )

    def describe(self, obj: str) -> dict[str, Any]:
        data = {"apiName": obj, "includeDetail": True}
        fields: dict[str, Any] = self.call("/cgi/crm/v2/object/describe", data)["data"]["describe"][
            "fields"
        ]
        return fields

    def field_by_label(self, obj: str, label: str) -> dict[str, Any]:
        """Custom API names are random per tenant: resolve by label (reference 5)."""
        for field in self.describe(obj).values():
            if field["label"] == label:
                return field
        raise KeyError(label)
