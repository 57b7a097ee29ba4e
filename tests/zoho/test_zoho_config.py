"""The Zoho connection config: data centres, overrides, validation, secrets kept secret."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError
from zoho_backend import sandbox_connection
from zoho_payloads import CLIENT_SECRET, REFRESH_TOKEN, connection

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.config import DATA_CENTRES, DataCentre
from crmqual.contract import ReadQuery
from crmqual.http import install_redaction
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.hosts import ZohoHosts
from crmqual.sandbox.zoho.seed import seed_zoho


@pytest.mark.parametrize("dc", list(DataCentre))
def test_each_data_centre_has_its_token_server_and_api_domain(dc: DataCentre) -> None:
    conn = connection(data_centre=dc)
    accounts, api = DATA_CENTRES[dc]
    assert conn.token_url == f"{accounts}/oauth/v2/token"
    assert conn.default_api_domain == api
    hosts = ZohoHosts.for_dc(dc.value)  # the sandbox's own table of zoho.md section 2
    assert (hosts.accounts, hosts.api) == (accounts, api)


def test_overrides_replace_the_data_centres_hosts() -> None:
    conn = connection(
        accounts_url="https://accounts.example.test/", api_domain="http://127.0.0.1:8"
    )
    assert conn.token_url == "https://accounts.example.test/oauth/v2/token"
    assert conn.default_api_domain == "http://127.0.0.1:8"


@pytest.mark.parametrize(
    "bad",
    [
        {"data_centre": "mars"},
        {"api_domain": "www.zohoapis.com"},
        {"credit_reserve": -1},
        {"read_timeout": 0},
        {"concurrency": 26},
        {"unknown_key": 1},
    ],
)
def test_invalid_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        connection(**bad)


def test_secrets_never_show_in_reprs_or_dumps() -> None:
    conn = connection()
    shown = repr(conn) + str(conn) + json.dumps(conn.model_dump(mode="json"))
    assert CLIENT_SECRET not in shown and REFRESH_TOKEN not in shown
    adapter = ZohoAdapter(conn)
    assert CLIENT_SECRET not in repr(adapter) + repr(adapter.api) + repr(adapter.api.tokens)
    assert conn.client_secret.get_secret_value() == CLIENT_SECRET


def test_secrets_and_tokens_never_reach_the_logs_of_a_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    box = ZohoSandbox(tmp_path / "z.db")
    seed_zoho(box.store, 5, seed=2)
    install_redaction(caplog.handler)
    caplog.set_level(logging.DEBUG)
    with box.inprocess() as creds:
        zoho = ZohoAdapter(sandbox_connection(creds))
        list(zoho.read(ReadQuery(("id", "Account_Name"))))
        access = zoho.api.tokens.headers()["Authorization"].split()[-1]
        logging.getLogger("crmqual.test").info("refresh token is %s", creds.refresh_token)
        logging.getLogger("crmqual.test").info("access token is %s", access)
    text = caplog.text
    assert "GET https://www.zohoapis.com/crm/v8/Accounts" in text  # the calls are logged ...
    assert creds.client_secret not in text and creds.refresh_token not in text  # ... not secrets
    assert access not in text and "Zoho-oauthtoken" not in text
    box.close()
