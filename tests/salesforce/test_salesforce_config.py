"""The Salesforce connection config (salesforce.md 2): flows and what each needs, login hosts,
the API version (SOAP login refused from v65.0, in English and Chinese), file paths relative
to crmqual.yaml, `crmqual init --crm salesforce`, the registry entry and secrets kept secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from salesforce_payloads import CLIENT_SECRET, KEY_PEM, PASSWORD, SECURITY_TOKEN, connection

from crmqual import registry
from crmqual.adapters.salesforce import SalesforceAdapter
from crmqual.cli.main import main
from crmqual.config import load_config
from crmqual.mapping import load_mapping


def problems(**values: object) -> dict[str, tuple[str, str]]:
    """``connection.*`` key -> (reason, reason in Chinese), as `crmqual` reports them."""
    found = registry.connection_problems("salesforce", values, "crmqual.yaml")
    return {p.key: (p.reason, p.zh) for p in found}


JWT = {"client_id": "key", "username": "u@x.example", "private_key_file": "k.pem"}


def test_jwt_is_the_default_flow_on_the_production_login_host() -> None:
    conn = connection()
    assert (conn.flow, conn.login_url, conn.api_version) == (
        "jwt",
        "https://login.salesforce.com",
        "62.0",
    )
    assert conn.audience == "https://login.salesforce.com"


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://test.salesforce.com/", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://login.salesforce.com"),
    ],
)
def test_the_jwt_audience_follows_the_login_host(login_url: str, audience: str) -> None:
    conn = connection(login_url=login_url)
    assert conn.login_url == login_url.rstrip("/") and conn.audience == audience
    assert connection(login_url=login_url, jwt_audience="https://x.example").audience == (
        "https://x.example"
    )


def test_soap_login_is_refused_from_api_65_in_both_languages() -> None:
    found = problems(
        flow="password", username="u", password="p", security_token="t", api_version="65.0"
    )
    reason, zh = found["connection.api_version"]
    assert "SOAP login()" in reason and "65.0" in reason and "flow jwt" in reason
    assert "65.0" in zh and "SOAP login()" in zh and "flow jwt" in zh
    ok = problems(
        flow="password", username="u", password="p", security_token="t", api_version="64.0"
    )
    assert ok == {}


def test_client_credentials_need_the_my_domain() -> None:
    found = problems(flow="client_credentials", client_id="k", client_secret="s")
    reason, zh = found["connection.login_url"]
    assert "My Domain" in reason and "My Domain" in zh
    assert problems(
        flow="client_credentials", client_id="k", client_secret="s",
        login_url="https://acme.my.salesforce.com",
    ) == {}  # fmt: skip


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"flow": "jwt", "client_id": "k"}, "username, private_key or private_key_file"),
        ({"flow": "password", "username": "u"}, "password, security_token"),
        ({"flow": "client_credentials", "login_url": "https://a.my.salesforce.com"}, "client_id"),
    ],
)
def test_what_a_flow_lacks_is_named(values: dict[str, str], named: str) -> None:
    reason, zh = problems(**values)["connection"]
    assert named in reason and named in zh


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"api_version": "v62.0"}, "connection.api_version"),
        ({"login_url": "login.salesforce.com"}, "connection.login_url"),
        ({"flow": "oauth"}, "connection.flow"),
        ({"api_reserve": -1}, "connection.api_reserve"),
        ({"limits": {"collection_size": 201}}, "connection.limits.collection_size"),
        ({"limits": {"query_batch": 100}}, "connection.limits.query_batch"),
        ({"object": "Account; DROP"}, "connection.object"),
        ({"unknown_key": 1}, "connection.unknown_key"),
    ],
)
def test_invalid_settings_are_refused_naming_the_key(bad: dict[str, object], key: str) -> None:
    assert key in problems(**JWT, **bad)


def test_secrets_never_show_in_reprs_or_dumps() -> None:
    conn = connection(
        flow="password", api_version="64.0", password=PASSWORD, security_token=SECURITY_TOKEN,
        client_secret=CLIENT_SECRET,
    )  # fmt: skip
    shown = repr(conn) + str(conn) + json.dumps(conn.model_dump(mode="json"))
    for secret in (PASSWORD, SECURITY_TOKEN, CLIENT_SECRET, KEY_PEM[40:80]):
        assert secret not in shown
    adapter = SalesforceAdapter(conn)
    assert PASSWORD not in repr(adapter) + repr(adapter.login) + repr(adapter.org)
    with pytest.raises(ValidationError):
        connection(password=None, flow="password", api_version="64.0")


def test_init_writes_a_template_that_builds_the_adapter_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "--crm", "salesforce"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "crmqual.yaml").read_text("utf-8")
    assert "external client app" in text and "${SALESFORCE_CLIENT_ID}" in text
    (tmp_path / "keys").mkdir()
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", "3MVG9.key")
    monkeypatch.setenv("SALESFORCE_USERNAME", "integration@acme.example")
    monkeypatch.setenv("SALESFORCE_PRIVATE_KEY_FILE", "keys/server.key")
    loaded = load_config(tmp_path / "crmqual.yaml")
    built = registry.make_adapter(
        "salesforce", loaded.config.connection, "crmqual.yaml", loaded.build_context("Id", "x")
    )
    assert isinstance(built, SalesforceAdapter)
    assert built.login._key_file == tmp_path / "keys" / "server.key"
    assert built.connection.api_reserve == 5000 and built.capabilities.bulk_write


def test_the_registry_finds_the_adapter_and_its_shipped_mapping() -> None:
    assert "salesforce" in registry.names()
    mapping, _ = load_mapping(None, "salesforce")
    assert (mapping.id_field, mapping.modified_field) == ("Id", "SystemModstamp")
    assert all(f.endswith("__c") for f in mapping.output_fields)
    assert {"Name", "BillingCountry", "NumberOfEmployees", "OwnerId", "CurrencyIsoCode"} <= set(
        mapping.read_fields
    )
