"""A dry run's plan: every record that would change, with its name, the kinds of change and
each field's current and new value in the CRM's own terms.

Records are spooled to a temporary file as the run goes, so a plan of any size costs no
memory; it is read back grouped for people, or whole as JSON lines or CSV for a reviewer.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

#: The kind of a record that changes without a monitored change (its first assessment, or
#: a change below the thresholds credit teams review).
FIRST_ASSESSMENT = "first_assessment"
OTHER_CHANGE = "other_change"


@dataclass(frozen=True)
class PlannedRecord:
    record_id: str
    name: str
    kinds: tuple[str, ...]
    #: (native field, current value, new value)
    fields: tuple[tuple[str, Any, Any], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.record_id,
            "name": self.name,
            "kinds": list(self.kinds),
            "fields": [{"field": f, "from": old, "to": new} for f, old, new in self.fields],
        }


class DryRunPlan:
    """Records a dry run would change, in the order read; counts by kind of change."""

    def __init__(self) -> None:
        self._spool: IO[str] | None = None  # made on the first record: most runs have none
        self.records = 0
        self.by_kind: Counter[str] = Counter()

    def add(
        self,
        record_id: str,
        name: str,
        kinds: Sequence[str],
        fields: Sequence[tuple[str, Any, Any]],
    ) -> None:
        record = PlannedRecord(record_id, name, tuple(dict.fromkeys(kinds)), tuple(fields))
        if self._spool is None:
            # Kept open as long as the plan: closed by close(), removed by the OS at exit.
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._spool.write(json.dumps(record.as_json(), ensure_ascii=False, default=str) + "\n")
        self.records += 1
        self.by_kind.update(record.kinds)

    def __iter__(self) -> Iterator[PlannedRecord]:
        if self._spool is None:
            return
        self._spool.flush()
        self._spool.seek(0)
        for line in self._spool:
            data = json.loads(line)
            fields = tuple((f["field"], f["from"], f["to"]) for f in data["fields"])
            yield PlannedRecord(data["id"], data["name"], tuple(data["kinds"]), fields)
        self._spool.seek(0, 2)  # back to the end: the run may add more

    def of_kind(self, kind: str) -> Iterator[PlannedRecord]:
        return (r for r in self if kind in r.kinds)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
