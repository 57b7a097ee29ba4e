"""Whether a person changed crmqual's values since it last wrote them is told against the
values the last written row stands for, before the record is read (``_Runner._assess_record``):
an edited record is left alone, with the fields named, whatever its inputs and whatever
crmqual would write now."""

from __future__ import annotations

from syncutil import Clock, MakeSync

from crmqual.adapters.memory import MemoryCrm
from crmqual.sync import SyncRequest

EDITED = "changed by hand since crmqual wrote it: {}"


def settled(make_sync: MakeSync) -> None:
    """The first run, and the one reading back its writes."""
    make_sync().run(SyncRequest())
    make_sync().run(SyncRequest())


def other_grade(crm: MemoryCrm, record_id: str) -> str:
    return "C" if crm.records[record_id]["crmqual_grade"] != "C" else "A"


def test_an_edited_record_whose_inputs_fail_is_left_alone_not_failed(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock
) -> None:
    settled(make_sync)
    clock.advance(hours=1)
    crm.edit("A001", {"crmqual_grade": other_grade(crm, "A001"), "total_assets": -5})
    crm.edit("A002", {"total_assets": -5})  # the same bad input, not edited: it fails
    run = make_sync().run(SyncRequest())
    assert (run.read, run.overridden, run.failed) == (2, 1, 1)
    assert run.left_alone == [{"id": "A001", "reason": EDITED.format("crmqual_grade")}]
    assert [f["id"] for f in run.failures] == ["A002"]
    assert run.assessed == 0


def test_an_edit_to_what_crmqual_would_write_now_is_still_left_alone(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock
) -> None:
    settled(make_sync)
    clock.advance(hours=1)
    worse = {"overdue_max_days": 200, "overdue_count": 9, "net_income": -900_000}
    crm.edit("A003", worse)
    plan = make_sync().run(SyncRequest(dry_run=True))
    new = {c["field"]: c["to"] for c in plan.would_change if c["field"] != "crmqual_assessed_at"}
    assert "crmqual_grade" in new
    crm.edit("A003", new)  # a person wrote the new values before crmqual did
    run = make_sync().run(SyncRequest())
    assert (run.overridden, run.written) == (1, 0)
    assert run.left_alone == [{"id": "A003", "reason": EDITED.format(", ".join(new))}]
    assert run.assessed == 0


def test_an_edit_of_the_assessment_time_alone_is_left_alone(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock
) -> None:
    settled(make_sync)
    clock.advance(hours=1)
    crm.edit("A004", {"crmqual_assessed_at": "2020-01-01T00:00:00+00:00"})
    run = make_sync().run(SyncRequest())
    assert run.left_alone == [{"id": "A004", "reason": EDITED.format("crmqual_assessed_at")}]
    assert (run.read, run.assessed, run.written) == (1, 0, 0)
