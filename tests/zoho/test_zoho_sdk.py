"""The Zoho adapter's SDK transport (`transport: sdk`, zcrmsdk 3.1.0, API v2): the adapter
contract suite against the sandbox; reads and descriptions equal to the REST transport's; the
SDK confined (its global initialiser, connector module, logger, token store, private folder,
mysql stub); timeouts, retries and token refresh under faults; the v2 paging cap; and issue
8's evidence: a `transport: sdk` sync against `crmqual sandbox serve --faults flaky`, rerun
until exit 0, ends with the REST transport's outputs, every `/crm/` call carrying
`X-ZOHO-SDK`."""

from __future__ import annotations

import json
import logging
import platform
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from zoho_backend import SHIPPED_MAPPING, ZohoBackend, sandbox_connection, serve

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho import sdk_runtime as runtime
from crmqual.adapters.zoho.config import ZohoApiLimits
from crmqual.adapters.zoho.sdk import ZohoSdkAdapter
from crmqual.adapters.zoho.sdk_runtime import SDK_LOGGER, load_sdk
from crmqual.cli.context import build_adapter
from crmqual.config import load_config
from crmqual.contract import Adapter, ReadQuery
from crmqual.contract_suite import CHECKS, LoggedWrite
from crmqual.errors import ConfigError, ReadTooLargeError
from crmqual.mapping import load_mapping
from crmqual.sandbox.faults import FaultProfile
from crmqual.sandbox.store import CallEntry
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.call import ZohoLimits
from crmqual.sandbox.zoho.hosts import ZohoHosts
from crmqual.sandbox.zoho.seed import seed_zoho

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
AS_OF = "2026-03-02"
MAPPING = load_mapping(SHIPPED_MAPPING)[0]
OUTPUTS = frozenset(MAPPING.output_fields)
STAMP = MAPPING.outputs["assessed_at"].field
STATUS = MAPPING.outputs["status"].field
#: The shipped mapping's input fields (its outputs are not provisioned in most tests).
READ_FIELDS = tuple(
    dict.fromkeys(r.field.split(".")[0] for r in MAPPING.inputs.values() if r.field)
)
#: zcrmsdk's X-ZOHO-SDK header, as this interpreter sends it (common_api_handler.py).
SDK_CLIENT = f"{platform.system()}/{platform.release()} python/{platform.python_version()}:3.1.0"
TOKEN_ENDPOINT = "POST /oauth/v2/token"


def _no_sleep(seconds: float) -> None:
    """Backoff and fault latency are not waited out in-process."""


class SdkBackend(ZohoBackend):
    """The contract's backend with the SDK transport; the SDK's writes count as crmqual's."""

    def adapter(self) -> Adapter:
        return ZohoSdkAdapter(
            sandbox_connection(self.creds, **self.hosts(), limits=self.limits, transport="sdk")
        )

    def write_log(self) -> list[LoggedWrite]:
        return [
            LoggedWrite(w.record_id, w.fields, "crmqual" if w.client == SDK_CLIENT else w.client)
            for w in super().write_log()
        ]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[ZohoSandbox]:
    sandbox = ZohoSandbox(tmp_path / "zoho.db")
    sandbox.clock.freeze(START)
    yield sandbox
    sandbox.close()


@pytest.fixture
def seeded(box: ZohoSandbox) -> ZohoSandbox:
    seed_zoho(box.store, 40, seed=5)
    box.clock.advance(1)
    return box


# -- the adapter contract -----------------------------------------------------------------------
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_contract(check: Callable[[ZohoBackend], None], box: ZohoSandbox) -> None:
    seed_zoho(box.store, 0, seed=1)  # the org's custom input fields, no accounts
    with box.inprocess() as creds:
        check(SdkBackend(box, creds))
    sdk_writes = [c for c in box.calls() if c.endpoint.startswith("PUT /crm/v2/")]
    assert all(c.client == SDK_CLIENT for c in sdk_writes)
    assert not [c for c in box.calls() if c.endpoint.startswith("PUT /crm/v8/")]


