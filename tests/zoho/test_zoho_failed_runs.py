"""Issue 12's evidence: a `crmqual sync` against Zoho that dies of an API error, of a refused
token or of an unreachable host exits 3 and shows in `crmqual runs` (and `runs --json`) as a
failed sync run with its message, which carries no secret; the lock is released.

The CLI runs in this process; Zoho's hosts are answered by `responses` (answers shaped as in
zoho_payloads), or not at all (a closed loopback port)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml
from click.testing import CliRunner
from zoho_backend import SECRET_ENV
from zoho_payloads import (
    ACCESS_TOKENS,
    CLIENT_ID,
    CLIENT_SECRET,
    COUNT_URL,
    DATE,
    FIELDS_URL,
    LIST_URL,
    REFRESH_TOKEN,
    TOKEN_URL,
    error,
    field_meta,
    token_body,
)

from crmqual.adapters.zoho.fields import CREATE_TYPES
from crmqual.cli.main import main
from crmqual.errors import ExitCode
from crmqual.mapping import load_mapping
from crmqual.state import StateStore

MAPPING = Path(__file__).parent / "zoho_test_mapping.yaml"
TARGET = "zoho-failing"
SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, *ACCESS_TOKENS)


def write_config(folder: Path, **connection: Any) -> Path:
    config = {
        "crm": "zoho",
        "target": TARGET,
        "connection": {
            **{key: "${" + name + "}" for key, name in SECRET_ENV.items()},
            "max_attempts": 2,  # an unreachable host is retried once, without waiting
            "max_retry_wait": 0,
            **connection,
        },
        "mapping": str(MAPPING),
        "state": "sqlite:///state.sqlite",
    }
    path = folder / "crmqual.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def crmqual(config: Path, *args: str) -> tuple[int, str, str]:
    env = {
        SECRET_ENV["client_id"]: CLIENT_ID,
        SECRET_ENV["client_secret"]: CLIENT_SECRET,
        SECRET_ENV["refresh_token"]: REFRESH_TOKEN,
    }
    result = CliRunner().invoke(main, [*args, "-c", str(config)], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def described_fields() -> list[dict[str, Any]]:
    """Zoho's description of Accounts with every field the test mapping reads and writes."""
    mapping = load_mapping(MAPPING, "zoho")[0]
    inputs = {"Modified_Time"} | {
        rule.field.split(".")[0] for rule in mapping.inputs.values() if rule.field
    }
    return [field_meta(name, "text") for name in sorted(inputs)] + [
        field_meta(out.field, CREATE_TYPES[out.type]) for out in mapping.outputs.values()
    ]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def assert_recorded_as_failed(config: Path, *words: str) -> dict[str, Any]:
    """The newest run in `crmqual runs --json` and `crmqual runs`: a failed sync naming
    ``words``, no secret anywhere; the lock is free."""
    code, out, err = crmqual(config, "runs", "--json")
    assert code == 0, err
    newest = json.loads(out.splitlines()[0])
    assert (newest["kind"], newest["status"]) == ("sync", "failed"), newest
    assert all(w in newest["message"] for w in words), newest["message"]
    code, text, err = crmqual(config, "runs")
    assert code == 0, err
    header, row = text.splitlines()[:2]
    assert header.split()[:2] == ["run", "started"]
    assert str(newest["run_id"]) in row and "sync" in row and "failed" in row
    assert all(w in row for w in words), row
    assert not any(secret in out + text for secret in SECRETS)
    with StateStore(f"sqlite:///{config.parent / 'state.sqlite'}") as state:
        assert state.lock_holder(TARGET) is None
    return dict(newest)


def test_a_sync_dying_of_an_api_error_is_recorded_as_failed(
    tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    config = write_config(tmp_path, limits={"page_size": 2, "page_records": 4})
    rsps.post(TOKEN_URL, json=token_body())
    rsps.get(FIELDS_URL, json={"fields": described_fields()}, headers={"Date": DATE})
    rsps.get(COUNT_URL, json={"count": 3})
    listed = rsps.get(
        LIST_URL, status=400, json=error("INVALID_REQUEST", "the request is not valid")
    )
    code, out, err = crmqual(config, "sync", "--json")
    assert code == ExitCode.CRM_UNAVAILABLE, out + err
    assert listed.call_count == 1  # it died mid-run, holding the lock
    assert "INVALID_REQUEST" in err and not any(s in err for s in SECRETS)
    assert_recorded_as_failed(config, "INVALID_REQUEST")


def test_a_sync_whose_token_is_refused_is_recorded_as_failed(
    tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    config = write_config(tmp_path)
    rsps.post(TOKEN_URL, json={"error": "invalid_code"})  # Zoho answers token errors with 200
    code, out, err = crmqual(config, "sync")
    assert code == ExitCode.CRM_UNAVAILABLE, out + err
    assert "refresh token is unknown" in err and not any(s in err for s in SECRETS)
    newest = assert_recorded_as_failed(config, "refresh token is unknown")
    assert newest["mode"] == "full"  # the first run of this target, had it got that far


def test_a_sync_that_cannot_reach_zoho_is_recorded_as_failed(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = f"http://127.0.0.1:{port}"
    config = write_config(tmp_path, accounts_url=closed, api_domain=closed)
    code, out, err = crmqual(config, "sync", "--quiet")
    assert code == ExitCode.CRM_UNAVAILABLE, out + err
    assert_recorded_as_failed(config, f"127.0.0.1:{port}")
    code, out, _ = crmqual(config, "sync", "--quiet")  # the next run is not locked out
    assert code == ExitCode.CRM_UNAVAILABLE
    code, out, _ = crmqual(config, "runs", "--json")
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["failed", "failed"]
