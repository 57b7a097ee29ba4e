"""Cursors: where the next incremental run of a target starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crmqual.state.database import Database, require_aware
from crmqual.state.schema import cursors


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next incremental run of a target starts, and what it was computed with."""

    watermark: datetime | None
    policy_version: str
    mapping_hash: str
    updated_at: datetime
    run_id: int


class Cursors(Database):
    """The cursors table."""

    def get_cursor(self, target: str) -> Cursor | None:
        with self._read() as conn:
            row = conn.execute(sa.select(cursors).where(cursors.c.target == target)).one_or_none()
        if row is None:
            return None
        return Cursor(
            watermark=row.watermark,
            policy_version=row.policy_version,
            mapping_hash=row.mapping_hash,
            updated_at=row.updated_at,
            run_id=row.run_id,
        )

    def set_cursor(
        self,
        target: str,
        *,
        watermark: datetime | None,
        policy_version: str,
        mapping_hash: str,
        run_id: int,
    ) -> None:
        """Replace the cursor of ``target`` (call only after what it covers is recorded)."""
        require_aware(watermark, "watermark")
        values = {
            "target": target,
            "watermark": watermark,
            "policy_version": policy_version,
            "mapping_hash": mapping_hash,
            "updated_at": self._clock(),
            "run_id": run_id,
        }
        stmt = self._insert(cursors).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["target"],
            set_={key: stmt.excluded[key] for key in values if key != "target"},
        )
        with self._write() as conn:
            conn.execute(stmt)
