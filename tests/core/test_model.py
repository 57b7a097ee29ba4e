"""The common model: what it accepts, what it refuses, and how it names the fault."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from crmqual.inputs import field_problems, to_account
from crmqual.model import Account, blank_free_context


def fields_at_fault(data: dict[str, object]) -> set[str]:
    with pytest.raises(ValidationError) as info:
        to_account(data, date(2026, 6, 30))
    return {p.field for p in field_problems(info.value)}


def test_blank_cells_are_missing_not_zero() -> None:
    account = to_account({"id": "1", "total_assets": "", "revenue": " "}, date(2026, 1, 1))
    assert account.total_assets is None
    assert account.revenue is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_assets", -1),
        ("overdue_count", -2),
        ("employees", -5),
        ("founding_date", "2030-01-01"),
        ("period_end", "2027-01-01"),
        ("currency", "dollars"),
        ("esg_score", 140),
        ("revenue", "12,000"),
        ("total_assets", "nan"),
        ("revenue", 1e18),
    ],
)
def test_impossible_values_name_the_field(
    sound: dict[str, object], field: str, value: object
) -> None:
    assert fields_at_fault(sound | {field: value}) == {field}


def test_every_bad_field_is_reported_at_once(sound: dict[str, object]) -> None:
    bad = sound | {"total_assets": -1, "overdue_count": -1, "founding_date": "2099-01-01"}
    assert fields_at_fault(bad) == {"total_assets", "overdue_count", "founding_date"}


def test_unbalanced_statements_are_not_an_error(sound: dict[str, object]) -> None:
    account = to_account(sound | {"equity": 1_000}, date(2026, 6, 30))
    assert account.equity == 1_000


def test_currency_codes_are_normalised() -> None:
    assert Account.model_validate({"id": "1", "currency": " usd "}).currency == "USD"


def test_id_is_required() -> None:
    assert fields_at_fault({"name": "No id"}) == {"id"}


def test_the_assess_path_validates_rows(policy: object) -> None:
    """The path the throughput bench times refuses impossible values like any other."""
    from datetime import UTC, datetime

    from crmqual.inputs import RowError, assess_row

    outcome = assess_row(
        7, {"id": "X", "overdue_count": "-1"}, policy, datetime(2026, 1, 1, tzinfo=UTC)
    )  # type: ignore[arg-type]
    assert isinstance(outcome, RowError)
    assert (outcome.row, outcome.record_id) == (7, "X")
    assert [p.field for p in outcome.problems] == ["overdue_count"]


def test_text_is_stripped_and_only_text() -> None:
    """Text values lose their surrounding whitespace (the id and currencies too); a status
    or a date is read as it is given."""
    today = date(2026, 6, 30)
    account = to_account({"id": " A-1 ", "name": " Acme\t", "currency": " usd "}, today)
    assert (account.id, account.name, account.currency) == ("A-1", "Acme", "USD")
    assert Account(id="A-2", industry="  retail ").industry == "retail"
    assert Account(id="A-4", name=b" Bytes ").name == "Bytes"  # type: ignore[arg-type]
    # Python's whitespace, the one that also decides what is blank (separators included).
    assert to_account({"id": "A-5", "name": "Acme\x1f"}, today).name == "Acme"
    assert fields_at_fault({"id": "A-3", "business_status": " active "}) == {"business_status"}
    assert fields_at_fault({"id": "   "}) == {"id"}


def test_values_said_to_be_blank_free_are_checked_as_given() -> None:
    """A mapping's reader strips text and makes blank text None itself, and says so:
    nothing is dropped or stripped before checking, and every check still holds."""
    today = date(2026, 6, 30)
    values = {"id": "A-1", "name": "  ", "industry": None}
    assert to_account(values, today).name is None  # blank text is missing
    assert to_account(values, today, blank_free=True).name == "  "  # taken at its word
    assert Account.model_validate(values, context=blank_free_context(today)).name == "  "
    with pytest.raises(ValidationError) as caught:
        to_account({"id": "A-1", "founding_date": date(2027, 1, 1)}, today, blank_free=True)
    assert [p.field for p in field_problems(caught.value)] == ["founding_date"]
