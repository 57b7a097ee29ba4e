"""Records a sync left alone, per run, with why: the override field was set, or a person
changed crmqual's outputs since crmqual wrote them. Shown by ``crmqual history``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crmqual.state.database import Database, chunks
from crmqual.state.schema import left_alone_table


@dataclass(frozen=True, slots=True)
class LeftAloneRecord:
    run_id: int
    target: str
    record_id: str
    reason: str
    created_at: datetime


class LeftAlone(Database):
    """The left_alone table."""

    def record_left_alone(
        self, run_id: int, target: str, records: Sequence[tuple[str, str]]
    ) -> None:
        """Record ``(record id, why)`` pairs a run left alone."""
        if not records:
            return
        now = self._clock()
        params = [
            {"run_id": run_id, "target": target, "record_id": rid, "reason": why, "created_at": now}
            for rid, why in records
        ]
        with self._write() as conn:
            for chunk in chunks(params):
                conn.execute(sa.insert(left_alone_table), list(chunk))

    def left_alone(self, target: str | None, record_id: str) -> list[LeftAloneRecord]:
        """Every run that left ``record_id`` alone (of ``target``, or of any), oldest first."""
        t = left_alone_table
        query = sa.select(t).where(t.c.record_id == record_id).order_by(t.c.id)
        if target is not None:
            query = query.where(t.c.target == target)
        with self._read() as conn:
            return [
                LeftAloneRecord(r.run_id, r.target, r.record_id, r.reason, r.created_at)
                for r in conn.execute(query)
            ]
