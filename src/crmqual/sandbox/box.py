"""What every dialect's Python API (`ZohoSandbox`, `SalesforceSandbox`, `FxiaokeSandbox`)
shares: a CRM kept in one SQLite file with its store and clock, the faults its apps fail with,
the command line that serves it in its own process, and its call log.

Each dialect adds its own records, credentials and apps.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

from crmqual.sandbox.clock import SandboxClock
from crmqual.sandbox.faults import FaultPlan, FaultProfile
from crmqual.sandbox.store import CallEntry, SandboxStore

#: the write log's client of a person's edit through the sandbox's Python API
HAND_EDIT_CLIENT = "sandbox:hand-edit"


@dataclass(frozen=True)
class Credentials:
    """What a client of a dialect needs (its fields are the dialect's); `serve --json` prints
    `as_dict()`."""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class Sandbox:
    """A CRM kept in one SQLite file; several objects, in one process or several, may open the
    same file at once. `faults` and `fault_seed` make every app this object runs (in-process
    or served) fail on schedule; `sleep` is how those apps spend latency (tests pass a
    recorder instead of waiting)."""

    #: the dialect's `--crm` name
    crm: ClassVar[str]

    def __init__(
        self,
        db: str | Path,
        *,
        faults: FaultProfile | None = None,
        fault_seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = Path(db)
        self.store = SandboxStore(self.db)
        self.clock = SandboxClock(self.store)
        self.faults = faults
        self.fault_seed = fault_seed
        self.sleep = sleep

    def fault_plan(self) -> FaultPlan:
        """A fresh fault plan for one app (its calls counted from 1)."""
        return FaultPlan(self.faults, self.fault_seed)

    def serve_command(self, port: int = 0, faults: str | None = None) -> list[str]:
        """argv that serves this sandbox in its own process and prints credentials as JSON;
        `faults` names a profile or a YAML file."""
        # The sandbox's own entry point: the same `serve` as `crmqual sandbox serve`, without
        # importing the CLI.
        argv = [sys.executable, "-m", "crmqual.sandbox", "serve", "--crm", self.crm]
        argv += ["--db", str(self.db), "--port", str(port), "--json"]
        if faults is not None:
            argv += ["--faults", faults, "--fault-seed", str(self.fault_seed)]
        return argv

    def calls(self, after_seq: int = 0) -> list[CallEntry]:
        return self.store.calls(after_seq)

    def call_counts(self) -> dict[str, int]:
        return self.store.call_counts()

    def close(self) -> None:
        self.store.close()
