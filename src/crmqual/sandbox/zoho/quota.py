"""Zoho's API credits and concurrency limit, per edition (zoho.md section 7).

Credits: every CRM API call costs credits (a list, get, search, COQL or metadata call 1; a
write 1 per 10 records, rounded up), counted per org over a rolling 24-hour window on the
sandbox clock, in one-minute buckets kept in the store (so every process on the file shares
them); a call's credits come back 24 hours after the minute it was made. The allowance is the
edition's base plus an amount per licensed user, capped at the edition's maximum, unless set
explicitly or unlimited. Concurrency: calls in flight at once in one serving process, limited
by the edition, with a sub-limit of 10 for heavy calls (a write of more than 10 records, COQL).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass
from datetime import datetime

from crmqual.sandbox.store import SandboxStore
from crmqual.sandbox.zoho.schema import USERS


@dataclass(frozen=True)
class Edition:
    name: str
    base: int
    per_user: int
    cap: int | None  # None: no maximum
    concurrency: int

    def allowance(self, users: int) -> int:
        total = self.base + self.per_user * users
        return total if self.cap is None else min(total, self.cap)


# The 2026 v8 API-limits figures as summarised in zoho.md (the sources disagree on the maxima;
# the newest is used): base + per user, capped; concurrency 5/10/15/20/25.
EDITIONS: dict[str, Edition] = {
    e.name: e
    for e in (
        Edition("free", 5_000, 0, 5_000, 5),
        Edition("standard", 50_000, 250, 100_000, 10),
        Edition("professional", 50_000, 500, 3_000_000, 15),
        Edition("enterprise", 50_000, 1_000, 5_000_000, 20),
        Edition("ultimate", 50_000, 2_000, None, 25),
    )
}
DEFAULT_EDITION = "enterprise"
HEAVY_CONCURRENCY = 10
WINDOW_MINUTES = 24 * 60
_META_KEY = "zoho_quota"


@dataclass(frozen=True)
class Quota:
    """The org's edition and its daily credits: `credits` None means the edition's allowance
    for `users` licensed users, -1 means unlimited (benchmarks), else that many."""

    edition: str = DEFAULT_EDITION
    credits: int | None = None
    users: int = len(USERS)

    def __post_init__(self) -> None:
        if self.edition not in EDITIONS:
            raise ValueError(f"edition must be one of {', '.join(EDITIONS)}")

    @property
    def unlimited(self) -> bool:
        return self.credits == -1

    @property
    def allowance(self) -> int | None:
        """Credits per 24 hours; None when unlimited."""
        if self.unlimited:
            return None
        return self.credits if self.credits is not None else self.edition_def.allowance(self.users)

    @property
    def edition_def(self) -> Edition:
        return EDITIONS[self.edition]

    @property
    def concurrency(self) -> int:
        return self.edition_def.concurrency

    def save(self, store: SandboxStore) -> None:
        store.set_meta(_META_KEY, json.dumps(asdict(self)))

    @classmethod
    def load(cls, store: SandboxStore) -> Quota:
        raw = store.get_meta(_META_KEY)
        return cls(**json.loads(raw)) if raw else cls()


def parse_credits(text: str) -> int | None:
    """`unlimited` -> -1, digits -> that many (the CLI's `--credits`)."""
    if text.strip().lower() == "unlimited":
        return -1
    value = int(text)
    if value < 0:
        raise ValueError("credits must be a non-negative number or 'unlimited'")
    return value


def call_cost(method: str, path: str, records: int) -> int:
    """Credits of one call: 0 for the accounts server, ceil(n/10) for a write of n records,
    else 1 (zoho.md 7)."""
    if not path.startswith("/crm/"):
        return 0
    if method == "PUT" or (method == "POST" and not path.endswith("/coql")):
        return max(1, math.ceil(records / 10))
    return 1


def minute_of(instant: datetime) -> int:
    return int(instant.timestamp()) // 60


@dataclass(frozen=True)
class Spend:
    """The outcome of charging a call: allowed or not, and the window after it."""

    allowed: bool
    spent_in_window: int
    allowance: int | None

    @property
    def remaining(self) -> int | None:
        if self.allowance is None:
            return None
        return max(0, self.allowance - self.spent_in_window)

    @property
    def show_remaining(self) -> bool:
        """Zoho sends X-API-CREDITS-REMAINING once more than half the credits are used."""
        return self.allowance is not None and self.spent_in_window * 2 > self.allowance


class CreditLedger:
    """Charges calls against the rolling window, atomically across processes."""

    def __init__(self, store: SandboxStore, quota: Quota) -> None:
        self.store = store
        self.quota = quota

    def charge(self, now: datetime, cost: int) -> Spend:
        """Spend `cost` credits now if the window has them; a refused call costs nothing."""
        minute = minute_of(now)
        allowance = self.quota.allowance
        with self.store.transaction():
            spent = self.store.credits_since(minute - WINDOW_MINUTES)
            if allowance is not None and cost > 0 and spent + cost > allowance:
                return Spend(False, spent, allowance)
            if cost:
                self.store.add_credits(minute, cost)
        return Spend(True, spent + cost, allowance)

    def window(self, now: datetime) -> Spend:
        spent = self.store.credits_since(minute_of(now) - WINDOW_MINUTES)
        return Spend(True, spent, self.quota.allowance)


class ConcurrencyGate:
    """Calls in flight in this process, against the edition's limit and the heavy sub-limit."""

    def __init__(self, limit: int, heavy_limit: int = HEAVY_CONCURRENCY) -> None:
        self.limit = limit
        self.heavy_limit = heavy_limit
        self.in_flight = 0
        self.heavy_in_flight = 0
        self._lock = threading.Lock()

    def enter(self, heavy: bool) -> bool:
        """Take a slot; False (and nothing taken) when the limit is reached."""
        with self._lock:
            if self.in_flight >= self.limit:
                return False
            if heavy and self.heavy_in_flight >= self.heavy_limit:
                return False
            self.in_flight += 1
            self.heavy_in_flight += heavy
            return True

    def leave(self, heavy: bool) -> None:
        with self._lock:
            self.in_flight -= 1
            self.heavy_in_flight -= heavy
