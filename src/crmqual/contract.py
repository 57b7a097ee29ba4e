"""The adapter contract: everything the core needs from a CRM adapter, declared and typed.

An adapter declares what the CRM is (id and modified fields, the limits the engine uses,
its capabilities as data) and does a few things: describe the account object's fields,
read accounts as pages, write a batch of output values with a result per record, carry
out the steps of a provisioning plan it supports, create a follow-up item for an event
(safely repeatable), tell the CRM server's time, check a connection, and close. It holds
no scoring logic. Writes go through ``write()``, which refuses any field outside the
output fields the mapping declares: the allowlist is enforced here, at the boundary.

API calls are counted by the HTTP client (``crmqual.http.CallCounter``): an adapter hands
its client's counter to ``Adapter.__init__`` and ``api_calls`` reads it.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from crmqual.errors import (
    CrmqualError,
    ErrorKind,
    UnsupportedError,
    WriteNotAllowedError,
    exit_code_of_kind,
    most_severe,
)
from crmqual.http import CallCounter


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
    """The sizes the engine works in: records per write call, ids per read by id."""

    write_batch: int
    ids_per_read: int = 100


class StepKind(StrEnum):
    """One kind of provisioning step; each CRM supports some and fulfils them its own way."""

    CREATE_FIELD = "create_field"
    ADD_PICKLIST_VALUES = "add_picklist_values"
    #: Make the field readable and writable (e.g. Salesforce's field-level security).
    GRANT_ACCESS = "grant_access"
    #: Put the field where salespeople see it (a page layout).
    PLACE_ON_LAYOUT = "place_on_layout"
    #: Something the CRM's API cannot do: the plan lists it for the admin to do by hand.
    MANUAL = "manual"


#: What an adapter that creates its own fields supports unless it says otherwise.
API_PROVISIONING = frozenset({StepKind.CREATE_FIELD, StepKind.ADD_PICKLIST_VALUES})


@dataclass(frozen=True)
class Capabilities:
    """What the CRM behind an adapter can do, as data the core and the CLI read."""

    bulk_read: bool = False
    bulk_write: bool = False
    followups: bool = False
    #: The provisioning steps the adapter carries out; missing fields of a CRM whose API
    #: cannot create them become MANUAL steps.
    provisioning: frozenset[StepKind] = API_PROVISIONING


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

    ``written_since`` is a size hint for a ``since`` read: how many records the caller itself
    wrote at or after ``since`` (each write moved a record's modified time, so the read
    returns them again, deleted ones aside). An adapter may use it to choose its read path
    before the first page, or ignore it; 0 when none or unknown.
    """

    fields: tuple[str, ...]
    since: datetime | None = None
    ids: tuple[str, ...] | None = None
    filters: tuple[FilterRule, ...] = ()
    written_since: int = 0


@dataclass(frozen=True)
class RecordResult:
    """The outcome of writing one record: ok, or the CRM's code and message."""

    record_id: str
    ok: bool
    code: str = ""
    message: str = ""
    field: str | None = None


