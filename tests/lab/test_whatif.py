"""`policy diff`'s tally (crmqual.whatif): a policy against itself changes nothing; the
migration matrix accounts for every account and all of its exposure."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from portfolio import ANY_ACCOUNT, accounts, strict_policy_text

from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.model import Account
from crmqual.policy import GRADES, load_policy, parse_policy
from crmqual.whatif import Case, Comparison, changed, csv_row, impact
from crmqual.yamlfile import parse_yaml_text

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
DEFAULT = compiled(load_policy())
STRICT = compiled(parse_policy(parse_yaml_text(strict_policy_text(), "strict.yaml"), "strict"))


def compare(old: object, new: object, portfolio: list[Account]) -> Comparison:
    c = Comparison(old, new, AS_OF)  # type: ignore[arg-type]
    for account in portfolio:
        c.assess(account)
    return c


def seeded(seed: int) -> list[Account]:
    return accounts(seed, 80)


def assert_no_change(c: Comparison, n: int) -> None:
    assert c.accounts == n and c.changed == 0
    assert all(c.migration[g][h] == 0 for g in GRADES for h in GRADES if g != h)
    assert all(c.migration_exposure[g][h] == {} for g in GRADES for h in GRADES if g != h)
    assert not c.admission and not c.terms and c.flag_changes() == {}
    for totals in c.limits.values():
        assert totals.before == totals.after
        assert totals.raised == totals.cut == totals.raised_by == totals.cut_by == 0
        assert totals.no_limit_before == totals.no_limit_after
    assert c.most_affected() == []
    answer = c.as_json()
    assert answer["changed"] == 0 and answer["most_affected"] == []


@settings(max_examples=60, deadline=None)
@given(st.lists(ANY_ACCOUNT, max_size=25))
def test_a_policy_against_itself_changes_nothing(portfolio: list[Account]) -> None:
    assert_no_change(compare(DEFAULT, DEFAULT, portfolio), len(portfolio))
    assert_no_change(compare(STRICT, STRICT, portfolio), len(portfolio))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 120))
def test_a_policy_against_itself_on_seeded_portfolios(seed: int, n: int) -> None:
    assert_no_change(compare(DEFAULT, compiled(load_policy()), accounts(seed, n)), n)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.lists(ANY_ACCOUNT, max_size=25), st.integers(0, 2**31).map(lambda s: accounts(s, 80))
    )
)
def test_the_migration_matrix_accounts_for_every_account_and_its_exposure(
    portfolio: list[Account],
) -> None:
    c = compare(DEFAULT, STRICT, portfolio)
    assert sum(sum(row.values()) for row in c.migration.values()) == len(portfolio)
    old_grades = {g: 0 for g in GRADES}
    for account in portfolio:
        old_grades[_grade(account, DEFAULT)] += 1
    assert {g: sum(c.migration[g].values()) for g in GRADES} == old_grades
    exposure: dict[str, float] = {}
    for account in portfolio:
        if account.current_exposure is not None:
            key = account.currency or ""
            exposure[key] = exposure.get(key, 0.0) + account.current_exposure
    cells: dict[str, float] = {}
    for row in c.migration_exposure.values():
        for cell in row.values():
            for ccy, value in cell.items():
                cells[ccy] = cells.get(ccy, 0.0) + value
    assert cells.keys() == exposure.keys() == c.exposure.keys()
    for ccy, total in exposure.items():
        assert abs(cells[ccy] - total) <= 1e-6 * max(1.0, total)
    assert c.changed == sum(1 for a in portfolio if _changed(a))


def _grade(account: Account, policy: object) -> str:
    return assess(account, policy, as_of=AS_OF).grade  # type: ignore[arg-type]


def _case(account: Account) -> Case:
    from crmqual.engine import assess

    return Case(
        account, assess(account, DEFAULT, as_of=AS_OF), assess(account, STRICT, as_of=AS_OF)
    )


def _changed(account: Account) -> bool:
    case = _case(account)
    return changed(case.old, case.new)


def test_a_stricter_policy_moves_grades_down_cuts_limits_and_ranks_the_most_affected() -> None:
    portfolio = accounts(5, 400)
    c = compare(DEFAULT, STRICT, portfolio)
    assert c.changed > 0
    # Higher floors only: no grade improves, no limit is raised.
    assert all(
        c.migration[g][h] == 0 for g in GRADES for h in GRADES if GRADES.index(h) < GRADES.index(g)
    )
    assert all(t.raised == 0 and t.after <= t.before for t in c.limits.values())
    assert sum(t.cut for t in c.limits.values()) > 0
    top = c.most_affected()
    assert 0 < len(top) <= 20 and all(changed(x.old, x.new) for x in top)
    keys = [impact(x.old, x.new) for x in top]
    assert keys == sorted(keys, reverse=True)
    everyone = [impact(x.old, x.new) for x in (_case(a) for a in portfolio)]
    assert keys[0] == max(everyone)  # nobody outside the top is more affected than its head
    assert min(keys) >= sorted(everyone, reverse=True)[len(top) - 1]
    row = csv_row(top[0])
    assert row["changed"] == "yes"
    assert (row["old_grade"], row["old_credit_limit"], row["old_status"]) != (
        row["new_grade"],
        row["new_credit_limit"],
        row["new_status"],
    ) or row["old_payment_terms"] != row["new_payment_terms"]
