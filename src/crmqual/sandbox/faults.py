"""Faults on demand: a seeded, reproducible profile of the ways a CRM API fails.

A `FaultProfile` says how often each fault strikes; `FaultPlan` turns a profile and a seed
into decisions. Call number n (counted from 1 by the app that owns the plan) gets its own
generator seeded by (seed, n), so a client that makes the same calls in the same order meets
the same faults, whatever happened before. Off by default (profile `none`).

Faults never corrupt data: each decision is taken before the request is handled (429, 5xx,
an expired token, a connection dropped before the request arrives) or after it was handled
completely (a slow answer, a connection dropped before the answer leaves), and a per-record
validation error refuses that record whole. Every fault is transient: the same request made
again is a fresh draw, so a client that retries gets through.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crmqual.errors import ConfigError, Problem
from crmqual.yamlfile import read_yaml, validate

Rate = float


class FaultProfile(BaseModel):
    """How often each fault strikes an API call (`/crm/...`; the token endpoint only knows
    `token_throttle`). Rates are per call, except `record_error` (per record of a write)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "custom"
    rate_limit: Rate = Field(0.0, ge=0, le=1)
    """429 TOO_MANY_REQUESTS as Zoho answers an exceeded concurrency limit."""
    server_error: Rate = Field(0.0, ge=0, le=1)
    server_error_statuses: tuple[int, ...] = (500,)
    """500 is Zoho's INTERNAL_ERROR body; 502, 503 and 504 a gateway's HTML page."""
    drop: Rate = Field(0.0, ge=0, le=1)
    """The connection closes without an answer (before or after the request was handled)."""
    token_expiry: Rate = Field(0.0, ge=0, le=1)
    """The caller's access token expires now: 401 INVALID_TOKEN until it refreshes."""
    slow: Rate = Field(0.0, ge=0, le=1)
    slow_ms: int = Field(2_000, ge=0)
    record_error: Rate = Field(0.0, ge=0, le=1)
    """A record of a write is refused with INVALID_DATA (an org's validation rule)."""
    lost_write_answer: Rate = Field(0.0, ge=0, le=1)
    """A write (a PUT, POST or PATCH carrying records) is applied, then its connection closes
    before the answer leaves: the client cannot tell whether it was applied. Drawn apart from
    the other faults (a write a fault refused before handling is not applied at all)."""
    latency_ms: int = Field(0, ge=0)
    """Added to every API call."""
    token_throttle: bool = False
    """Zoho Accounts' mint quota: more than 10 access tokens from one refresh token within
    10 minutes is refused with HTTP 200 and an `Access Denied` body (zoho.md 3.2)."""

    @model_validator(mode="after")
    def _exclusive(self) -> FaultProfile:
        total = self.rate_limit + self.server_error + self.drop + self.token_expiry
        if total > 1.0:
            raise ValueError("rate_limit + server_error + drop + token_expiry must be <= 1")
        bad = [s for s in self.server_error_statuses if s not in (500, 502, 503, 504)]
        if bad or not self.server_error_statuses:
            raise ValueError("server_error_statuses must be among 500, 502, 503, 504")
        return self


PROFILES: dict[str, FaultProfile] = {
    "none": FaultProfile(name="none"),
    # Moderate and transient: a client that retries (and a sync rerun) always gets through.
    "flaky": FaultProfile(
        name="flaky",
        rate_limit=0.03,
        server_error=0.03,
        server_error_statuses=(500, 503),
        drop=0.01,
        token_expiry=0.005,
        slow=0.02,
        slow_ms=800,
        record_error=0.002,
    ),
    "hostile": FaultProfile(
        name="hostile",
        rate_limit=0.12,
        server_error=0.08,
        server_error_statuses=(500, 502, 503, 504),
        drop=0.05,
        token_expiry=0.04,
        slow=0.1,
        slow_ms=5_000,
        record_error=0.03,
        latency_ms=50,
        token_throttle=True,
    ),
}


def load_profile(name_or_file: str | Path) -> FaultProfile:
    """A named profile (`none`, `flaky`, `hostile`) or a YAML file of `FaultProfile` keys; a
    file may start from a named profile with `profile: flaky` and override some keys."""
    key = str(name_or_file)
    if key in PROFILES:
        return PROFILES[key]
    raw: Any = read_yaml(Path(key))
    if isinstance(raw, dict) and "profile" in raw:
        base = PROFILES.get(str(raw.pop("profile")))
        if base is None:
            raise ConfigError([Problem(key, "profile", f"not one of {', '.join(PROFILES)}")])
        raw = {**base.model_dump(), "name": Path(key).stem, **raw}
    elif isinstance(raw, dict):
        raw = {"name": Path(key).stem, **raw}
    return validate(FaultProfile, raw, key)


@dataclass(frozen=True)
class Decision:
    """What happens to one call. `fault` is one of None, "rate_limit", "server_error",
    "drop", "token_expiry"; `drop_after` says a drop comes after the request was handled;
    `lose_write_answer`, that a write carrying records is applied and its answer then lost."""

    number: int
    fault: str | None = None
    status: int = 500
    drop_after: bool = False
    delay_ms: int = 0
    record_draws: tuple[float, ...] = ()
    lose_write_answer: bool = False

    def record_fails(self, index: int, rate: float) -> bool:
        return index < len(self.record_draws) and self.record_draws[index] < rate


_RECORD_DRAWS = 100  # Zoho's write batch limit: one draw per record a PUT may carry


class FaultPlan:
    """A profile and a seed, and the count of calls decided so far. Thread-safe."""

    def __init__(self, profile: FaultProfile | None = None, seed: int = 0) -> None:
        self.profile = profile or PROFILES["none"]
        self.seed = seed
        self._calls = 0
        self._lock = threading.Lock()

    def next(self) -> Decision:
        """The decision for the next call."""
        with self._lock:
            self._calls += 1
            number = self._calls
        return self.decide(number)

    def decide(self, number: int) -> Decision:
        """The decision for call `number`: a pure function of (profile, seed, number)."""
        p = self.profile
        rng = random.Random(f"crmqual-faults:{self.seed}:{number}")
        u, u_slow, u_after, u_status = rng.random(), rng.random(), rng.random(), rng.random()
        fault = None
        edge = 0.0
        for name, rate in (
            ("rate_limit", p.rate_limit),
            ("server_error", p.server_error),
            ("drop", p.drop),
            ("token_expiry", p.token_expiry),
        ):
            edge += rate
            if u < edge:
                fault = name
                break
        statuses = p.server_error_statuses
        draws = tuple(rng.random() for _ in range(_RECORD_DRAWS)) if p.record_error else ()
        # drawn last, and only when asked for: the draws above stay those of older profiles
        lose = p.lost_write_answer > 0 and rng.random() < p.lost_write_answer
        return Decision(
            number=number,
            fault=fault,
            status=statuses[int(u_status * len(statuses))],
            drop_after=u_after < 0.5,
            delay_ms=p.latency_ms + (p.slow_ms if u_slow < p.slow else 0),
            record_draws=draws,
            lose_write_answer=lose,
        )
