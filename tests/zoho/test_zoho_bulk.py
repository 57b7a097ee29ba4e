"""Bulk Read and Bulk Write in the Zoho adapter (issue 8, items 2 and 3).

End to end, in-process: a full sync through Bulk Read goes through the job states in order
(the sandbox's call log and its jobs' poll answers) and yields, record for record, the same
outputs as a full sync by paging (two sandboxes seeded alike, `as_of` pinned); a sync whose
writes go through Bulk Write leaves the same CRM values as one by PUT. Under `responses`: the
request shapes, the documented answers (states, failure, deadline, download), CSV types back,
per-record results of a write job in the order given, and the credit choice.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers
from zoho_backend import sandbox_connection
from zoho_payloads import API, COUNT_URL, FIELDS_URL, LIST_URL, connection, page, record

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.bulk_read import from_csv
from crmqual.adapters.zoho.bulk_write import to_csv
from crmqual.adapters.zoho.config import ZohoApiLimits, ZohoBulkSettings
from crmqual.contract import ReadQuery, RecordResult
from crmqual.errors import ApiError
from crmqual.mapping import load_mapping, wanted_fields
from crmqual.policy import load_policy
from crmqual.sandbox.zoho import bulk as zoho_bulk
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho
from crmqual.state import StateStore
from crmqual.sync import RunSummary, Sync, SyncRequest

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
AS_OF = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
ACCOUNTS = 130
MAPPING, SOURCE = load_mapping(None, "zoho")
POLICY = load_policy()
OUTPUTS = tuple(MAPPING.output_fields)
STAMP = MAPPING.outputs["assessed_at"].field
READ_URL = f"{API}/crm/bulk/v8/read"
WRITE_URL = f"{API}/crm/bulk/v8/write"
UPLOAD_URL = "https://content.zohoapis.com/crm/v8/upload"
NO_BULK = ZohoBulkSettings(read=False, write_threshold=None)
FAST = {"poll_interval": 1.0, "poll_max_interval": 4.0}
ONE = {"id": "1", "Modified_Time": None}


# -- end to end against the sandbox -----------------------------------------------------------
@contextmanager
def org(tmp_path: Path, name: str) -> Iterator[ZohoSandbox]:
    box = ZohoSandbox(tmp_path / f"{name}.db")
    box.clock.freeze(START)
    seed_zoho(box.store, ACCOUNTS, seed=5, bad_rate=0.03)
    try:
        yield box
    finally:
        box.close()


def run_sync(adapter: ZohoAdapter, state: StateStore) -> RunSummary:
    """One sync by ``adapter`` with the shipped mapping and policy, as of ``AS_OF``."""
    return Sync(
        adapter=adapter,
        mapping=MAPPING,
        mapping_source=SOURCE,
        policy=POLICY,
        state=state,
        target="zoho",
    ).run(SyncRequest(as_of=AS_OF))


def full_sync(
    box: ZohoSandbox, tmp_path: Path, bulk: ZohoBulkSettings, sleeps: list[float]
) -> tuple[RunSummary, ZohoAdapter]:
    state = StateStore(f"sqlite:///{tmp_path / (box.db.stem + '-state.sqlite')}")
    try:
        with box.inprocess() as creds:
            adapter = ZohoAdapter(
                sandbox_connection(creds, bulk=bulk),
                sleep=sleeps.append,
            )
            adapter.provision(wanted_fields(MAPPING, POLICY))
            summary = run_sync(adapter, state)
    finally:
        state.close()
    return summary, adapter


def outputs(box: ZohoSandbox, skip: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    return {str(r["id"]): {f: r.get(f) for f in OUTPUTS if f not in skip} for r in box.records()}


def counts(summary: RunSummary) -> tuple[int, ...]:
    return (summary.read, summary.assessed, summary.changed, summary.written, summary.failed)


def test_a_full_sync_by_bulk_read_goes_through_the_job_states_and_equals_paging(
    tmp_path: Path,
) -> None:
    waits: list[float] = []
    bulk = ZohoBulkSettings(read_threshold=1, write_threshold=None, **FAST)
    with org(tmp_path, "bulk") as by_bulk, org(tmp_path, "paged") as by_pages:
        zoho_bulk.configure(by_bulk.store, records_per_read=50)  # 3 jobs: 50, 50, 30
        bulk_summary, adapter = full_sync(by_bulk, tmp_path, bulk, waits)
        paged_summary, _ = full_sync(by_pages, tmp_path, NO_BULK, [])

        # The read was Bulk Read's alone: no list call paged through the module.
        bulk_calls = [c.endpoint for c in by_bulk.calls()]
        assert "GET /crm/v8/{module}" not in bulk_calls
        assert by_pages.call_counts()["GET /crm/v8/{module}"] > 0
        jobs = zoho_bulk.jobs(by_bulk.store, "read")
        assert len(jobs) == 3
        assert [job["polls"] for job in jobs] == [["ADDED", "IN PROGRESS", "COMPLETED"]] * 3
        assert adapter._bulk.polls == [(job["id"], state) for job in jobs for state in job["polls"]]
        # In the call log, each job: created, polled through its states, then downloaded.
        flow = [e for e in bulk_calls if "/bulk/" in e]
        one_job = [
            "POST /crm/bulk/v8/read",
            *["GET /crm/bulk/v8/read/{job_id}"] * 3,
            "GET /crm/bulk/v8/read/{job_id}/result",
        ]
        assert flow == one_job * 3
        assert waits == [1.0, 2.0] * 3  # between polls, doubling

        assert counts(bulk_summary) == counts(paged_summary)
        # Issue 13: the seeded bad values are read or left missing; no record fails for them.
        assert bulk_summary.read == ACCOUNTS and bulk_summary.failed == 0
        assert bulk_summary.unreadable == paged_summary.unreadable
        got, want = outputs(by_bulk, frozenset({STAMP})), outputs(by_pages, frozenset({STAMP}))
        assert got.keys() == want.keys()
        for record_id, values in want.items():
            assert got[record_id] == values, record_id
        assert sum(1 for v in got.values() if v[MAPPING.outputs["grade"].field]) > ACCOUNTS // 2


def test_a_sync_writing_by_bulk_write_leaves_the_values_a_put_sync_leaves(
    tmp_path: Path,
) -> None:
    # Credits scaled so that bulk pays at this size: a job of up to 60 rows costs 4 credits,
    # 60 records by PUT 6, so the sync hands over 60 at a time (a short last batch: PUT).
    bulk = ZohoBulkSettings(read=False, write_threshold=1, write_rows=60, write_credits=0, **FAST)
    with org(tmp_path, "bulkw") as by_bulk, org(tmp_path, "put") as by_put:
        bulk_summary, adapter = full_sync(by_bulk, tmp_path, bulk, [])
        put_summary, _ = full_sync(by_put, tmp_path, NO_BULK, [])
        assert counts(bulk_summary) == counts(put_summary)
        assert outputs(by_bulk) == outputs(by_put)
        calls = by_bulk.call_counts()
        jobs = zoho_bulk.jobs(by_bulk.store, "write")
        assert jobs and calls["POST /crm/v8/upload"] == len(jobs)
        assert calls["POST /crm/bulk/v8/write"] == len(jobs)
        assert all(job["polls"] == ["ADDED", "IN PROGRESS", "COMPLETED"] for job in jobs)
        # Records clearing a field (no limit set) went by PUT: an empty cell cannot clear.
        cleared = [
            r for r in by_put.records() if r.get(MAPPING.outputs["credit_limit"].field) is None
        ]
        # (Before issue 13 the seeded bad values left records unwritten, with no limit, so
        # `cleared` was never empty; now every record is written, and a short last batch
        # goes by PUT as well: PUT is needed when some record clears a field.)
        assert not cleared or "PUT /crm/v8/{module}" in calls
        written = {w.record_id for w in by_bulk.write_log() if w.source == "api"}
        assert written == {w.record_id for w in by_put.write_log() if w.source == "api"}
        assert adapter.write_batch_for(bulk_summary.changed) == 60


def test_the_run_after_a_full_sync_reads_by_bulk_read_with_no_list_call(tmp_path: Path) -> None:
    """The settling run (issue 22): crmqual's writes moved every record's Modified_Time, the
    sync hands over how many it wrote, and the read counts first and goes to Bulk Read: the
    documented job calls, the users, the count, and no list or by-id call thrown away."""
    settings = {
        "bulk": ZohoBulkSettings(read_threshold=100, write_threshold=None, **FAST),
        "limits": ZohoApiLimits(page_size=50),  # the full run's writes pass a page
    }
    with org(tmp_path, "settle") as box:
        state = StateStore(f"sqlite:///{tmp_path / 'settle-state.sqlite'}")
        try:
            full = synced(box, state, provision=True, **settings)
            before = Counter(box.call_counts())
            settling = synced(box, state, **settings)
        finally:
            state.close()
        calls = Counter(box.call_counts())
        calls.subtract(before)
    assert (full.mode, full.written) == ("full", ACCOUNTS)
    assert (settling.mode, settling.read, settling.written) == ("incremental", ACCOUNTS, 0)
    assert {endpoint: n for endpoint, n in calls.items() if n} == {
        "POST /oauth/v2/token": 1,
        "GET /crm/v8/settings/fields": 1,
        "GET /crm/v8/{module}/actions/count": 1,
        "POST /crm/bulk/v8/read": 1,
        "GET /crm/bulk/v8/read/{job_id}": 3,
        "GET /crm/bulk/v8/read/{job_id}/result": 1,
        "GET /crm/v8/users": 1,
    }


def synced(
    box: ZohoSandbox, state: StateStore, provision: bool = False, **settings: Any
) -> RunSummary:
    """One sync of ``box`` by a new adapter (as a new ``crmqual sync`` process makes)."""
    with box.inprocess() as creds:
        adapter = ZohoAdapter(sandbox_connection(creds, **settings), sleep=lambda _: None)
        if provision:
            adapter.provision(wanted_fields(MAPPING, POLICY))
        return run_sync(adapter, state)


def test_a_bulk_write_reports_each_record_in_the_order_given(tmp_path: Path) -> None:
    bulk = ZohoBulkSettings(
        read=False, write_threshold=1, write_credits=0, put_records_per_credit=1, **FAST
    )
    with org(tmp_path, "rows") as box, box.inprocess() as creds:
        adapter = ZohoAdapter(
            sandbox_connection(creds, bulk=bulk),
            sleep=lambda s: None,
        )
        adapter.provision(wanted_fields(MAPPING, POLICY))
        adapter.allow_writes_to(MAPPING.output_fields)
        ids = [r["id"] for r in box.records()][:30]
        grade = MAPPING.outputs["grade"].field
        flags = MAPPING.outputs["flags"].field
        updates: list[tuple[str, dict[str, Any]]] = [
            (rid, {grade: "B", flags: ["OVERDUE", "LITIGATION"]}) for rid in ids
        ]
        updates[3] = (ids[3], {grade: "Z"})  # not a value of the picklist
        updates[7] = ("5725767999999999999", {grade: "A"})  # no such record
        results = adapter.write(updates)
    assert [r.record_id for r in results] == [rid for rid, _ in updates]
    assert [i for i, r in enumerate(results) if not r.ok] == [3, 7]
    assert (results[3].code, results[3].field) == ("INVALID_DATA", grade)
    assert results[7].code == "INVALID_DATA"
    assert box.record(ids[0])[grade] == "B"
    assert box.record(ids[0])[flags] == ["OVERDUE", "LITIGATION"]
    assert "PUT /crm/v8/{module}" not in box.call_counts()


# -- CSV types --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "data_type", "value"),
    [
        ("", "text", None),
        ("", "multiselectpicklist", None),
        ("42", "integer", 42),
        ("42.0", "integer", 42),
        ("1250000.5", "currency", 1250000.5),
        ("88782609.94", "double", 88782609.94),
        ("true", "boolean", True),
        ("false", "boolean", False),
        ("OVERDUE;LITIGATION", "multiselectpicklist", ["OVERDUE", "LITIGATION"]),
        ("2025-12-31", "date", "2025-12-31"),
        ("2026-03-02T09:00:00+00:00", "datetime", "2026-03-02T09:00:00+00:00"),
        ("1,250,000", "text", "1,250,000"),
    ],
)
def test_csv_cells_become_the_apis_types(text: str, data_type: str, value: Any) -> None:
    assert from_csv(text, data_type) == value


def test_values_become_csv_cells() -> None:
    stamp = datetime(2026, 3, 2, 9, 0, 0, 500, tzinfo=UTC)
    assert to_csv(["A", "B"]) == "A;B"
    assert to_csv(True) == "true"
    assert to_csv(stamp) == "2026-03-02T09:00:00+00:00"
    assert to_csv(None) == ""


# -- request shapes and documented answers (responses) ------------------------------------------
def zipped_csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export.csv", text.getvalue())
    return buffer.getvalue()


def created(job_id: str) -> dict[str, Any]:
    details = {
        "id": job_id,
        "operation": "read",
        "state": "ADDED",
        "created_by": {"id": "1", "name": "Admin"},
        "created_time": "2026-03-02T09:00:00+00:00",
    }
    item = {
        "status": "success",
        "code": "ADDED_SUCCESSFULLY",
        "message": "Added successfully.",
        "details": details,
    }
    return {"data": [item], "info": {}}


def state(job_id: str, name: str, result: dict[str, Any] | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {"id": job_id, "operation": "read", "state": name}
    if result is not None:
        job["result"] = result
    return {"data": [job]}


FIELDS = {
    "fields": [
        {"api_name": "Account_Name", "data_type": "text", "id": "1"},
        {"api_name": "Employees", "data_type": "integer", "id": "2"},
        {"api_name": "Revenue", "data_type": "currency", "id": "3"},
        {"api_name": "Sanctions_Hit", "data_type": "boolean", "id": "4"},
        {"api_name": "Warning_Flags", "data_type": "multiselectpicklist", "id": "5"},
        {"api_name": "Owner", "data_type": "ownerlookup", "id": "6"},
        {"api_name": "Parent_Account", "data_type": "lookup", "id": "7"},
        {"api_name": "Modified_Time", "data_type": "datetime", "id": "8"},
    ]
}
READ_FIELDS = (
    "Account_Name",
    "Employees",
    "Revenue",
    "Sanctions_Hit",
    "Warning_Flags",
    "Owner",
    "Parent_Account",
)
RESULT = {
    "page": 1,
    "count": 2,
    "per_page": 200000,
    "more_records": False,
    "download_url": "/crm/bulk/v8/read/77/result",
}


def bulk_adapter(sleeps: list[float], **bulk: Any) -> ZohoAdapter:
    settings = ZohoBulkSettings(**{"read_threshold": 5, **FAST, **bulk})
    return ZohoAdapter(connection(bulk=settings), sleep=sleeps.append)


def test_a_large_read_creates_a_job_polls_it_and_reads_the_download(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    since = datetime(2026, 3, 1, 8, 0, 0, 250_000, tzinfo=UTC)
    # An incremental read pages first; a second page to come makes it count, and the count
    # sends it to Bulk Read (the first page is not handed out).
    rsps.get(LIST_URL, json=page([record(1), record(2)], more=True))
    rsps.get(
        COUNT_URL,
        json={"count": 5},
        match=[
            matchers.query_param_matcher(
                {"criteria": "(Modified_Time:greater_equal:2026-03-01T08:00:00+00:00)"}
            )
        ],
    )
    expected = {
        "query": {
            "module": {"api_name": "Accounts"},
            "fields": ["Modified_Time", *READ_FIELDS],
            "criteria": {
                "field": {"api_name": "Modified_Time"},
                "comparator": "greater_equal",
                "value": "2026-03-01T08:00:01+00:00",  # whole seconds, as paging reads
            },
            "page": 1,
        },
        "file_type": "csv",
    }
    rsps.post(
        READ_URL, status=201, json=created("77"), match=[matchers.json_params_matcher(expected)]
    )
    rsps.get(f"{READ_URL}/77", json=state("77", "ADDED"))
    rsps.get(f"{READ_URL}/77", json=state("77", "IN PROGRESS"))
    rsps.get(f"{READ_URL}/77", json=state("77", "COMPLETED", RESULT))
    rsps.get(FIELDS_URL, json=FIELDS)
    rsps.get(
        f"{API}/crm/v8/users",
        json={
            "users": [{"id": "9", "full_name": "Li Wei", "email": "li@example.com"}],
            "info": {"more_records": False},
        },
    )
    header = ["Id", "Modified_Time", *READ_FIELDS]
    rows = [
        ["1", "2026-03-01T09:00:00+00:00", "Acme", "12", "1000.5", "false", "A;B", "9", "55"],
        ["2", "2026-03-01T10:00:00+00:00", "Beta", "", "", "true", "", "", ""],
    ]
    rsps.get(
        f"{READ_URL}/77/result",
        body=zipped_csv([header, *rows]),
        content_type="application/x-download",
    )
    pages = list(bulk_adapter(sleeps).read(ReadQuery(READ_FIELDS, since=since)))
    assert pages == [  # one page: page_size is 2 in these tests
        [
            {
                "id": "1",
                "Modified_Time": "2026-03-01T09:00:00+00:00",
                "Account_Name": "Acme",
                "Employees": 12,
                "Revenue": 1000.5,
                "Sanctions_Hit": False,
                "Warning_Flags": ["A", "B"],
                "Owner": {"id": "9", "name": "Li Wei", "email": "li@example.com"},
                "Parent_Account": {"id": "55"},
            },
            {
                "id": "2",
                "Modified_Time": "2026-03-01T10:00:00+00:00",
                "Account_Name": "Beta",
                "Employees": None,
                "Revenue": None,
                "Sanctions_Hit": True,
                "Warning_Flags": None,
                "Owner": None,
                "Parent_Account": None,
            },
        ],
    ]
    assert sleeps == [1.0, 2.0]


def test_a_failed_job_ends_the_read_with_its_id(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": 50})
    rsps.post(READ_URL, status=201, json=created("78"))
    rsps.get(f"{READ_URL}/78", json=state("78", "IN PROGRESS"))
    rsps.get(f"{READ_URL}/78", json=state("78", "FAILURE"))
    with pytest.raises(ApiError, match="78 ended in FAILURE"):
        list(bulk_adapter(sleeps).read(ReadQuery(("Account_Name",))))


def test_a_job_that_does_not_finish_stops_at_the_deadline(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": 50})
    rsps.post(READ_URL, status=201, json=created("79"))
    rsps.get(f"{READ_URL}/79", json=state("79", "IN PROGRESS"))
    adapter = bulk_adapter(sleeps, deadline=10.0)
    with pytest.raises(ApiError, match="did not complete within 10 s"):
        list(adapter.read(ReadQuery(("Account_Name",))))
    assert sleeps == [1.0, 2.0, 4.0]  # capped at 4; one more would pass 10 s


def test_a_refused_job_is_reported_with_zohos_code(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": 50})
    error = {
        "code": "FIELD_NOT_AVAILABLE",
        "details": {"api_name": "Nope", "module": "Accounts"},
        "message": "the field is not available",
        "status": "error",
    }
    rsps.post(READ_URL, status=400, json={"data": [error]})
    with pytest.raises(ApiError, match="FIELD_NOT_AVAILABLE"):
        list(bulk_adapter(sleeps).read(ReadQuery(("Nope",))))


def test_a_small_read_pages_and_is_counted_once(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": 1})
    rsps.get(
        f"{API}/crm/v8/Accounts", json={"data": [{"id": "1", "Modified_Time": None}], "info": {}}
    )
    pages = list(bulk_adapter(sleeps).read(ReadQuery(("id",))))
    assert pages == [[ONE]]
    assert len([c for c in rsps.calls if "actions/count" in c.request.url]) == 1


def test_reads_by_id_never_go_bulk(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(
        f"{API}/crm/v8/Accounts", json={"data": [{"id": "1", "Modified_Time": None}], "info": {}}
    )
    assert list(bulk_adapter(sleeps, read_threshold=1).read(ReadQuery(("id",), ids=("1",))))


# -- when the count is taken (issue 22: no list call made only to be thrown away) -------------
SINCE = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
SINCE_CRITERIA = {"criteria": "(Modified_Time:greater_equal:2026-03-01T08:00:00+00:00)"}
TWO_GROUPS = ZohoApiLimits(
    page_size=2, fields_per_call=2, ids_per_call=1
)  # [Modified_Time, A], [B]


def export(rsps: responses.RequestsMock, job_id: str, rows: list[list[str]]) -> None:
    """A Bulk Read job's answers: created, polled to COMPLETED, its CSV downloaded."""
    url = f"{READ_URL}/{job_id}"
    rsps.post(READ_URL, status=201, json=created(job_id))
    rsps.get(url, json=state(job_id, "ADDED"))
    rsps.get(url, json=state(job_id, "IN PROGRESS"))
    done = {**RESULT, "count": len(rows) - 1, "download_url": f"/crm/bulk/v8/read/{job_id}/result"}
    rsps.get(url, json=state(job_id, "COMPLETED", done))
    rsps.get(f"{url}/result", body=zipped_csv(rows), content_type="application/x-download")


