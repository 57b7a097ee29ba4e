"""Reading Accounts (salesforce.md 4, 6) against `responses`: the SOQL sent (only the
needed fields, values escaped, the watermark as an unquoted UTC literal), the count that
decides the path, REST pages through query_all_iter, reads by id in chunks, and Bulk API 2.0
query jobs streamed page by page with Sforce-Locator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import responses
from responses import matchers
from salesforce_payloads import (
    DESCRIBE_URL,
    INSTANCE,
    JOBS,
    QUERY_URL,
    V,
    account,
    adapter,
    body_json,
    describe,
    job,
    page,
    rid,
)

from crmqual.contract import FilterRule, ReadQuery
from crmqual.errors import ApiError, ConfigError

FIELDS = ("Name", "Revenue__c")
COUNT = "SELECT COUNT() FROM Account"
FULL = "SELECT Id, SystemModstamp, Name, Revenue__c FROM Account ORDER BY SystemModstamp, Id"


def _q(text: str) -> list[matchers.Any]:  # type: ignore[name-defined]
    return [matchers.query_param_matcher({"q": text})]


def test_a_full_read_counts_then_pages_and_hands_plain_records(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    more = f"/services/data/v{V}/query/01gxx0000001-200"
    rsps.get(QUERY_URL, json=page([], 3), match=_q(COUNT))
    rsps.get(QUERY_URL, json=page([account(1, Name="A"), account(2)], 3, more), match=_q(FULL))
    rsps.get(INSTANCE + more, json=page([account(3, Name="C")], 3))
    sf = adapter(sleeps, limits={"query_batch": 200})
    query = ReadQuery(fields=FIELDS)
    pages = list(sf.read(query))
    assert [[r["Id"] for r in p] for p in pages] == [[rid(1), rid(2), rid(3)]]
    assert pages[0][0] == {
        "Id": rid(1),
        "SystemModstamp": "2026-03-01T10:00:01.000+0000",
        "Name": "A",
    }
    assert sf.expected(query) == 3
    assert rsps.calls[2].request.headers["Sforce-Query-Options"] == "batchSize=200"
    assert rsps.calls[3].request.headers["Sforce-Query-Options"] == "batchSize=200"


@pytest.mark.parametrize(
    ("since", "literal"),
    [
        (
            datetime(2026, 3, 2, 10, 0, 0, tzinfo=timezone(timedelta(hours=1))),
            "2026-03-02T09:00:00Z",
        ),
        (datetime(2026, 3, 2, 9, 0, 0, 1, tzinfo=UTC), "2026-03-02T09:00:00.001Z"),
        (datetime(2026, 3, 2, 9, 0, 0, 999_001, tzinfo=UTC), "2026-03-02T09:00:01Z"),
    ],
)
def test_an_incremental_read_sends_the_watermark_as_an_unquoted_utc_literal(
    rsps: responses.RequestsMock,
    login: responses.BaseResponse,
    sleeps: list[float],
    since: datetime,
    literal: str,
) -> None:
    where = f" WHERE SystemModstamp >= {literal}"
    rsps.get(QUERY_URL, json=page([], 1), match=_q(COUNT + where))
    text = FULL.replace(" ORDER BY", f"{where} ORDER BY")
    rsps.get(QUERY_URL, json=page([account(4)], 1), match=_q(text))
    assert [r["Id"] for p in adapter(sleeps).read(ReadQuery(FIELDS, since=since)) for r in p] == [
        rid(4)
    ]


def test_a_read_by_ids_quotes_and_escapes_each_id_in_chunks_and_counts_nothing(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    ids = (rid(1), "001x'); DELETE", rid(3), rid(1))
    select = "SELECT Id, SystemModstamp, Name FROM Account WHERE Id IN "
    first = select + f"('{rid(1)}','001x\\'); DELETE')"
    rsps.get(QUERY_URL, json=page([account(1)], 1), match=_q(first))
    second = select + f"('{rid(3)}')"
    rsps.get(QUERY_URL, json=page([account(3)], 1), match=_q(second))
    sf = adapter(sleeps, limits={"ids_per_query": 2})
    query = ReadQuery(fields=("Name",), ids=ids)
    assert [r["Id"] for p in sf.read(query) for r in p] == [rid(1), rid(3)]
    assert sf.expected(query) == 3


def test_a_field_that_is_no_api_name_is_refused_before_anything_is_sent(
    sleeps: list[float],
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sf = adapter(sleeps)
        with pytest.raises(ConfigError) as raised:
            list(sf.read(ReadQuery(fields=("Name, (SELECT Id FROM Contacts)",))))
        assert len(rsps.calls) == 0
    assert "not a Salesforce API name" in str(raised.value)
    assert "API 名称" in raised.value.problems[0].zh


def test_currency_iso_code_is_read_only_where_the_org_has_it(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(DESCRIBE_URL, json=describe(("Id", "id"), ("Name", "string")))
    text = f"SELECT Id, SystemModstamp, Name FROM Account WHERE Id IN ('{rid(1)}')"
    rsps.get(QUERY_URL, json=page([account(1)], 1), match=_q(text))
    query = ReadQuery(fields=("Name", "CurrencyIsoCode"), ids=(rid(1),))
    assert [r["Id"] for p in adapter(sleeps).read(query) for r in p] == [rid(1)]


def test_the_filter_is_applied_to_what_was_read_and_its_field_is_selected(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, json=page([], 2), match=_q(COUNT))
    text = "SELECT Id, SystemModstamp, Type, Name FROM Account ORDER BY SystemModstamp, Id"
    customers = [account(1, Type="Customer"), account(2, Type="Prospect")]
    rsps.get(QUERY_URL, json=page(customers, 2), match=_q(text))
    query = ReadQuery(fields=("Name",), filters=(FilterRule("Type", "equals", ("Customer",)),))
    assert [r["Id"] for p in adapter(sleeps).read(query) for r in p] == [rid(1)]


def test_a_query_answer_that_is_not_json_is_an_api_error(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, body="<html>maintenance</html>", status=200)
    with pytest.raises(ApiError, match="not JSON"):
        list(adapter(sleeps).read(ReadQuery(fields=("Name",), ids=(rid(1),))))


# -- Bulk API 2.0 query jobs --------------------------------------------------------------------
JOB = "750xx0000000009AAA"
CSV_ONE = (
    '"Id","SystemModstamp","Name","Revenue__c","Sanctions_Hit__c","Overdue_Count__c"\n'
    f'"{rid(1)}","2026-03-01T10:00:01.000Z","Acme, Inc.","1250000.5","true","2"\n'
    f'"{rid(2)}","2026-03-01T10:00:02.000Z","Beta ""B""","","false",""\n'
)
CSV_TWO = (
    '"Id","SystemModstamp","Name","Revenue__c","Sanctions_Hit__c","Overdue_Count__c"\n'
    f'"{rid(3)}","2026-03-01T10:00:03.000Z","中文公司","7","false","0"\n'
)
TYPES = describe(
    ("Id", "id"),
    ("SystemModstamp", "datetime"),
    ("Name", "string"),
    ("Revenue__c", "currency"),
    ("Sanctions_Hit__c", "boolean"),
    ("Overdue_Count__c", "double"),
)
BULK_FIELDS = ("Name", "Revenue__c", "Sanctions_Hit__c", "Overdue_Count__c")


