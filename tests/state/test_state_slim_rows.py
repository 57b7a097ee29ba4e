"""A sync's row keeps each fact once (``crmqual.state.rows``): what it no longer stores is
derived when read, and equals what the sync had."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from stateutil import new_run

from crmqual.backtest import row_account, sample, stored_account
from crmqual.engine import Assessment, assess
from crmqual.mapping import Labels, load_mapping, to_native
from crmqual.model import Account
from crmqual.outputs import canonical, previous_from_canonical
from crmqual.policy import load_policy
from crmqual.state import AssessmentIn, StateStore
from crmqual.state.reading import Layout
from crmqual.state.rows import PERSONAL

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from syncutil import company

AS_OF = datetime(2026, 1, 15, tzinfo=UTC)
MAPPING = load_mapping(None, "zoho")[0]
POLICY = load_policy(None)
LABELS = Labels.of(POLICY)


def account_of(i: int, **changes: Any) -> Account:
    data = company(i, period_end="2024-12-31", **changes)
    data.pop("credit_override")
    return Account.model_validate(data, context={"today": AS_OF.date()})


def sync_row(account: Account, previous: dict[str, Any]) -> tuple[AssessmentIn, dict[str, Any]]:
    """The row a sync records for this account, and what the old schema stored of it."""
    result = assess(account, POLICY, as_of=AS_OF)
    native = to_native(MAPPING, LABELS, result)
    kept = account.model_dump(mode="json", exclude=set(PERSONAL))
    row = AssessmentIn(
        account_id=account.id,
        assessed_at=AS_OF,
        account=kept,
        outputs={},
        native=native,
        previous_native=previous,
        policy_version=result.policy_version,
        grade=result.grade,
        reasons=[],
        result=result,
    )
    old = {
        "account": kept,
        "outputs": canonical(result) | {"downgraded_at": None},
        "native": native,
        "previous_native": previous,
        "reasons": [r.as_dict() for r in result.reasons],
    }
    return row, old


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"overdue_max_days": 200, "overdue_count": 6},  # flags and reasons with values
        {"net_income": -5_000_000, "equity": -1_000_000},  # knocked out
        {"legal_representative": "张三", "website": "https://example.cn"},  # personal data
    ],
)
def test_what_a_slim_row_leaves_out_is_derived_as_the_sync_had_it(
    store: StateStore, run_id: int, changes: dict[str, Any]
) -> None:
    empty = {rule.native: None for rule in MAPPING.outputs.values()}
    before = empty | {MAPPING.outputs["grade"].native: "C"}
    store.record_layout(run_id, Layout(dict(MAPPING.outputs), LABELS))
    rows = [sync_row(account_of(i, **changes), before if i % 2 else empty) for i in range(6)]
    store.record_pending(run_id, "zoho:org1", [row for row, _ in rows])
    for row, old in rows:
        (record,) = store.history("zoho:org1", row.account_id)
        assert record.outputs == old["outputs"]
        assert record.native == old["native"]
        assert record.previous_native == old["previous_native"]
        assert record.reasons == old["reasons"]
        assert record.account == {k: v for k, v in old["account"].items() if v is not None}
        assert not set(PERSONAL) & set(record.account)
        rebuilt = previous_from_canonical(row.account_id, old["outputs"])
        assert as_previous(record.as_previous()) == as_previous(rebuilt)
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT form, outputs, native, account, previous_native FROM assessments"
        ).all()
    assert {r.form for r in stored} == {1}
    assert all(r.outputs is None and r.native is None and r.account is None for r in stored)
    assert sum(r.previous_native is None for r in stored) == 3  # none before: nothing kept


def test_a_slim_row_needs_its_runs_layout(store: StateStore) -> None:
    run = new_run(store)
    row, _ = sync_row(account_of(1), {})
    with pytest.raises(ValueError, match="record_layout"):
        store.record_pending(run, "zoho:org1", [row])


def test_other_rows_are_kept_as_given(store: StateStore, run_id: int) -> None:
    given = AssessmentIn(
        "X1",
        AS_OF,
        {"name": "客户 X1", "unknown_key": 1},
        {"grade": "B", "limit": 5},
        {"F": "B"},
        {"F": None, "G": 1},
        "p1",
        "B",
        [{"code": "R1", "text": "ok"}],
    )
    store.record_pending(run_id, "zoho:org1", [given])
    (record,) = store.history("zoho:org1", "X1")
    assert (record.account, record.outputs, record.native) == (
        given.account,
        given.outputs,
        given.native,
    )
    assert (record.previous_native, record.reasons) == (given.previous_native, given.reasons)
    assert record.as_previous() is None  # its outputs hold no assessment time


def as_previous(a: Assessment | None) -> tuple[Any, ...]:
    """What a previous assessment tells the engine and the change events, reasons as read."""
    assert a is not None
    reasons = [r.as_dict() for r in a.reasons]
    return (a.account_id, a.status, a.grade, a.score, a.credit_limit, a.limit_currency,
            a.payment_terms, a.flags, reasons, a.data_completeness, a.policy_version,
            a.assessed_at, a.downgraded_at)  # fmt: skip


def test_a_row_kept_as_given_with_an_assessment_time_is_a_previous_assessment(
    store: StateStore, run_id: int
) -> None:
    account = account_of(3, overdue_max_days=200, overdue_count=6)
    result = assess(account, POLICY, as_of=AS_OF)
    downgraded = datetime(2025, 12, 1, tzinfo=UTC)
    outputs = canonical(result) | {"downgraded_at": downgraded.isoformat()}
    row, _ = sync_row(account, {})
    store.record_pending(run_id, "zoho:org1", [replace(row, outputs=outputs, result=None)])
    (record,) = store.history("zoho:org1", account.id)
    expected = previous_from_canonical(account.id, outputs)
    assert as_previous(record.as_previous()) == as_previous(expected)
    assert record.as_previous().downgraded_at == downgraded  # type: ignore[union-attr]


#: Accounts as the model holds them: dates, a time, the status enum, personal data, nulls,
#: ints given for float fields.
MODEL_CASES = [
    {},
    {"modified_time": "2026-01-10T09:00:00+08:00", "founding_date": "1999-02-28"},
    {"business_status": "liquidation", "prior_period_end": "2023-12-31", "cash": 0.5},
    {"legal_representative": "张三", "owner": "Ann", "employees": None, "cash": 0.5},
    {"legal_representative": "张三", "owner": "Ann", "employees": None, "name": None},
    {"cash": 5, "employees": 12, "current_exposure": 30_000},
]


def record_as_model_and_as_dict(
    store: StateStore, run_id: int, changes: dict[str, Any]
) -> tuple[Account, AssessmentIn]:
    """One account recorded pending twice, as the sync hands it (the Account itself, id
    "M", personal data left out) and as a dict of its JSON values (id "D"); the account and
    its row as the sync made it."""
    account = account_of(5, **changes)
    row, _ = sync_row(account, {})
    as_model = replace(
        row,
        account_id="M",
        account=account.model_copy(update={"id": "M"}),
        leave_out=frozenset(PERSONAL),
    )
    as_dict = replace(row, account_id="D", account=row.account | {"id": "D"})
    store.record_layout(run_id, Layout(dict(MAPPING.outputs), LABELS))
    store.record_pending(run_id, "zoho:org1", [as_model, as_dict])
    return account, row


@pytest.mark.parametrize("changes", MODEL_CASES)
def test_an_account_given_as_the_model_is_kept_as_its_json_dict(
    store: StateStore, run_id: int, changes: dict[str, Any]
) -> None:
    """The sync hands the ledger the Account itself (read off the model, not dumped): the
    row keeps what the dict of its JSON values, personal data left out, would have kept."""
    _, row = record_as_model_and_as_dict(store, run_id, changes)
    by_id = {r.account_id: r for r in store.pending("zoho:org1")}
    model_kept, dict_kept = by_id["M"].account, by_id["D"].account
    assert (
        model_kept | {"id": "D"}
        == dict_kept
        == {k: v for k, v in row.account.items() if v is not None} | {"id": "D"}
    )
    assert not set(PERSONAL) & set(model_kept)


@pytest.mark.parametrize("changes", MODEL_CASES)
def test_an_account_kept_from_the_model_reads_back_as_it_without_validating(
    store: StateStore, run_id: int, changes: dict[str, Any]
) -> None:
    """The snapshot's read of the portfolio (``scores_only``) gives a sync's rows as the
    Account assessed (personal data left out), equal in values and in the fields set to its
    kept inputs validated again; a row kept from a dict is validated as before."""
    account, _ = record_as_model_and_as_dict(store, run_id, changes)
    store.mark_written("zoho:org1", ["M", "D"], run_id=run_id)
    rows = {r.account_id: r for r in store.iter_portfolio("zoho:org1", scores_only=True)}
    kept = {r.account_id: r.account for r in store.portfolio("zoho:org1")}
    model, validated = rows["M"].model, stored_account(kept["M"])
    assert model is not None and rows["M"].account == {} and rows["D"].model is None
    assert model == validated == account.model_copy(update={"id": "M"} | dict.fromkeys(PERSONAL))
    assert model.model_fields_set == validated.model_fields_set
    typed = {k: (type(v), v) for k, v in validated.__dict__.items()}
    assert {k: (type(v), v) for k, v in model.__dict__.items()} == typed  # float, enum, date
    assert model.model_dump(mode="json") == validated.model_dump(mode="json")
    assert row_account(rows["M"]) is model
    assert (
        row_account(rows["D"])
        == stored_account(kept["D"])
        == validated.model_copy(update={"id": "D"})
    )


@pytest.mark.parametrize("changes", MODEL_CASES)
def test_a_backtest_samples_kept_accounts_as_it_sampled_them_validated(
    store: StateStore, run_id: int, changes: dict[str, Any]
) -> None:
    """``policy backtest`` and ``policy fit`` read the portfolio's kept Accounts
    (``scores_only``): the sample is the one the validated inputs gave."""
    record_as_model_and_as_dict(store, run_id, changes)
    store.mark_written("zoho:org1", ["M", "D"], run_id=run_id)
    as_of = datetime(2027, 1, 1, tzinfo=UTC)
    kept = sample(store.portfolio("zoho:org1", as_of, scores_only=True), [], as_of, 12)
    validated = sample(store.portfolio("zoho:org1", as_of), [], as_of, 12)
    assert kept == validated and len(kept.observations) == 2


def test_reason_texts_are_inserted_in_key_order(store: StateStore, run_id: int) -> None:
    """Runs of several orgs sharing a PostgreSQL store insert the same reason texts at once:
    in one order (their keys'), so that they wait for each other instead of deadlocking."""
    inserted: list[list[str]] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("INSERT INTO reason_texts"):
            rows = params if isinstance(params, list) else [params]
            inserted.append([r["key"] if isinstance(r, dict) else r[0] for r in rows])

    rows = [sync_row(account_of(i, overdue_count=i % 5, net_income=-i), {})[0] for i in range(8)]
    assert len({r.code for row in rows for r in row.result.reasons}) > 3  # type: ignore[union-attr]
    store.record_layout(run_id, Layout(dict(MAPPING.outputs), LABELS))
    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        store.record_pending(run_id, "zoho:org1", rows)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
    assert len(inserted) == 1 and len(inserted[0]) > 3
    assert inserted[0] == sorted(inserted[0])
