"""Helpers of the Salesforce admin-path tests: a seeded Salesforce sandbox, the adapter on
it through the registry's connection model, and crmqual's output fields as FieldSpecs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmqual.adapters.salesforce.adapter import SalesforceAdapter
from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.contract import FieldSpec, FieldType
from crmqual.http import HttpSettings
from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.salesforce.seed import seed_salesforce

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
GRADES = ("A", "B", "C", "D", "E")
FLAGS = ("OVERDUE", "LITIGATION", "SANCTIONS")
OUTPUTS = (
    FieldSpec("Credit_Status__c", FieldType.PICKLIST, "Credit Status", ("APPROVED", "DECLINED"),
              "信用准入状态"),
    FieldSpec("Risk_Grade__c", FieldType.PICKLIST, "Risk Grade", GRADES, "风险等级"),
    FieldSpec("Payment_Terms__c", FieldType.PICKLIST, "Payment Terms", ("NET30", "PREPAY"),
              "付款条件"),
    FieldSpec("Warning_Flags__c", FieldType.MULTISELECT, "Warning Flags", FLAGS, "预警标记"),
    FieldSpec("Risk_Reasons__c", FieldType.TEXTAREA, "Risk Reasons", (), "评估理由"),
    FieldSpec("Credit_Limit__c", FieldType.CURRENCY, "Credit Limit", (), "信用额度"),
    FieldSpec("Credit_Score__c", FieldType.INTEGER, "Credit Score", (), "信用评分"),
    FieldSpec("Assessed_At__c", FieldType.DATETIME, "Assessed At", (), "评估时间"),
)  # fmt: skip
NAMES = tuple(s.api_name for s in OUTPUTS)
FAST = HttpSettings(max_attempts=3, max_total_wait=1.0, backoff_base=0.0, backoff_max=0.0)


def make_box(db: Path, accounts: int = 20) -> SalesforceSandbox:
    box = SalesforceSandbox(db)
    box.clock.freeze(START)
    seed_salesforce(box.store, accounts, seed=5, workers=0)
    return box


def connection(
    creds: SalesforceCredentials, reserve: int = 0, **admin: Any
) -> SalesforceConnection:
    """Client credentials on the sandbox's My Domain, run as the integration user;
    ``admin``: the ``connection.admin`` sections (``access``, ``layouts``)."""
    access = {"integration_user": creds.username, **admin.pop("access", {})}
    return SalesforceConnection.model_validate(
        {
            "flow": "client_credentials",
            "login_url": creds.instance_url,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "api_reserve": reserve,
            "admin": {"access": access, **admin},
        }
    )


def adapter(creds: SalesforceCredentials, reserve: int = 0, **admin: Any) -> SalesforceAdapter:
    return SalesforceAdapter(
        connection(creds, reserve, **admin), settings=FAST, sleep=lambda s: None
    )


def layout_fields(box: SalesforceSandbox, layout: str, section: str) -> list[str]:
    """The fields in the layout's section of that label, column by column ([] if none)."""
    for found in box.layouts()[layout]["layoutSections"]:
        if found["label"] == section:
            return [
                str(item["field"])
                for column in found["layoutColumns"]
                for item in column["layoutItems"]
            ]
    return []
