"""What changed for an account between two assessments, grouped the way credit teams review.

Kinds: admission failed, grade downgraded, limit cut, new flag of high severity, data
missing or stale, upgraded (overridden-by-hand is reported by the sync, which sees it).
A downgrade or a new high-severity flag is a *warning*: it becomes an event with a stable
id (the same change from the same starting point always gets the same id, so a rerun or a
crash never makes a second event) and, when enabled, a follow-up item in the CRM.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from crmqual.engine import Assessment
from crmqual.policy import Policy

ADMISSION_FAILED = "admission_failed"
DOWNGRADED = "downgraded"
LIMIT_CUT = "limit_cut"
NEW_HIGH_FLAG = "new_high_flag"
DATA_MISSING_OR_STALE = "data_missing_or_stale"
UPGRADED = "upgraded"
OVERRIDDEN = "overridden"
KINDS = (
    ADMISSION_FAILED,
    DOWNGRADED,
    LIMIT_CUT,
    NEW_HIGH_FLAG,
    DATA_MISSING_OR_STALE,
    UPGRADED,
    OVERRIDDEN,
)
WARNINGS = frozenset({DOWNGRADED, NEW_HIGH_FLAG})
_DATA_FLAGS = frozenset({"INCOMPLETE_DATA", "STALE_FINANCIALS"})


@dataclass(frozen=True)
class Change:
    account_id: str
    kind: str
    detail: str
    severity: str
    event_id: str

    @property
    def warning(self) -> bool:
        return self.kind in WARNINGS


def event_id(target: str, account_id: str, kind: str, detail: str, since: str) -> str:
    """Stable id of one change: the same change from the same baseline, the same id."""
    key = "|".join((target, account_id, kind, detail, since))
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def changes(
    target: str, previous: dict[str, Any] | None, new: Assessment, policy: Policy
) -> list[Change]:
    """The changes from ``previous`` (canonical outputs of the last written assessment)."""
    if previous is None:
        return []  # a first assessment is a baseline, not a change
    since = str(previous.get("assessed_at", ""))
    found: list[tuple[str, str, str]] = []
    old_grade = str(previous.get("grade") or "")
    # Only from a known status: values rebuilt from the CRM's fields carry none.
    if new.status == "rejected" and previous.get("status", "rejected") != "rejected":
        found.append((ADMISSION_FAILED, "rejected", "high"))
    if old_grade and new.grade > old_grade:
        found.append((DOWNGRADED, f"{old_grade}->{new.grade}", "high"))
    elif old_grade and new.grade < old_grade:
        found.append((UPGRADED, f"{old_grade}->{new.grade}", "low"))
    old_limit = previous.get("credit_limit")
    cut = isinstance(old_limit, int | float) and new.credit_limit is not None
    if cut and new.credit_limit < old_limit:  # type: ignore[operator]
        found.append((LIMIT_CUT, f"{old_limit}->{new.credit_limit}", "medium"))
    old_flags = set(previous.get("flags") or [])
    severity = {f.code: f.severity for f in policy.flags}
    for flag in new.flags:
        if flag in old_flags or flag == "GRADE_DOWNGRADE":
            continue
        if severity.get(flag) == "high":
            found.append((NEW_HIGH_FLAG, flag, "high"))
        if flag in _DATA_FLAGS:
            found.append((DATA_MISSING_OR_STALE, flag, "low"))
    return [
        Change(
            new.account_id, kind, detail, sev, event_id(target, new.account_id, kind, detail, since)
        )
        for kind, detail, sev in found
    ]