def calls(rsps: responses.RequestsMock) -> list[str]:
    """The calls after the token's, by kind: a list page, ids, the count, or bulk."""
    kinds = []
    for call in rsps.calls[1:]:
        url = str(call.request.url)
        kinds.append(
            "count"
            if "/actions/count" in url
            else "bulk"
            if "/bulk/" in url
            else "ids"
            if "ids=" in url
            else "fields"
            if "/settings/fields" in url
            else "page"
        )
    return kinds


def test_an_incremental_read_the_syncs_own_writes_make_long_counts_before_any_page(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    """The sync wrote more than a page since the watermark: the count comes first and sends
    the read to Bulk Read; no list call is registered, so none may be made."""
    rsps.get(COUNT_URL, json={"count": 5}, match=[matchers.query_param_matcher(SINCE_CRITERIA)])
    export(
        rsps,
        "80",
        [["Id", "Modified_Time", "Account_Name"], ["1", "2026-03-01T09:00:00+00:00", "Acme"]],
    )
    rsps.get(FIELDS_URL, json=FIELDS)
    adapter = bulk_adapter(sleeps)
    query = ReadQuery(("Account_Name",), since=SINCE, written_since=3)
    pages = list(adapter.read(query))
    assert pages == [
        [{"id": "1", "Modified_Time": "2026-03-01T09:00:00+00:00", "Account_Name": "Acme"}]
    ]
    assert calls(rsps) == ["count", "bulk", "bulk", "bulk", "bulk", "fields", "bulk"]
    assert adapter.expected(query) == 5


def test_an_incremental_read_the_syncs_writes_fit_in_a_page_still_pages_first(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    """Writes that fit one page (page_size 2 here) tell nothing: paged first, no count."""
    rsps.get(LIST_URL, json=page([record(1)], more=False))
    query = ReadQuery(("Account_Name",), since=SINCE, written_since=2)
    assert [len(p) for p in bulk_adapter(sleeps).read(query)] == [1]
    assert calls(rsps) == ["page"]


def test_a_first_page_that_goes_to_bulk_read_fetches_no_further_field_group(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    """Paged first (no hint), a second page to come, a count for Bulk Read: the first page's
    second field group is never fetched by ids (no such call is registered)."""
    rsps.get(LIST_URL, json=page([record(1, A="a"), record(2, A="b")], more=True))
    rsps.get(COUNT_URL, json={"count": 5})
    export(
        rsps,
        "81",
        [["Id", "Modified_Time", "A", "B"], ["1", "2026-03-01T09:00:00+00:00", "a", "x"]],
    )
    rsps.get(FIELDS_URL, json=FIELDS)
    settings = ZohoBulkSettings(read_threshold=5, **FAST)
    adapter = ZohoAdapter(connection(bulk=settings, limits=TWO_GROUPS), sleep=sleeps.append)
    pages = list(adapter.read(ReadQuery(("A", "B"), since=SINCE)))
    assert pages == [
        [{"id": "1", "Modified_Time": "2026-03-01T09:00:00+00:00", "A": "a", "B": "x"}]
    ]
    assert calls(rsps) == ["page", "count", "bulk", "bulk", "bulk", "bulk", "fields", "bulk"]


def test_a_first_page_that_keeps_paging_gets_its_further_field_group_before_the_next_page(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    one, two, three = record(1, A="a1"), record(2, A="a2"), record(3, A="a3")
    rsps.get(
        LIST_URL,
        json=page([one, two], more=True),
        match=[matchers.query_param_matcher({"page": "1"}, strict_match=False)],
    )
    rsps.get(COUNT_URL, json={"count": 3})
    rsps.get(
        LIST_URL,
        json=page([three], more=False, page_no=2),
        match=[matchers.query_param_matcher({"page": "2"}, strict_match=False)],
    )
    for r in (one, two, three):
        rsps.get(
            LIST_URL,
            json=page([{"id": r["id"], "B": f"b{r['A'][1]}"}], more=False),
            match=[matchers.query_param_matcher({"fields": "B", "ids": r["id"]})],
        )
    adapter = ZohoAdapter(connection(limits=TWO_GROUPS), sleep=sleeps.append)
    pages = list(adapter.read(ReadQuery(("A", "B"), since=SINCE)))
    assert pages == [[{**one, "B": "b1"}, {**two, "B": "b2"}], [{**three, "B": "b3"}]]
    assert calls(rsps) == ["page", "count", "ids", "ids", "page", "ids"]


def test_a_bulk_write_uploads_creates_a_job_and_maps_its_result_file_back(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(f"{API}/crm/v8/org", json={"org": [{"id": "41", "zgid": "51"}]})

    def uploaded(request: Any) -> tuple[int, dict[str, str], str]:
        assert request.headers["feature"] == "bulk-write"
        assert request.headers["X-CRM-ORG"] == "51"
        assert request.headers["Content-Type"].startswith("multipart/form-data")
        assert b'name="file"' in request.body and b"PK" in request.body
        body = {
            "status": "success",
            "code": "FILE_UPLOAD_SUCCESS",
            "message": "file uploaded.",
            "details": {"file_id": 111, "created_time": "2026-03-02T09:00:00+00:00"},
        }
        return 200, {}, json.dumps(body)

    rsps.add_callback(responses.POST, UPLOAD_URL, callback=uploaded)
    job = {
        "operation": "update",
        "ignore_empty": True,
        "resource": [
            {
                "type": "data",
                "module": {"api_name": "Accounts"},
                "file_id": "111",
                "find_by": "id",
                "ignore_empty": True,
                "field_mappings": [
                    {"api_name": "id", "index": 0},
                    {"api_name": "Risk_Grade", "index": 1},
                ],
            }
        ],
    }
    made = {"status": "success", "code": "SUCCESS", "message": "success", "details": {"id": "5"}}
    rsps.post(WRITE_URL, status=201, json=made, match=[matchers.json_params_matcher(job)])
    rsps.get(f"{WRITE_URL}/5", json={"id": "5", "status": "IN PROGRESS"})
    done = "https://download.zoho.com/crm/bulk-write/5.zip"
    rsps.get(
        f"{WRITE_URL}/5", json={"id": "5", "status": "COMPLETED", "result": {"download_url": done}}
    )
    result_rows = [
        ["id", "Risk_Grade", "STATUS", "ERRORS"],
        ["3", "Z", "SKIPPED", "INVALID_DATA: invalid data (Risk_Grade)"],
        ["1", "A", "UPDATED", ""],
    ]
    rsps.get(done, body=zipped_csv(result_rows), content_type="application/octet-stream")
    adapter = ZohoAdapter(
        connection(
            bulk=ZohoBulkSettings(
                write_threshold=1, write_credits=0, put_records_per_credit=1, **FAST
            )
        ),
        sleep=sleeps.append,
    )
    adapter.allow_writes_to(["Risk_Grade"])
    grades = ["A", "B", "Z", "C", "D"]
    results = adapter.write([(str(n), {"Risk_Grade": g}) for n, g in enumerate(grades, 1)])
    missing = "no result from Zoho for it"
    assert results == [
        RecordResult("1", True),
        RecordResult("2", False, "MISSING", missing),
        RecordResult("3", False, "INVALID_DATA", "invalid data", field="Risk_Grade"),
        RecordResult("4", False, "MISSING", missing),
        RecordResult("5", False, "MISSING", missing),
    ]


def test_bulk_write_is_chosen_by_its_credits() -> None:
    adapter = ZohoAdapter(connection())
    default = adapter._bulk
    assert default.put_credits(100) == 10 and default.put_credits(5_050) == 505
    assert default.bulk_credits(25_000) == 504
    assert not default.wants_write(5_000)  # 500 credits by PUT, 504 by a job
    assert default.wants_write(5_050)
    assert adapter.write_batch_for(4_000) == adapter.connection.limits.write_batch
    assert adapter.write_batch_for(60_000) == 25_000
    never = ZohoAdapter(connection(bulk=ZohoBulkSettings(write_threshold=None)))
    assert never.write_batch_for(1_000_000) == never.connection.limits.write_batch
