"""The sync contract's backend fixture for the Zoho adapter, over a sandbox; and a served
sandbox: `crmqual sandbox serve` as its own process, with a `crmqual.yaml` pointing at it.

A separately named module (conftest names clash across test folders).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.config import ZohoApiLimits, ZohoConnection
from crmqual.contract import Adapter, FieldSpec, FieldType
from crmqual.contract_suite import LoggedWrite
from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from served_sandbox import CommandBackend, logged_write, served

NATIVE = {
    "name": "Account_Name",
    "revenue": "Revenue",
    "industry": "Industry",
    "employees": "Employees",
    "total_assets": "Total_Assets",
}

#: The environment variables a test's crmqual.yaml names for its secrets.
SECRET_ENV = {
    "client_id": "CRMQUAL_TEST_ZOHO_CLIENT_ID",
    "client_secret": "CRMQUAL_TEST_ZOHO_CLIENT_SECRET",
    "refresh_token": "CRMQUAL_TEST_ZOHO_REFRESH_TOKEN",
}
TOKEN_PATH = "/oauth/v2/token"
SHIPPED_MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "zoho.yaml"


def sandbox_connection(creds: ZohoCredentials, **settings: Any) -> ZohoConnection:
    """The connection settings of a sandbox org's client, plus ``settings``."""
    return ZohoConnection(
        client_id=creds.client_id,
        client_secret=SecretStr(creds.client_secret),
        refresh_token=SecretStr(creds.refresh_token),
        **settings,
    )


class ZohoBackend(CommandBackend):
    """The contract's backend fixture over a sandbox. Its clock stands still and moves one
    second before each load or hand edit, so every change has its own Modified_Time.

    `served`: the credentials are those of a `crmqual sandbox serve` process, so the adapter
    is configured with its base URLs; otherwise the sandbox answers in-process on Zoho's US
    hosts. With a `folder`, `write_config()` writes a `crmqual.yaml` there (secrets as
    `${ENV}` references, their values in `env()`), and `sync_command` runs `crmqual`
    against it in a subprocess (which needs a served sandbox to talk to)."""

    id_field = "id"
    modified_field = "Modified_Time"
    secret_env = SECRET_ENV
    output_fields: Sequence[FieldSpec] = (
        FieldSpec("Risk_Grade", FieldType.PICKLIST, "Risk Grade", tuple("ABCDE"), "风险等级"),
        FieldSpec("Credit_Score", FieldType.INTEGER, "Credit Score", label_zh="信用评分"),
        FieldSpec("Warning_Flags", FieldType.MULTISELECT, "Warning Flags", ("OVERDUE", "DEFAULT")),
        FieldSpec("Assessed_At", FieldType.DATETIME, "Assessed At", label_zh="评估时间"),
    )

    def __init__(
        self,
        box: ZohoSandbox,
        creds: ZohoCredentials,
        *,
        served: bool = False,
        limits: ZohoApiLimits | None = None,
        folder: Path | None = None,
    ) -> None:
        self.box = box
        self.creds = creds
        self.served = served
        self.limits = limits or ZohoApiLimits(page_size=3, page_records=6)
        self.folder = folder
        self.config: Path | None = None

    # -- the adapter, as an admin configures it ----------------------------------------------
    def hosts(self) -> dict[str, str]:
        """`accounts_url` and `api_domain` for a served sandbox; none in-process (US hosts)."""
        if not self.served:
            return {}
        if not self.creds.token_url.endswith(TOKEN_PATH):
            raise AssertionError(f"unexpected token URL {self.creds.token_url}")
        return {
            "accounts_url": self.creds.token_url.removesuffix(TOKEN_PATH),
            "api_domain": self.creds.api_base,
        }

    def adapter(self) -> Adapter:
        return ZohoAdapter(sandbox_connection(self.creds, **self.hosts(), limits=self.limits))

    # -- the CRM ------------------------------------------------------------------------------
    def write_log(self) -> list[LoggedWrite]:
        return [logged_write(w, str(w.record_id)) for w in self.box.write_log()]

    def native_name(self, model_field: str) -> str:
        return NATIVE[model_field]

    # -- crmqual as a command -----------------------------------------------------------------
    def write_config(
        self,
        *,
        mapping: Path = SHIPPED_MAPPING,
        batch_size: int | None = None,
        connection: Mapping[str, Any] | None = None,
        policy: Path | None = None,
    ) -> Path:
        """A crmqual.yaml in `folder`: this org, `mapping`, `policy` (default: the shipped
        one), a state store beside it."""
        values: dict[str, Any] = {
            **self.hosts(),
            **self.secret_references(),
            "limits": self.limits.model_dump(),
            **(connection or {}),
        }
        config: dict[str, Any] = {
            "crm": "zoho",
            "target": "zoho-test",
            "connection": values,
            "mapping": str(mapping),
            "state": "sqlite:///state.sqlite",  # relative to the file: in `folder`
        }
        if policy is not None:
            config["policy"] = str(policy)
        if batch_size is not None:
            config["sync"] = {"batch_size": batch_size}
        return self.save_config(config)


@contextmanager
def serve(
    box: ZohoSandbox,
    log: Path,
    *,
    faults: str | None = None,
    latency_ms: int | None = None,
    scopes: Sequence[str] = (),
    startup_s: float = 60.0,
) -> Iterator[ZohoCredentials]:
    """`crmqual sandbox serve --json` on a free loopback port (the server binds port 0 and
    reports it) for `box`'s database; yields the credentials it prints; killed on exit."""
    argv = box.serve_command(0, faults)
    if latency_ms is not None:
        argv += ["--latency-ms", str(latency_ms)]
    if scopes:
        argv += ["--scopes", ",".join(scopes)]
    with served(argv, log, startup_s) as credentials:
        yield ZohoCredentials(**credentials)
