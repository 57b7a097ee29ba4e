"""Writing crmqual's output fields with ``data/update``, one record per call (Fxiaoke has no
batch update, fxiaoke.md 4), ``triggerWorkFlow`` and ``triggerApprovalFlow`` off.

Each update is one operation under the HTTP client's retry policy, sent with
``resend=False``: throttling and a refused token are retried (nothing was done), a validation
error is that record's result and never retried, and when the answer is lost after Fxiaoke may
have applied it (a dropped connection, a timeout, a 5xx) the record is read first
(``data/get``): if it carries every value sent the write is done, else it is sent again,
within the policy's attempts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from crmqual.adapters.fxiaoke.api import GET, UPDATE, FxiaokeApi
from crmqual.adapters.fxiaoke.fields import FxField
from crmqual.contract import RecordResult
from crmqual.errors import ApiError
from crmqual.http import Operation

log = logging.getLogger(__name__)

#: Our writes fire no workflow or approval; validation functions and duplicate checks are
#: for people's edits (fxiaoke.md 4).
FLAGS = {"triggerWorkFlow": False, "triggerApprovalFlow": False}
OPTIONS = {"skipFuncValidate": True, "useValidationRule": False, "isDuplicateSearch": False}


class FxiaokeWriter:
    def __init__(
        self, api: FxiaokeApi, obj: str, fields: Callable[[], Mapping[str, FxField]]
    ) -> None:
        self.api = api
        self.obj = obj
        self._fields = fields

    def write_one(self, record_id: str, values: Mapping[str, Any]) -> RecordResult:
        described = self._fields()
        native: dict[str, Any] = {}
        for name, value in values.items():
            f = described.get(name)
            try:
                native[name] = f.native(value) if f is not None else value
            except ValueError as exc:
                return RecordResult(record_id, False, "OPTION_MISSING", str(exc), name)

        def attempt(operation: Operation) -> RecordResult:
            return self._update(record_id, native, operation)

        def reconcile() -> RecordResult | None:
            if self._carries(record_id, native):
                log.info("record %s: the update's answer was lost but it was applied", record_id)
                return RecordResult(record_id, True)
            log.info(
                "record %s: the update's answer was lost, not applied: sending it again", record_id
            )
            return None

        return self.api.http.retrying(attempt, reconcile=reconcile)

    def _update(
        self, record_id: str, native: Mapping[str, Any], operation: Operation
    ) -> RecordResult:
        data = {
            "object_data": {"dataObjectApiName": self.obj, "_id": record_id, **native},
            "optionInfo": OPTIONS,
        }
        answer = self.api.call(
            UPDATE, data, extra=FLAGS, records=True, resend=False, within=operation
        )
        code = answer["errorCode"]
        if code == 0:
            return RecordResult(record_id, True)
        return RecordResult(record_id, False, str(code), str(answer.get("errorMessage") or ""))

    def _carries(self, record_id: str, native: Mapping[str, Any]) -> bool:
        answer = self.api.call(
            GET, {"dataObjectApiName": self.obj, "objectDataId": record_id}, records=True
        )
        record = answer.get("data")
        if answer["errorCode"] != 0 or not isinstance(record, dict):
            raise ApiError(f"Fxiaoke could not read record {record_id} back after a lost update")
        return all(_same(sent, record.get(name)) for name, sent in native.items())


def _same(sent: Any, got: Any) -> bool:
    if sent is None or sent == "" or sent == []:
        return got is None or got == "" or got == []
    if isinstance(sent, list):
        return isinstance(got, list) and sorted(map(str, sent)) == sorted(map(str, got))
    if isinstance(sent, bool):
        return got is sent
    if isinstance(sent, int | float):
        try:
            return abs(float(got) - float(sent)) < 1e-6
        except (TypeError, ValueError):
            return False
    return str(sent) == str(got)
