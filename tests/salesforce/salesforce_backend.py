"""The sync contract's backend fixture for the Salesforce adapter, over the sandbox's
Salesforce dialect; the output fields made the way an admin makes them by hand (Tooling API
and field-level security, as ``crmqual provision`` will once provisioning lands); and a
served sandbox: ``crmqual sandbox serve --crm salesforce`` as its own process.

A separately named module (helper names clash across test folders).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crmqual.adapters.salesforce import SalesforceAdapter
from crmqual.adapters.salesforce.config import SalesforceApiLimits, SalesforceConnection
from crmqual.contract import Adapter, FieldSpec, FieldType
from crmqual.contract_suite import LoggedWrite
from crmqual.mapping import load_mapping, wanted_fields
from crmqual.policy import load_policy
from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.salesforce.schema import API_USER_ID
from served_sandbox import CommandBackend, logged_write, served

NATIVE = {
    "name": "Name",
    "revenue": "Revenue__c",
    "industry": "Industry",
    "employees": "NumberOfEmployees",
    "total_assets": "Total_Assets__c",
}
#: The environment variables a test's crmqual.yaml names for its secrets.
SECRET_ENV = {
    "client_id": "CRMQUAL_TEST_SF_CLIENT_ID",
    "username": "CRMQUAL_TEST_SF_USERNAME",
    "private_key_file": "CRMQUAL_TEST_SF_PRIVATE_KEY_FILE",
}
SHIPPED_MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "salesforce.yaml"
#: the Metadata API type of each output type (salesforce.md 8.1)
METADATA_TYPES = {
    FieldType.PICKLIST: "Picklist",
    FieldType.MULTISELECT: "MultiselectPicklist",
    FieldType.INTEGER: "Number",
    FieldType.NUMBER: "Number",
    FieldType.CURRENCY: "Currency",
    FieldType.TEXT: "Text",
    FieldType.TEXTAREA: "LongTextArea",
    FieldType.DATETIME: "DateTime",
}


def connection(
    creds: SalesforceCredentials, *, served: bool, **settings: Any
) -> SalesforceConnection:
    """The JWT bearer connection of the sandbox org's integration user, plus ``settings``."""
    hosts = {"login_url": creds.login_url} if served else {}
    return SalesforceConnection(
        flow="jwt",
        client_id=creds.client_id,
        username=creds.username,
        private_key_file=creds.private_key_file,
        **hosts,
        **settings,
    )


def adapter_of(creds: SalesforceCredentials, *, served: bool, **settings: Any) -> SalesforceAdapter:
    return SalesforceAdapter(
        connection(creds, served=served, **settings),
        ca_file=Path(creds.ca_file) if served else None,
        key_file=Path(creds.private_key_file),
    )


def metadata(spec: FieldSpec) -> dict[str, Any]:
    meta: dict[str, Any] = {"type": METADATA_TYPES[spec.type], "label": spec.label}
    if spec.type in (FieldType.PICKLIST, FieldType.MULTISELECT):
        values = [{"fullName": v, "label": v, "default": False} for v in spec.picklist]
        meta["valueSet"] = {"restricted": True, "valueSetDefinition": {"value": values}}
    if spec.type == FieldType.MULTISELECT:
        meta["visibleLines"] = 4
    if spec.type in (FieldType.INTEGER, FieldType.NUMBER, FieldType.CURRENCY):
        meta |= {"precision": 18, "scale": 0 if spec.type == FieldType.INTEGER else 2}
    if spec.type == FieldType.TEXT:
        meta["length"] = 255
    if spec.type == FieldType.TEXTAREA:
        meta |= {"length": 32_768, "visibleLines": 6}
    return meta


def create_outputs_by_hand(adapter: SalesforceAdapter, specs: Sequence[FieldSpec]) -> None:
    """What an admin does in Setup before provisioning is automated: each field through the
    Tooling API, then a permission set granting the integration user read and edit on them
    (salesforce.md 8.2, 8.3)."""
    sf = adapter.sf
    present = set(adapter.describe())
    missing = [s for s in specs if s.api_name not in present]
    for spec in missing:
        sf.restful(
            "tooling/sobjects/CustomField",
            method="POST",
            json={"FullName": f"Account.{spec.api_name}", "Metadata": metadata(spec)},
        )
    if not missing:
        return
    permission_set = sf.restful(
        "sobjects/PermissionSet",
        method="POST",
        json={"Name": f"Outputs_{len(present)}", "Label": "crmqual outputs (by hand)"},
    )
    for spec in missing:
        sf.restful(
            "sobjects/FieldPermissions",
            method="POST",
            json={
                "ParentId": permission_set["id"],
                "SobjectType": "Account",
                "Field": f"Account.{spec.api_name}",
                "PermissionsRead": True,
                "PermissionsEdit": True,
            },
        )
    sf.restful(
        "sobjects/PermissionSetAssignment",
        method="POST",
        json={"AssigneeId": API_USER_ID, "PermissionSetId": permission_set["id"]},
    )


