"""The Zoho adapter end to end against the sandbox's Zoho dialect, in-process and served.

The sandbox's paging limits are scaled down (2,000 / 100,000 -> 20 / 60 records) and the
adapter is told the same limits, so paging crosses from `page` to `page_token` with 45 records.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.config import ZohoApiLimits, ZohoBulkSettings, ZohoConnection
from crmqual.contract import CheckStatus, FieldSpec, FieldType, FilterRule, ReadQuery
from crmqual.errors import AuthError, ReadTooLargeError
from crmqual.mapping import Mapping, check_fields, load_mapping, wanted_fields
from crmqual.policy import load_policy
from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.zoho.call import ZohoLimits
from crmqual.sandbox.zoho.seed import CUSTOM_FIELDS, seed_zoho

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
SEEDED = 45
SANDBOX_LIMITS = ZohoLimits(page_records=20, page_token_records=60)
ADAPTER_LIMITS = ZohoApiLimits(page_size=5, page_records=20, page_token_records=60)
MAPPING_FILE = Path(__file__).with_name("zoho_test_mapping.yaml")


@pytest.fixture(scope="module")
def mapping() -> Mapping:
    return load_mapping(MAPPING_FILE)[0]


@pytest.fixture
def wanted(mapping: Mapping) -> list[FieldSpec]:
    return wanted_fields(mapping, load_policy())


@pytest.fixture
def box(tmp_path: Path) -> Iterator[ZohoSandbox]:
    sandbox = ZohoSandbox(tmp_path / "z.db", limits=SANDBOX_LIMITS)
    sandbox.clock.freeze(START)
    seed_zoho(sandbox.store, SEEDED, seed=3)
    yield sandbox
    sandbox.close()


def connect(creds: ZohoCredentials, **overrides: Any) -> ZohoAdapter:
    """The adapter as an admin configures it: hosts (here only when served) and secrets."""
    values: dict[str, Any] = {
        "client_id": creds.client_id,
        "client_secret": SecretStr(creds.client_secret),
        "refresh_token": SecretStr(creds.refresh_token),
        "limits": ADAPTER_LIMITS,
        **overrides,
    }
    return ZohoAdapter(ZohoConnection(**values))


@contextmanager
def connected(box: ZohoSandbox, *scopes: str, **overrides: Any) -> Iterator[ZohoAdapter]:
    """In-process on Zoho's real US hosts: the adapter is configured by data centre only."""
    with box.inprocess(**({"scopes": scopes} if scopes else {})) as creds:
        yield connect(creds, **overrides)


@pytest.fixture
def zoho(box: ZohoSandbox) -> Iterator[ZohoAdapter]:
    with connected(box) as adapter:
        yield adapter


def all_ids(box: ZohoSandbox) -> set[str]:
    return {str(r["id"]) for r in box.records()}


WIDE = ("id", "Modified_Time", "Account_Name", *(f.api_name for f in CUSTOM_FIELDS))


# -- describe, check, provision --------------------------------------------------------------
def test_describe_has_every_field_the_mapping_reads(zoho: ZohoAdapter, mapping: Mapping) -> None:
    problems, missing = check_fields(mapping, zoho.describe(), "zoho_test_mapping.yaml")
    assert problems == []
    assert missing == list(mapping.output_fields)  # not provisioned yet


def test_check_passes_with_the_documented_scopes(zoho: ZohoAdapter, mapping: Mapping) -> None:
    report = zoho.check(mapping.read_fields, mapping.output_fields)
    statuses = {i.item: i.status for i in report.items}
    assert statuses["credentials"] == CheckStatus.OK
    assert statuses["scope ZohoCRM.modules.accounts.READ"] == CheckStatus.OK
    assert statuses["scope ZohoCRM.settings.fields.READ"] == CheckStatus.OK
    assert statuses["scope ZohoCRM.modules.accounts.UPDATE"] == CheckStatus.UNVERIFIED
    assert statuses["field Account_Name"] == CheckStatus.OK
    assert statuses["output field Risk_Grade"] == CheckStatus.TO_CREATE  # provision first
    assert report.ok
    zoho.provision(wanted_fields(mapping, load_policy()))
    assert zoho.check(mapping.read_fields, mapping.output_fields).ok


