"""The contract suite's backend fixture for the Fxiaoke adapter over a sandbox, and a served
sandbox: `crmqual sandbox serve --crm fxiaoke` as its own process, with a `crmqual.yaml`
pointing at it.

The output fields are made as a tenant's admin makes them, in the console (the sandbox's
`add_field`): Fxiaoke's API cannot create fields and names them `field_xxxxx__c` itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from crmqual.adapters.fxiaoke.adapter import FxiaokeAdapter
from crmqual.adapters.fxiaoke.config import FxiaokeConnection, FxiaokeLimits
from crmqual.contract import Adapter, FieldSpec, FieldType
from crmqual.contract_suite import LoggedWrite
from crmqual.sandbox.fxiaoke.backend import FxiaokeCredentials, FxiaokeSandbox
from crmqual.sandbox.fxiaoke.schema import record_id
from served_sandbox import SandboxBackend, crmqual_argv, logged_write, secrets_of, served

#: common-model name -> the label of the sandbox tenant's field
LABELS = {"name": "客户名称", "revenue": "营业收入(万元)", "employees": "员工人数"}
#: The environment variables a test's crmqual.yaml names for its secrets.
SECRET_ENV = {
    "app_id": "CRMQUAL_TEST_FX_APP_ID",
    "app_secret": "CRMQUAL_TEST_FX_APP_SECRET",
    "permanent_code": "CRMQUAL_TEST_FX_PERMANENT_CODE",
    "employee_id": "CRMQUAL_TEST_FX_USER",
}
SHIPPED_MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "fxiaoke.yaml"


def connection(
    creds: FxiaokeCredentials, mode: str = "header", **settings: Any
) -> FxiaokeConnection:
    """The connection settings of a sandbox tenant's client in ``mode``, plus ``settings``."""
    user = creds.employee_id if mode == "header" else creds.open_user_id
    return FxiaokeConnection(
        base_url=creds.base_url,
        token_mode=mode,  # type: ignore[arg-type]
        app_id=creds.app_id,
        app_secret=SecretStr(creds.app_secret),
        permanent_code=SecretStr(creds.permanent_code),
        user=user,
        **settings,
    )


def console_fields(box: FxiaokeSandbox) -> list[FieldSpec]:
    """The backend's output fields, created in the console; their generated names."""
    made = [
        box.add_field("风险等级", "select_one", list("ABCDE")),
        box.add_field("信用评分", "number", decimals=0),
        box.add_field("预警标记", "select_many", ["OVERDUE", "DEFAULT"]),
        box.add_field("评估时间", "date_time"),
    ]
    kinds = (FieldType.PICKLIST, FieldType.INTEGER, FieldType.MULTISELECT, FieldType.DATETIME)
    return [
        FieldSpec(f.api_name, kind, f.label, tuple(p.display_value for p in f.picklist))
        for f, kind in zip(made, kinds, strict=True)
    ]


class FxiaokeBackend(SandboxBackend):
    """The contract's backend over a sandbox. Its clock stands still and moves one second
    before each load or hand edit, so every change has its own last_modified_time.

    The contract's ``since`` is exact (records at or after it), so this adapter is configured
    with ``overlap_seconds: 0`` (the default re-reads one more second on purpose)."""

    id_field = "_id"
    modified_field = "last_modified_time"

    def __init__(
        self,
        box: FxiaokeSandbox,
        creds: FxiaokeCredentials,
        *,
        mode: str = "header",
        folder: Path | None = None,
    ) -> None:
        self.box = box
        self.creds = creds
        self.mode = mode
        self.folder = folder
        self.config: Path | None = None
        self.output_fields: Sequence[FieldSpec] = console_fields(box)

    def adapter(self) -> Adapter:
        limits = FxiaokeLimits(page_size=3, rate_per_second=10_000, overlap_seconds=0)
        return FxiaokeAdapter(connection(self.creds, self.mode, limits=limits))

    def write_log(self) -> list[LoggedWrite]:
        return [logged_write(w, record_id(w.record_id)) for w in self.box.write_log()]

    def native_name(self, model_field: str) -> str:
        return self.box.field(LABELS[model_field]).api_name

    def sync_command(self, *args: str) -> list[str]:
        if self.config is None:
            raise RuntimeError("write_config first (and serve the sandbox)")
        return crmqual_argv(self.config, *args)


# -- a served sandbox and crmqual as a command --------------------------------------------------
def write_config(
    folder: Path,
    creds: FxiaokeCredentials,
    *,
    mapping: Path = SHIPPED_MAPPING,
    limits: Mapping[str, Any] | None = None,
    sync: Mapping[str, Any] | None = None,
) -> Path:
    """A crmqual.yaml in ``folder`` for the served sandbox (secrets as ``${ENV}``)."""
    config: dict[str, Any] = {
        "crm": "fxiaoke",
        "target": "fxiaoke-test",
        "connection": {
            "base_url": creds.base_url,
            "token_mode": "header",
            "app_id": "${" + SECRET_ENV["app_id"] + "}",
            "app_secret": "${" + SECRET_ENV["app_secret"] + "}",
            "permanent_code": "${" + SECRET_ENV["permanent_code"] + "}",
            "user": "${" + SECRET_ENV["employee_id"] + "}",
            "limits": {"rate_per_second": 1000, **(limits or {})},
            "max_retry_wait": 5,
        },
        "mapping": str(mapping),
        "state": "sqlite:///state.sqlite",
        "sync": {"followups": True, **(sync or {})},
    }
    path = folder / "crmqual.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8")
    return path


def env(creds: FxiaokeCredentials) -> dict[str, str]:
    """The environment of a `crmqual` subprocess: this one's, plus the secrets."""
    return {**os.environ, **secrets_of(creds, SECRET_ENV)}


@contextmanager
def serve(
    box: FxiaokeSandbox,
    log: Path,
    *,
    faults: str | None = None,
    fault_seed: int = 0,
    rate: int = 0,
    startup_s: float = 60.0,
) -> Iterator[FxiaokeCredentials]:
    """`crmqual sandbox serve --crm fxiaoke --json` on a free loopback port for ``box``'s file;
    yields the credentials it prints; killed on exit."""
    argv = [*box.serve_command(0), "--rate", str(rate), "--fault-seed", str(fault_seed)]
    if faults is not None:
        argv += ["--faults", faults]
    with served(argv, log, startup_s) as credentials:
        yield FxiaokeCredentials(**credentials)
