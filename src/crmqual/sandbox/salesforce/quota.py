"""The org's daily API allowance and its concurrency limit (salesforce.md section 7).

Allowance per edition (rolling 24 h, per org): Enterprise / Professional 100,000 + 1,000 per
licence, Unlimited / Performance 100,000 + 5,000 per licence, Developer 15,000, sandbox orgs
5,000,000; the org has `LICENCES` Salesforce licences (an assumption of the sandbox). Calls
are counted in the shared store's one-minute buckets on the sandbox clock. Concurrent
long-running requests: 25, Developer 5.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime

from crmqual.sandbox.store import SandboxStore

LICENCES = 10
EDITIONS: dict[str, tuple[int, int]] = {
    # edition: (base, per licence)
    "professional": (100_000, 1_000),
    "enterprise": (100_000, 1_000),
    "unlimited": (100_000, 5_000),
    "performance": (100_000, 5_000),
    "developer": (15_000, 0),
    "sandbox": (5_000_000, 0),
}
_KEY = "sf.quota"


@dataclass(frozen=True)
class Quota:
    edition: str = "enterprise"
    #: overrides the edition's allowance; None: the edition's
    allowance_override: int | None = None

    @property
    def allowance(self) -> int:
        if self.allowance_override is not None:
            return self.allowance_override
        base, per = EDITIONS[self.edition]
        return base + per * LICENCES

    @property
    def concurrency(self) -> int:
        return 5 if self.edition == "developer" else 25

    def save(self, store: SandboxStore) -> None:
        store.set_meta(
            _KEY, json.dumps({"edition": self.edition, "allowance": self.allowance_override})
        )

    @classmethod
    def load(cls, store: SandboxStore) -> Quota:
        raw = store.get_meta(_KEY)
        if raw is None:
            return cls()
        saved = json.loads(raw)
        return cls(saved["edition"], saved.get("allowance"))


def _minute(now: datetime) -> int:
    return int(now.timestamp()) // 60


class Ledger:
    """API calls over the rolling 24 hours."""

    def __init__(self, store: SandboxStore, quota: Quota) -> None:
        self.store = store
        self.quota = quota
        self._lock = threading.Lock()

    def used(self, now: datetime) -> int:
        return self.store.credits_since(_minute(now) - 1440)

    def charge(self, now: datetime) -> tuple[bool, int]:
        """Count one call if the allowance has room: (allowed, used afterwards)."""
        with self._lock:
            used = self.used(now)
            if used >= self.quota.allowance:
                return False, used
            self.store.add_credits(_minute(now), 1)
            return True, used + 1


class Gate:
    """Requests in flight at once (per serving process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflight = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self.inflight >= self.limit:
                return False
            self.inflight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.inflight -= 1