@pytest.mark.parametrize(
    ("scopes", "missing"),
    [
        (("ZohoCRM.settings.fields.ALL",), "scope ZohoCRM.modules.accounts.READ"),
        (("ZohoCRM.modules.accounts.READ",), "scope ZohoCRM.settings.fields.READ"),
    ],
)
def test_check_names_the_missing_scope(
    box: ZohoSandbox, mapping: Mapping, scopes: tuple[str, ...], missing: str
) -> None:
    with connected(box, *scopes) as zoho:
        report = zoho.check(mapping.read_fields, mapping.output_fields)
    failed = {i.item: i.detail for i in report.items if i.status == CheckStatus.FAILED}
    assert missing in failed and "refused" in failed[missing]


def test_a_wrong_secret_fails_check_and_calls_as_auth(box: ZohoSandbox) -> None:
    with box.inprocess() as creds:
        zoho = connect(creds, client_secret=SecretStr("not-the-secret"))
        report = zoho.check(("id",))
        assert report.items[0].status == CheckStatus.FAILED
        assert "not-the-secret" not in repr(report) + repr(zoho)
        with pytest.raises(AuthError, match="invalid_client"):
            zoho.describe()


def test_provision_creates_every_output_once(
    box: ZohoSandbox, zoho: ZohoAdapter, wanted: list[FieldSpec]
) -> None:
    first = zoho.provision(wanted)
    assert [s.api_name for s in first.create] == [s.api_name for s in wanted]
    assert not first.conflicts
    described = zoho.describe()
    for spec in wanted:
        assert described[spec.api_name].type == spec.type
        assert described[spec.api_name].picklist == spec.picklist
    stored = {f.api_name: f for f in box.store.fields("Accounts")}
    assert stored["Risk_Grade"].tooltip == {"name": "info_icon", "value": "风险等级"}
    assert stored["Risk_Grade"].label == "Risk Grade"
    second = zoho.provision(wanted)
    assert not second.changes and not second.conflicts
    assert sorted(second.unchanged) == sorted(s.api_name for s in wanted)


def test_provision_appends_picklist_values_a_new_policy_needs(
    zoho: ZohoAdapter, wanted: list[FieldSpec]
) -> None:
    zoho.provision(wanted)
    grade = next(s for s in wanted if s.api_name == "Risk_Grade")
    grown = FieldSpec(grade.api_name, grade.type, grade.label, (*grade.picklist, "F"))
    plan = zoho.provision([grown])
    assert plan.append_values == {"Risk_Grade": ["F"]}
    assert zoho.describe()["Risk_Grade"].picklist == ("A", "B", "C", "D", "E", "F")


def test_provision_reports_a_conflict_and_writes_nothing(
    box: ZohoSandbox, zoho: ZohoAdapter, wanted: list[FieldSpec]
) -> None:
    zoho.provision([FieldSpec("Risk_Grade", FieldType.TEXT, "Risk Grade")])
    before = len(box.store.fields("Accounts"))
    plan = zoho.provision(wanted)
    assert plan.conflicts == ["Risk_Grade: exists as text, crmqual needs picklist"]
    assert len(box.store.fields("Accounts")) == before


# -- reading -------------------------------------------------------------------------------------
def _spy_params(zoho: ZohoAdapter) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    original = zoho.api.http.session.request

    def spy(method: str, url: str, **kwargs: Any) -> Any:
        if url.endswith("/crm/v8/Accounts"):
            sent.append(dict(kwargs.get("params") or {}))
        return original(method, url, **kwargs)

    zoho.api.http.session.request = spy  # type: ignore[method-assign]
    return sent