# -- same answers as the REST transport -----------------------------------------------------------
def test_describe_and_reads_equal_the_rest_transports(seeded: ZohoSandbox) -> None:
    limits = ZohoApiLimits(page_size=7)  # 40 records: six pages, two field groups by ids
    with seeded.inprocess() as creds:
        rest = ZohoAdapter(sandbox_connection(creds, limits=limits))
        sdk = ZohoSdkAdapter(sandbox_connection(creds, limits=limits, transport="sdk"))
        assert sdk.describe() == rest.describe()
        everything = ReadQuery(fields=READ_FIELDS)
        rest_pages = list(rest.read(everything))
        sdk_pages = list(sdk.read(everything))
        assert len(sdk_pages) == len(rest_pages) == 6
        assert sdk_pages == rest_pages
        some = tuple(str(r["id"]) for r in rest_pages[1][:3])
        by_ids = ReadQuery(fields=READ_FIELDS, ids=some)
        assert list(sdk.read(by_ids)) == list(rest.read(by_ids))
        edited = some[0]
        seeded.clock.advance(5)
        seeded.hand_edit(edited, {"Employees": 4321})
        since = ReadQuery(fields=READ_FIELDS, since=seeded.clock.now())
        assert [[r["id"] for r in page] for page in sdk.read(since)] == [[edited]]
        assert sdk.server_time() == seeded.clock.now()  # the Date of its last answer
    v2 = [c for c in seeded.calls() if c.path.startswith("/crm/v2/")]
    assert v2 and all(c.client == SDK_CLIENT for c in v2)
    assert {c.endpoint for c in v2} == {"GET /crm/v2/{module}", "GET /crm/v2/settings/fields"}
    assert sdk.api_calls == sum(sdk.calls_by_endpoint.values())


# -- confinement --------------------------------------------------------------------------------
def _provisioned(adapter: Adapter) -> None:
    from crmqual.contract import FieldSpec, FieldType

    wanted = [
        FieldSpec("Risk_Grade", FieldType.PICKLIST, "Risk Grade", tuple("ABCDE")),
        FieldSpec("Credit_Score", FieldType.INTEGER, "Credit Score"),
        FieldSpec("Credit_Limit", FieldType.CURRENCY, "Credit Limit"),
        FieldSpec("Warning_Flags", FieldType.MULTISELECT, "Warning Flags", ("OVERDUE", "DEFAULT")),
        FieldSpec("Assessed_At", FieldType.DATETIME, "Assessed At"),
    ]
    adapter.provision(wanted)
    adapter.allow_writes_to([f.api_name for f in wanted])


VALUES = {
    "Risk_Grade": "B",
    "Credit_Score": 61,
    "Credit_Limit": 125000,
    "Warning_Flags": ["OVERDUE", "DEFAULT"],
    "Assessed_At": "2026-03-02T09:00:00+00:00",
}


def test_the_sdk_leaves_no_trace_outside_its_calls(
    seeded: ZohoSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # zcrmsdk's default log file would land here
    sdk = load_sdk()
    initializer = sdk.Initializer
    default_before = initializer.initializer
    logger = logging.getLogger(SDK_LOGGER)
    handlers, filters = list(logger.handlers), list(logger.filters)
    with seeded.inprocess() as creds:
        adapter = ZohoSdkAdapter(sandbox_connection(creds, transport="sdk"))
        _provisioned(adapter)
        ids = [str(r["id"]) for r in seeded.records()][:3]
        results = adapter.write([(rid, VALUES) for rid in ids])
        assert all(r.ok for r in results), results
        pages = list(adapter.read(ReadQuery(fields=(*READ_FIELDS, *VALUES), ids=tuple(ids))))
        folder = adapter.runtime.folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        secrets = [creds.client_secret, creds.refresh_token, adapter.api.tokens._token]
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files, "the SDK's token store and field cache live in its private folder"
        for path in files:
            text = path.read_text("utf-8", errors="replace")
            assert not [s for s in secrets if s and s in text], f"a secret in {path}"
    for record in (r for page in pages for r in page):
        assert record["Risk_Grade"] == "B" and record["Credit_Score"] == 61
        assert (
            record["Credit_Limit"] == 125000 and record["Warning_Flags"] == VALUES["Warning_Flags"]
        )
        assert record["Assessed_At"] == VALUES["Assessed_At"]
    # Nothing of the SDK's stays installed between calls.
    assert initializer.initializer is default_before
    assert getattr(initializer.LOCAL, "init", None) is None
    assert sdk.connector.requests is requests
    assert (logger.handlers, logger.filters) == (handlers, filters)
    assert list(cwd.iterdir()) == []
    adapter.close()
    assert not folder.exists()
    writes = [w for w in seeded.write_log() if str(w.record_id) in ids]
    assert writes and {w.client for w in writes} == {SDK_CLIENT}


def test_mysql_stub_is_gone_after_import() -> None:
    probe = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec('mysql') is not None\n"
        "from crmqual.adapters.zoho.sdk_runtime import load_sdk\n"
        "sdk = load_sdk()\n"
        "left = 'mysql' in sys.modules or 'mysql.connector' in sys.modules\n"
        "print(json.dumps({'real': real, 'left': left, 'store': sdk.FileStore.__name__}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + probe],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    if seen["real"]:
        pytest.skip("mysql-connector-python is installed: no stub is needed")
    assert seen == {"real": False, "left": False, "store": "FileStore"}


class _RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, Any, str | None]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        headers = kwargs.get("headers") or {}
        self.sent.append((str(method), str(url), kwargs.get("timeout"), headers.get("X-ZOHO-SDK")))
        return super().request(method, url, *args, **kwargs)


