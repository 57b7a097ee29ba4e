"""The write queue gives back what was queued, page by page, in order, a batch at a time,
once."""

from __future__ import annotations

from crmqual.write_queue import QueuedWrite, WriteQueue


def test_queued_writes_come_back_in_order_in_batches_then_the_queue_is_empty() -> None:
    queue = WriteQueue()
    assert list(queue.batches(2)) == []
    writes = [
        ("A1", {"Grade": "B", "Reasons": "R1: 负债率高 / high debt", "Limit": 5000}, [1, -1]),
        ("A2", {"Flags": ["OVERDUE", "DEFAULT"], "Limit": None, "Score": 41.5}, None),
        ("A3", {"Grade": "E"}, [0, 3]),
    ]
    queue.add_page(writes[:1])
    queue.add_page([])
    queue.add_page(writes[1:])
    assert queue.queued == 3
    batches = list(queue.batches(2))  # batches cross the pages queued
    assert [len(b) for b in batches] == [2, 1]
    assert [w for b in batches for w in b] == [QueuedWrite(*w) for w in writes]
    assert queue.queued == 0 and list(queue.batches(2)) == []