def test_full_read_crosses_from_page_to_page_token_in_field_groups(
    box: ZohoSandbox, zoho: ZohoAdapter
) -> None:
    sent = _spy_params(zoho)
    pages = list(zoho.read(ReadQuery(WIDE)))
    records = [r for p in pages for r in p]
    assert len(WIDE) > 51  # two field groups
    assert [len(p) for p in pages] == [5] * 9
    assert {r["id"] for r in records} == all_ids(box) and len(records) == SEEDED
    assert all(set(WIDE) <= set(r) for r in records)
    stamps = [r["Modified_Time"] for r in records]
    assert stamps == sorted(stamps)
    firsts = [p for p in sent if "ids" not in p]
    assert [p.get("page") for p in firsts[:4]] == [1, 2, 3, 4]
    assert all("page_token" in p for p in firsts[4:]) and len(firsts) == 9
    assert all(len(p["fields"].split(",")) <= 50 for p in sent)
    assert len([p for p in sent if "ids" in p]) == 9  # the second group, by ids, per page


def test_incremental_read_returns_what_changed_at_or_after_the_watermark(
    box: ZohoSandbox, zoho: ZohoAdapter
) -> None:
    ids = sorted(all_ids(box))
    box.clock.advance(60)
    box.hand_edit(ids[0], {"Account_Name": "Renamed Ltd"})
    box.clock.advance(1)
    box.hand_edit(ids[1], {"Account_Name": "Renamed Too Ltd"})
    fields = ("id", "Modified_Time", "Account_Name")
    since = list(zoho.read(ReadQuery(fields, since=START + timedelta(seconds=30))))
    assert [r["id"] for p in since for r in p] == [ids[0], ids[1]]
    boundary = START + timedelta(seconds=61)  # the second edit's instant: read again
    assert [r["id"] for p in zoho.read(ReadQuery(fields, since=boundary)) for r in p] == [ids[1]]
    after = boundary + timedelta(microseconds=1)
    assert list(zoho.read(ReadQuery(fields, since=after))) == []


def test_ids_read_in_chunks(box: ZohoSandbox) -> None:
    limits = ADAPTER_LIMITS.model_copy(update={"ids_per_call": 3})
    ids = sorted(all_ids(box))[:7]
    with connected(box, limits=limits) as zoho:
        pages = list(zoho.read(ReadQuery(WIDE, ids=(*ids, "5725767999999999999"))))
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sorted(r["id"] for p in pages for r in p) == ids


def test_the_admins_filter_narrows_the_read(box: ZohoSandbox, zoho: ZohoAdapter) -> None:
    mine = box.load_records(
        [{"Account_Name": f"Customer {n}", "Account_Type": "Customer"} for n in range(3)]
        + [{"Account_Name": "A partner", "Account_Type": "Partner"}]
    )
    rule = FilterRule("Account_Type", "equals", ("Customer",))
    query = ReadQuery(("id", "Account_Name"), filters=(rule,))
    customers = {r["id"] for p in zoho.read(query) for r in p}
    expected = {str(r["id"]) for r in box.records() if r.get("Account_Type") == "Customer"}
    assert set(mine[:3]) <= customers and customers == expected


def test_a_read_past_the_page_token_ceiling_is_refused(box: ZohoSandbox) -> None:
    box.load_records([{"Account_Name": f"Extra {n}"} for n in range(20)])  # 65 > 60
    no_bulk = ZohoBulkSettings(read=False)  # with it, Bulk Read: tests/zoho/test_zoho_bulk.py
    with connected(box, bulk=no_bulk) as zoho, pytest.raises(ReadTooLargeError, match="Bulk Read"):
        list(zoho.read(ReadQuery(("id", "Account_Name"))))


