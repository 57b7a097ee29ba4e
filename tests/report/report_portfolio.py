"""A made-up portfolio written into a state store through its own API, run by run, and the
figures a credit manager expects from it computed independently (the store's read API, plain
Python), for the report's figures to be compared with.

Run 1 writes accounts 0..119. Run 2 rewrites 50 of them (grades, flags, limits and exposure
change), adds 10 new accounts, leaves a pending row and a failed row for two other accounts
(neither is written, so neither counts), and another target's rows sit in the same store.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from crmqual.policy import GRADES
from crmqual.state import AssessmentIn, AssessmentRecord, AssessmentStatus, StateStore

TARGET = "zoho:book"
OTHER = "zoho:other"
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
FLAGS = ("HIGH_LEVERAGE", "OVERDUE", "DEFAULT", "STALE_FINANCIALS", "NEW_COMPANY")
SEVERITIES = {
    "HIGH_LEVERAGE": "medium",
    "OVERDUE": "high",
    "DEFAULT": "high",
    "STALE_FINANCIALS": "low",
    "NEW_COMPANY": "low",
}
STATUSES = ("approved", "conditional", "review", "rejected")


@dataclass
class Book:
    runs: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def _row(rng: random.Random, account_id: str, at: datetime) -> AssessmentIn:
    grade = rng.choice(GRADES)
    currency = rng.choice(["CNY", "CNY", "USD", None])
    exposure = None if rng.random() < 0.1 else round(rng.uniform(0, 2_000_000), 2)
    limit = None if rng.random() < 0.1 else float(rng.choice([0, 100_000, 500_000, 1_500_000]))
    flags = sorted(rng.sample(FLAGS, rng.randint(0, 3)), key=FLAGS.index)
    account: dict[str, Any] = {"id": account_id, "name": f"公司 {account_id}"}
    if currency is not None:
        account["currency"] = currency
    if exposure is not None:
        account["current_exposure"] = exposure
    if rng.random() < 0.8:
        account["period_end"] = "2025-12-31"
    outputs = {
        "status": rng.choice(STATUSES),
        "grade": grade,
        "score": rng.randint(0, 100),
        "credit_limit": limit,
        "limit_currency": currency,
        "payment_terms": "NET30",
        "flags": flags,
        "data_completeness": rng.randint(30, 100),
        "policy_version": "test@1",
        "assessed_at": at.isoformat(),
    }
    reasons = [{"code": "R1", "en": f"reason of {account_id}", "zh": f"{account_id} 的原因"}]
    return AssessmentIn(
        account_id=account_id,
        assessed_at=at,
        account=account,
        outputs=outputs,
        native={},
        previous_native={},
        policy_version="test@1",
        grade=grade,
        reasons=reasons,
    )


def _run(store: StateStore, target: str, rows: list[AssessmentIn], written: list[str]) -> int:
    run = store.start_run(
        target,
        mode="incremental",
        dry_run=False,
        signpost=None,
        policy_version="test@1",
        mapping_hash="m",
    )
    store.record_pending(run, target, rows)
    store.mark_written(target, written, run_id=run)
    counts = {"read": len(rows), "written": len(written), "failed": 0, "api_calls": 3}
    store.finish_run(
        run,
        status="ok",
        counts=counts,
        watermark=None,
        summary={"duration_s": 1.5, "exit_code": 0, **counts},
    )
    return run


def write_book(store: StateStore, seed: int = 21) -> Book:
    rng = random.Random(seed)
    book = Book()
    first = [_row(rng, f"A{i:03}", T0) for i in range(120)]
    book.runs.append(_run(store, TARGET, first, [r.account_id for r in first]))
    _run(store, OTHER, [_row(rng, "A000", T0)], ["A000"])
    later = T0 + timedelta(days=1)
    changed = [_row(rng, f"A{i:03}", later) for i in rng.sample(range(120), 50)]
    new = [_row(rng, f"N{i:03}", later) for i in range(10)]
    unwritten = [_row(rng, "P000", later), _row(rng, "F000", later)]
    second = changed + new + unwritten
    run = _run(store, TARGET, second, [r.account_id for r in changed + new])
    store.mark_failed(TARGET, ["F000"], run_id=run)  # P000 stays pending
    book.runs.append(run)
    book.ids = [r.account_id for r in first + new]
    return book


# -- the independent side -------------------------------------------------------------------


def latest(store: StateStore, ids: list[str], cut: int | None) -> dict[str, AssessmentRecord]:
    """Each account's newest written row written by run ``cut`` or earlier, from history."""
    found = {}
    for account_id in ids:
        rows = [
            r
            for r in store.history(TARGET, account_id)
            if r.status is AssessmentStatus.WRITTEN
            and (cut is None or (r.written_run_id or 0) <= cut)
        ]
        if rows:
            found[account_id] = max(rows, key=lambda r: r.id)
    return found


def currency(r: AssessmentRecord) -> str:
    return str(r.account.get("currency") or r.outputs.get("limit_currency") or "")


def exposure(r: AssessmentRecord) -> float | None:
    value = r.account.get("current_exposure")
    return None if value is None else float(value)


def grade_counts(rows: dict[str, AssessmentRecord]) -> dict[str, int]:
    return dict(Counter(r.grade or "-" for r in rows.values()))


def exposure_totals(rows: dict[str, AssessmentRecord]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in rows.values():
        totals[currency(r)] = totals.get(currency(r), 0.0) + (exposure(r) or 0.0)
    return totals


def over_limit(rows: dict[str, AssessmentRecord]) -> int:
    return sum(
        1
        for r in rows.values()
        if r.outputs.get("credit_limit") is not None
        and exposure(r) is not None
        and exposure(r) > r.outputs["credit_limit"]  # type: ignore[operator]
    )


def migration(
    now: dict[str, AssessmentRecord], before: dict[str, AssessmentRecord]
) -> dict[tuple[str, str], int]:
    cells: Counter[tuple[str, str]] = Counter()
    for account_id, r in now.items():
        b = before.get(account_id)
        cells[("new" if b is None else (b.grade or "-"), r.grade or "-")] += 1
    return dict(cells)


def flag_counts(rows: dict[str, AssessmentRecord]) -> dict[str, int]:
    return dict(Counter(f for r in rows.values() for f in r.outputs.get("flags", [])))


def new_severe(now: dict[str, AssessmentRecord], before: dict[str, AssessmentRecord]) -> set[str]:
    found = set()
    for account_id, r in now.items():
        b = before.get(account_id)
        if b is None or b.id == r.id:
            continue
        added = set(r.outputs["flags"]) - set(b.outputs["flags"])
        if any(SEVERITIES[f] == "high" for f in added):
            found.add(account_id)
    return found


def downgrades(now: dict[str, AssessmentRecord], before: dict[str, AssessmentRecord]) -> int:
    return sum(
        1
        for k, r in now.items()
        if k in before and (r.grade or "") > (before[k].grade or "") and before[k].id != r.id
    )


def risk(r: AssessmentRecord) -> float:
    return (exposure(r) or 0.0) * (GRADES.index(r.grade or "A") + 1)
