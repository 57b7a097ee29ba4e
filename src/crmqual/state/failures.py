"""Per-record failures: open until the record succeeds, retried by every later run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crmqual.state.database import Database, chunks, unique
from crmqual.state.schema import failures_table


@dataclass(frozen=True, slots=True)
class FailureIn:
    """One record a run could not process or write."""

    record_id: str
    field: str | None
    reason: str
    code: str | None = None  # the CRM's own error code, when it gave one


@dataclass(frozen=True, slots=True)
class FailureRecord:
    id: int
    run_id: int
    target: str
    record_id: str
    field: str | None
    reason: str
    code: str | None
    created_at: datetime
    resolved_at: datetime | None


class Failures(Database):
    """The failures table."""

    def record_failures(self, run_id: int, target: str, failures: Sequence[FailureIn]) -> None:
        """Record per-record failures of a run; they stay open until resolved."""
        if not failures:
            return
        now = self._clock()
        params = [
            {
                "run_id": run_id,
                "target": target,
                "record_id": failure.record_id,
                "field": failure.field,
                "reason": failure.reason,
                "code": failure.code,
                "created_at": now,
                "resolved_at": None,
            }
            for failure in failures
        ]
        with self._write() as conn:
            for chunk in chunks(params):
                conn.execute(sa.insert(failures_table), list(chunk))

    def open_failures(self, target: str) -> list[str]:
        """Ids of records with an unresolved failure (to retry), sorted."""
        query = (
            sa.select(failures_table.c.record_id)
            .where(failures_table.c.target == target, failures_table.c.resolved_at.is_(None))
            .distinct()
            .order_by(failures_table.c.record_id)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def resolve_failures(self, target: str, record_ids: Sequence[str]) -> None:
        """Close every open failure of these records (they have now succeeded)."""
        now = self._clock()
        with self._write() as conn:
            for chunk in chunks(unique(record_ids)):
                conn.execute(
                    sa.update(failures_table)
                    .where(
                        failures_table.c.target == target,
                        failures_table.c.resolved_at.is_(None),
                        failures_table.c.record_id.in_(chunk),
                    )
                    .values(resolved_at=now)
                )

    def failures_of_run(self, run_id: int) -> list[FailureRecord]:
        query = (
            sa.select(failures_table)
            .where(failures_table.c.run_id == run_id)
            .order_by(failures_table.c.id)
        )
        with self._read() as conn:
            return [
                FailureRecord(
                    id=row.id,
                    run_id=row.run_id,
                    target=row.target,
                    record_id=row.record_id,
                    field=row.field,
                    reason=row.reason,
                    code=row.code,
                    created_at=row.created_at,
                    resolved_at=row.resolved_at,
                )
                for row in conn.execute(query)
            ]
