"""A run's queued writes, as decided when each account was assessed, spooled to a temporary
file until the run sends them: a million queued writes hold no memory, and the state store
keeps only what makes them exactly-once (each account's pending row, whose values are
rendered again from its outputs if the run is killed before sending)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import IO, Any


class WriteQueue:
    """(account id, native values to send), in the order they were recorded as pending."""

    def __init__(self) -> None:
        self._spool: IO[str] | None = None  # made on the first write: most runs have none
        self.queued = 0

    def add(self, account_id: str, write: dict[str, Any]) -> None:
        if self._spool is None:
            # Kept open as long as the run: closed by close(), removed by the OS at exit.
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._spool.write(json.dumps([account_id, write], ensure_ascii=False, default=str))
        self._spool.write("\n")
        self.queued += 1

    def batches(self, size: int) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """The queued writes in order, ``size`` at a time (once: the queue is then empty)."""
        if self._spool is None:
            return
        self._spool.flush()
        self._spool.seek(0)
        batch: list[tuple[str, dict[str, Any]]] = []
        for line in self._spool:
            account_id, write = json.loads(line)
            batch.append((account_id, write))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch
        self.close()

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        self.queued = 0
