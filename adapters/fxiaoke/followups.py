"""Follow-ups for the account's owner: a 销售记录 (``ActiveRecordObj``, the follow-up object
the sandbox dialect chose; the reference names none) linked to the customer, one per
warning event, never two.

The record's 主题 (``name``) ends with a marker ``[crmqual:<event id>]``; it is looked for with
``data/query`` (``name LIKE`` the marker) before it is created, and after a create whose answer
was lost (``HttpClient.retrying``'s reconcile) before it is sent again. The owner is the
account's (``data/get``), so the follow-up lands in that salesperson's list.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from crmqual.adapters.fxiaoke.api import CREATE, GET, QUERY, FxiaokeApi
from crmqual.adapters.fxiaoke.config import FxiaokeFollowups
from crmqual.adapters.fxiaoke.fields import describe
from crmqual.adapters.fxiaoke.write import FLAGS
from crmqual.contract import FollowUp
from crmqual.errors import ApiError
from crmqual.http import Operation

log = logging.getLogger(__name__)
SUBJECT_MAX = 100
NO_ACCOUNT = "none:account-not-found"
_EVENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def marker(event_id: str) -> str:
    return f"[crmqual:{event_id}]"


def subject(item: FollowUp) -> str:
    tag = " " + marker(item.event_id)
    return item.subject[: SUBJECT_MAX - len(tag)].rstrip() + tag


class FxiaokeFollowupMaker:
    def __init__(self, api: FxiaokeApi, accounts: str, settings: FxiaokeFollowups) -> None:
        self.api = api
        self.accounts = accounts
        self.settings = settings
        self._type_code: str | None = None

    def ensure(self, item: FollowUp) -> str:
        if not _EVENT_ID.match(item.event_id):
            raise ValueError(f"event id {item.event_id!r} cannot be used as a marker")
        found = self.find(item.event_id)
        if found is not None:
            return found
        owner = [item.owner] if item.owner else self.owner_of(item.account_id)
        if owner is None:
            log.warning("follow-up %s: account %s not found", item.event_id, item.account_id)
            return NO_ACCOUNT
        kind = self._type()
        return self.api.http.retrying(
            lambda op: self._create(item, owner, kind, op),
            reconcile=lambda: self.find(item.event_id),
        )

    def find(self, event_id: str) -> str | None:
        s = self.settings
        info = {
            "limit": 2,
            "offset": 0,
            "filters": [
                {
                    "field_name": s.subject_field,
                    "field_values": [marker(event_id)],
                    "operator": "LIKE",
                }
            ],
            "orders": [{"fieldName": "create_time", "isAsc": True}],
            "fieldProjection": ["_id", s.subject_field],
        }
        answer = self.api.call(
            QUERY,
            {
                "dataObjectApiName": s.object,
                "find_explicit_total_num": False,
                "search_query_info": info,
            },
        )
        data = answer.get("data")
        rows = data.get("dataList") if isinstance(data, dict) else None
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
            return None
        return str(rows[0]["_id"])

    def owner_of(self, account_id: str) -> list[str] | None:
        answer = self.api.call(
            GET, {"dataObjectApiName": self.accounts, "objectDataId": account_id}, records=True
        )
        record = answer.get("data")
        if answer["errorCode"] != 0 or not isinstance(record, dict):
            return None
        owner = record.get("owner")
        return [str(o) for o in owner] if isinstance(owner, list) and owner else None

    def _type(self) -> str | None:
        """The option code of the configured follow-up type label (信用复核), if the object
        has that option."""
        s = self.settings
        if s.type_field is None or s.type_label is None:
            return None
        if self._type_code is None:
            f = describe(self.api, s.object).get(s.type_field)
            codes = dict(f.options) if f is not None else {}
            self._type_code = codes.get(s.type_label, "")
        return self._type_code or None

    def _create(
        self, item: FollowUp, owner: list[str], kind: str | None, operation: Operation
    ) -> str:
        s = self.settings
        record: dict[str, Any] = {
            "dataObjectApiName": s.object,
            s.subject_field: subject(item),
            s.content_field: f"{item.description}\n\ncrmqual event {item.event_id}",
            s.account_field: item.account_id,
            "owner": owner,
        }
        if kind is not None and s.type_field is not None:
            record[s.type_field] = kind
        answer = self.api.call(
            CREATE,
            {"object_data": record},
            extra=FLAGS,
            records=True,
            resend=False,
            within=operation,
        )
        if answer["errorCode"] != 0 or not answer.get("dataId"):
            raise ApiError(
                f"Fxiaoke refused the follow-up for account {item.account_id}: errorCode "
                f"{answer['errorCode']} {answer.get('errorMessage') or ''}".strip(),
                code=str(answer["errorCode"]),
            )
        return str(answer["dataId"])
