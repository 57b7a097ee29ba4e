"""The adapter contract: what every CRM adapter provides to the sync engine.

An adapter declares what the CRM is (object, id field, modified field, limits) and does
a few things: describe the account object's fields, create missing output fields, read
accounts as pages, write a batch of output values with a result per record, create a
follow-up item for an event (safely repeatable), and tell the CRM server's time. It holds
no scoring logic. Writes go through ``write()``, which refuses any field outside the
output fields the mapping declares: the allowlist is enforced here, at the boundary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from crmqual.errors import CrmqualError, WriteNotAllowedError


class FieldType(StrEnum):
    """The field types crmqual reads and provisions, named as the common model sees them."""

    TEXT = "text"
    TEXTAREA = "textarea"
    INTEGER = "integer"
    NUMBER = "number"
    CURRENCY = "currency"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    PICKLIST = "picklist"
    MULTISELECT = "multiselect"


@dataclass(frozen=True)
class FieldSpec:
    """A field of the account object, as described by the CRM or wanted by crmqual."""

    api_name: str
    type: FieldType
    label: str
    picklist: tuple[str, ...] = ()
    label_zh: str | None = None
    length: int | None = None


@dataclass(frozen=True)
class Limits:
    page_size: int
    write_batch: int
    bulk_threshold: int | None = None
    fields_per_read: int | None = None
    ids_per_read: int = 100


@dataclass(frozen=True)
class FilterRule:
    """An admin's declared filter on the accounts read, e.g. only Account_Type = Customer."""

    field: str
    op: str  # "equals", "not_equals" or "in"
    values: tuple[str, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        value = record.get(self.field)
        text = "" if value is None else str(value)
        if self.op == "not_equals":
            return text not in self.values
        return text in self.values


@dataclass(frozen=True)
class ReadQuery:
    """Which records to read and which native fields of them.

    Exactly one of: everything (``since`` and ``ids`` None), records modified at or after
    ``since`` (the boundary is re-read on purpose; the sync drops duplicates), or ``ids``.
    Pages of a full or ``since`` read come in ascending modified time.
    """

    fields: tuple[str, ...]
    since: datetime | None = None
    ids: tuple[str, ...] | None = None
    filters: tuple[FilterRule, ...] = ()


@dataclass(frozen=True)
class RecordResult:
    """The outcome of writing one record: ok, or the CRM's code and message."""

    record_id: str
    ok: bool
    code: str = ""
    message: str = ""
    field: str | None = None


@dataclass(frozen=True)
class FollowUp:
    """A task for the account's owner about a warning event."""

    event_id: str
    account_id: str
    subject: str
    description: str
    owner: str | None = None


@dataclass
class ProvisionPlan:
    """What provisioning would do (or did): create, append values, or refuse."""

    create: list[FieldSpec] = field(default_factory=list)
    append_values: dict[str, list[str]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.create or self.append_values)


class Adapter(ABC):
    """Base of every CRM adapter; see the module docstring for the contract."""

    #: The CRM's name as used in configs ("zoho", "file", ...).
    name: str = ""
    id_field: str = "id"
    modified_field: str = "modified_time"

    def __init__(self) -> None:
        self._allowed: frozenset[str] | None = None
        self.api_calls = 0

    # -- what the CRM is ------------------------------------------------------------------
    @abstractmethod
    def limits(self) -> Limits: ...

    @abstractmethod
    def server_time(self) -> datetime:
        """The CRM server's current time (from a ``Date`` header or an API giving it)."""

    @abstractmethod
    def describe(self) -> dict[str, FieldSpec]:
        """The account object's fields by api name."""

    # -- reading and writing ----------------------------------------------------------------
    @abstractmethod
    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        """Pages of native records (each with the id and modified fields)."""

    def write_batch_for(self, queued: int) -> int:
        """How many records to hand ``write`` at once, given how many a run has queued.

        The default is the CRM's batch size; an adapter with a bulk path returns its job
        size when ``queued`` makes a bulk job cheaper than many small writes.
        """
        return self.limits().write_batch

    def allow_writes_to(self, fields: Sequence[str]) -> None:
        """Declare the only fields ``write`` may ever carry (the mapping's outputs)."""
        self._allowed = frozenset(fields)

    def write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        """Write output values; one result per record, in order. Refuses undeclared fields."""
        if self._allowed is None:
            raise WriteNotAllowedError("no output fields declared: call allow_writes_to first")
        for record_id, values in updates:
            extra = set(values) - self._allowed
            if extra:
                raise WriteNotAllowedError(
                    f"record {record_id}: refusing to write undeclared fields {sorted(extra)}"
                )
        if not updates:
            return []
        results = self._write(updates)
        if [r.record_id for r in results] != [record_id for record_id, _ in updates]:
            raise CrmqualError(f"{self.name}: the write results do not match the records sent")
        return results

    @abstractmethod
    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]: ...

    # -- provisioning -------------------------------------------------------------------------
    def plan_provision(self, wanted: Sequence[FieldSpec]) -> ProvisionPlan:
        """Compare the wanted output fields with the described ones; change nothing."""
        existing = self.describe()
        plan = ProvisionPlan()
        for spec in wanted:
            have = existing.get(spec.api_name)
            if have is None:
                plan.create.append(spec)
            elif have.type != spec.type:
                plan.conflicts.append(
                    f"{spec.api_name}: exists as {have.type.value}, crmqual needs {spec.type.value}"
                )
            else:
                missing = [v for v in spec.picklist if v not in have.picklist]
                if missing:
                    plan.append_values[spec.api_name] = missing
                else:
                    plan.unchanged.append(spec.api_name)
        return plan

    def provision(self, wanted: Sequence[FieldSpec]) -> ProvisionPlan:
        """Create missing fields and append missing picklist values; never alter otherwise.

        Nothing is changed when any wanted field conflicts with an existing one.
        """
        plan = self.plan_provision(wanted)
        if plan.conflicts:
            return plan
        if plan.create:
            self._create_fields(plan.create)
        for api_name, values in plan.append_values.items():
            self._append_picklist_values(api_name, values)
        return plan

    @abstractmethod
    def _create_fields(self, specs: Sequence[FieldSpec]) -> None: ...

    @abstractmethod
    def _append_picklist_values(self, api_name: str, values: Sequence[str]) -> None: ...

    # -- follow-ups ---------------------------------------------------------------------------
    @abstractmethod
    def create_followup(self, item: FollowUp) -> str:
        """Create the item unless one exists for its event id; return its reference."""
