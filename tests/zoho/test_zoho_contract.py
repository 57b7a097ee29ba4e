"""The adapter contract suite (adapters/contract.py) run against the Zoho adapter, with the
sandbox's Zoho dialect (in-process, on Zoho's real US hosts) as the backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from crmqual.adapters.base import Adapter, FieldSpec, FieldType
from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho_config import ZohoApiLimits, ZohoConnection
from crmqual.sandbox.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.seed import seed_zoho

contract = pytest.importorskip("crmqual.adapters.contract")

NATIVE = {
    "name": "Account_Name",
    "revenue": "Revenue",
    "industry": "Industry",
    "employees": "Employees",
    "total_assets": "Total_Assets",
}


class ZohoBackend:
    """The contract's backend fixture over a sandbox. Its clock stands still and moves one
    second before each load or hand edit, so every change has its own Modified_Time."""

    id_field = "id"
    modified_field = "Modified_Time"
    output_fields: Sequence[FieldSpec] = (
        FieldSpec("Risk_Grade", FieldType.PICKLIST, "Risk Grade", tuple("ABCDE"), "风险等级"),
        FieldSpec("Credit_Score", FieldType.INTEGER, "Credit Score", label_zh="信用评分"),
        FieldSpec("Warning_Flags", FieldType.MULTISELECT, "Warning Flags", ("OVERDUE", "DEFAULT")),
        FieldSpec("Assessed_At", FieldType.DATETIME, "Assessed At", label_zh="评估时间"),
    )

    def __init__(self, box: ZohoSandbox, creds: ZohoCredentials) -> None:
        self.box = box
        self.creds = creds

    def adapter(self) -> Adapter:
        return ZohoAdapter(
            ZohoConnection(
                client_id=self.creds.client_id,
                client_secret=SecretStr(self.creds.client_secret),
                refresh_token=SecretStr(self.creds.refresh_token),
                limits=ZohoApiLimits(page_size=3, page_records=6),
            )
        )

    def load(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        self.box.clock.advance(1)
        return self.box.load_records([{NATIVE[k]: v for k, v in r.items()} for r in records])

    def hand_edit(self, record_id: str, changes: Mapping[str, Any]) -> None:
        self.box.clock.advance(1)
        self.box.hand_edit(record_id, dict(changes))

    def write_log(self) -> list[Any]:
        return [
            contract.LoggedWrite(
                str(w.record_id),
                {name: new for name, (_old, new) in w.changes.items()},
                "crmqual" if w.client.startswith("crmqual/") else w.client,
            )
            for w in self.box.write_log()
        ]

    def native_name(self, model_field: str) -> str:
        return NATIVE[model_field]

    def sync_command(self, *args: str) -> list[str]:
        raise NotImplementedError("the Zoho sync subprocess comes with `crmqual demo`")


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[ZohoBackend]:
    box = ZohoSandbox(tmp_path / "contract.db")
    box.clock.freeze(datetime(2026, 3, 2, 9, tzinfo=UTC))
    seed_zoho(box.store, 0, seed=1)  # the org's custom input fields, no accounts
    with box.inprocess() as creds:
        yield ZohoBackend(box, creds)
    box.close()


def _check_id(check: Callable[..., None]) -> str:
    return check.__name__


@pytest.mark.parametrize("check", contract.CHECKS, ids=_check_id)
def test_contract(check: Callable[[ZohoBackend], None], backend: ZohoBackend) -> None:
    if check.__name__ == "check_followup_is_created_once_per_event":
        pytest.xfail("Zoho follow-up Tasks are part 2 of the adapter (issue 8)")
    check(backend)
