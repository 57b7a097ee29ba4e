"""Field-level security for crmqual's output fields (salesforce.md 8.3): two permission
sets, made and assigned through ordinary REST records.

- ``edit_permission_set`` (default ``crmqual_Output_Edit``): Read and Edit on every output
  field, assigned to the integration user, so that crmqual can query and write them (a
  field created through the API is invisible to describe, queries and writes until then).
- ``read_permission_set`` (default ``crmqual_Output_Read``): Read only, assigned to the
  active users of the profiles the admin names (``read_profiles``), or left for an admin to
  assign (``assign_read: admin``), so salespeople see the grade but cannot change it.

    POST   sobjects/PermissionSet            {"Name", "Label", "Description"}
    POST   sobjects/FieldPermissions         {"ParentId", "SobjectType": "Account",
                                              "Field": "Account.X__c", "PermissionsRead",
                                              "PermissionsEdit"}
    POST   sobjects/PermissionSetAssignment  {"AssigneeId", "PermissionSetId"}
    DELETE sobjects/PermissionSetAssignment/{id}, then sobjects/PermissionSet/{id}

Assumed, not confirmed by the reference: the PermissionSetAssignment fields are
``AssigneeId`` and ``PermissionSetId``; a permission set still assigned cannot be deleted
(so its assignments are deleted first); deleting a permission set deletes its
FieldPermissions. Everything is looked up before it is made, so a second run makes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql

from crmqual.adapters.salesforce.admin_config import SalesforceAccessSettings
from crmqual.contract import FieldSpec, Note
from crmqual.errors import ApiError

#: The permission sets' labels and descriptions, as an admin reads them in Setup.
EDIT_LABEL = "crmqual output fields (edit)"
READ_LABEL = "crmqual output fields (read)"
EDIT_ABOUT = "crmqual writes its grades, limits and flags with this; assign it to its user only"
READ_ABOUT = "Lets salespeople see crmqual's grades, limits and flags on accounts (read only)"


@dataclass
class PermissionSetState:
    """A permission set as the org holds it (``id`` "" when it does not exist yet)."""

    name: str
    id: str = ""
    #: lower-case ``Account.X__c`` -> (read, edit)
    grants: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    #: assignee id -> assignment id
    assignees: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class User:
    id: str
    username: str


@dataclass
class AccessPlan:
    """What granting access to the output fields takes, and what stops it."""

    edit: PermissionSetState
    read: PermissionSetState
    integration_user: User | None
    readers: list[User]
    #: output fields with no permission in the edit set, in the read set
    edit_missing: list[FieldSpec] = field(default_factory=list)
    read_missing: list[FieldSpec] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def assign_edit(self) -> list[User]:
        user = self.integration_user
        return [user] if user is not None and user.id not in self.edit.assignees else []

    @property
    def assign_read(self) -> list[User]:
        return [u for u in self.readers if u.id not in self.read.assignees]

    @property
    def changes(self) -> bool:
        return bool(
            not self.edit.id
            or not self.read.id
            or self.edit_missing
            or self.read_missing
            or self.assign_edit
            or self.assign_read
        )


def field_path(sobject: str, spec: FieldSpec) -> str:
    return f"{sobject}.{spec.api_name}"


class PermissionSets:
    """crmqual's two permission sets in one org, through simple-salesforce."""

    def __init__(
        self,
        sf: Salesforce,
        settings: SalesforceAccessSettings,
        username: str | None,
        sobject: str = "Account",
    ) -> None:
        self.sf = sf
        self.settings = settings
        self.username = settings.integration_user or username
        self.sobject = sobject

    # -- reading ------------------------------------------------------------------------------
    def plan(self, specs: Sequence[FieldSpec]) -> AccessPlan:
        """Compare the org with what the output fields need; change nothing."""
        s = self.settings
        edit, read = self.state(s.edit_permission_set), self.state(s.read_permission_set)
        plan = AccessPlan(edit, read, None, [])
        if self.username is None:
            plan.problems.append(
                "admin.access.integration_user: not set, and the connection names no username "
                "(client credentials): set it to the username of the app's run-as user"
            )
        else:
            plan.integration_user = self.user(self.username)
            if plan.integration_user is None:
                plan.problems.append(
                    f"admin.access.integration_user: no active user {self.username!r} in the org"
                )
        if s.assign_read == "api" and s.read_profiles:
            readers, unknown = self.profile_users(s.read_profiles)
            plan.readers = readers
            plan.problems += [
                f"admin.access.read_profiles: no profile {name!r} in the org" for name in unknown
            ]
        for spec in specs:
            path = field_path(self.sobject, spec).lower()
            for pset, wanted, missing in ((edit, (True, True), plan.edit_missing),
                                          (read, (True, False), plan.read_missing)):  # fmt: skip
                have = pset.grants.get(path)
                if have is None:
                    missing.append(spec)
                elif have != wanted:  # changed by hand: crmqual does not edit a permission
                    plan.problems.append(
                        f"permission set {pset.name}: {spec.api_name} has read={have[0]}, "
                        f"edit={have[1]} where crmqual needs read={wanted[0]}, "
                        f"edit={wanted[1]}: correct it in Setup, or run `crmqual provision "
                        "--remove` and provision again"
                    )
        return plan

    def state(self, name: str) -> PermissionSetState:
        found = PermissionSetState(name)
        rows = self._query(format_soql("SELECT Id FROM PermissionSet WHERE Name = {}", name))
        if not rows:
            return found
        found.id = str(rows[0]["Id"])
        soql = format_soql(
            "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
            "WHERE ParentId = {} AND SobjectType = {}",
            found.id,
            self.sobject,
        )
        for row in self._query(soql):
            found.grants[str(row["Field"]).lower()] = (
                bool(row.get("PermissionsRead")),
                bool(row.get("PermissionsEdit")),
            )
        soql = format_soql(
            "SELECT Id, AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId = {}",
            found.id,
        )
        found.assignees = {str(r["AssigneeId"]): str(r["Id"]) for r in self._query(soql)}
        return found

    def user(self, username: str) -> User | None:
        soql = format_soql(
            "SELECT Id, Username FROM User WHERE Username = {} AND IsActive = true", username
        )
        rows = self._query(soql)
        return User(str(rows[0]["Id"]), str(rows[0]["Username"])) if rows else None

    def profile_users(self, names: Iterable[str]) -> tuple[list[User], list[str]]:
        """(the active users of the profiles named, names no profile has)."""
        wanted = list(dict.fromkeys(names))
        profiles = self._query(format_soql("SELECT Id, Name FROM Profile WHERE Name IN {}", wanted))
        known = {str(p["Name"]).casefold() for p in profiles}
        unknown = [n for n in wanted if n.casefold() not in known]
        if not profiles:
            return [], unknown
        soql = format_soql(
            "SELECT Id, Username FROM User WHERE IsActive = true AND ProfileId IN {} "
            "ORDER BY Username",
            [str(p["Id"]) for p in profiles],
        )
        return [User(str(r["Id"]), str(r["Username"])) for r in self._query(soql)], unknown

    # -- changing -----------------------------------------------------------------------------
    def apply(self, plan: AccessPlan) -> None:
        """Make what ``plan`` found missing: the sets, their field permissions, the
        assignments (each looked up by ``plan`` first, so nothing is made twice)."""
        if not plan.edit.id:
            plan.edit.id = self._create_set(plan.edit.name, EDIT_LABEL, EDIT_ABOUT)
        if not plan.read.id:
            plan.read.id = self._create_set(plan.read.name, READ_LABEL, READ_ABOUT)
        for spec in plan.edit_missing:
            self._grant(plan.edit, spec, edit=True)
        for spec in plan.read_missing:
            self._grant(plan.read, spec, edit=False)
        for user in plan.assign_edit:
            self._assign(plan.edit, user)
        for user in plan.assign_read:
            self._assign(plan.read, user)

    def remove(self, dry_run: bool = False) -> list[Note]:
        """Delete both permission sets (assignments first); what was (would be) removed."""
        done = []
        for name in (self.settings.edit_permission_set, self.settings.read_permission_set):
            found = self.state(name)
            if not found.id:
                continue
            if not dry_run:
                for assignment in found.assignees.values():
                    path = f"sobjects/PermissionSetAssignment/{assignment}"
                    self.sf.restful(path, method="DELETE")
                self.sf.restful(f"sobjects/PermissionSet/{found.id}", method="DELETE")
            users = len(found.assignees)
            done.append(
                Note(
                    f"permission set {name} (assigned to {users} user(s))",
                    f"权限集 {name}（已分配给 {users} 个用户）",
                )
            )
        return done

    def _create_set(self, name: str, label: str, about: str) -> str:
        body = {"Name": name, "Label": label, "Description": about}
        answer = self.sf.restful("sobjects/PermissionSet", method="POST", json=body)
        return _created_id(answer, f"permission set {name}")

    def _grant(self, pset: PermissionSetState, spec: FieldSpec, *, edit: bool) -> None:
        path = field_path(self.sobject, spec)
        body = {
            "ParentId": pset.id,
            "SobjectType": self.sobject,
            "Field": path,
            "PermissionsRead": True,
            "PermissionsEdit": edit,
        }
        answer = self.sf.restful("sobjects/FieldPermissions", method="POST", json=body)
        _created_id(answer, f"field permission {path} in {pset.name}")
        pset.grants[path.lower()] = (True, edit)

    def _assign(self, pset: PermissionSetState, user: User) -> None:
        body = {"AssigneeId": user.id, "PermissionSetId": pset.id}
        answer = self.sf.restful("sobjects/PermissionSetAssignment", method="POST", json=body)
        pset.assignees[user.id] = _created_id(answer, f"assignment of {pset.name}")

    def _query(self, soql: str) -> list[dict[str, Any]]:
        return list(self.sf.query_all_iter(soql))


def _created_id(answer: Any, what: str) -> str:
    if not isinstance(answer, dict) or not answer.get("id"):
        raise ApiError(f"Salesforce answered the creation of the {what} without an id")
    return str(answer["id"])