def test_an_access_token_expiring_mid_run_is_refreshed(box: ZohoSandbox, zoho: ZohoAdapter) -> None:
    pages = zoho.read(ReadQuery(("id", "Account_Name")))
    first = next(pages)
    box.clock.advance(2 * 3600)  # the sandbox now refuses the token: INVALID_TOKEN
    rest = [r for p in pages for r in p]
    assert len(first) + len(rest) == SEEDED
    assert zoho.api.tokens.minted == 2
    assert box.call_counts().get("POST /oauth/v2/token") == 2


def test_server_time_is_the_sandbox_clock(box: ZohoSandbox, zoho: ZohoAdapter) -> None:
    box.clock.advance(3600)
    assert zoho.server_time() == START + timedelta(hours=1)


# -- writing ---------------------------------------------------------------------------------------
def test_write_reports_each_record_and_touches_only_output_fields(
    box: ZohoSandbox, zoho: ZohoAdapter, mapping: Mapping, wanted: list[FieldSpec]
) -> None:
    zoho.provision(wanted)
    zoho.allow_writes_to(mapping.output_fields)
    ids = sorted(all_ids(box))
    good = {
        "Risk_Grade": "B",
        "Credit_Score": 64,
        "Warning_Flags": ["OVERDUE", "LITIGATION"],
        "Assessed_At": "2026-03-02T09:00:00+00:00",
        "Credit_Limit": 50000,
        "Risk_Reasons": "OVERDUE: late payments / 逾期付款",
    }
    results = zoho.write(
        [
            (ids[0], good),
            (ids[1], {"Risk_Grade": "Z"}),
            ("5725767999999999999", {"Risk_Grade": "A"}),
        ]
        + [(i, {"Credit_Score": 50}) for i in ids[2:12]]
    )
    assert [r.record_id for r in results][:3] == [ids[0], ids[1], "5725767999999999999"]
    assert results[0].ok and all(r.ok for r in results[3:])
    assert (results[1].ok, results[1].code, results[1].field) == (
        False,
        "INVALID_DATA",
        "Risk_Grade",
    )
    assert (results[2].ok, results[2].code) == (False, "INVALID_DATA")
    stored = box.record(ids[0])
    assert {k: stored[k] for k in good} == good
    ours = [w for w in box.write_log() if w.source == "api"]
    assert {str(w.record_id) for w in ours} == {ids[0], *ids[2:12]}
    assert all(set(w.changes) <= set(mapping.output_fields) for w in ours)
    assert all(w.client.startswith("crmqual/") for w in ours)
    assert box.call_counts()["PUT /crm/v8/{module}"] == 1  # 13 records, one batch of <= 100


def test_writes_are_batched_at_the_write_limit(box: ZohoSandbox, wanted: list[FieldSpec]) -> None:
    limits = ADAPTER_LIMITS.model_copy(update={"write_batch": 4})
    with connected(box, limits=limits) as zoho:
        zoho.provision(wanted)
        zoho.allow_writes_to(["Credit_Score"])
        ids = sorted(all_ids(box))[:10]
        results = zoho.write([(i, {"Credit_Score": 70}) for i in ids])
    assert [r.record_id for r in results] == ids and all(r.ok for r in results)
    assert box.call_counts()["PUT /crm/v8/{module}"] == 3


# -- served on a loopback port: real HTTP, base URLs from the config ----------------------------
def test_served_sandbox_through_configured_base_urls(
    box: ZohoSandbox, mapping: Mapping, wanted: list[FieldSpec]
) -> None:
    with box.served() as (_server, creds):
        accounts = creds.token_url.removesuffix("/oauth/v2/token")
        zoho = connect(creds, accounts_url=accounts, api_domain=creds.api_base)
        assert zoho.check(mapping.read_fields).items[0].status == CheckStatus.OK
        zoho.provision(wanted)
        records = [r for p in zoho.read(ReadQuery(mapping.read_fields)) for r in p]
        assert len(records) == SEEDED
        zoho.allow_writes_to(mapping.output_fields)
        results = zoho.write([(records[0]["id"], {"Risk_Grade": "A"})])
    assert results[0].ok and box.record(records[0]["id"])["Risk_Grade"] == "A"