def test_every_sdk_request_has_crmquals_timeouts(seeded: ZohoSandbox) -> None:
    session = _RecordingSession()
    with seeded.inprocess() as creds:
        adapter = ZohoSdkAdapter(
            sandbox_connection(creds, transport="sdk", connect_timeout=3.5, read_timeout=7.25),
            session=session,
        )
        adapter.describe()
        assert sum(len(p) for p in adapter.read(ReadQuery(fields=READ_FIELDS))) == 40
    api = [s for s in session.sent if "/crm/" in s[1]]
    assert api and all(s[3] == SDK_CLIENT for s in api)
    assert {s[2] for s in session.sent} == {(3.5, 7.25)}
    assert requests.get.__module__ == "requests.api"  # the requests module itself untouched


# -- faults: retries, token refresh, per-record errors ---------------------------------------------
STORMY = FaultProfile(
    name="stormy",
    rate_limit=0.15,
    server_error=0.15,
    server_error_statuses=(500, 503),
    drop=0.1,
    token_expiry=0.06,
)


def test_sdk_calls_retry_and_refresh_through_faults(tmp_path: Path) -> None:
    db = tmp_path / "zoho.db"
    clean = ZohoSandbox(db)
    clean.clock.freeze(START)
    seed_zoho(clean.store, 40, seed=5)
    clean.clock.advance(1)
    with clean.inprocess() as creds:
        reference = ZohoAdapter(sandbox_connection(creds, limits=ZohoApiLimits(page_size=10)))
        _provisioned(reference)
        expected = list(reference.read(ReadQuery(fields=READ_FIELDS)))
    stormy = ZohoSandbox(db, faults=STORMY, fault_seed=7, sleep=_no_sleep)
    first = max(c.seq for c in stormy.calls())
    with stormy.inprocess() as creds:
        adapter = ZohoSdkAdapter(
            sandbox_connection(
                creds,
                transport="sdk",
                limits=ZohoApiLimits(page_size=10, write_batch=10),
                max_attempts=12,
                max_retry_wait=10_000,
            ),
            sleep=_no_sleep,
        )
        assert list(adapter.read(ReadQuery(fields=READ_FIELDS))) == expected
        adapter.describe()
        adapter.allow_writes_to(list(VALUES))
        ids = [str(r["id"]) for page in expected for r in page]
        results = adapter.write([(rid, VALUES) for rid in ids])
    assert [r.record_id for r in results] == ids and all(r.ok for r in results)
    calls = stormy.calls(after_seq=first)
    statuses = {c.status for c in calls if c.path.startswith("/crm/")}
    assert {401, 429, 0} <= statuses and statuses & {500, 503}, statuses
    assert sum(1 for c in calls if c.endpoint == TOKEN_ENDPOINT) >= 2  # refreshed after 401s
    assert all(c.client == SDK_CLIENT for c in calls if c.path.startswith("/crm/"))
    for rid in ids:
        record = clean.record(rid)
        assert record["Risk_Grade"] == "B" and record["Warning_Flags"] == ["OVERDUE", "DEFAULT"]


def test_a_capped_v2_page_points_to_the_rest_transport(tmp_path: Path) -> None:
    capped = ZohoSandbox(tmp_path / "zoho.db", limits=ZohoLimits(page_records=6, v2_page_cap=True))
    capped.clock.freeze(START)
    seed_zoho(capped.store, 10, seed=2)
    with capped.inprocess() as creds:
        adapter = ZohoSdkAdapter(
            sandbox_connection(creds, transport="sdk", limits=ZohoApiLimits(page_size=3))
        )
        pages = adapter.read(ReadQuery(fields=("Account_Name",)))
        assert len(next(pages)) == len(next(pages)) == 3
        with pytest.raises(ReadTooLargeError, match="transport: rest"):
            next(pages)
    capped.close()


def test_crmqual_yaml_picks_the_transport(tmp_path: Path) -> None:
    seed_box = ZohoSandbox(tmp_path / "zoho.db")
    creds = seed_box.credentials(ZohoHosts.for_dc("us"))
    backend = ZohoBackend(seed_box, creds, folder=tmp_path)
    env = backend.secrets()
    for transport, kind in (("sdk", ZohoSdkAdapter), ("rest", ZohoAdapter)):
        config = backend.write_config(connection={"transport": transport})
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            adapter = build_adapter(load_config(config), MAPPING)
        assert type(adapter) is kind
    seed_box.close()


def test_without_zcrmsdk_the_sdk_transport_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "_SDK", None)
    monkeypatch.setattr(runtime.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"crmqual\[sdk\]"):
        runtime.load_sdk()


