"""`Adapter.unprovision`, what `crmqual provision --remove` calls: by default the layout
section only (``unplace``), and deleting fields is refused for a CRM whose adapter cannot."""

from __future__ import annotations

import pytest

from crmqual.adapters.memory import MemoryAdapter, MemoryCrm
from crmqual.contract import FieldSpec, FieldType, Note
from crmqual.errors import UnsupportedError

GRADE = FieldSpec("grade", FieldType.PICKLIST, "Grade", ("A", "B"))


class Placing(MemoryAdapter):
    def unplace(self, dry_run: bool = False) -> list[Note]:
        return [Note(f"section (dry run {dry_run})")]


def test_the_default_takes_out_the_section_only() -> None:
    adapter = Placing(MemoryCrm())
    assert [n.en for n in adapter.unprovision([GRADE], dry_run=True)] == ["section (dry run True)"]


def test_deleting_fields_is_refused_where_the_adapter_cannot() -> None:
    with pytest.raises(UnsupportedError, match="cannot delete fields"):
        Placing(MemoryCrm()).unprovision([GRADE], delete_fields=True)
