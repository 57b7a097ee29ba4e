"""Secrets from the OS keyring as well as the environment (issue 14), on a fake backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import yaml
from click.testing import CliRunner
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as NoKeyring

from crmqual.cli.main import main
from crmqual.config import load_config
from crmqual.errors import ConfigError
from crmqual.http import SECRETS


class FakeKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.kept.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.kept[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.kept:
            raise keyring.errors.PasswordDeleteError(username)
        del self.kept[(service, username)]


@pytest.fixture
def fake() -> Iterator[FakeKeyring]:
    before = keyring.get_keyring()
    backend = FakeKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def none() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    yield
    keyring.set_keyring(before)


def config(tmp_path: Path) -> Path:
    path = tmp_path / "crmqual.yaml"
    settings = {
        "crm": "zoho",
        "connection": {
            "client_id": "${CQ_TEST_ID}",
            "client_secret": "${CQ_TEST_SECRET}",
            "refresh_token": "${CQ_TEST_REFRESH}",
        },
    }
    path.write_text(yaml.safe_dump(settings), "utf-8")
    return path


def test_a_secret_set_once_is_read_from_the_keyring_and_masked(
    fake: FakeKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CQ_TEST_ID", "CQ_TEST_SECRET", "CQ_TEST_REFRESH"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    stored = runner.invoke(
        main, ["secret", "set", "CQ_TEST_SECRET", "--stdin"], input="k3y-ring-secret\n"
    )
    assert stored.exit_code == 0, stored.output
    assert "k3y-ring-secret" not in stored.output
    assert fake.kept[("crmqual", "CQ_TEST_SECRET")] == "k3y-ring-secret"
    monkeypatch.setenv("CQ_TEST_ID", "1000.client")
    monkeypatch.setenv("CQ_TEST_REFRESH", "1000.refresh-from-env")
    loaded = load_config(config(tmp_path))
    assert loaded.config.connection["client_secret"] == "k3y-ring-secret"
    assert SECRETS.redact("token k3y-ring-secret") == "token ****"
    monkeypatch.setenv("CQ_TEST_SECRET", "env-wins-secret")
    assert load_config(config(tmp_path)).config.connection["client_secret"] == "env-wins-secret"
    removed = runner.invoke(main, ["secret", "delete", "CQ_TEST_SECRET"])
    assert removed.exit_code == 0 and ("crmqual", "CQ_TEST_SECRET") not in fake.kept


def test_a_missing_secret_names_both_places(
    fake: FakeKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CQ_TEST_ID", "CQ_TEST_SECRET", "CQ_TEST_REFRESH"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as raised:
        load_config(config(tmp_path))
    reasons = {p.key: p.reason for p in raised.value.problems}
    assert reasons["connection.client_secret"] == (
        "environment variable CQ_TEST_SECRET is not set, nor is CQ_TEST_SECRET in the OS "
        "keyring: export CQ_TEST_SECRET=... in the job's environment, or store it with "
        "`crmqual secret set CQ_TEST_SECRET`"
    )


def test_without_a_keyring_the_environment_is_named(
    none: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CQ_TEST_SECRET", raising=False)
    result = CliRunner().invoke(main, ["secret", "set", "CQ_TEST_SECRET", "--stdin"], input="x\n")
    assert result.exit_code == 2
    assert "this machine has no OS keyring (a headless server or CI)" in result.output
    assert "export CQ_TEST_SECRET=..." in result.output
    with pytest.raises(ConfigError) as raised:
        load_config(config(tmp_path))
    reasons = {p.key: p.reason for p in raised.value.problems}
    assert reasons["connection.client_secret"].startswith(
        "environment variable CQ_TEST_SECRET is not set (this machine has no OS keyring)"
    )


def test_a_name_config_cannot_refer_to_is_refused(fake: FakeKeyring) -> None:
    result = CliRunner().invoke(main, ["secret", "set", "my-token", "--stdin"], input="x\n")
    assert result.exit_code == 2
    assert "use letters, digits and _" in result.output
    assert fake.kept == {}
