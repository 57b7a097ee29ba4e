"""A run's queued writes, as decided when each account was assessed, spooled to a
temporary file (msgpack) until the run sends them: a million queued writes hold no memory,
and the state store keeps only what makes them exactly-once (each account's pending row,
whose values are rendered again from its outputs if the run is killed before sending)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, Any, NamedTuple

import msgpack


class QueuedWrite(NamedTuple):
    """One queued write (a tuple: a million of them are made from the spool)."""

    account_id: str
    values: dict[str, Any]  # the native values to send
    #: The account's stability snapshot bins, counted once the write is applied (or None).
    bins: list[int] | None = None


class WriteQueue:
    """The writes a run queued, in the order they were recorded as pending."""

    def __init__(self) -> None:
        self._spool: IO[bytes] | None = None  # made on the first write: most runs have none
        self._packer = msgpack.Packer(default=str)  # one for every write, not one each
        self.queued = 0

    def add_page(self, writes: Sequence[tuple[str, dict[str, Any], list[int] | None]]) -> None:
        """Queue a page's writes, each (account, values, bins): packed in one go."""
        if not writes:
            return
        if self._spool is None:
            # Kept open as long as the run: closed by close(), removed by the OS at exit.
            self._spool = tempfile.TemporaryFile()  # noqa: SIM115
        self._spool.write(self._packer.pack(writes))
        self.queued += len(writes)

    def batches(self, size: int) -> Iterator[list[QueuedWrite]]:
        """The queued writes in order, ``size`` at a time (once: the queue is then empty)."""
        if self._spool is None:
            return
        self._spool.flush()
        self._spool.seek(0)
        batch: list[QueuedWrite] = []
        make = QueuedWrite._make
        for page in msgpack.Unpacker(self._spool):
            for entry in page:
                batch.append(make(entry))
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
