"""Commands that only read the state store (runs, history, report, prune, the policy lab) need
no CRM secrets: a machine that holds the state store but not the CRM's tokens can run them.
Commands that reach the CRM still name every variable that is not set, and a secret the state
store's own URL names is still required."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from backends import FileBackend
from click.testing import CliRunner
from syncutil import company

from crmqual.cli.main import main
from crmqual.config import load_config
from crmqual.context import build_adapter
from crmqual.errors import ConfigError
from crmqual.mapping import load_mapping

UNSET = "CRMQUAL_TEST_UNSET_SECRET"
REF = "${" + UNSET + "}"


@pytest.fixture
def zoho_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Zoho configuration whose secrets are not set, on a state store a sync filled."""
    monkeypatch.delenv(UNSET, raising=False)
    backend = FileBackend(tmp_path)
    backend.load([company(i) for i in range(4)])
    for args in (["provision"], ["sync"]):
        assert CliRunner().invoke(main, [*args, "-c", str(backend.config)]).exit_code == 0
    filled = yaml.safe_load(backend.config.read_text(encoding="utf-8"))
    config = tmp_path / "zoho.yaml"
    settings = {
        "crm": "zoho",
        "target": filled["target"],
        "state": filled["state"],
        "connection": {
            "client_id": REF,
            "client_secret": REF,
            "refresh_token": REF,
        },
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "-c", str(config)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["runs"],
        ["history", "A001"],
        ["prune", "--older-than", "30", "--dry-run"],
        ["policy", "diff", "default", "default"],
        ["report", "--out", "REPORT"],
    ],
)
def test_state_commands_run_without_the_crms_secrets(zoho_config: Path, args: list[str]) -> None:
    args = [str(zoho_config.with_name("report.html")) if a == "REPORT" else a for a in args]
    code, out, err = invoke(zoho_config, *args)
    assert code == 0, (out, err)
    assert UNSET not in err


@pytest.mark.parametrize("args", [["check"], ["sync", "--dry-run"], ["provision", "--dry-run"]])
def test_commands_reaching_the_crm_name_every_unset_variable(
    zoho_config: Path, args: list[str]
) -> None:
    code, _, err = invoke(zoho_config, *args)
    assert code == 2
    for key in ("client_id", "client_secret", "refresh_token"):
        assert f"connection.{key}: environment variable {UNSET} is not set" in err


def test_a_secret_in_the_state_url_is_still_required(zoho_config: Path) -> None:
    settings = yaml.safe_load(zoho_config.read_text(encoding="utf-8"))
    settings["state"] = REF
    zoho_config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    code, _, err = invoke(zoho_config, "runs")
    assert code == 2
    assert f"state: environment variable {UNSET} is not set" in err


def test_no_adapter_is_built_from_a_connection_held_back(zoho_config: Path) -> None:
    loaded = load_config(zoho_config, connection=False)
    assert [p.key for p in loaded.connection_problems] == [
        "connection.client_id",
        "connection.client_secret",
        "connection.refresh_token",
    ]
    with pytest.raises(ConfigError) as raised:
        build_adapter(loaded, load_mapping(None, "zoho")[0])
    assert raised.value.problems == list(loaded.connection_problems)