@dataclass(frozen=True)
class ReadProblem:
    """A piece of the source that could not be read as a record (a broken file row)."""

    record_id: str  # "" when the id itself cannot be told
    where: str  # e.g. "row 9 (line 9)"
    reason: str

    @property
    def where_and_why(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class FollowUp:
    """A task for the account's owner about a warning event."""

    event_id: str
    account_id: str
    subject: str
    description: str
    owner: str | None = None


# -- provisioning ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ProvisionStep:
    """One thing provisioning does to one output field (``values`` for picklist steps)."""

    kind: StepKind
    field: FieldSpec
    values: tuple[str, ...] = ()
    detail: str = ""
    #: where the step acts, for a step that acts somewhere (a page layout's name)
    place: str = ""
    #: for a MANUAL step: the CRM's own name of the field type to pick (``select_one``)
    crm_type: str = ""

    def describe(self) -> str:
        """The step as the admin reads it in ``crmqual provision --dry-run``."""
        spec = self.field
        if spec.api_name:
            name, labels = f"{spec.api_name} ", f"“{spec.label}”"
        else:  # the CRM will name it; crmqual finds it by either label
            name, labels = (
                "",
                f"“{spec.label}”" + (f" / “{spec.label_zh}”" if spec.label_zh else ""),
            )
        if self.kind == StepKind.ADD_PICKLIST_VALUES:
            return f"{spec.api_name or labels}: add {', '.join(self.values)}"
        if self.kind in (StepKind.PLACE_ON_LAYOUT, StepKind.GRANT_ACCESS):
            return f"{spec.api_name or labels}: {self.detail}" if self.detail else spec.api_name
        shown = f" [{', '.join(spec.picklist)}]" if spec.picklist else ""
        what = f"{name}({spec.type.value}) {labels}{shown}"
        return f"{what}: {self.detail}" if self.detail else what


@dataclass(frozen=True)
class Note:
    """A remark of an adapter for the admin, in English and Chinese."""

    en: str
    zh: str = ""

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.en


@dataclass
class ProvisionPlan:
    """What provisioning would do (or did): steps in order, or conflicts that stop it."""

    steps: list[ProvisionStep] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: what the admin should know besides the steps (a step the API refused, and what to do)
    notes: list[Note] = field(default_factory=list)

    def of(self, kind: StepKind) -> list[ProvisionStep]:
        return [s for s in self.steps if s.kind == kind]

    @property
    def create(self) -> list[FieldSpec]:
        return [s.field for s in self.of(StepKind.CREATE_FIELD)]

    @property
    def append_values(self) -> dict[str, list[str]]:
        return {s.field.api_name: list(s.values) for s in self.of(StepKind.ADD_PICKLIST_VALUES)}

    @property
    def manual(self) -> list[ProvisionStep]:
        return self.of(StepKind.MANUAL)

    @property
    def changes(self) -> bool:
        """Something for the adapter to do through the API (manual steps are the admin's)."""
        return any(s.kind != StepKind.MANUAL for s in self.steps)


# -- crmqual check --------------------------------------------------------------------------
class CheckStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    UNVERIFIED = "unverified"
    #: An output field provisioning will create (or list for the admin): not a failure.
    TO_CREATE = "to create"


@dataclass(frozen=True)
class CheckItem:
    """One finding of ``crmqual check``; ``kind`` says who acts when it failed."""

    item: str
    status: CheckStatus
    detail: str = ""
    #: CONFIG for the mapping's fields and local settings (exit 2), CRM_UNAVAILABLE for
    #: credentials, scopes and reachability (exit 3).
    kind: ErrorKind = ErrorKind.CRM_UNAVAILABLE
    #: the detail in Chinese, where the adapter writes one (a CRM's own message stays as is)
    detail_zh: str = ""


@dataclass
class CheckReport:
    items: list[CheckItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No item failed (unverified items do not fail a check)."""
        return all(i.status != CheckStatus.FAILED for i in self.items)

    @property
    def exit_code(self) -> int:
        """The most severe failed item's exit code; 0 when nothing failed."""
        return exit_code_of_kind(
            most_severe(i.kind for i in self.items if i.status == CheckStatus.FAILED)
        )

    def add(
        self,
        item: str,
        status: CheckStatus,
        detail: str = "",
        kind: ErrorKind = ErrorKind.CRM_UNAVAILABLE,
        *,
        zh: str = "",
    ) -> None:
        self.items.append(CheckItem(item, status, detail, kind, zh))

    def as_rows(self) -> list[tuple[str, str, str]]:
        return [(i.item, i.status.value, i.detail) for i in self.items]


#: Mapping items for a check, given the described fields (built by the core from the
#: mapping, so that problems are named by the mapping's keys).
MappingItems = Callable[[Mapping[str, FieldSpec]], list[CheckItem]]


def field_items(
    fields: Sequence[str], outputs: Sequence[str], described: Mapping[str, Any], where: str
) -> list[CheckItem]:
    """An item per field a read needs and per output field, found or not."""
    items = []
    for name in dict.fromkeys(fields):
        if name in outputs:
            continue
        found = name in described
        detail = "" if found else f"no field {name!r} in {where}: fix the mapping"
        items.append(CheckItem(f"field {name}", _status(found), detail, ErrorKind.CONFIG))
    for name in dict.fromkeys(outputs):
        if name in described:
            items.append(CheckItem(f"output field {name}", CheckStatus.OK, "", ErrorKind.CONFIG))
        else:
            status, detail = CheckStatus.TO_CREATE, "by `crmqual provision`"
            items.append(CheckItem(f"output field {name}", status, detail, ErrorKind.CONFIG))
    return items


def _status(ok: bool) -> CheckStatus:
    return CheckStatus.OK if ok else CheckStatus.FAILED


# -- the adapter ----------------------------------------------------------------------------
class Adapter(ABC):
    """Base of every CRM adapter; see the module docstring for the contract."""

    #: The CRM's name as used in configs ("zoho", "file", ...).
    name: str = ""
    #: The account object's name in messages ("Accounts", "Account", ...).
    object_name: str = "accounts"
    id_field: str = "id"
    modified_field: str = "modified_time"
    capabilities: Capabilities = Capabilities()

    def __init__(self, calls: CallCounter | None = None) -> None:
        self._allowed: frozenset[str] | None = None
        #: Requests sent to the CRM; an HTTP adapter passes its client's counter.
        self.calls = calls if calls is not None else CallCounter()

    @property
    def api_calls(self) -> int:
        return self.calls.total

    def quota_left(self) -> int | None:
        """What the CRM last said is left of its API quota (calls or credits in its window);
        None when it does not say. Shown per org by ``crmqual fleet status``."""
        return None

    def close(self) -> None:  # noqa: B027  (most adapters hold nothing to release)
        """Release what the adapter holds (sessions, temporary files); always called."""

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

    def read_problems(self) -> list[ReadProblem]:
        """What earlier reads could not turn into records, each once (then forgotten).

        A CRM's API hands whole records; a file adapter reports its broken rows here, and
        the sync counts them as failed: nothing a source holds is dropped silently.
        """
        return []

    def expected(self, query: ReadQuery) -> int | None:
        """How many records the current ``read(query)`` yields in all, when the adapter knows
        it without another call (a count it took as the read began), for progress displays
        and their time left; None (the default) when it does not."""
        return None

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
        """Compare the wanted output fields with the described ones; change nothing.

        A missing field or picklist value becomes a step the adapter carries out, or a
        MANUAL step when its capabilities say the API cannot; adapters add their own steps
        (access, layouts) and conflicts by overriding this.
        """
        existing = self.describe()
        can = self.capabilities.provisioning
        plan = ProvisionPlan()
        for spec in wanted:
            have = existing.get(spec.api_name)
            if have is None:
                if StepKind.CREATE_FIELD in can:
                    plan.steps.append(ProvisionStep(StepKind.CREATE_FIELD, spec))
                else:
                    how = "create it" if spec.api_name else "create it with this label"
                    plan.steps.append(ProvisionStep(StepKind.MANUAL, spec, detail=how))
            elif have.type != spec.type:
                plan.conflicts.append(
                    f"{spec.api_name}: exists as {have.type.value}, crmqual needs {spec.type.value}"
                )
            else:
                missing = tuple(v for v in spec.picklist if v not in have.picklist)
                if not missing:
                    plan.unchanged.append(spec.api_name)
                elif StepKind.ADD_PICKLIST_VALUES in can:
                    plan.steps.append(ProvisionStep(StepKind.ADD_PICKLIST_VALUES, spec, missing))
                else:
                    detail = f"add the values {', '.join(missing)}"
                    plan.steps.append(ProvisionStep(StepKind.MANUAL, spec, missing, detail))
        return plan

    def provision(self, wanted: Sequence[FieldSpec]) -> ProvisionPlan:
        """Carry out the plan's steps in order; never alter or delete otherwise.

        Nothing is changed when any wanted field conflicts with an existing one. MANUAL steps
        are left for the admin (``crmqual provision`` lists them).
        """
        plan = self.plan_provision(wanted)
        if plan.conflicts:
            return plan
        if plan.create:
            self._create_fields(plan.create)
        for step in plan.of(StepKind.ADD_PICKLIST_VALUES):
            self._append_picklist_values(step.field.api_name, step.values)
        if grant := plan.of(StepKind.GRANT_ACCESS):
            self._grant_access([s.field for s in grant])
        if place := plan.of(StepKind.PLACE_ON_LAYOUT):
            self._place_on_layout([s.field for s in place])
        return plan

    # What the base class does for a step or follow-up the adapter's capabilities do not
    # declare: nothing is sent; the admin is told, since the plan should never have asked.
    def _create_fields(self, specs: Sequence[FieldSpec]) -> None:
        raise self._unsupported(StepKind.CREATE_FIELD)

    def _append_picklist_values(self, api_name: str, values: Sequence[str]) -> None:
        raise self._unsupported(StepKind.ADD_PICKLIST_VALUES)

    def _grant_access(self, specs: Sequence[FieldSpec]) -> None:
        raise self._unsupported(StepKind.GRANT_ACCESS)

    def _place_on_layout(self, specs: Sequence[FieldSpec]) -> None:
        raise self._unsupported(StepKind.PLACE_ON_LAYOUT)

    def unplace(self, dry_run: bool = False) -> list[Note]:
        """Take crmqual's section off the page layouts (the fields stay); what was (or, with
        ``dry_run``, would be) removed. For ``crmqual provision --remove``."""
        raise self._unsupported(StepKind.PLACE_ON_LAYOUT)

    def unprovision(
        self, wanted: Sequence[FieldSpec], dry_run: bool = False, delete_fields: bool = False
    ) -> list[Note]:
        """What ``crmqual provision --remove`` takes out: the layout section (``unplace``) and
        whatever else the adapter provisioned besides the fields (e.g. access grants); with
        ``delete_fields``, the ``wanted`` output fields too, and every value they hold. What
        was (or, with ``dry_run``, would be) removed."""
        if delete_fields:
            raise UnsupportedError(
                f"{self.name}: crmqual cannot delete fields through this CRM's API; "
                "delete them by hand in the CRM's settings"
            )
        return self.unplace(dry_run)

    def _unsupported(self, step: StepKind) -> UnsupportedError:
        what = step.value.replace("_", " ")
        return UnsupportedError(
            f"{self.name}: crmqual cannot {what} through this CRM's API; "
            "do it by hand in the CRM's settings, then run `crmqual check`"
        )

    # -- links --------------------------------------------------------------------------------
    def record_url(self, account_id: str) -> str | None:
        """The address of the account in the CRM's web interface, for a person to open (the
        portfolio report links to it), or ``None`` when this CRM cannot say. Never calls the
        CRM: built from the configuration alone."""
        return None

    # -- follow-ups ---------------------------------------------------------------------------
    def create_followup(self, item: FollowUp) -> str:
        """Create the item unless one exists for its event id; return its reference."""
        raise UnsupportedError(
            f"{self.name}: this CRM's adapter cannot create follow-up items; "
            "set `sync.followups: false` in crmqual.yaml"
        )

    # -- crmqual check --------------------------------------------------------------------------
    def check(
        self,
        fields: Sequence[str] = (),
        outputs: Sequence[str] = (),
        mapping_items: MappingItems | None = None,
    ) -> CheckReport:
        """What can be proven by reading, writing nothing: the fields describe, the first page
        reads, and the mapping's fields are there (``fields``: every native field a read
        needs; ``outputs``: crmqual's output fields). An adapter with credentials and scopes
        to prove overrides this; ``mapping_items`` names problems by the mapping's keys."""
        report = CheckReport()
        try:
            described = self.describe()
            first = next(iter(self.read(ReadQuery(fields=tuple(fields)))), [])
        except CrmqualError as exc:
            report.add("connection", CheckStatus.FAILED, str(exc), zh=exc.zh)
            report.add(
                "mapping fields",
                CheckStatus.UNVERIFIED,
                "the fields could not be described",
                zh="无法读取字段定义",
            )
            return report
        report.add(
            "connection",
            CheckStatus.OK,
            f"{len(described)} fields described, first page of {len(first)} record(s) read",
            zh=f"已读取 {len(described)} 个字段的定义和第一页的 {len(first)} 条记录",
        )
        if mapping_items is None:
            report.items += field_items(fields, outputs, described, self.object_name)
        else:
            report.items += mapping_items(described)
        return report


# -- registration -------------------------------------------------------------------------
@dataclass(frozen=True)
class BuildContext:
    """What an adapter is built with besides its connection: where relative paths start and
    the mapping's id and modified fields."""

    folder: Path
    id_field: str = "id"
    modified_field: str = "modified_time"

    def path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.folder / p


@dataclass(frozen=True)
class AdapterPlugin:
    """One CRM as crmqual finds it: the object an entry point of the ``crmqual.adapters``
    group names (``zoho = "crmqual.adapters.zoho:PLUGIN"``).

    ``build`` gets the validated ``connection_model`` instance; ``init_template`` is the
    commented ``crmqual.yaml`` that ``crmqual init --crm NAME`` writes; ``mapping`` the
    mapping YAML used when the config names none (None: the config must name one).
    """

    name: str
    connection_model: type[BaseModel]
    build: Callable[[Any, BuildContext], Adapter]
    init_template: Traversable
    mapping: Traversable | None = None
    summary: str = ""
    #: Modules ``build`` needs that come with an extra of crmqual (``extra``), not with it.
    requires: tuple[str, ...] = ()
    extra: str = ""

    def missing(self) -> list[str]:
        """The modules of ``requires`` that are not installed."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]
