"""The review schedule: when each account was last assessed, with which grade, and which are
due for review again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from crmqual.state.database import Database, chunks, require_aware
from crmqual.state.schema import schedule

#: The per-row columns of ``touch_accounts``'s upsert.
_COLUMNS = ("account_id", "grade", "assessed_at")


class Schedule(Database):
    """The schedule table."""

    def touch_accounts(self, target: str, rows: Sequence[tuple[str, str | None, datetime]]) -> None:
        """Upsert ``(account_id, grade, assessed_at)`` for every account assessed.

        When an account appears twice in ``rows``, its latest ``assessed_at`` wins.
        """
        latest: dict[str, tuple[str | None, datetime]] = {}
        for account_id, grade, assessed_at in rows:
            require_aware(assessed_at, "assessed_at")
            seen = latest.get(account_id)
            if seen is None or assessed_at >= seen[1]:
                latest[account_id] = (grade, assessed_at)
        if not latest:
            return
        shared = {"target": target}
        params = [(account_id, grade, at) for account_id, (grade, at) in latest.items()]
        insert = self._bulk_insert("schedule", self._upsert, shared, _COLUMNS)
        with self._write() as conn:
            for chunk in chunks(params):
                insert.execute(conn, shared, chunk)

    def _upsert(self) -> sa.Insert:
        stmt = self._insert(schedule)
        return stmt.on_conflict_do_update(
            index_elements=["target", "account_id"],
            set_={"grade": stmt.excluded.grade, "assessed_at": stmt.excluded.assessed_at},
        )

    def due_accounts(
        self,
        target: str,
        as_of: datetime,
        intervals: Mapping[str, timedelta],
        default_interval: timedelta,
    ) -> list[str]:
        """Accounts whose ``assessed_at + interval(grade) <= as_of``, least recent first.

        ``intervals`` maps a grade to its re-assessment interval; accounts with another grade
        or none use ``default_interval``.
        """
        require_aware(as_of, "as_of")
        col = schedule.c
        due: list[sa.ColumnElement[bool]] = [
            sa.and_(col.grade == grade, col.assessed_at <= as_of - interval)
            for grade, interval in intervals.items()
        ]
        other_grade = (
            sa.or_(col.grade.is_(None), col.grade.not_in(list(intervals)))
            if intervals
            else sa.true()
        )
        due.append(sa.and_(other_grade, col.assessed_at <= as_of - default_interval))
        query = (
            sa.select(col.account_id)
            .where(col.target == target, sa.or_(*due))
            .order_by(col.assessed_at, col.account_id)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())
