"""The Salesforce adapter's admin hooks, as the base class ``SalesforceAdapter`` extends:
provisioning the output fields (``metadata``), their access (``access``) and their place on
the page layouts (``layouts``); taking them out again; follow-up Tasks (``followups``);
``crmqual check`` (``check``); a record's address.

Provisioning is the contract's plan of steps. Which fields exist, and of which type, is read
through the Tooling API, which sees a field whatever its field-level security (``describe``
hides what the integration user may not read): a field of the right name and another type
is a conflict, reported before anything is written. Everything is looked up before it is
made, so a second ``crmqual provision`` changes nothing.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from simple_salesforce.api import Salesforce

from crmqual.adapters.layout_choice import chosen
from crmqual.adapters.salesforce import layouts
from crmqual.adapters.salesforce.access import AccessPlan, PermissionSets
from crmqual.adapters.salesforce.check import run_check
from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.adapters.salesforce.followups import SalesforceTasks
from crmqual.adapters.salesforce.metadata import (
    TOOLING_TYPES,
    FieldMetadata,
    custom,
    same_type,
)
from crmqual.adapters.salesforce.session import OrgHttp
from crmqual.contract import (
    API_PROVISIONING,
    Adapter,
    Capabilities,
    CheckReport,
    FieldSpec,
    FieldType,
    FollowUp,
    MappingItems,
    Note,
    ProvisionPlan,
    ProvisionStep,
    StepKind,
)
from crmqual.errors import ApiError

#: the login hosts every org shares: a record's address cannot be told from them
_SHARED_HOSTS = ("login.salesforce.com", "test.salesforce.com")


def admin_capabilities(base: Capabilities, connection: SalesforceConnection) -> Capabilities:
    """``base`` with what the admin path does: create fields and add picklist values, grant
    access, place on the layouts (unless ``admin.layouts.place`` is false), follow-ups."""
    steps = API_PROVISIONING | {StepKind.GRANT_ACCESS}
    if connection.admin.layouts.place:
        steps |= {StepKind.PLACE_ON_LAYOUT}
    return Capabilities(
        bulk_read=base.bulk_read,
        bulk_write=base.bulk_write,
        followups=True,
        provisioning=frozenset(steps),
    )


def _set_spec(name: str) -> FieldSpec:
    """A permission set as the subject of an assignment step (``describe`` shows its name)."""
    return FieldSpec(name, FieldType.TEXT, "permission set")


class SalesforceAdmin(Adapter):
    """Provisioning, removal, follow-ups and check for ``SalesforceAdapter``."""

    connection: SalesforceConnection
    org: OrgHttp

    @property
    @abstractmethod
    def sf(self) -> Salesforce:
        """simple-salesforce on crmqual's HTTP client."""

    # -- the pieces -----------------------------------------------------------------------------
    def fields_api(self) -> FieldMetadata:
        return FieldMetadata(self.sf, self.object_name)

    def permission_sets(self) -> PermissionSets:
        c = self.connection
        return PermissionSets(self.sf, c.admin.access, c.username, self.object_name)

    # -- provisioning ---------------------------------------------------------------------------
    def plan_provision(self, wanted: Sequence[FieldSpec]) -> ProvisionPlan:
        plan = ProvisionPlan()
        specs = [s for s in wanted if custom(s.api_name)]
        for spec in wanted:
            if not custom(spec.api_name):
                plan.conflicts.append(
                    f"{spec.api_name or spec.label}: crmqual creates custom fields, whose API "
                    "names end in __c: name the output so in the mapping"
                )
        existing = self.fields_api().find([s.api_name for s in specs])
        for spec in specs:
            have = existing.get(spec.api_name)
            if have is None:
                plan.steps.append(ProvisionStep(StepKind.CREATE_FIELD, spec))
            elif not same_type(have, spec):
                plan.conflicts.append(
                    f"{spec.api_name}: exists as {have.type}, crmqual needs "
                    f"{TOOLING_TYPES[spec.type]}"
                )
            else:
                missing = tuple(v for v in spec.picklist if v not in have.values)
                if missing:
                    plan.steps.append(ProvisionStep(StepKind.ADD_PICKLIST_VALUES, spec, missing))
                else:
                    plan.unchanged.append(spec.api_name)
        self._plan_access(plan, specs)
        if StepKind.PLACE_ON_LAYOUT in self.capabilities.provisioning:
            self._plan_layouts(plan, specs)
        return plan

    def _plan_access(self, plan: ProvisionPlan, specs: Sequence[FieldSpec]) -> None:
        settings = self.connection.admin.access
        access = self.permission_sets().plan(specs)
        plan.conflicts += access.problems
        edit, read = access.edit.name, access.read.name
        for spec in specs:
            parts = []
            if spec in access.edit_missing:
                parts.append(f"read and edit for crmqual (permission set {edit})")
            if spec in access.read_missing:
                parts.append(f"read for salespeople (permission set {read})")
            if parts:
                plan.steps.append(
                    ProvisionStep(StepKind.GRANT_ACCESS, spec, detail="; ".join(parts))
                )
        for user in access.assign_edit:
            detail = f"assign to {user.username}, the integration user"
            plan.steps.append(ProvisionStep(StepKind.GRANT_ACCESS, _set_spec(edit), detail=detail))
        if access.assign_read:
            who = _users(access)
            plan.steps.append(
                ProvisionStep(StepKind.GRANT_ACCESS, _set_spec(read), detail=f"assign to {who}")
            )
        if settings.assign_read == "admin" or not settings.read_profiles:
            plan.notes.append(_assign_by_hand(read))

    def _plan_layouts(self, plan: ProvisionPlan, specs: Sequence[FieldSpec]) -> None:
        settings = self.connection.admin.layouts
        found = layouts.read_layouts(self.sf, self.object_name)
        targets, unknown = chosen(found, settings.names)
        plan.conflicts += [
            f"admin.layouts.names: {self.object_name} has no page layout {name!r}"
            for name in unknown
        ]
        for layout in targets:
            for spec in layouts.missing(layout, specs):
                detail = f"layout {layout.name}, section “{settings.section}”"
                plan.steps.append(
                    ProvisionStep(StepKind.PLACE_ON_LAYOUT, spec, detail=detail, place=layout.name)
                )

    def _create_fields(self, specs: Sequence[FieldSpec]) -> None:
        api = self.fields_api()
        for spec in specs:
            api.create(spec)

    def _append_picklist_values(self, api_name: str, values: Sequence[str]) -> None:
        api = self.fields_api()
        found = api.find([api_name]).get(api_name)
        if found is None:
            raise ApiError(f"no field {api_name} on {self.object_name} to add values to")
        api.add_values(found, values)

    def _grant_access(self, specs: Sequence[FieldSpec]) -> None:
        """Grant the fields (the permission sets' own steps name no field) and make every
        missing set and assignment, as a fresh look at the org finds them."""
        access = self.connection.admin.access
        sets = {access.edit_permission_set, access.read_permission_set}
        fields = list({s.api_name: s for s in specs if s.api_name not in sets}.values())
        permission_sets = self.permission_sets()
        permission_sets.apply(permission_sets.plan(fields))

    def _place_on_layout(self, specs: Sequence[FieldSpec]) -> None:
        """Add the fields not on them yet to crmqual's section of the chosen layouts."""
        settings = self.connection.admin.layouts
        specs = list({s.api_name: s for s in specs}.values())
        found = layouts.read_layouts(self.sf, self.object_name)
        targets, _ = chosen(found, settings.names)
        for layout in targets:
            missing = layouts.missing(layout, specs)
            if missing:
                layouts.update(
                    self.sf, layout, layouts.with_fields(layout, missing, settings.section)
                )

    # -- taking it out --------------------------------------------------------------------------
    def unplace(self, dry_run: bool = False) -> list[Note]:
        """crmqual's section off every Account layout that has it (the fields stay)."""
        label = self.connection.admin.layouts.section
        done = []
        for layout in layouts.read_layouts(self.sf, self.object_name):
            if layout.section(label) is None:
                continue
            if not dry_run:
                layouts.update(self.sf, layout, layouts.without_section(layout, label))
            done.append(
                Note(
                    f"layout {layout.name}: section “{label}”", f"布局 {layout.name}：分区“{label}”"
                )
            )
        return done

    def unprovision(
        self, wanted: Sequence[FieldSpec], dry_run: bool = False, delete_fields: bool = False
    ) -> list[Note]:
        """The layout section, then both permission sets (assignments first), then, with
        ``delete_fields``, the output fields and every value of them."""
        done = self.unplace(dry_run)
        done += self.permission_sets().remove(dry_run)
        if not delete_fields:
            return done
        api = self.fields_api()
        for name, field_id in api.existing([s.api_name for s in wanted]).items():
            if not dry_run:
                api.delete(field_id)
            done.append(Note(f"field {name} and its values", f"字段 {name} 及其所有值"))
        return done

    # -- follow-ups, links, check ---------------------------------------------------------------
    def create_followup(self, item: FollowUp) -> str:
        """A Task on the account for its owner, unless one carries the event's marker."""
        return SalesforceTasks(self.sf, self.org.http, self.object_name).ensure(item)

    def record_url(self, account_id: str) -> str | None:
        """The account in Lightning Experience, when ``login_url`` is the org's own host (My
        Domain); None for the shared login hosts, which do not say which org."""
        host = urlsplit(self.connection.login_url).hostname or ""
        if host in _SHARED_HOSTS:
            return None
        obj, record = quote(self.object_name, safe=""), quote(account_id, safe="")
        return f"{self.connection.login_url}/lightning/r/{obj}/{record}/view"

    def check(
        self,
        fields: Sequence[str] = (),
        outputs: Sequence[str] = (),
        mapping_items: MappingItems | None = None,
    ) -> CheckReport:
        """Login, the API allowance left, read access to every mapped field, the output
        fields and their access, the layouts (``check``)."""
        return run_check(self, fields, outputs, mapping_items)


def _users(access: AccessPlan) -> str:
    names = [u.username for u in access.assign_read]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{len(names)} active user(s) of the profiles named: {shown}"


def _assign_by_hand(name: str) -> Note:
    """How an admin gives salespeople read access, where crmqual does not assign it."""
    return Note(
        f"assign the permission set {name} (read only on crmqual's fields) to the salespeople "
        f"who should see them: Setup > Permission Sets > {name} > Manage Assignments > Add "
        "Assignment (or name their profiles in admin.access.read_profiles)",
        f"请把权限集 {name}（对 crmqual 字段只读）分配给需要查看这些字段的销售人员：设置 > "
        f"权限集 > {name} > 管理分配 > 添加分配（或在 admin.access.read_profiles 中写上"
        "他们的配置文件）",
    )
