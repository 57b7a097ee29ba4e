"""Fewer passes of Python's cyclic garbage collector while a run works through its records.

A sync allocates a few container objects per field of every record, nearly all freed at
once by reference counting. The collector still counts them and, at its default thresholds
(a young pass every 700 allocations, a middle pass every tenth of those, then full passes),
walks objects that are not garbage over and over, among them everything the imports and
the configuration made, which lives as long as the process. Run in turn with and without
these settings, a full sync of 20,000 accounts took 3 to 18 % more CPU without them
(``bench/zoho_sync.py``; README, "Tests and benchmarks"). While a run is inside
``fewer_collections`` the objects alive when it began are set aside (``gc.freeze``) and the
young generation holds more before it is walked. Cyclic garbage is still collected, later;
afterwards everything is as it was. ``policy diff``, ``policy backtest`` and ``policy fit``
run inside it too: they work through a whole portfolio read from the state store
(``policy diff`` of 100,000 stored accounts took 1.04 times the CPU without it, streaming
them, and 1.14 and 1.18 times when it held them all).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Allocations before a young pass, and the passes of each generation before the next one
#: up is walked (the defaults are 700, 10, 10).
RUN_THRESHOLDS = (10_000, 10, 10)


_lock = threading.Lock()
_runs = 0  # runs inside, in any thread: the first one in sets, the last one out restores
_before: tuple[int, int, int] = gc.get_threshold()
_froze = False


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collector thresholds for a run; the caller's own thresholds and frozen objects (a
    server that froze its objects before forking, say) are as they were afterwards."""
    global _runs, _before, _froze
    with _lock:
        if _runs == 0:
            _before = gc.get_threshold()
            _froze = gc.get_freeze_count() == 0  # never thaw what someone else froze
            if _froze:
                gc.freeze()
            gc.set_threshold(*RUN_THRESHOLDS)
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0:
                gc.set_threshold(*_before)
                if _froze:
                    gc.unfreeze()