# -- issue 8's evidence ---------------------------------------------------------------------------
ACCOUNTS = 300
SEED = 11
#: Fault seeds of the served sandbox: 3 makes the first sync exit 1 (a record refused), so it
#: is rerun; both meet 429, 5xx and a dropped connection.
FAULT_SEEDS = (1, 3)


def _crmqual(backend: ZohoBackend, *args: str) -> tuple[int, str, str]:
    assert backend.folder is not None
    env = {**backend.env(), "TMPDIR": str(backend.folder / "tmp")}  # the SDK's private folders
    done = subprocess.run(
        backend.sync_command(*args), env=env, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout, done.stderr


def _until_ok(step: Callable[[], tuple[int, str, str]], attempts: int = 10) -> list[int]:
    """Run `step` until it exits 0; the exit codes seen (1 records failed, 3 the CRM failed,
    5 quota: all resumable)."""
    codes: list[int] = []
    while not codes or (codes[-1] != 0 and len(codes) < attempts):
        code, out, err = step()
        assert code in (0, 1, 3, 5), f"exit {code}: {out[-2000:]} {err[-2000:]}"
        codes.append(code)
    return codes


def _outputs(box: ZohoSandbox) -> dict[str, dict[str, Any]]:
    """Every record's crmqual outputs but the assessed-at stamp."""
    return {str(r["id"]): {f: r.get(f) for f in sorted(OUTPUTS - {STAMP})} for r in box.records()}


def _served_sync(
    folder: Path, transport: str, faults: str | None, fault_seed: int = 0
) -> tuple[dict[str, dict[str, Any]], list[int], list[CallEntry]]:
    """A fresh org seeded with SEED, served (`crmqual sandbox serve`, its own process); then
    `crmqual provision` and `crmqual sync --as-of`, each rerun until exit 0, as subprocesses
    configured by a crmqual.yaml with `transport`. The org's outputs, the sync's exit codes
    and every call the sandbox logged from the first sync on."""
    folder.mkdir()
    box = ZohoSandbox(folder / "zoho.db", fault_seed=fault_seed)
    try:
        box.clock.freeze(START)
        seed_zoho(box.store, ACCOUNTS, seed=SEED)
        box.clock.advance(1)
        with serve(box, folder / "serve.log", faults=faults) as creds:
            backend = ZohoBackend(
                box, creds, served=True, limits=ZohoApiLimits(page_size=50), folder=folder
            )
            backend.write_config(batch_size=10, connection={"transport": transport})
            (folder / "tmp").mkdir()
            assert _until_ok(lambda: _crmqual(backend, "provision"))[-1] == 0
            before = max(c.seq for c in box.calls())
            codes = _until_ok(lambda: _crmqual(backend, "sync", "--json", "--as-of", AS_OF))
        assert list((folder / "tmp").iterdir()) == [], "an SDK folder outlived its process"
        return _outputs(box), codes, box.calls(after_seq=before)
    finally:
        box.close()


@pytest.fixture(scope="module")
def rest_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The REST transport's sync of the same org, without faults: the values to end with."""
    values, codes, calls = _served_sync(tmp_path_factory.mktemp("rest") / "org", "rest", None)
    assert codes == [0]
    assert all(c.client.startswith("crmqual/") for c in calls if c.path.startswith("/crm/"))
    assert len(values) == ACCOUNTS and all(v[STATUS] for v in values.values())
    return values


@pytest.mark.slow
@pytest.mark.parametrize("fault_seed", FAULT_SEEDS)
def test_sdk_sync_under_flaky_faults_ends_where_rest_does(
    tmp_path: Path, fault_seed: int, rest_outputs: dict[str, dict[str, Any]]
) -> None:
    values, codes, calls = _served_sync(tmp_path / "org", "sdk", "flaky", fault_seed)
    assert codes[-1] == 0, codes
    assert values == rest_outputs
    crm = [c for c in calls if c.path.startswith("/crm/")]
    assert {c.endpoint for c in crm} >= {"GET /crm/v2/{module}", "PUT /crm/v2/{module}"}
    assert [c for c in crm if c.client != SDK_CLIENT] == []
    assert {c.endpoint for c in calls if not c.path.startswith("/crm/")} <= {TOKEN_ENDPOINT}
    struck = [c for c in crm if c.status >= 400 or c.status == 0]
    assert struck, "no fault struck the SDK's calls: this run proves nothing"
    print(
        f"\nsdk sync, flaky seed {fault_seed}: exits {codes}; {len(struck)} faults in "
        f"{len(crm)} /crm/ calls ({dict(Counter(c.status for c in struck))}); "
        f"{sum(1 for c in crm if c.method == 'PUT')} PUTs; "
        f"{sum(1 for c in calls if c.endpoint == TOKEN_ENDPOINT)} token calls"
    )
