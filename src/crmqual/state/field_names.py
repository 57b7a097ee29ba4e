"""Output fields found by label: which API name each output resolved to, and when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crmqual.state.database import Database
from crmqual.state.schema import field_names


@dataclass(frozen=True, slots=True)
class FieldName:
    output: str
    api_name: str
    label: str
    resolved_at: datetime


class FieldNames(Database):
    """The field_names table."""

    def save_field_names(self, target: str, found: Mapping[str, tuple[str, str]]) -> None:
        """Record ``{output: (api name, label)}`` as found now (replacing older findings)."""
        if not found:
            return
        now = self._clock()
        rows = [
            {"target": target, "output": o, "api_name": a, "label": lbl, "resolved_at": now}
            for o, (a, lbl) in found.items()
        ]
        stmt = self._insert(field_names).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["target", "output"],
            set_={k: stmt.excluded[k] for k in ("api_name", "label", "resolved_at")},
        )
        with self._write() as conn:
            conn.execute(stmt)

    def field_names(self, target: str) -> dict[str, FieldName]:
        """What each output of ``target`` was last found as, by output."""
        query = sa.select(field_names).where(field_names.c.target == target)
        with self._read() as conn:
            return {
                r.output: FieldName(r.output, r.api_name, r.label, r.resolved_at)
                for r in conn.execute(query)
            }
