"""Orgs of a fleet stopped after exit 2 (configuration) or 6 (state store): kept here so every
worker and beat see it, until an admin fixes the cause and runs `crmqual fleet resume`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crmqual.state.database import Database
from crmqual.state.schema import fleet_stops


@dataclass(frozen=True, slots=True)
class FleetStop:
    target: str
    org: str
    exit_code: int
    reason: str
    stopped_at: datetime


class FleetStops(Database):
    """The fleet_stops table."""

    def stop_org(self, target: str, org: str, exit_code: int, reason: str) -> None:
        """Stop ``target``'s schedule (a second stop keeps the first time, takes the new
        reason)."""
        row = {"org": org, "exit_code": exit_code, "reason": reason}
        stmt = self._insert(fleet_stops).values(target=target, stopped_at=self._clock(), **row)
        stmt = stmt.on_conflict_do_update(index_elements=["target"], set_=row)
        with self._write() as conn:
            conn.execute(stmt)

    def resume_org(self, target: str) -> FleetStop | None:
        """Clear ``target``'s stop; the stop it had, if any."""
        with self._write() as conn:
            row = conn.execute(
                sa.select(fleet_stops).where(fleet_stops.c.target == target)
            ).one_or_none()
            conn.execute(sa.delete(fleet_stops).where(fleet_stops.c.target == target))
        return None if row is None else _stop(row)

    def fleet_stop(self, target: str) -> FleetStop | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(fleet_stops).where(fleet_stops.c.target == target)
            ).one_or_none()
        return None if row is None else _stop(row)


def _stop(row: sa.Row[object]) -> FleetStop:
    return FleetStop(row.target, row.org, row.exit_code, row.reason, row.stopped_at)
