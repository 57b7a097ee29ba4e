"""crmqual.collector: a run's collector settings, and everything as it was afterwards."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from crmqual.collector import RUN_THRESHOLDS, fewer_collections


@pytest.fixture(autouse=True)
def thresholds_kept() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_a_run_sets_its_thresholds_and_restores_the_callers() -> None:
    gc.set_threshold(500, 7, 9)
    with fewer_collections():
        assert gc.get_threshold() == RUN_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what lived before the run is set aside
    assert gc.get_threshold() == (500, 7, 9)
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_made_during_a_run_is_still_collected() -> None:
    with fewer_collections():
        node = _Node()
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None


def test_objects_someone_else_froze_stay_frozen() -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with fewer_collections():
        pass
    # still set aside (less any the generator's frames held and freed since)
    assert gc.get_freeze_count() > frozen - 100


def test_runs_in_several_threads_leave_the_thresholds_as_they_were() -> None:
    gc.set_threshold(600, 5, 5)
    inside = threading.Barrier(2)
    seen: list[tuple[int, int, int]] = []

    def run() -> None:
        with fewer_collections():
            inside.wait()  # both runs are inside at once
            seen.append(gc.get_threshold())
            inside.wait()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [RUN_THRESHOLDS, RUN_THRESHOLDS]
    assert gc.get_threshold() == (600, 5, 5)
    assert gc.get_freeze_count() == 0
