"""Follow-up Tasks (issue 8 item 4): the request shapes under `responses`, the sandbox's Tasks
module and Insert Records call, and the sync's follow-ups against the sandbox: a downgrade
makes one Task on the account for its owner, and a crash between a Task's create call and
its recording, then a rerun, leaves exactly one Task for the event."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import yaml
from click.testing import CliRunner
from responses import matchers
from zoho_backend import ZohoBackend
from zoho_payloads import API, connection, token_body

from crmqual.adapters.followup_tasks import NO_ACCOUNT, SUBJECT_MAX, marker, subject
from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.config import ZohoApiLimits
from crmqual.cli.main import main
from crmqual.contract import FollowUp
from crmqual.errors import ApiError
from crmqual.monitoring import DOWNGRADED, WARNINGS
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho
from crmqual.state import StateStore

COQL_URL = f"{API}/crm/v8/coql"
TASKS_URL = f"{API}/crm/v8/Tasks"
ACCOUNT = "5725767000001000123"
OWNER = "5725767000000000013"
EVENT = "0123456789abcdef01234567"
ITEM = FollowUp(EVENT, ACCOUNT, "Credit warning: downgraded (B->D)", "Grade B -> D")
QUERY = (
    f"select id, Subject from Tasks where Subject like '%crmqual:{EVENT}%' "
    "order by id asc limit 0, 2"
)
TASK_BODY = {
    "data": [
        {
            "Subject": f"Credit warning: downgraded (B->D) [crmqual:{EVENT}]",
            "Description": f"Grade B -> D\n\ncrmqual event {EVENT}",
            "What_Id": {"id": ACCOUNT},
            "$se_module": "Accounts",
            "Owner": {"id": OWNER},
            "Status": "Not Started",
            "Priority": "High",
        }
    ],
    "trigger": ["workflow"],
}


def adapter(sleeps: list[float]) -> ZohoAdapter:
    # The client's retry policy, without jitter and doubling from 2 s: waits to compare.
    steady = replace(connection().http_settings(), backoff_base=2.0, jitter=False)
    return ZohoAdapter(connection(), sleep=sleeps.append, settings=steady)


def added(task_id: str) -> dict[str, Any]:
    user = {"id": "5725767000000000011", "name": "Sandbox Admin"}
    details = {"id": task_id, "Created_By": user, "Modified_By": user}
    return {
        "data": [
            {"code": "SUCCESS", "details": details, "message": "record added", "status": "success"}
        ]
    }


def coql(rsps: responses.RequestsMock, *found: str) -> None:
    """One COQL lookup of the marker: 204 when nothing carries it, else those Task ids."""
    match = [matchers.json_params_matcher({"select_query": QUERY})]
    if not found:
        rsps.post(COQL_URL, status=204, match=match)
        return
    rows = [{"id": t, "Subject": f"x [crmqual:{EVENT}]"} for t in found]
    rsps.post(COQL_URL, json={"data": rows, "info": {"count": len(rows)}}, match=match)


def owner(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/crm/v8/Accounts/{ACCOUNT}",
        json={"data": [{"id": ACCOUNT, "Owner": {"id": OWNER, "name": "Maria Garcia"}}]},
        match=[matchers.query_param_matcher({"fields": "Owner"})],
    )


def create(rsps: responses.RequestsMock, **answer: Any) -> responses.BaseResponse:
    return rsps.post(TASKS_URL, match=[matchers.json_params_matcher(TASK_BODY)], **answer)


# -- request shapes (responses) -----------------------------------------------------------------
def test_a_new_task_looks_up_the_marker_reads_the_owner_then_creates(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    coql(rsps)
    owner(rsps)
    created = create(rsps, json=added("900"), status=201)
    zoho = adapter(sleeps)
    assert zoho.create_followup(ITEM) == "900"
    assert created.call_count == 1
    assert zoho.api_calls == 4  # token, COQL, owner, create
    sent = rsps.calls[-1].request
    assert sent.headers["Authorization"] == f"Zoho-oauthtoken {token_body()['access_token']}"


def test_an_existing_task_for_the_event_is_returned_and_nothing_is_created(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    coql(rsps, "700", "701")
    assert adapter(sleeps).create_followup(ITEM) == "700"  # the oldest


def test_a_lost_answer_to_the_create_is_not_resent_when_the_task_exists(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    coql(rsps)
    owner(rsps)
    lost = create(rsps, body=requests.ConnectionError("connection reset"))
    coql(rsps, "901")
    assert adapter(sleeps).create_followup(ITEM) == "901"
    assert lost.call_count == 1 and sleeps == []


def test_a_lost_create_with_no_task_behind_it_is_sent_again(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    coql(rsps)
    owner(rsps)
    create(rsps, body=requests.ConnectionError("connection reset"))
    coql(rsps)
    again = create(rsps, json=added("902"), status=201)
    assert adapter(sleeps).create_followup(ITEM) == "902"
    assert again.call_count == 1 and sleeps == [2.0]


def test_a_500_on_the_create_is_looked_up_not_retried_blindly(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    coql(rsps)
    owner(rsps)
    body = {"code": "INTERNAL_ERROR", "details": {}, "message": "x", "status": "error"}
    failed = create(rsps, json=body, status=500)
    coql(rsps, "903")
    assert adapter(sleeps).create_followup(ITEM) == "903"
    assert failed.call_count == 1


def test_a_refused_task_raises_with_zohos_code(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    coql(rsps)
    owner(rsps)
    details = {"api_name": "Owner", "json_path": "$.data[0].Owner"}
    refused = {"code": "INVALID_DATA", "details": details, "message": "invalid data"}
    create(rsps, json={"data": [{**refused, "status": "error"}]}, status=400)
    with pytest.raises(ApiError, match="INVALID_DATA") as caught:
        adapter(sleeps).create_followup(ITEM)
    assert caught.value.code == "INVALID_DATA"


def test_an_account_gone_from_zoho_gets_no_task(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    coql(rsps)
    rsps.get(f"{API}/crm/v8/Accounts/{ACCOUNT}", status=204)
    assert adapter(sleeps).create_followup(ITEM) == NO_ACCOUNT


def test_the_subject_is_cut_to_zohos_length_and_keeps_the_marker() -> None:
    long = FollowUp(EVENT, ACCOUNT, "x" * 400, "d")
    text = subject(long)
    assert len(text) == SUBJECT_MAX and text.endswith(marker(EVENT))


def test_an_event_id_that_could_break_the_query_is_refused(sleeps: list[float]) -> None:
    with pytest.raises(ValueError, match="marker"):
        adapter(sleeps).create_followup(FollowUp("x' or id != '0", ACCOUNT, "s", "d"))


# -- the sandbox's Tasks module -----------------------------------------------------------------
@pytest.fixture
def box(tmp_path: Path) -> Iterator[ZohoSandbox]:
    sandbox = ZohoSandbox(tmp_path / "tasks.db")
    sandbox.clock.freeze(datetime(2026, 3, 2, 9, tzinfo=UTC))
    yield sandbox
    sandbox.close()


def _session(box: ZohoSandbox) -> Iterator[Callable[..., requests.Response]]:
    with box.inprocess() as creds:
        access = requests.post(
            creds.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "refresh_token": creds.refresh_token,
            },
            timeout=10,
        ).json()["access_token"]
        headers = {"Authorization": f"Zoho-oauthtoken {access}"}

        def call(method: str, path: str, **kwargs: Any) -> requests.Response:
            return requests.request(
                method, creds.api_base + path, headers=headers, timeout=10, **kwargs
            )

        yield call


def test_sandbox_insert_records_checks_and_links_the_task(box: ZohoSandbox) -> None:
    (account,) = box.load_records([{"Account_Name": "Acme"}])
    for call in _session(box):
        good = {"Subject": "Call Acme", "What_Id": {"id": account}, "$se_module": "Accounts"}
        no_subject = {"What_Id": {"id": account}, "$se_module": "Accounts"}
        unknown = {
            "Subject": "x",
            "What_Id": {"id": "5725767000009999999"},
            "$se_module": "Accounts",
        }
        bad_owner = {"Subject": "x", "Owner": {"id": "5725767000009999999"}}
        answer = call(
            "POST", "/crm/v8/Tasks", json={"data": [good, no_subject, unknown, bad_owner]}
        )
        assert answer.status_code == 207
        results = answer.json()["data"]
        assert [r["status"] for r in results] == ["success", "error", "error", "error"]
        assert results[0]["message"] == "record added"
        assert (results[1]["code"], results[1]["details"]["api_name"]) == (
            "MANDATORY_NOT_FOUND",
            "Subject",
        )
        assert results[2]["details"]["api_name"] == "What_Id"
        assert results[3]["details"]["api_name"] == "Owner"
        task_id = results[0]["details"]["id"]
        task = call("GET", f"/crm/v8/Tasks/{task_id}").json()["data"][0]
        assert task["What_Id"] == {"id": account, "name": "Acme"}
        assert task["$se_module"] == "Accounts"
        assert task["Owner"]["name"] == "Sandbox Admin"  # no Owner given: the caller
        query = "select id, Subject from Tasks where Subject like '%Acme%' limit 0, 2"
        found = call("POST", "/crm/v8/coql", json={"select_query": query}).json()["data"]
        assert [r["id"] for r in found] == [task_id]
        assert call("POST", "/crm/v8/Tasks", json={"data": [no_subject]}).status_code == 400
    assert box.call_counts()["POST /crm/v8/{module}"] == 2
    assert box.credits()["spent"] >= 2


# -- the sync's follow-ups against the sandbox --------------------------------------------------
@pytest.fixture
def org(tmp_path: Path) -> Iterator[tuple[ZohoSandbox, ZohoBackend]]:
    sandbox = ZohoSandbox(tmp_path / "zoho.db")
    sandbox.clock.freeze(datetime(2026, 3, 2, 9, tzinfo=UTC))
    seed_zoho(sandbox.store, 40, seed=5)
    sandbox.clock.advance(1)
    with sandbox.inprocess() as creds:
        backend = ZohoBackend(sandbox, creds, limits=ZohoApiLimits(), folder=tmp_path)
        config = backend.write_config()
        values = yaml.safe_load(config.read_text("utf-8"))
        values["sync"] = {"followups": True}
        config.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
        yield sandbox, backend
    sandbox.close()


def crmqual(backend: ZohoBackend, *args: str) -> tuple[int, BaseException | None, str]:
    assert backend.config is not None
    result = CliRunner().invoke(main, [*args, "-c", str(backend.config)], env=backend.secrets())
    error = None if isinstance(result.exception, SystemExit) else result.exception
    return result.exit_code, error, result.stdout


def sync(backend: ZohoBackend) -> dict[str, Any]:
    code, error, out = crmqual(backend, "sync", "--json", "--as-of", "2026-03-02")
    assert error is None and code == 0, (code, error, out)
    summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return summary


def downgrade(box: ZohoSandbox, backend: ZohoBackend) -> str:
    """A graded account, not yet E, struck off the register: rejected, grade E."""
    account = next(r for r in box.records() if r.get("Risk_Grade") in ("A", "B", "C", "D"))
    backend.hand_edit(str(account["id"]), {"Business_Status": "Deregistered"})
    return str(account["id"])


def tasks(box: ZohoSandbox) -> list[dict[str, Any]]:
    return list(box.records("Tasks"))


def state(backend: ZohoBackend) -> StateStore:
    assert backend.folder is not None
    return StateStore(f"sqlite:///{backend.folder / 'state.sqlite'}")


def test_a_downgrade_makes_one_task_on_the_account_for_its_owner(
    org: tuple[ZohoSandbox, ZohoBackend],
) -> None:
    box, backend = org
    assert crmqual(backend, "provision")[0] == 0
    sync(backend)
    assert tasks(box) == []  # a first assessment is a baseline, not a warning
    account = downgrade(box, backend)
    summary = sync(backend)
    assert summary["events"][DOWNGRADED] == 1
    store = state(backend)
    try:
        events = [e for e in store.events("zoho-test") if e.kind in WARNINGS]
    finally:
        store.close()
    (event,) = [e for e in events if e.kind == DOWNGRADED]
    (task,) = [t for t in tasks(box) if marker(event.event_id) in t["Subject"]]
    assert task["What_Id"]["id"] == account and task["$se_module"] == "Accounts"
    assert task["Owner"]["id"] == box.record(account)["Owner"]["id"]
    assert task["Subject"].startswith("Credit warning: downgraded")
    assert event.followup_ref == str(task["id"])
    assert len(tasks(box)) == len(events)  # one Task per warning event
    sync(backend)
    assert len(tasks(box)) == len(events)  # a later run makes none


def test_a_crash_between_the_create_and_its_recording_then_a_rerun_leaves_one_task(
    org: tuple[ZohoSandbox, ZohoBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, backend = org
    assert crmqual(backend, "provision")[0] == 0
    sync(backend)
    downgrade(box, backend)
    original = StateStore.mark_followed_up
    crashes: list[str] = []

    def crash_once(self: StateStore, event_id: str, ref: str) -> None:
        if not crashes:
            crashes.append(event_id)
            raise RuntimeError("killed after the Task was created, before it was recorded")
        original(self, event_id, ref)

    monkeypatch.setattr(StateStore, "mark_followed_up", crash_once)
    code, error, _ = crmqual(backend, "sync", "--json", "--as-of", "2026-03-02")
    assert isinstance(error, RuntimeError), (code, error)
    (crashed,) = crashes
    assert [t["id"] for t in tasks(box) if marker(crashed) in t["Subject"]]  # created
    store = state(backend)
    try:
        assert crashed in {e.event_id for e in store.unfollowed_events("zoho-test")}
    finally:
        store.close()
    creates = box.call_counts()["POST /crm/v8/{module}"]
    sync(backend)  # the rerun
    store = state(backend)
    try:
        events = [e for e in store.events("zoho-test") if e.kind in WARNINGS]
    finally:
        store.close()
    assert crashed in {e.event_id for e in events}
    for event in events:
        carrying = [t for t in tasks(box) if marker(event.event_id) in t["Subject"]]
        assert len(carrying) == 1, (event.kind, carrying)
        assert event.followup_ref == str(carrying[0]["id"])
    # The rerun created Tasks only for the events the crashed run had not reached.
    assert box.call_counts()["POST /crm/v8/{module}"] - creates == len(events) - 1
