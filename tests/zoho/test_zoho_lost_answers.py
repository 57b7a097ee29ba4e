"""A write whose answer was lost is never resent blindly (issue 13, section 3): the records
are re-read by id first, and only those that do not carry the values are sent again."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from responses import matchers
from zoho_payloads import LIST_URL, connection, record

from crmqual.adapters.zoho.adapter import ZohoAdapter
from crmqual.adapters.zoho.rest import _carries
from crmqual.contract import RecordResult
from crmqual.errors import TransientError

A, B, C = (record(n)["id"] for n in (1, 2, 3))
STAMP = datetime(2026, 3, 2, 9, tzinfo=UTC)
UPDATES = [
    (A, {"Risk_Grade": "A", "Warning_Flags": ["OVERDUE"], "Assessed_At": STAMP}),
    (B, {"Risk_Grade": "B", "Warning_Flags": [], "Assessed_At": STAMP}),
    (C, {"Risk_Grade": "C", "Warning_Flags": ["DEFAULT", "OVERDUE"], "Assessed_At": STAMP}),
]
#: How Zoho answers a datetime: in the org's time zone.
ZONED = "2026-03-02T14:30:00+05:30"


def adapter(sleeps: list[float]) -> ZohoAdapter:
    zoho = ZohoAdapter(connection(max_attempts=4), sleep=sleeps.append)
    zoho.allow_writes_to(["Risk_Grade", "Warning_Flags", "Assessed_At"])
    return zoho


def success(rid: str) -> dict[str, Any]:
    return {
        "code": "SUCCESS",
        "details": {"id": rid},
        "message": "record updated",
        "status": "success",
    }


def puts(rsps: responses.RequestsMock) -> list[list[str]]:
    """The ids each PUT carried, in order."""
    return [
        [r["id"] for r in json.loads(c.request.body or b"{}")["data"]]
        for c in rsps.calls
        if c.request.method == "PUT"
    ]


def read_back(*records: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(records), "info": {"more_records": False, "count": len(records)}}


def carrying(rid: str, grade: str, flags: list[str]) -> dict[str, Any]:
    return {"id": rid, "Risk_Grade": grade, "Warning_Flags": flags, "Assessed_At": ZONED}


def test_a_put_applied_before_the_connection_dropped_is_not_sent_again(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.put(LIST_URL, body=requests.ConnectionError("connection reset after the write"))
    rsps.get(
        LIST_URL,
        json=read_back(
            carrying(A, "A", ["OVERDUE"]),
            carrying(B, "B", []),
            carrying(C, "C", ["OVERDUE", "DEFAULT"]),
        ),
        match=[matchers.query_param_matcher({"ids": f"{A},{B},{C}"}, strict_match=False)],
    )
    results = adapter(sleeps).write(UPDATES)
    assert results == [RecordResult(A, True), RecordResult(B, True), RecordResult(C, True)]
    assert puts(rsps) == [[A, B, C]], "a second PUT was sent"


def test_only_the_records_without_the_values_are_sent_again(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.put(LIST_URL, status=503, body="<html>503 Service Unavailable</html>")
    rsps.get(
        LIST_URL,
        json=read_back(
            carrying(A, "A", ["OVERDUE"]),
            {"id": B, "Risk_Grade": "D", "Warning_Flags": [], "Assessed_At": None},
            carrying(C, "C", ["DEFAULT", "OVERDUE"]),
        ),
    )
    rsps.put(
        LIST_URL,
        json={"data": [success(B)]},
        match=[
            matchers.json_params_matcher(
                {
                    "data": [
                        {
                            "id": B,
                            "Risk_Grade": "B",
                            "Warning_Flags": [],
                            "Assessed_At": STAMP.isoformat(),
                        }
                    ],
                    "trigger": [],
                }
            )
        ],
    )
    results = adapter(sleeps).write(UPDATES)
    assert results == [RecordResult(A, True), RecordResult(B, True), RecordResult(C, True)]
    assert puts(rsps) == [[A, B, C], [B]]


def test_a_read_back_that_fails_sends_nothing_more(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.put(LIST_URL, body=requests.ConnectionError("reset"))
    for _ in range(4):  # the read-back is retried on its own, then gives up
        rsps.get(LIST_URL, body=requests.ConnectionError("reset again"))
    with pytest.raises(TransientError):
        adapter(sleeps).write(UPDATES)
    assert puts(rsps) == [[A, B, C]]


def test_answers_that_say_nothing_was_done_are_still_retried_without_a_read_back(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.put(
        LIST_URL,
        status=429,
        json={"code": "TOO_MANY_REQUESTS", "details": {}, "message": "busy", "status": "error"},
    )
    rsps.put(LIST_URL, json={"data": [success(A), success(B), success(C)]})
    assert all(r.ok for r in adapter(sleeps).write(UPDATES))
    assert puts(rsps) == [[A, B, C], [A, B, C]]
    assert not [c for c in rsps.calls if c.request.method == "GET"]


@pytest.mark.parametrize(
    ("sent", "got", "same"),
    [
        ("A", "A", True),
        ("A", "B", False),
        (75, 75.0, True),
        (75, "75", True),
        (75, None, False),
        (["X", "Y"], ["Y", "X"], True),
        (["X"], [], False),
        ([], None, True),
        (None, "", True),
        (STAMP, ZONED, True),
        (STAMP, "2026-03-02T09:00:01+00:00", False),
        (True, True, True),
        (True, False, False),
    ],
)
def test_values_compare_as_zoho_answers_them(sent: Any, got: Any, same: bool) -> None:
    assert _carries(sent, got) is same


# -- against the sandbox: the fault that loses a write's answer after applying it -----------------
def test_sandbox_write_whose_answer_is_lost_is_written_once(tmp_path: Path) -> None:
    from zoho_backend import ZohoBackend

    from crmqual.adapters.zoho.config import ZohoApiLimits
    from crmqual.sandbox.faults import FaultProfile
    from crmqual.sandbox.zoho.backend import ZohoSandbox
    from crmqual.sandbox.zoho.seed import seed_zoho

    box = ZohoSandbox(
        tmp_path / "zoho.db",
        faults=FaultProfile(name="lost", lost_write_answer=1.0),
        sleep=lambda _s: None,
    )
    box.clock.freeze(STAMP)
    seed_zoho(box.store, 25, seed=5)
    box.clock.advance(1)
    try:
        with box.inprocess() as creds:
            backend = ZohoBackend(box, creds, limits=ZohoApiLimits(write_batch=10))
            zoho = backend.adapter()
            zoho.provision(backend.output_fields)
            ids = [str(r["id"]) for r in box.records()]
            updates = [(rid, {"Risk_Grade": "C", "Credit_Score": 61}) for rid in ids]
            zoho.allow_writes_to(["Risk_Grade", "Credit_Score"])
            before = len(box.write_log())
            results = zoho.write(updates)
        assert [r.record_id for r in results] == ids and all(r.ok for r in results)
        lost = [c for c in box.calls() if c.method == "PUT" and c.status == 0]
        assert len(lost) == 3, "every PUT (3 of 10 records) lost its answer"
        written = Counter(str(w.record_id) for w in box.write_log()[before:])
        assert set(written) == set(ids) and set(written.values()) == {1}, written
        assert all(box.record(rid)["Risk_Grade"] == "C" for rid in ids)
    finally:
        box.close()
