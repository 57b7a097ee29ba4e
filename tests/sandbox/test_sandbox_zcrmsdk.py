"""Evidence: Zoho's own SDK (zcrmsdk 3.1.0, API v2), configured only with the sandbox's URLs,
lists accounts, reads field metadata and updates records, in-process and against
`crmqual sandbox serve` running as a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho


def _import_zcrmsdk() -> None:
    # zcrmsdk's token-store package imports mysql.connector for its MySQL store, which we
    # never use and the package does not declare (zoho-sdks.md); a stub satisfies the import.
    try:
        import mysql.connector
    except ImportError:
        mysql = types.ModuleType("mysql")
        connector = types.ModuleType("mysql.connector")
        connector.Error = Exception  # type: ignore[attr-defined]
        mysql.connector = connector  # type: ignore[attr-defined]
        sys.modules.setdefault("mysql", mysql)
        sys.modules.setdefault("mysql.connector", connector)


_import_zcrmsdk()

from zcrmsdk.src.com.zoho.api.authenticator.oauth_token import (  # noqa: E402
    OAuthToken,
    TokenType,
)
from zcrmsdk.src.com.zoho.api.authenticator.store import FileStore  # noqa: E402
from zcrmsdk.src.com.zoho.api.logger import Logger  # noqa: E402
from zcrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap  # noqa: E402
from zcrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter  # noqa: E402
from zcrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam  # noqa: E402
from zcrmsdk.src.com.zoho.crm.api.initializer import Initializer  # noqa: E402
from zcrmsdk.src.com.zoho.crm.api.record import (  # noqa: E402
    ActionWrapper,
    BodyWrapper,
    GetRecordsParam,
    Record,
    RecordOperations,
    ResponseWrapper,
    SuccessResponse,
)
from zcrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig  # noqa: E402
from zcrmsdk.src.com.zoho.crm.api.user_signature import UserSignature  # noqa: E402
from zcrmsdk.src.com.zoho.crm.api.util import Choice  # noqa: E402


def _initialise(creds: ZohoCredentials, work: Path) -> None:
    Initializer.initialize(
        user=UserSignature("admin@crmqual-sandbox.test"),
        environment=DataCenter.Environment(creds.api_base, creds.token_url, creds.upload_url),
        token=OAuthToken(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            token=creds.refresh_token,
            token_type=TokenType.REFRESH,
        ),
        store=FileStore(file_path=str(work / "tokens.csv")),
        sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=True),
        resource_path=str(work),
        logger=Logger.get_instance(level=Logger.Levels.INFO, file_path=str(work / "sdk.log")),
    )


def _drive_sdk(creds: ZohoCredentials, work: Path) -> dict[str, Any]:
    """List every account (paging), read field metadata, update two records; report."""
    _initialise(creds, work)
    records = RecordOperations()
    listed: list[tuple[int, Any, Any]] = []
    page = 1
    while True:
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Account_Name,Annual_Revenue,Business_Status")
        params.add(GetRecordsParam.per_page, 7)
        params.add(GetRecordsParam.page, page)
        answer = records.get_records("Accounts", params, HeaderMap())
        assert answer.get_status_code() == 200, answer.get_status_code()
        wrapper = answer.get_object()
        assert isinstance(wrapper, ResponseWrapper), wrapper
        for record in wrapper.get_data():
            listed.append(
                (
                    record.get_id(),
                    record.get_key_value("Account_Name"),
                    record.get_key_value("Business_Status"),
                )
            )
        if not wrapper.get_info().get_more_records():
            break
        page += 1

    params = ParameterMap()
    params.add(GetFieldsParam.type, "all")
    fields_answer = FieldsOperations("Accounts").get_fields(params)
    assert fields_answer.get_status_code() == 200
    described = {
        f.get_api_name(): f.get_data_type() for f in fields_answer.get_object().get_fields()
    }

    body = BodyWrapper()
    updates = []
    for record_id, _, _ in listed[:2]:
        record = Record()
        record.set_id(record_id)
        record.add_key_value("Business_Status", Choice("Suspended"))
        record.add_key_value("Requested_Limit", 12345.5)
        record.add_key_value("External_Rating", "BB+")  # never seeded
        updates.append(record)
    body.set_data(updates)
    put = records.update_records("Accounts", body, HeaderMap())
    action = put.get_object()
    assert isinstance(action, ActionWrapper), action
    results = [(type(item).__name__, item.get_status().get_value()) for item in action.get_data()]
    assert all(isinstance(item, SuccessResponse) for item in action.get_data()), results
    return {
        "status": put.get_status_code(),
        "listed": listed,
        "described": described,
        "updated": [r for r, _, _ in listed[:2]],
    }


def _check(box: ZohoSandbox, report: dict[str, Any]) -> None:
    ids = sorted(int(r["id"]) for r in box.records())
    assert sorted(r for r, _, _ in report["listed"]) == ids
    assert all(name for _, name, _ in report["listed"])
    assert report["described"]["Account_Name"] == "text"
    assert report["described"]["Business_Status"] == "picklist"
    assert report["described"]["Total_Assets"] == "currency"
    assert report["status"] == 200
    for record_id in report["updated"]:
        values = box.record(record_id)
        assert values["Business_Status"] == "Suspended"
        assert values["Requested_Limit"] == 12345.5
        assert values["External_Rating"] == "BB+"
        (entry,) = box.write_log(record_id=record_id)
        assert entry.source == "api"
        assert entry.client.endswith(":3.1.0")  # zcrmsdk's X-ZOHO-SDK header
        assert set(entry.changes) == {"Business_Status", "Requested_Limit", "External_Rating"}
    sdk_calls = [c for c in box.calls() if c.endpoint.startswith(("GET /crm/v2", "PUT /crm/v2"))]
    assert {c.endpoint for c in sdk_calls} >= {
        "GET /crm/v2/{module}",
        "GET /crm/v2/settings/fields",
        "PUT /crm/v2/{module}",
    }
    assert all(c.status == 200 for c in sdk_calls)


def test_zcrmsdk_in_process(box: ZohoSandbox, tmp_path: Path) -> None:
    with box.inprocess() as creds:
        report = _drive_sdk(creds, tmp_path)
    assert creds.api_base == "https://www.zohoapis.com"
    _check(box, report)


@pytest.mark.slow
def test_zcrmsdk_against_served_subprocess(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    seeding = ZohoSandbox(db)
    seed_zoho(seeding.store, 30, seed=3)
    argv = seeding.serve_command()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            creds = ZohoCredentials(**json.loads(line))
            assert creds.api_base.startswith("http://127.0.0.1:")
            assert creds.token_url == creds.api_base + "/oauth/v2/token"
            report = _drive_sdk(creds, tmp_path)
        finally:
            server.kill()
            server.wait(timeout=30)
    _check(ZohoSandbox(db), report)
