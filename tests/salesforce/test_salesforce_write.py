"""Writing outputs (salesforce.md 5, 6) against `responses`: sObject Collections PATCHes of
200 with allOrNone false and a result per record, a partial failure, a lost answer reconciled
by reading back before anything is resent, and Bulk API 2.0 update jobs whose successful,
failed and unprocessed rows all map back to records (jobs that complete, fail or abort)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from responses import matchers
from salesforce_payloads import (
    COLLECTIONS_URL,
    JOBS,
    QUERY_URL,
    account,
    adapter,
    body_json,
    error,
    job,
    page,
    refused,
    rid,
    saved,
    soql_of,
)

from crmqual.adapters.salesforce.adapter import SalesforceAdapter
from crmqual.contract import RecordResult
from crmqual.errors import ApiError, TransientError

OUTPUTS = ["Risk_Grade__c", "Credit_Limit__c", "Warning_Flags__c", "Assessed_At__c"]
STAMP = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
A, B, C = rid(1), rid(2), rid(3)
UPDATES = [
    (
        A,
        {
            "Risk_Grade__c": "A",
            "Warning_Flags__c": ["OVERDUE", "LITIGATION"],
            "Assessed_At__c": STAMP,
        },
    ),
    (B, {"Risk_Grade__c": "B", "Warning_Flags__c": [], "Credit_Limit__c": Decimal("25000.50")}),
    (C, {"Risk_Grade__c": "C", "Credit_Limit__c": None}),
]


def writer(sleeps: list[float], **overrides: Any) -> SalesforceAdapter:
    sf = adapter(sleeps, **overrides)
    sf.allow_writes_to(OUTPUTS)
    return sf


def patches(rsps: responses.RequestsMock) -> list[list[str]]:
    return [
        [r["id"] for r in body_json(c)["records"]]
        for c in rsps.calls
        if c.request.method == "PATCH" and c.request.url == COLLECTIONS_URL
    ]


def test_a_collection_patch_carries_typed_values_and_gives_a_result_per_record(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(
        COLLECTIONS_URL,
        json=[
            saved(A),
            refused(B, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Limit too high", ["Credit_Limit__c"]),
            saved(C),
        ],
        match=[
            matchers.json_params_matcher(
                {
                    "allOrNone": False,
                    "records": [
                        {
                            "attributes": {"type": "Account"},
                            "id": A,
                            "Risk_Grade__c": "A",
                            "Warning_Flags__c": "OVERDUE;LITIGATION",
                            "Assessed_At__c": "2026-03-02T09:30:00Z",
                        },
                        {
                            "attributes": {"type": "Account"},
                            "id": B,
                            "Risk_Grade__c": "B",
                            "Warning_Flags__c": None,
                            "Credit_Limit__c": 25000.5,
                        },
                        {
                            "attributes": {"type": "Account"},
                            "id": C,
                            "Risk_Grade__c": "C",
                            "Credit_Limit__c": None,
                        },
                    ],
                }
            )
        ],
    )
    results = writer(sleeps).write(UPDATES)
    assert results == [
        RecordResult(A, True),
        RecordResult(
            B, False, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Limit too high", "Credit_Limit__c"
        ),
        RecordResult(C, True),
    ]


def test_writes_go_in_collections_of_200(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    ids = [rid(n) for n in range(450)]
    for size in (200, 200, 50):
        start = sum(len(p) for p in patches(rsps))
        rsps.patch(COLLECTIONS_URL, json=[saved(i) for i in ids[start : start + size]])
        # responses answers in registration order; each call takes the next answer
    sf = writer(sleeps)
    assert sf.write_batch_for(450) == 200
    results = sf.write([(i, {"Risk_Grade__c": "B"}) for i in ids])
    assert [len(p) for p in patches(rsps)] == [200, 200, 50]
    assert [r.record_id for r in results] == ids and all(r.ok for r in results)


def test_an_answer_with_fewer_results_than_records_is_an_api_error(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(COLLECTIONS_URL, json=[saved(A)])
    with pytest.raises(ApiError, match="3 records with 1 results"):
        writer(sleeps).write(UPDATES)


def test_a_malformed_collection_answer_is_an_api_error(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(COLLECTIONS_URL, body="{not json", content_type="application/json")
    with pytest.raises(ApiError, match="not JSON"):
        writer(sleeps).write(UPDATES)


def test_a_refused_collection_request_is_an_api_error_naming_the_code(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(COLLECTIONS_URL, status=400, json=error("JSON_PARSER_ERROR", "Unexpected character"))
    with pytest.raises(ApiError) as raised:
        writer(sleeps).write(UPDATES)
    assert raised.value.code == "JSON_PARSER_ERROR" and len(patches(rsps)) == 1


# -- lost answers: read back before resending --------------------------------------------------
def carrying(n: int, **values: Any) -> dict[str, Any]:
    return account(n, **values)


def read_back(*records: dict[str, Any]) -> dict[str, Any]:
    return page(list(records), len(records))


def test_a_patch_applied_before_the_connection_dropped_is_not_sent_again(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(COLLECTIONS_URL, body=requests.ConnectionError("reset after the write"))
    rsps.get(
        QUERY_URL,
        json=read_back(
            carrying(1, Risk_Grade__c="A", Warning_Flags__c="LITIGATION;OVERDUE",
                     Assessed_At__c="2026-03-02T09:30:00.000+0000"),
            carrying(2, Risk_Grade__c="B", Warning_Flags__c=None, Credit_Limit__c=25000.5),
            carrying(3, Risk_Grade__c="C", Credit_Limit__c=None),
        ),
    )  # fmt: skip
    results = writer(sleeps).write(UPDATES)
    assert results == [RecordResult(A, True), RecordResult(B, True), RecordResult(C, True)]
    assert patches(rsps) == [[A, B, C]], "a second PATCH was sent"
    soql = soql_of(rsps.calls[-1].request.url)
    assert soql.startswith("SELECT Id, Assessed_At__c, Credit_Limit__c, Risk_Grade__c")
    assert soql.endswith(f"WHERE Id IN ('{A}','{B}','{C}')")


def test_after_a_read_timeout_only_the_records_without_the_values_are_sent_again(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(COLLECTIONS_URL, body=requests.ReadTimeout("no answer in 120 s"))
    rsps.get(
        QUERY_URL,
        json=read_back(
            carrying(1, Risk_Grade__c="A", Warning_Flags__c="OVERDUE;LITIGATION",
                     Assessed_At__c="2026-03-02T09:30:00.000+0000"),
            carrying(2, Risk_Grade__c="D", Warning_Flags__c=None, Credit_Limit__c=None),
            carrying(3, Risk_Grade__c="C", Credit_Limit__c=None),
        ),
    )  # fmt: skip
    rsps.patch(COLLECTIONS_URL, json=[saved(B)])
    results = writer(sleeps).write(UPDATES)
    assert results == [RecordResult(A, True), RecordResult(B, True), RecordResult(C, True)]
    assert patches(rsps) == [[A, B, C], [B]]


def test_a_5xx_after_the_write_is_reconciled_the_same_way(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(COLLECTIONS_URL, status=503, json=error("SERVER_UNAVAILABLE", "retry later"))
    rsps.get(QUERY_URL, json=read_back())  # none of them carries the values yet
    rsps.patch(COLLECTIONS_URL, json=[saved(A), saved(B), saved(C)])
    assert all(r.ok for r in writer(sleeps).write(UPDATES))
    assert patches(rsps) == [[A, B, C], [A, B, C]]


def test_a_read_back_that_fails_sends_nothing_more(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(COLLECTIONS_URL, body=requests.ConnectionError("reset"))
    for _ in range(4):  # the read-back's own attempts
        rsps.get(QUERY_URL, status=503, json=error("SERVER_UNAVAILABLE", "down"))
    with pytest.raises(TransientError):
        writer(sleeps).write(UPDATES)
    assert patches(rsps) == [[A, B, C]]


# -- Bulk API 2.0 update jobs ------------------------------------------------------------------
JOB, JOB2 = "750xx0000000001AAA", "750xx0000000002AAA"
D = rid(4)
BULK = [*UPDATES, (D, {"Risk_Grade__c": "D"})]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return out.getvalue()


def _ingest(rsps: responses.RequestsMock, job_id: str, final: dict[str, Any]) -> None:
    rsps.post(
        f"{JOBS}/ingest",
        json=job(job_id, "Open"),
        match=[
            matchers.json_params_matcher(
                {"operation": "update", "object": "Account", "contentType": "CSV",
                 "columnDelimiter": "COMMA", "lineEnding": "LF"}
            )
        ],
    )  # fmt: skip
    rsps.put(f"{JOBS}/ingest/{job_id}/batches", status=201)
    rsps.patch(
        f"{JOBS}/ingest/{job_id}",
        json=job(job_id, "UploadComplete"),
        match=[matchers.json_params_matcher({"state": "UploadComplete"})],
    )
    rsps.get(f"{JOBS}/ingest/{job_id}", json=job(job_id, "InProgress"))
    rsps.get(f"{JOBS}/ingest/{job_id}", json=final)


def _results(
    rsps: responses.RequestsMock, job_id: str, good: list[str], bad: list[list[str]]
) -> None:
    header = ["Id", "Risk_Grade__c"]
    rsps.get(
        f"{JOBS}/ingest/{job_id}/successfulResults",
        body=_csv([["sf__Id", "sf__Created", *header], *([i, "false", i, "X"] for i in good)]),
    )
    rsps.get(
        f"{JOBS}/ingest/{job_id}/failedResults",
        body=_csv([["sf__Id", "sf__Error", *header], *bad]),
    )


def test_a_bulk_update_job_maps_every_row_back_to_its_record(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    _ingest(rsps, JOB, job(JOB, "JobComplete", numberRecordsProcessed=4, numberRecordsFailed=1))
    error_text = (
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:bad value for restricted picklist field: D:"
        "Risk_Grade__c --"
    )
    _results(rsps, JOB, [A, B, C], [[D, error_text, D, "D"]])
    sf = writer(sleeps, bulk={"write_threshold": 4, "job_records": 5000, "poll_interval": 3})
    assert sf.write_batch_for(3) == 200 and sf.write_batch_for(4) == 5000
    results = sf.write(BULK)
    assert results == [
        RecordResult(A, True),
        RecordResult(B, True),
        RecordResult(C, True),
        RecordResult(
            D, False, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "bad value for restricted picklist field: D", "Risk_Grade__c",
        ),
    ]  # fmt: skip
    upload = next(c for c in rsps.calls if c.request.method == "PUT")
    assert upload.request.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(upload.request.body.decode())))
    assert rows == [
        ["Id", *sorted(OUTPUTS)],
        [A, "2026-03-02T09:30:00Z", "", "A", "OVERDUE;LITIGATION"],
        [B, "", "25000.5", "B", "#N/A"],  # an empty list clears: #N/A; absent: empty
        [C, "", "#N/A", "C", ""],
        [D, "", "", "D", ""],
    ]
    assert sleeps == [3]


def test_a_bulk_job_that_failed_part_way_reports_its_unprocessed_rows_as_failed(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    final = job(JOB, "Failed", errorMessage="InternalServerError : processing stopped")
    _ingest(rsps, JOB, final)
    _results(rsps, JOB, [A], [])  # B, C and D were never processed
    results = writer(sleeps, bulk={"write_threshold": 4}).write(BULK)
    assert results[0] == RecordResult(A, True)
    for result in results[1:]:
        assert (result.ok, result.code) == (False, "BULK_UNPROCESSED")
        assert (
            f"job {JOB} ended Failed (InternalServerError : processing stopped)" in result.message
        )


def test_an_aborted_bulk_job_leaves_every_record_to_the_next_run(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    _ingest(rsps, JOB, job(JOB, "Aborted"))
    _results(rsps, JOB, [], [])
    results = writer(sleeps, bulk={"write_threshold": 4}).write(BULK)
    assert [r.code for r in results] == ["BULK_UNPROCESSED"] * 4
    assert all("ended Aborted" in r.message and "next run" in r.message for r in results)


def test_a_lost_upload_answer_aborts_that_job_and_writes_with_a_new_one(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.post(f"{JOBS}/ingest", json=job(JOB, "Open"))
    rsps.put(f"{JOBS}/ingest/{JOB}/batches", body=requests.ConnectionError("reset"))
    aborted = rsps.patch(
        f"{JOBS}/ingest/{JOB}",
        json=job(JOB, "Aborted"),
        match=[matchers.json_params_matcher({"state": "Aborted"})],
    )
    _ingest(rsps, JOB2, job(JOB2, "JobComplete"))
    _results(rsps, JOB2, [A, B, C, D], [])
    results = writer(sleeps, bulk={"write_threshold": 4}).write(BULK)
    assert all(r.ok for r in results) and aborted.call_count == 1
    puts = [c.request.url for c in rsps.calls if c.request.method == "PUT"]
    assert puts == [f"{JOBS}/ingest/{JOB}/batches", f"{JOBS}/ingest/{JOB2}/batches"]


def test_a_lost_close_answer_is_checked_by_reading_the_job(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.post(f"{JOBS}/ingest", json=job(JOB, "Open"))
    rsps.put(f"{JOBS}/ingest/{JOB}/batches", status=201)
    rsps.patch(f"{JOBS}/ingest/{JOB}", body=requests.ConnectionError("reset after the close"))
    rsps.get(f"{JOBS}/ingest/{JOB}", json=job(JOB, "UploadComplete"))  # it arrived
    rsps.get(f"{JOBS}/ingest/{JOB}", json=job(JOB, "JobComplete"))
    _results(rsps, JOB, [A, B, C, D], [])
    results = writer(sleeps, bulk={"write_threshold": 4}).write(BULK)
    assert all(r.ok for r in results)
    assert sum(1 for c in rsps.calls if c.request.method == "PATCH") == 1
