"""One retry point (issue 12): a download and a follow-up create are each one logical
operation under the HTTP client's retry policy, counted with `responses`.

A download whose stream breaks is fetched again within the same `max_attempts` as the GET
itself (it used to loop around a request that retried on its own: up to max_attempts² GETs);
a Task create that fails is looked up before every re-send, and is sent at most
`max_attempts` times."""

from __future__ import annotations

import io
import json
import tempfile
from typing import Any

import pytest
import requests
import responses
from zoho_payloads import API, connection

from crmqual.adapters.zoho.adapter import ZohoAdapter
from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.transfers import Transfers
from crmqual.contract import FollowUp
from crmqual.errors import TransientError

ATTEMPTS = 4
FILE_URL = "https://download.zoho.com/crm/bulk-read/77.zip"
ENDPOINT = "GET /crm/bulk/v8/read/{job_id}/result"
ZIPPED = b"PK\x03\x04" + bytes(range(256)) * 64


class _Breaking(io.RawIOBase):
    """A body that gives some bytes, then breaks as a socket that timed out does."""

    def __init__(self, content: bytes, cut: int) -> None:
        self._left = content[:cut]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._left:
            raise TimeoutError("the read timed out mid-body")
        n = min(len(buffer), len(self._left), 1024)
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def broken(_request: Any) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/zip", "Content-Length": str(len(ZIPPED))}
    return 200, headers, io.BufferedReader(_Breaking(ZIPPED, cut=len(ZIPPED) // 2))


def whole(_request: Any) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/zip"}, ZIPPED


def transfers(sleeps: list[float]) -> Transfers:
    api = ZohoApi(connection(max_attempts=ATTEMPTS, max_retry_wait=10_000), sleep=sleeps.append)
    return Transfers(api, sleeps.append)


def gets(rsps: responses.RequestsMock) -> int:
    return sum(1 for c in rsps.calls if c.request.url == FILE_URL)


# -- downloads ------------------------------------------------------------------------------
def test_a_download_that_breaks_every_time_makes_max_attempts_gets_in_all(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.add_callback(responses.GET, FILE_URL, callback=broken)
    with tempfile.TemporaryFile() as spool, pytest.raises(TransientError, match="broke off"):
        transfers(sleeps).download(FILE_URL, ENDPOINT, spool)
    assert gets(rsps) == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1  # the client's backoff between the attempts


def test_failed_gets_and_broken_streams_share_one_attempt_budget(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    # Each GET fails with a 503 until the last attempt of a request, then its stream breaks:
    # once max_attempts² GETs, now max_attempts in all.
    answers = iter([503, 200] * ATTEMPTS * ATTEMPTS)

    def flaky(request: Any) -> tuple[int, dict[str, str], Any]:
        if next(answers) == 503:
            return 503, {"Content-Type": "application/json"}, '{"code": "INTERNAL_ERROR"}'
        return broken(request)

    rsps.add_callback(responses.GET, FILE_URL, callback=flaky)
    with tempfile.TemporaryFile() as spool, pytest.raises(TransientError):
        transfers(sleeps).download(FILE_URL, ENDPOINT, spool)
    assert gets(rsps) == ATTEMPTS


def test_a_download_cut_short_once_is_fetched_again_whole(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    calls = iter([broken, whole])
    rsps.add_callback(responses.GET, FILE_URL, callback=lambda r: next(calls)(r))
    with tempfile.TemporaryFile() as spool:
        transfers(sleeps).download(FILE_URL, ENDPOINT, spool)
        assert spool.read() == ZIPPED
    assert gets(rsps) == 2 and len(sleeps) == 1


# -- follow-up Tasks --------------------------------------------------------------------------
COQL_URL = f"{API}/crm/v8/coql"
TASKS_URL = f"{API}/crm/v8/Tasks"
ACCOUNT = "5725767000001000123"
OWNER = "5725767000000000013"
EVENT = "0123456789abcdef01234567"
ITEM = FollowUp(EVENT, ACCOUNT, "Credit warning: downgraded (B->D)", "Grade B -> D", OWNER)


def task_adapter(sleeps: list[float]) -> ZohoAdapter:
    return ZohoAdapter(
        connection(max_attempts=ATTEMPTS, max_retry_wait=10_000), sleep=sleeps.append
    )


def kinds(rsps: responses.RequestsMock) -> list[str]:
    """The calls after the token, as "find" (a COQL lookup) and "create"."""
    names = {COQL_URL: "find", TASKS_URL: "create"}
    return [names[c.request.url] for c in rsps.calls if c.request.url in names]


def test_a_create_that_times_out_is_looked_up_before_each_resend(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.post(COQL_URL, status=204)
    rsps.post(TASKS_URL, body=requests.ReadTimeout("no answer"))
    with pytest.raises(TransientError, match="timed out"):
        task_adapter(sleeps).create_followup(ITEM)
    seen = kinds(rsps)
    creates = seen.count("create")
    assert 1 <= creates <= ATTEMPTS
    # Never two creates in a row: a lookup before the first and after every failed one.
    assert seen == ["find", "create", "find"] + ["create", "find"] * (creates - 1)
    assert len(sleeps) == creates - 1


def test_a_task_found_after_a_timeout_ends_the_operation(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    lookups = iter([[], [], [{"id": "905", "Subject": f"x [crmqual:{EVENT}]"}]])

    def coql(_request: Any) -> tuple[int, dict[str, str], str]:
        rows = next(lookups)
        if not rows:
            return 204, {}, ""
        return 200, {"Content-Type": "application/json"}, json.dumps({"data": rows})

    rsps.add_callback(responses.POST, COQL_URL, callback=coql)
    rsps.post(TASKS_URL, body=requests.ReadTimeout("no answer"))
    assert task_adapter(sleeps).create_followup(ITEM) == "905"
    assert kinds(rsps) == ["find", "create", "find", "create", "find"]


def test_a_lookup_that_fails_after_a_lost_create_sends_nothing_again(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.post(COQL_URL, status=204)
    rsps.post(TASKS_URL, body=requests.ConnectionError("connection reset"))
    rsps.post(COQL_URL, status=503, json={"code": "INTERNAL_ERROR"})
    with pytest.raises(TransientError):
        task_adapter(sleeps).create_followup(ITEM)
    assert kinds(rsps).count("create") == 1
