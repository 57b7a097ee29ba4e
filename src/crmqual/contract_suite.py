"""The contract test suite every adapter runs, and the backend fixture it needs.

An adapter's tests provide a ``Backend``: a CRM behind the adapter that a test can load
records into, change as a person would, and whose write log it can read. ``CHECKS`` are
plain functions (pytest or not) that exercise the contract of ``crmqual.contract``
against a backend; a test module runs each of them for its own backend:

    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
    def test_contract(check, backend): check(backend)

Records handed to ``load`` use the common model's flat names for inputs; a backend maps
them to its own native names with ``native_name``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from crmqual.contract import (
    Adapter,
    FieldSpec,
    FieldType,
    FollowUp,
    ReadQuery,
    StepKind,
)
from crmqual.errors import WriteNotAllowedError
from crmqual.times import parse_time


@dataclass(frozen=True)
class LoggedWrite:
    record_id: str
    fields: dict[str, Any]
    client: str  # "crmqual" for our writes, anything else for a person's


class Backend(Protocol):
    """A CRM behind an adapter, as the contract suite and the sync tests drive it."""

    id_field: str
    modified_field: str
    #: Output fields crmqual may write in this backend, with their types.
    output_fields: Sequence[FieldSpec]

    def adapter(self) -> Adapter: ...

    def load(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Add records (flat model names); return their ids in the CRM."""

    def hand_edit(self, record_id: str, changes: Mapping[str, Any]) -> None:
        """Change native fields as a person would (moves the modified time)."""

    def write_log(self) -> list[LoggedWrite]: ...

    def native_name(self, model_field: str) -> str: ...

    def sync_command(self, *args: str) -> list[str]:
        """argv of a ``crmqual`` subprocess configured against this backend."""


def _ids(adapter: Adapter, query: ReadQuery) -> list[str]:
    return [str(r[adapter.id_field]) for page in adapter.read(query) for r in page]


def _provisioned(backend: Backend) -> Adapter:
    adapter = backend.adapter()
    adapter.provision(list(backend.output_fields))
    adapter.allow_writes_to([f.api_name for f in backend.output_fields])
    return adapter


def check_describe_lists_id_modified_and_inputs(backend: Backend) -> None:
    backend.load([{"name": "Described Ltd", "revenue": 100}])
    fields = backend.adapter().describe()
    for name in (backend.id_field, backend.modified_field, backend.native_name("revenue")):
        assert name in fields, f"{name} not described"


def check_server_time_is_aware(backend: Backend) -> None:
    now = backend.adapter().server_time()
    assert now.tzinfo is not None and now.utcoffset() is not None


def check_provision_creates_then_leaves_alone(backend: Backend) -> None:
    backend.load([{"name": "Provisioned Ltd"}])
    adapter = backend.adapter()
    wanted = list(backend.output_fields)
    if StepKind.CREATE_FIELD not in adapter.capabilities.provisioning:
        _check_manual_provision(adapter, wanted)
        return
    first = adapter.provision(wanted)
    assert {s.api_name for s in first.create} == {s.api_name for s in wanted}
    second = adapter.provision(wanted)
    assert not second.changes and not second.conflicts
    described = adapter.describe()
    for spec in wanted:
        assert described[spec.api_name].type == spec.type
    picklist = next(s for s in wanted if s.type == FieldType.PICKLIST)
    grown = FieldSpec(picklist.api_name, picklist.type, picklist.label, (*picklist.picklist, "Z"))
    plan = adapter.provision([grown])
    assert plan.append_values == {picklist.api_name: ["Z"]}
    assert "Z" in adapter.describe()[picklist.api_name].picklist
    conflict = FieldSpec(picklist.api_name, FieldType.INTEGER, picklist.label)
    refused = adapter.provision([conflict])
    assert refused.conflicts and not refused.changes
    assert adapter.describe()[picklist.api_name].type == FieldType.PICKLIST


