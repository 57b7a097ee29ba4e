"""Values read through the compiled mapping during a sync (issue 22, item 4): a value that
cannot be read is still reported by record id and native field, as before."""

from __future__ import annotations

from syncutil import MakeSync

from crmqual.adapters.memory import MemoryCrm
from crmqual.sync import SyncRequest


def test_a_malformed_knock_out_input_fails_its_record_by_id_and_field(
    make_sync: MakeSync, crm: MemoryCrm
) -> None:
    crm.records["A003"] |= {"sanctions_hit": "maybe", "founding_date": "2010-02-30"}
    crm.records["A004"] |= {"founding_date": "2010-02-30"}  # not a knock-out input
    run = make_sync().run(SyncRequest())
    assert (run.failed, run.written) == (1, 9)
    assert run.failures == [
        {
            "id": "A003",
            "field": "sanctions_hit (sanctions_hit)",
            "reason": "could not read 'maybe': not yes or no",
        },
        {
            "id": "A003",
            "field": "founding_date (founding_date)",
            "reason": "could not read '2010-02-30': no such date",
        },
    ]
    assert run.unreadable == {"founding_date": 1}  # A004's: assessed without it