def test_above_the_threshold_a_read_is_a_bulk_query_job_streamed_by_locator(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, json=page([], 3), match=_q(COUNT))
    rsps.get(DESCRIBE_URL, json=TYPES)
    rsps.post(f"{JOBS}/query", json=job(JOB, "UploadComplete", "query"))
    rsps.get(f"{JOBS}/query/{JOB}", json=job(JOB, "InProgress", "query"))
    rsps.get(f"{JOBS}/query/{JOB}", json=job(JOB, "JobComplete", "query"))
    results = f"{JOBS}/query/{JOB}/results"
    rsps.get(
        results,
        body=CSV_ONE,
        headers={"Sforce-Locator": "MTAwMA", "Sforce-NumberOfRecords": "2"},
        match=[matchers.query_param_matcher({"maxRecords": "2"})],
    )
    rsps.get(
        results,
        body=CSV_TWO,
        headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"},
        match=[matchers.query_param_matcher({"maxRecords": "2", "locator": "MTAwMA"})],
    )
    sf = adapter(sleeps, bulk={"read_threshold": 3, "page_records": 2, "poll_interval": 1.5})
    pages = list(sf.read(ReadQuery(fields=BULK_FIELDS)))
    assert [len(p) for p in pages] == [2, 1]
    assert pages[0][0] == {
        "Id": rid(1),
        "SystemModstamp": "2026-03-01T10:00:01.000Z",
        "Name": "Acme, Inc.",
        "Revenue__c": 1250000.5,
        "Sanctions_Hit__c": True,
        "Overdue_Count__c": 2.0,
    }
    assert pages[0][1]["Name"] == 'Beta "B"' and pages[0][1]["Revenue__c"] is None
    assert pages[1][0]["Name"] == "中文公司"
    created = body_json(next(c for c in rsps.calls if c.request.url == f"{JOBS}/query"))
    assert created["operation"] == "query"
    assert created["query"] == (
        "SELECT Id, SystemModstamp, Name, Revenue__c, Sanctions_Hit__c, Overdue_Count__c "
        "FROM Account ORDER BY SystemModstamp, Id"
    )
    assert sleeps == [1.5]  # one wait between the two polls


def test_a_bulk_query_job_that_fails_stops_the_read_naming_the_job(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, json=page([], 5), match=_q(COUNT))
    rsps.get(DESCRIBE_URL, json=TYPES)
    rsps.post(f"{JOBS}/query", json=job(JOB, "UploadComplete", "query"))
    rsps.get(
        f"{JOBS}/query/{JOB}",
        json=job(JOB, "Failed", "query", errorMessage="InternalServerError : retry"),
    )
    sf = adapter(sleeps, bulk={"read_threshold": 3})
    with pytest.raises(ApiError, match=f"query job {JOB} ended Failed: InternalServerError"):
        list(sf.read(ReadQuery(fields=BULK_FIELDS)))


def test_a_bulk_query_job_past_the_deadline_is_aborted(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, json=page([], 5), match=_q(COUNT))
    rsps.get(DESCRIBE_URL, json=TYPES)
    rsps.post(f"{JOBS}/query", json=job(JOB, "UploadComplete", "query"))
    rsps.get(f"{JOBS}/query/{JOB}", json=job(JOB, "InProgress", "query"))
    aborted = rsps.patch(
        f"{JOBS}/query/{JOB}",
        json=job(JOB, "Aborted", "query"),
        match=[matchers.json_params_matcher({"state": "Aborted"})],
    )
    sf = adapter(sleeps, bulk={"read_threshold": 3, "poll_interval": 2, "deadline": 5})
    with pytest.raises(ApiError, match="did not finish within 5 s"):
        list(sf.read(ReadQuery(fields=BULK_FIELDS)))
    assert aborted.call_count == 1 and sleeps == [2]  # the next wait (4 s) would pass 5 s