def _check_manual_provision(adapter: Adapter, wanted: list[FieldSpec]) -> None:
    """A CRM whose API cannot create fields (its backend's output fields were made as its
    admin makes them): those present are left alone, a missing field or missing options
    become MANUAL steps for the admin, a type conflict stops it, and nothing changes."""
    before = adapter.describe()
    present = adapter.provision(wanted)
    assert not present.steps and not present.conflicts
    assert set(present.unchanged) == {s.api_name for s in wanted}
    picklist = next(s for s in wanted if s.type == FieldType.PICKLIST)
    grown = FieldSpec(picklist.api_name, picklist.type, picklist.label, (*picklist.picklist, "Z"))
    new = FieldSpec("", FieldType.TEXT, "Never Created", label_zh="从未创建")
    plan = adapter.provision([new, grown])
    assert [s.kind for s in plan.steps] == [StepKind.MANUAL, StepKind.MANUAL]
    assert plan.steps[1].values == ("Z",) and not plan.changes
    conflict = FieldSpec(picklist.api_name, FieldType.INTEGER, picklist.label)
    refused = adapter.provision([conflict])
    assert refused.conflicts and not refused.changes
    assert adapter.describe() == before


def check_read_all_since_and_ids(backend: Backend) -> None:
    ids = backend.load([{"name": f"Reader {i}"} for i in range(7)])
    adapter = backend.adapter()
    fields = (backend.id_field, backend.modified_field, backend.native_name("name"))
    everything = _ids(adapter, ReadQuery(fields=fields))
    assert set(ids) <= set(everything)
    assert len(everything) == len(set(everything)), "a full read returned a record twice"
    some = tuple(ids[2:5])
    assert sorted(_ids(adapter, ReadQuery(fields=fields, ids=some))) == sorted(some)
    pages = list(adapter.read(ReadQuery(fields=fields)))
    stamps = [_time(r[backend.modified_field]) for page in pages for r in page]
    assert stamps == sorted(stamps), "pages must come in ascending modified time"
    boundary = max(stamps)
    backend.hand_edit(ids[0], {backend.native_name("name"): "Reader renamed"})
    since = _ids(adapter, ReadQuery(fields=fields, since=boundary + timedelta(microseconds=1)))
    assert ids[0] in since and ids[1] not in since


def check_write_gives_a_result_per_record(backend: Backend) -> None:
    ids = backend.load([{"name": "Writer A"}, {"name": "Writer B"}])
    adapter = _provisioned(backend)
    score = next(s for s in backend.output_fields if s.type == FieldType.INTEGER)
    results = adapter.write([(ids[0], {score.api_name: 55}), (ids[1], {score.api_name: 66})])
    assert [r.record_id for r in results] == ids and all(r.ok for r in results)
    ours = [w for w in backend.write_log() if w.client == "crmqual"]
    assert {w.record_id for w in ours} == set(ids)
    assert all(set(w.fields) <= {score.api_name} | {backend.modified_field} for w in ours)
    fields = (backend.id_field, score.api_name)
    values = {
        str(r[backend.id_field]): r[score.api_name]
        for page in adapter.read(ReadQuery(fields=fields, ids=tuple(ids)))
        for r in page
    }
    assert float(values[ids[0]]) == 55 and float(values[ids[1]]) == 66


def check_write_refuses_undeclared_fields(backend: Backend) -> None:
    ids = backend.load([{"name": "Guarded Ltd"}])
    adapter = _provisioned(backend)
    before = len(backend.write_log())
    try:
        adapter.write([(ids[0], {backend.native_name("name"): "Hijacked"})])
    except WriteNotAllowedError:
        pass
    else:
        raise AssertionError("a write of an input field was not refused")
    assert len(backend.write_log()) == before


def check_followup_is_created_once_per_event(backend: Backend) -> None:
    ids = backend.load([{"name": "Followed Ltd"}])
    adapter = backend.adapter()
    item = FollowUp("evt-1", ids[0], "Credit warning", "Grade B -> D")
    first = adapter.create_followup(item)
    assert adapter.create_followup(item) == first


def _time(value: Any) -> datetime:
    moment = parse_time(value)
    assert moment is not None, f"unreadable modified time {value!r}"
    return moment


CHECKS: tuple[Callable[[Backend], None], ...] = (
    check_describe_lists_id_modified_and_inputs,
    check_server_time_is_aware,
    check_provision_creates_then_leaves_alone,
    check_read_all_since_and_ids,
    check_write_gives_a_result_per_record,
    check_write_refuses_undeclared_fields,
    check_followup_is_created_once_per_event,
)