def mapping_outputs(mapping: Path = SHIPPED_MAPPING) -> list[FieldSpec]:
    """The output fields a mapping declares, with the default policy's picklist values."""
    return wanted_fields(load_mapping(mapping)[0], load_policy())


class SalesforceBackend(CommandBackend):
    """The contract's backend fixture over a sandbox. Its clock stands still and moves one
    second before each load or hand edit, so every change has its own SystemModstamp.

    ``served``: the credentials are those of a ``crmqual sandbox serve`` process (logins at
    its origin, its CA file); otherwise the sandbox answers in-process on Salesforce's own
    hosts. With a ``folder``, ``write_config()`` writes a ``crmqual.yaml`` there (secrets as
    ``${ENV}`` references, their values in ``env()``)."""

    id_field = "Id"
    modified_field = "SystemModstamp"
    secret_env = SECRET_ENV
    output_fields: Sequence[FieldSpec] = (
        FieldSpec("Risk_Grade__c", FieldType.PICKLIST, "Risk Grade", tuple("ABCDE"), "风险等级"),
        FieldSpec("Credit_Score__c", FieldType.INTEGER, "Credit Score", label_zh="信用评分"),
        FieldSpec(
            "Warning_Flags__c", FieldType.MULTISELECT, "Warning Flags", ("OVERDUE", "DEFAULT")
        ),
        FieldSpec("Assessed_At__c", FieldType.DATETIME, "Assessed At", label_zh="评估时间"),
    )

    def __init__(
        self,
        box: SalesforceSandbox,
        creds: SalesforceCredentials,
        *,
        served: bool = False,
        folder: Path | None = None,
        limits: SalesforceApiLimits | None = None,
    ) -> None:
        self.box = box
        self.creds = creds
        self.served = served
        self.folder = folder
        self.limits = limits or SalesforceApiLimits(query_batch=200, ids_per_query=3)
        self.config: Path | None = None

    def adapter(self) -> Adapter:
        return adapter_of(self.creds, served=self.served, limits=self.limits)

    # -- the CRM ------------------------------------------------------------------------------
    def write_log(self) -> list[LoggedWrite]:
        return [
            logged_write(w, _sf_id(w.record_id)) for w in self.box.writes() if w.module == "Account"
        ]

    def native_name(self, model_field: str) -> str:
        return NATIVE[model_field]

    # -- crmqual as a command -----------------------------------------------------------------
    def write_config(
        self,
        *,
        mapping: Path = SHIPPED_MAPPING,
        batch_size: int | None = None,
        connection: Mapping[str, Any] | None = None,
    ) -> Path:
        values: dict[str, Any] = {
            "flow": "jwt",
            **self.secret_references(),
            "limits": self.limits.model_dump(),
            **(connection or {}),
        }
        if self.served:
            values |= {"login_url": self.creds.login_url, "ca_file": self.creds.ca_file}
        config: dict[str, Any] = {
            "crm": "salesforce",
            "target": "salesforce-test",
            "connection": values,
            "mapping": str(mapping),
            "state": "sqlite:///state.sqlite",
        }
        if batch_size is not None:
            config["sync"] = {"batch_size": batch_size}
        return self.save_config(config)


def _sf_id(number: int) -> str:
    from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id

    return sf_id(PREFIXES["Account"], number)


@contextmanager
def serve(
    box: SalesforceSandbox,
    log: Path,
    *,
    faults: str | None = None,
    latency_ms: int | None = None,
    extra: Sequence[str] = (),
    startup_s: float = 60.0,
) -> Iterator[SalesforceCredentials]:
    """``crmqual sandbox serve --crm salesforce --json`` on a free loopback port for ``box``'s
    database; yields the credentials it prints; killed on exit."""
    argv = [*box.serve_command(0, faults), *extra]
    if latency_ms is not None:
        argv += ["--latency-ms", str(latency_ms)]
    with served(argv, log, startup_s) as credentials:
        yield SalesforceCredentials(**credentials)
