"""Monitoring events, stored once by their stable id, and their follow-up items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from crmqual.state.database import Database, chunks, unique
from crmqual.state.schema import events_table


@dataclass(frozen=True, slots=True)
class EventIn:
    """A monitoring event; ``event_id`` is made by the caller and stable across reruns."""

    event_id: str
    account_id: str
    kind: str
    severity: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventRecord:
    event_id: str
    run_id: int
    target: str
    account_id: str
    kind: str
    severity: str
    payload: dict[str, Any]
    created_at: datetime
    followup_ref: str | None
    followed_up_at: datetime | None


class Events(Database):
    """The events table."""

    def record_events(self, run_id: int, target: str, events_in: Sequence[EventIn]) -> list[str]:
        """Insert the events whose ``event_id`` is not stored yet; returns those new ids.

        Idempotent: recording the same events again (a rerun, a resumed run) adds nothing and
        returns ``[]``. The order of the returned ids follows ``events_in``.
        """
        first: dict[str, EventIn] = {}
        for event in events_in:
            first.setdefault(event.event_id, event)  # the first of duplicates wins
        if not first:
            return []
        now = self._clock()
        params = [
            {
                "event_id": event.event_id,
                "run_id": run_id,
                "target": target,
                "account_id": event.account_id,
                "kind": event.kind,
                "severity": event.severity,
                "payload": event.payload,
                "created_at": now,
            }
            for event in first.values()
        ]
        stmt = (
            self._insert(events_table)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(events_table.c.event_id)
        )
        inserted: set[str] = set()
        with self._write() as conn:
            for chunk in chunks(params):
                inserted.update(conn.execute(stmt, list(chunk)).scalars())
        return [
            event_id for event_id in unique([e.event_id for e in events_in]) if event_id in inserted
        ]

    def events(self, target: str | None = None, run_id: int | None = None) -> list[EventRecord]:
        """Events (of a target, of a run, or all), in the order they were first recorded."""
        conditions: list[sa.ColumnElement[bool]] = []
        if target is not None:
            conditions.append(events_table.c.target == target)
        if run_id is not None:
            conditions.append(events_table.c.run_id == run_id)
        return self._events(*conditions)

    def unfollowed_events(self, target: str) -> list[EventRecord]:
        """Events of ``target`` with no follow-up item yet."""
        return self._events(events_table.c.target == target, events_table.c.followup_ref.is_(None))

    def mark_followed_up(self, event_id: str, ref: str) -> None:
        """Store the CRM's reference of the follow-up item made for ``event_id``.

        Raises ``KeyError`` for an unknown event.
        """
        with self._write() as conn:
            result = conn.execute(
                sa.update(events_table)
                .where(events_table.c.event_id == event_id)
                .values(followup_ref=ref, followed_up_at=self._clock())
            )
            if result.rowcount == 0:
                raise KeyError(f"no event {event_id!r} in the state store")

    def _events(self, *conditions: sa.ColumnElement[bool]) -> list[EventRecord]:
        query = sa.select(events_table).where(*conditions).order_by(events_table.c.id)
        with self._read() as conn:
            return [
                EventRecord(
                    event_id=row.event_id,
                    run_id=row.run_id,
                    target=row.target,
                    account_id=row.account_id,
                    kind=row.kind,
                    severity=row.severity,
                    payload=row.payload,
                    created_at=row.created_at,
                    followup_ref=row.followup_ref,
                    followed_up_at=row.followed_up_at,
                )
                for row in conn.execute(query)
            ]
