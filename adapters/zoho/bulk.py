"""Zoho's bulk jobs as crmqual uses them (zoho.md sections 2, 7, 9): when a read or a write
goes bulk, and how crmqual waits for a job.

**When.** A full or incremental read goes through Bulk Read (``bulk_read``) when its record
count (``actions/count``) reaches ``bulk.read_threshold`` or passes the ``page_token``
ceiling, which paging cannot finish. A write of ``bulk.write_threshold`` records or more goes
through Bulk Write (``bulk_write``) when that costs fewer credits than PUTs: a PUT of n
records costs ceil(n/10) credits, a job ``bulk.write_credits`` (500) plus about 4 for its
upload, polls and result, so bulk pays from about 5,040 records.

**Waiting.** A job is polled for its state at a doubling interval capped at
``bulk.poll_max_interval``, within ``bulk.deadline`` seconds of waiting (``FAILURE`` or the
deadline end it with an error naming the job). This is polling a job that is running, not a
retry: each status call is itself one request under ``crmqual.http``'s retry policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from crmqual.adapters.zoho.config import ZohoApiLimits, ZohoBulkSettings, ZohoConnection
from crmqual.errors import ApiError

#: Credits of a Bulk Write job besides its creation: upload, status polls, result download.
JOB_OVERHEAD = 4


class ZohoBulk:
    """The choice of the bulk paths and the waits for their jobs, for one module of one org."""

    def __init__(self, connection: ZohoConnection, *, sleep: Callable[[float], None]) -> None:
        self.connection = connection
        self.settings: ZohoBulkSettings = connection.bulk
        self.sleep = sleep
        #: (job id, state) of every status poll answered, in order (for logs and tests).
        self.polls: list[tuple[str, str]] = []

    # -- choosing ----------------------------------------------------------------------------
    def wants_read(self, count: int | None, limits: ZohoApiLimits) -> bool:
        if count is None or not self.settings.read:
            return False
        threshold = self.settings.read_threshold
        return count > limits.page_token_records or (threshold is not None and count >= threshold)

    def put_credits(self, records: int) -> int:
        batch, per = self.connection.limits.write_batch, self.settings.put_records_per_credit
        full, rest = divmod(records, batch)
        return full * math.ceil(batch / per) + (math.ceil(rest / per) if rest else 0)

    def bulk_credits(self, records: int) -> int:
        jobs = math.ceil(records / self.settings.write_rows)
        return jobs * (self.settings.write_credits + JOB_OVERHEAD)

    def wants_write(self, records: int) -> bool:
        threshold = self.settings.write_threshold
        if threshold is None or records < threshold:
            return False
        return self.bulk_credits(records) < self.put_credits(records)

    def write_batch_for(self, queued: int) -> int:
        return self.settings.write_rows if self.wants_write(queued) else 0

    # -- waiting for a job -------------------------------------------------------------------
    def poll_job(self, kind: str, job_id: str, state: Callable[[], tuple[str, Any]]) -> Any:
        """Ask for the job's state until it is done; its last answer. Raises when it fails or
        the deadline passes (the waits between polls, not the calls, count towards it)."""
        waited, interval = 0.0, self.settings.poll_interval
        while True:
            current, answer = state()
            self.polls.append((job_id, current))
            if current == "COMPLETED":
                return answer
            if current in ("FAILURE", "FAILED"):
                raise ApiError(f"Zoho's bulk {kind} job {job_id} ended in {current}")
            if waited + interval > self.settings.deadline:
                raise ApiError(
                    f"Zoho's bulk {kind} job {job_id} did not complete within "
                    f"{self.settings.deadline:g} s of waiting (last state {current}); "
                    "raise zoho.bulk.deadline or retry later"
                )
            self.sleep(interval)  # the job is still running: poll again later
            waited += interval
            interval = min(interval * 2, self.settings.poll_max_interval)
