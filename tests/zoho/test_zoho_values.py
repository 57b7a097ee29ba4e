"""Values as a Zoho org's people type them, read through the adapter and the shipped mapping
(issue 13): the text field Registered_Capital holding "2409.5万" is 24,095,000; one holding
words is left missing and named in the reasons; the account is graded either way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.config import ZohoConnection
from crmqual.compiled import compiled
from crmqual.contract import ReadQuery
from crmqual.engine import assess
from crmqual.mapping import load_mapping, read_record
from crmqual.policy import load_policy
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[ZohoSandbox]:
    sandbox = ZohoSandbox(tmp_path / "z.db")
    sandbox.clock.freeze(START)
    seed_zoho(sandbox.store, 6, seed=3)
    yield sandbox
    sandbox.close()


def test_registered_capital_as_typed_in_zoho(box: ZohoSandbox) -> None:
    mapping, _ = load_mapping(None, "zoho")
    ids = sorted(r["id"] for r in box.records())
    typed = {
        ids[0]: "2409.5万",
        ids[1]: "3,389,000",
        ids[2]: "CNY 3389000",
        ids[3]: "1.2亿元",
        ids[4]: "about two million",
    }
    for record_id, text in typed.items():
        box.hand_edit(record_id, {"Registered_Capital": text, "Founding_Date": "2012年3月5日"})
    policy = compiled(load_policy())
    inputs = [r.field.split(".")[0] for r in mapping.inputs.values() if r.field]
    fields = tuple(dict.fromkeys([mapping.id_field, mapping.modified_field, *inputs]))
    with box.inprocess() as creds:
        adapter = ZohoAdapter(
            ZohoConnection(
                client_id=creds.client_id,
                client_secret=SecretStr(creds.client_secret),
                refresh_token=SecretStr(creds.refresh_token),
            )
        )
        records = {
            r["id"]: r for page in adapter.read(ReadQuery(fields, ids=tuple(typed))) for r in page
        }
    read = {
        i: read_record(mapping, records[i], START.date(), policy.knockout_inputs) for i in typed
    }
    capital = {i: account.registered_capital for i, (account, _) in read.items()}
    assert capital == {
        ids[0]: 24_095_000,
        ids[1]: 3_389_000,
        ids[2]: 3_389_000,
        ids[3]: 120_000_000,
        ids[4]: None,
    }
    assert all(str(account.founding_date) == "2012-03-05" for account, _ in read.values())
    account, lost = read[ids[4]]
    assert [(u.source, u.raw) for u in lost] == [("Registered_Capital", "about two million")]
    result = assess(account, policy, as_of=START, unreadable=lost)
    assert "INCOMPLETE_DATA" in result.flags
    assert any(
        r.code == "UNREADABLE_VALUE" and "Registered_Capital" in r.zh for r in result.reasons
    )
