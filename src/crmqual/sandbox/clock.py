"""The sandbox's clock: what "now" is for tokens, modified times and `Date` headers.

The clock lives in the sandbox database (table `meta`), so a test that moves it moves it for a
server process sharing the same file too. It either follows the wall clock shifted by an offset
(the default, offset 0) or stands still at a set instant until it is moved again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Protocol


class MetaStore(Protocol):
    """The part of the store the clock needs: small named JSON values."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


_KEY = "clock"


def utc_now() -> datetime:
    """The wall clock, in UTC, to the second (Zoho's timestamps have no fractions)."""
    return datetime.now(UTC).replace(microsecond=0)


class SandboxClock:
    """Sandbox time. Contract: `now()` is timezone-aware UTC, whole seconds, and never depends
    on anything but the wall clock and the state last set by `freeze`/`advance`/`resume`."""

    def __init__(self, meta: MetaStore) -> None:
        self._meta = meta

    def _state(self) -> tuple[datetime | None, float]:
        raw = self._meta.get_meta(_KEY)
        if raw is None:
            return None, 0.0
        state = json.loads(raw)
        frozen = datetime.fromisoformat(state["frozen"]) if state.get("frozen") else None
        return frozen, float(state.get("offset", 0.0))

    def _save(self, frozen: datetime | None, offset: float) -> None:
        state = {"frozen": frozen.isoformat() if frozen else None, "offset": offset}
        self._meta.set_meta(_KEY, json.dumps(state))

    def now(self) -> datetime:
        frozen, offset = self._state()
        if frozen is not None:
            return frozen
        return (utc_now() + timedelta(seconds=offset)).replace(microsecond=0)

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop the clock at `at` (default: the current sandbox time); return that instant."""
        instant = (at or self.now()).astimezone(UTC).replace(microsecond=0)
        self._save(instant, 0.0)
        return instant

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back, with a negative value), frozen or running."""
        frozen, offset = self._state()
        if frozen is not None:
            self._save(frozen + timedelta(seconds=seconds), 0.0)
        else:
            self._save(None, offset + seconds)
        return self.now()

    def resume(self) -> datetime:
        """Let a frozen clock run again from where it stands."""
        now = self.now()
        self._save(None, (now - utc_now()).total_seconds())
        return now
