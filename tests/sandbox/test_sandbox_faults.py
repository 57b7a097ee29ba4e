"""Faults, credits and editions: every fault seen with its documented status, headers and body;
runs under a profile reproducible for a seed; writes all or nothing; flaky is survivable."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sandbox_helpers import START

from crmqual.errors import ConfigError
from crmqual.sandbox.command import sandbox
from crmqual.sandbox.faults import PROFILES, FaultPlan, FaultProfile, load_profile
from crmqual.sandbox.zoho.auth import THROTTLED
from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.zoho.guard import CONCURRENCY_MESSAGE, CREDITS_HEADER, CREDITS_MESSAGE
from crmqual.sandbox.zoho.quota import EDITIONS, Quota
from crmqual.sandbox.zoho.seed import seed_zoho

LIST = "/crm/v8/Accounts"
FIELDS = {"fields": "Account_Name,External_Rating"}


@dataclass
class Sleeps:
    """Records the latency the sandbox spends instead of waiting (no timed tests)."""

    seconds: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@dataclass
class Client:
    """A bare client (no OAS check: fault answers are outside the record schemas)."""

    creds: ZohoCredentials
    token: str = ""

    def mint(self) -> requests.Response:
        answer = requests.post(
            self.creds.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": self.creds.client_id,
                "client_secret": self.creds.client_secret,
                "refresh_token": self.creds.refresh_token,
            },
            timeout=10,
        )
        self.token = answer.json().get("access_token", self.token)
        return answer

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self.token:
            self.mint()
        headers = {"Authorization": f"Zoho-oauthtoken {self.token}"}
        kwargs.setdefault("timeout", 10)
        return requests.request(method, self.creds.api_base + path, headers=headers, **kwargs)

    def get(self, **kwargs: Any) -> requests.Response:
        return self.call("GET", LIST, params=FIELDS, **kwargs)

    def put(self, data: list[dict[str, Any]], **kwargs: Any) -> requests.Response:
        return self.call("PUT", LIST, json={"data": data, "trigger": []}, **kwargs)


def make_box(
    path: Path,
    profile: FaultProfile | None = None,
    *,
    seed: int = 0,
    quota: Quota | None = None,
    sleep: Sleeps | None = None,
    accounts: int = 30,
) -> ZohoSandbox:
    box = ZohoSandbox(path, faults=profile, fault_seed=seed, quota=quota, sleep=sleep or Sleeps())
    box.clock.freeze(START)
    seed_zoho(box.store, accounts, seed=7)
    return box


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "zoho.db"


@contextmanager
def running(box: ZohoSandbox) -> Iterator[Client]:
    with box.inprocess() as creds:
        yield Client(creds)


def only(**rates: Any) -> FaultProfile:
    return FaultProfile(name="test", **rates)


def _error(answer: requests.Response) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()
    assert set(body) == {"code", "details", "message", "status"}
    assert body["status"] == "error" and isinstance(body["details"], dict)
    return body


# -- rate limiting, credits, concurrency ------------------------------------------------------
def test_rate_limit_is_a_429_without_retry_after(db: Path) -> None:
    box = make_box(db, only(rate_limit=1.0))
    with running(box) as client:
        assert client.mint().status_code == 200  # the accounts server is not rate limited
        answer = client.get()
    assert answer.status_code == 429
    assert _error(answer)["code"] == "TOO_MANY_REQUESTS"
    assert answer.json()["message"] == CONCURRENCY_MESSAGE
    assert "Retry-After" not in answer.headers and CREDITS_HEADER not in answer.headers
    assert box.credits()["spent"] == 0  # refused calls cost nothing


def test_credits_run_out_over_the_24_hour_window(db: Path) -> None:
    box = make_box(db, quota=Quota("enterprise", credits=10))
    with running(box) as client:
        rows = [{"id": r["id"], "External_Rating": "B"} for r in list(box.records())[:25]]
        assert client.put(rows).status_code == 200  # 25 records: 3 credits
        assert CREDITS_HEADER not in client.get().headers  # 4 of 10: under half
        answer = client.get()  # 5: still not more than half
        assert CREDITS_HEADER not in answer.headers
        seen = [client.get().headers.get(CREDITS_HEADER) for _ in range(5)]
        assert seen == ["4", "3", "2", "1", "0"]
        refused = client.get()
        assert refused.status_code == 429
        assert _error(refused)["code"] == "TOO_MANY_REQUESTS"
        assert refused.json()["message"] == CREDITS_MESSAGE
        assert refused.headers[CREDITS_HEADER] == "0" and "Retry-After" not in refused.headers
        assert box.credits() == {
            "edition": "enterprise",
            "allowance": 10,
            "spent": 10,
            "in_window": 10,
            "remaining": 0,
            "concurrency": 20,
        }
        box.clock.advance(23 * 3600)
        assert client.get().status_code == 429  # still inside the window
        box.clock.advance(3600 + 60)
        client.mint()  # the hour-old token has expired meanwhile
        assert client.get().status_code == 200  # the credits came back
    assert box.credits()["in_window"] == 1 and box.credits()["spent"] == 11


def test_editions_set_allowance_and_concurrency(db: Path) -> None:
    users = Quota().users
    assert Quota("free").allowance == 5_000 and Quota("free").concurrency == 5
    assert Quota("enterprise").allowance == 50_000 + 1_000 * users
    assert Quota("standard", users=400).allowance == 100_000  # capped
    assert Quota("ultimate", users=10_000).allowance == 50_000 + 2_000 * 10_000
    assert [e.concurrency for e in EDITIONS.values()] == [5, 10, 15, 20, 25]
    box = make_box(db, quota=Quota("professional", credits=-1))
    with running(box) as client:
        for _ in range(3):
            assert CREDITS_HEADER not in client.get().headers
    assert box.credits()["allowance"] is None and box.credits()["spent"] == 3
    assert ZohoSandbox(db).quota == Quota("professional", credits=-1)  # kept in the file


def test_concurrency_limit_answers_429_while_calls_are_in_flight(db: Path) -> None:
    in_flight = threading.Condition()
    waiting: list[float] = []
    release = threading.Event()

    def hold(seconds: float) -> None:  # each call's latency: wait until released
        with in_flight:
            waiting.append(seconds)
            in_flight.notify_all()
        release.wait()

    box = make_box(db, only(latency_ms=1), quota=Quota("free"))
    box.sleep = hold
    with box.inprocess() as creds:
        client = Client(creds)
        client.mint()
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda: results.append(client.get().status_code))
            for _ in range(5)
        ]
        for t in threads:
            t.start()
        with in_flight:
            in_flight.wait_for(lambda: len(waiting) == 5)
        refused = client.get()  # the sixth call while five are in flight
        release.set()
        for t in threads:
            t.join()
    assert refused.status_code == 429
    assert refused.json()["message"] == CONCURRENCY_MESSAGE
    assert results == [200] * 5


# -- the token server -------------------------------------------------------------------------
def test_token_mint_throttling_only_when_asked(db: Path) -> None:
    box = make_box(db, PROFILES["hostile"].model_copy(update={"latency_ms": 0}))
    with running(box) as client:
        answers = [client.mint() for _ in range(11)]
        assert all(a.status_code == 200 for a in answers)
        assert all("access_token" in a.json() for a in answers[:10])
        assert answers[10].json() == THROTTLED
        box.clock.advance(601)
        assert "access_token" in client.mint().json()
    calm = make_box(db.with_name("calm.db"))
    with running(calm) as client:
        assert all("access_token" in client.mint().json() for _ in range(15))


def test_token_expires_in_the_middle_of_a_run(db: Path) -> None:
    box = make_box(db, only(token_expiry=1.0))
    with running(box) as client:
        client.mint()
        token = client.token
        answer = client.get()
    assert answer.status_code == 401
    assert _error(answer) == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }
    row = box.store.find_token(token)
    assert row is not None and row.expires_at == START.isoformat()  # stays expired


# -- server errors, slow answers, dropped connections -----------------------------------------
def test_server_errors_500_json_and_gateway_html(db: Path) -> None:
    box = make_box(db, only(server_error=1.0))
    with running(box) as client:
        answer = client.get()
    assert answer.status_code == 500
    assert _error(answer) == {
        "code": "INTERNAL_ERROR",
        "details": {},
        "message": "Internal server error occurred.",
        "status": "error",
    }
    gateway = make_box(db.with_name("g.db"), only(server_error=1.0, server_error_statuses=(503,)))
    with running(gateway) as client:
        answer = client.get()
    assert answer.status_code == 503
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "503 Service Unavailable" in answer.text
    assert box.credits()["spent"] == 0


def test_slow_answers_and_the_callers_timeout(db: Path) -> None:
    sleeps = Sleeps()
    box = make_box(db, only(slow=1.0, slow_ms=3_000), sleep=sleeps)
    record = next(box.records())
    with running(box) as client:
        assert client.get().status_code == 200
        assert sleeps.seconds == [3.0]
        with pytest.raises(requests.ReadTimeout):
            client.put([{"id": record["id"], "External_Rating": "CC"}], timeout=(5, 2))
    assert sleeps.seconds == [3.0, 2.0]
    assert box.record(record["id"])["External_Rating"] == "CC"  # handled; the answer was lost


def test_latency_is_added_to_every_api_call(db: Path) -> None:
    sleeps = Sleeps()
    box = make_box(db, only(latency_ms=40), sleep=sleeps)
    with running(box) as client:
        client.mint()  # the token endpoint has no latency
        for _ in range(3):
            client.get()
    assert sleeps.seconds == [0.04] * 3


def _seed_for(profile: FaultProfile, number: int, after: bool) -> int:
    """A fault seed whose call `number` drops the connection before or after handling."""
    return next(s for s in range(1000) if FaultPlan(profile, s).decide(number).drop_after is after)


@pytest.mark.parametrize("after", [False, True])
def test_dropped_connection_applies_a_write_all_or_nothing(db: Path, after: bool) -> None:
    profile = only(drop=1.0)
    box = make_box(db, profile, seed=_seed_for(profile, 2, after))  # call 1 mints the token
    targets = list(box.records())[:3]
    with running(box) as client:
        client.mint()
        with pytest.raises(requests.ConnectionError):
            client.put([{"id": r["id"], "External_Rating": "C", "Penalties": 9} for r in targets])
    now = [box.record(r["id"]) for r in targets]
    if after:
        assert all(r["External_Rating"] == "C" and r["Penalties"] == 9 for r in now)
        assert len(box.write_log()) == 3
    else:
        assert not box.write_log()
        assert [r["External_Rating"] for r in now] == [r["External_Rating"] for r in targets]
    assert box.calls()[-1].status == 0  # logged as "no answer"


def test_dropped_connection_when_served(db: Path) -> None:
    box = make_box(db, only(drop=1.0))
    with box.served() as (_server, creds):
        client = Client(creds)
        client.mint()
        with pytest.raises(requests.ConnectionError):
            client.get()
    assert box.calls()[-1].status == 0


def test_per_record_validation_errors_leave_those_records_untouched(db: Path) -> None:
    box = make_box(db, only(record_error=0.5), seed=3)
    targets = list(box.records())[:20]
    with running(box) as client:
        answer = client.put([{"id": r["id"], "External_Rating": "CCC"} for r in targets])
    assert answer.status_code == 207
    items = answer.json()["data"]
    failed = [i for i, item in enumerate(items) if item["status"] == "error"]
    assert 0 < len(failed) < 20
    for i, item in enumerate(items):
        after = box.record(targets[i]["id"])
        if i in failed:
            assert item["code"] == "INVALID_DATA" and item["message"] == "invalid data"
            assert item["details"] == {
                "api_name": "External_Rating",
                "json_path": f"$.data[{i}].External_Rating",
            }
            assert after == box.record(targets[i]["id"])
            assert after["Modified_Time"] == targets[i]["Modified_Time"]
        else:
            assert after["External_Rating"] == "CCC"


# -- reproducibility and survivability --------------------------------------------------------
def _outcomes(db: Path, seed: int) -> list[str]:
    box = make_box(db, PROFILES["hostile"], seed=seed)
    outcomes = []
    with running(box) as client:
        for _ in range(80):
            try:
                answer = client.get(timeout=4)
            except requests.RequestException as exc:
                outcomes.append(type(exc).__name__)
                continue
            outcomes.append(str(answer.status_code))
            if answer.status_code == 401:
                outcomes.append(str(client.mint().json().get("error", "minted")))
    return outcomes


def test_a_run_under_a_profile_is_reproducible_for_a_seed(tmp_path: Path) -> None:
    first = _outcomes(tmp_path / "a.db", seed=5)
    assert first == _outcomes(tmp_path / "b.db", seed=5)
    assert first != _outcomes(tmp_path / "c.db", seed=6)
    assert {"200", "429", "401", "ConnectionError", "ReadTimeout"} <= set(first)
    assert {"500", "502", "503", "504"} & set(first)


def test_flaky_is_survivable_by_a_client_that_retries(db: Path) -> None:
    box = make_box(db, PROFILES["flaky"], seed=11, accounts=400)
    targets = [r["id"] for r in box.records()]
    pending = {rid: {"id": rid, "External_Rating": "BBB", "Penalties": 1} for rid in targets}
    attempts = 0
    with running(box) as client:
        while pending and attempts < 200:
            attempts += 1
            batch = list(pending.values())[:100]
            try:
                answer = client.put(batch, timeout=5)
            except requests.RequestException:
                continue
            if answer.status_code == 401:
                client.mint()
                continue
            if answer.status_code in (200, 207, 400):
                for sent, item in zip(batch, answer.json()["data"], strict=True):
                    if item["status"] == "success":
                        pending.pop(sent["id"])
    assert not pending and attempts < 40
    assert all(r["External_Rating"] == "BBB" and r["Penalties"] == 1 for r in box.records())


# -- profiles and commands --------------------------------------------------------------------
def test_profiles_by_name_or_file(tmp_path: Path) -> None:
    assert load_profile("none") == FaultProfile(name="none")
    assert load_profile("hostile").token_throttle and not load_profile("flaky").token_throttle
    own = tmp_path / "mine.yaml"
    own.write_text("profile: flaky\ndrop: 0\nlatency_ms: 25\n", encoding="utf-8")
    mine = load_profile(own)
    assert (mine.name, mine.drop, mine.latency_ms) == ("mine", 0, 25)
    assert mine.rate_limit == PROFILES["flaky"].rate_limit
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("rate_limit: 2\nsmoke: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_profile(wrong)
    assert {p.key for p in caught.value.problems} == {"rate_limit", "smoke"}


def test_stats_report_credits_next_to_calls(db: Path) -> None:
    box = make_box(db, quota=Quota("standard"))
    with running(box) as client:
        client.get()
        client.put([{"id": next(box.records())["id"], "External_Rating": "A"}])
    result = CliRunner().invoke(sandbox, ["stats", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["calls"]["GET /crm/v8/{module}"] == 1
    assert summary["credits"]["spent"] == 2 and summary["credits"]["edition"] == "standard"
    text = CliRunner().invoke(sandbox, ["stats", "--db", str(db)]).output
    assert "API credits: 2 spent" in text


def test_serve_rejects_unknown_profiles_and_credits(db: Path) -> None:
    bad = CliRunner().invoke(sandbox, ["serve", "--db", str(db), "--faults", "nope.yaml"])
    assert bad.exit_code == 2 and "--faults" in bad.output
    bad = CliRunner().invoke(sandbox, ["serve", "--db", str(db), "--credits", "lots"])
    assert bad.exit_code == 2 and "--credits" in bad.output


@pytest.mark.slow
def test_serve_command_with_faults_edition_and_credits(db: Path) -> None:
    box = make_box(db, quota=Quota("free", credits=2), seed=4)
    argv = [*box.serve_command(faults="flaky"), "--latency-ms", "0", "--edition", "free"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            client = Client(ZohoCredentials(**json.loads(server.stdout.readline())))
            statuses = []
            for _ in range(12):
                try:
                    statuses.append(client.get().status_code)
                except requests.ConnectionError:
                    statuses.append(0)
        finally:
            server.kill()
            server.wait(timeout=30)
    assert statuses.count(200) == 2  # two credits a day, then only 429s (or flaky faults)
    assert statuses[-1] == 429
    assert ZohoSandbox(db).credits()["spent"] == 2
