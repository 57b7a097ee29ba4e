"""The Salesforce adapter's admin path against the sandbox in-process: provision creates the
fields, the two permission sets and their assignments, and the layout section; a second
provision changes nothing; a conflicting field type is refused before anything is written;
--remove and --delete-fields; check's items; one follow-up Task per event."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sf_admin_org import NAMES, OUTPUTS, adapter, layout_fields, make_box

from crmqual.cli.main import main
from crmqual.config import load_config
from crmqual.contract import BuildContext, CheckStatus, FieldSpec, FieldType, FollowUp, StepKind
from crmqual.errors import ConfigError, ErrorKind
from crmqual.registry import connection_problems, make_adapter
from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.salesforce.quota import Quota
from crmqual.sandbox.store import Scan

SECTION = "Credit & qualification / 资信与准入"
READERS = {"li.wei", "maria.garcia", "james.smith"}  # Standard User, active


@pytest.fixture
def box(tmp_path: Path) -> Iterator[SalesforceSandbox]:
    sandbox = make_box(tmp_path / "sf.db")
    yield sandbox
    sandbox.close()


@pytest.fixture
def creds(box: SalesforceSandbox) -> Iterator[SalesforceCredentials]:
    with box.inprocess() as c:
        yield c


def _changes(box: SalesforceSandbox, after: int = 0) -> list[str]:
    """The API calls that changed something (not a GET, not a login), as `METHOD path`."""
    return [
        f"{c.method} {c.path}"
        for c in box.calls(after)
        if c.method != "GET" and c.path.startswith("/services/data/")
    ]


def _last(box: SalesforceSandbox) -> int:
    calls = box.calls()
    return calls[-1].seq if calls else 0


def _records(box: SalesforceSandbox, module: str) -> list[dict[str, object]]:
    return [r.data for r in box.store.scan(Scan(module))]


def _permission_sets(box: SalesforceSandbox) -> dict[str, str]:
    """Name -> id of the org's permission sets (ids as the REST API gives them)."""
    return {
        str(r.data["Name"]): sf_id(PREFIXES["PermissionSet"], r.id)
        for r in box.store.scan(Scan("PermissionSet"))
    }


def _assignees(box: SalesforceSandbox, set_id: str) -> set[str]:
    """The users (username before the @) the permission set is assigned to."""
    users = {
        sf_id(PREFIXES["User"], r.id): str(r.data["Username"]).split("@")[0]
        for r in box.store.scan(Scan("User"))
    }
    return {
        users[str(a["AssigneeId"])]
        for a in _records(box, "PermissionSetAssignment")
        if a["PermissionSetId"] == set_id
    }


def test_provision_creates_fields_access_and_the_layout_section(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds, access={"read_profiles": ["Standard User"]})
    before = set(sf.describe())
    assert not before & set(NAMES)
    plan = sf.provision(OUTPUTS)
    assert not plan.conflicts and not plan.notes
    assert [s.field.api_name for s in plan.of(StepKind.CREATE_FIELD)] == list(NAMES)
    described = sf.describe()
    assert set(NAMES) <= set(described)  # visible: the edit set is granted and assigned
    assert described["Warning_Flags__c"].type == FieldType.MULTISELECT
    assert described["Risk_Grade__c"].picklist == ("A", "B", "C", "D", "E")
    sets = _permission_sets(box)
    assert _assignees(box, sets["crmqual_Output_Edit"]) == {"integration"}
    assert _assignees(box, sets["crmqual_Output_Read"]) == READERS  # Former Rep is inactive
    grants = {
        (str(g["ParentId"]), str(g["Field"])): (g["PermissionsRead"], g["PermissionsEdit"])
        for g in _records(box, "FieldPermissions")
    }
    for name in NAMES:
        assert grants[(sets["crmqual_Output_Edit"], f"Account.{name}")] == (True, True)
        assert grants[(sets["crmqual_Output_Read"], f"Account.{name}")] == (True, False)
    assert sorted(layout_fields(box, "Account Layout", SECTION)) == sorted(NAMES)
    # crmqual can now write what it created
    sf.allow_writes_to(NAMES)
    account = box.account_ids()[0]
    result = sf.sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [{"attributes": {"type": "Account"}, "id": account, "Risk_Grade__c": "B"}],
        },
    )
    assert result[0]["success"], result


def test_a_second_provision_changes_nothing(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds, access={"read_profiles": ["Standard User"]})
    sf.provision(OUTPUTS)
    mark = _last(box)
    again = adapter(creds, access={"read_profiles": ["Standard User"]})
    plan = again.provision(OUTPUTS)
    assert plan.steps == [] and plan.conflicts == []
    assert plan.unchanged == list(NAMES)
    assert _changes(box, mark) == []  # only reads


def test_dry_run_lists_every_step_and_writes_nothing(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds, access={"read_profiles": ["Standard User"]})
    plan = sf.plan_provision(OUTPUTS)
    kinds = [s.kind for s in plan.steps]
    assert kinds.count(StepKind.CREATE_FIELD) == len(NAMES)
    assert kinds.count(StepKind.PLACE_ON_LAYOUT) == len(NAMES)
    # one grant per field, one assignment step per permission set
    assert kinds.count(StepKind.GRANT_ACCESS) == len(NAMES) + 2
    shown = "\n".join(s.describe() for s in plan.steps)
    assert "crmqual_Output_Read: assign to 3 active user(s)" in shown
    assert "crmqual_Output_Edit: assign to integration@crmqual-sandbox.example" in shown
    assert _changes(box) == []


def test_a_field_of_another_type_is_refused_before_anything_is_written(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds)
    text_grade = FieldSpec("Risk_Grade__c", FieldType.TEXT, "Risk Grade", length=10)
    sf.fields_api().create(text_grade)  # an admin made it earlier, as text; hidden by FLS
    assert "Risk_Grade__c" not in sf.describe()
    mark = _last(box)
    plan = sf.provision(OUTPUTS)
    assert plan.conflicts == ["Risk_Grade__c: exists as Text, crmqual needs Picklist"]
    assert _changes(box, mark) == []
    assert "crmqual_Output_Edit" not in _permission_sets(box)


def test_a_missing_picklist_value_is_added(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds)
    sf.provision(OUTPUTS)
    flags = next(s for s in OUTPUTS if s.api_name == "Warning_Flags__c")
    more = [
        replace(flags, picklist=(*flags.picklist, "FRAUD")) if s is flags else s for s in OUTPUTS
    ]
    plan = sf.provision(more)
    assert [(s.field.api_name, s.values) for s in plan.steps] == [("Warning_Flags__c", ("FRAUD",))]
    assert sf.describe()["Warning_Flags__c"].picklist[-1] == "FRAUD"


def test_named_layouts_only_and_an_unknown_name_is_a_conflict(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    box.add_layout("Credit Team Layout")
    unknown = adapter(creds, layouts={"names": ["Credit Team Layout", "Nope"]})
    plan = unknown.provision(OUTPUTS)
    assert plan.conflicts == ["admin.layouts.names: Account has no page layout 'Nope'"]
    assert _changes(box) == []
    named = adapter(creds, layouts={"names": ["credit team layout"]})
    named.provision(OUTPUTS)
    assert sorted(layout_fields(box, "Credit Team Layout", SECTION)) == sorted(NAMES)
    assert layout_fields(box, "Account Layout", SECTION) == []


def test_a_field_an_admin_placed_elsewhere_stays_there(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds, layouts={"place": False})
    assert StepKind.PLACE_ON_LAYOUT not in sf.capabilities.provisioning
    sf.provision(OUTPUTS)
    assert layout_fields(box, "Account Layout", SECTION) == []
    # the admin puts the grade in the first section by hand
    rest = sf.sf
    layout = rest.restful(
        "tooling/query/", params={"q": "SELECT Id FROM Layout WHERE TableEnumOrId = 'Account'"}
    )["records"][0]["Id"]
    meta = rest.restful(f"tooling/sobjects/Layout/{layout}")["Metadata"]
    meta["layoutSections"][0]["layoutColumns"][0]["layoutItems"].append(
        {"field": "Risk_Grade__c", "behavior": "Readonly"}
    )
    rest.restful(f"tooling/sobjects/Layout/{layout}", method="PATCH", json={"Metadata": meta})
    adapter(creds).provision(OUTPUTS)
    placed = layout_fields(box, "Account Layout", SECTION)
    assert "Risk_Grade__c" not in placed and len(placed) == len(NAMES) - 1


def test_read_access_left_to_an_admin_is_a_note(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds, access={"assign_read": "admin", "read_profiles": ["Standard User"]})
    plan = sf.provision(OUTPUTS)
    assert len(plan.notes) == 1
    assert "Manage Assignments" in plan.notes[0].en and "管理分配" in plan.notes[0].zh
    sets = _permission_sets(box)
    assert _assignees(box, sets["crmqual_Output_Read"]) == set()
    assert _assignees(box, sets["crmqual_Output_Edit"]) == {"integration"}


def test_unknown_profile_and_user_are_conflicts(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(
        creds, access={"read_profiles": ["Sales Wizards"], "integration_user": "nobody@x.example"}
    )
    plan = sf.provision(OUTPUTS)
    assert plan.conflicts == [
        "admin.access.integration_user: no active user 'nobody@x.example' in the org",
        "admin.access.read_profiles: no profile 'Sales Wizards' in the org",
    ]
    assert _changes(box) == []


def test_remove_takes_out_the_section_and_the_permission_sets_and_keeps_the_fields(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds, access={"read_profiles": ["Standard User"]})
    sf.provision(OUTPUTS)
    account = box.account_ids()[0]
    box.hand_edit(account, {"Risk_Grade__c": "C"})
    mark = _last(box)
    would = sf.unprovision(OUTPUTS, dry_run=True)
    assert [n.en for n in would] == [
        f"layout Account Layout: section “{SECTION}”",
        "permission set crmqual_Output_Edit (assigned to 1 user(s))",
        "permission set crmqual_Output_Read (assigned to 3 user(s))",
    ]
    assert _changes(box, mark) == []
    assert [n.en for n in sf.unprovision(OUTPUTS)] == [n.en for n in would]
    assert layout_fields(box, "Account Layout", SECTION) == []
    assert _permission_sets(box) == {"Credit_Inputs": _permission_sets(box)["Credit_Inputs"]}
    assert _records(box, "PermissionSetAssignment")  # the seed's own set is still assigned
    record = box.record(account)
    assert record is not None and record["Risk_Grade__c"] == "C"  # fields and values stay
    assert sf.unprovision(OUTPUTS) == []
    # provisioning again brings everything back
    sf.provision(OUTPUTS)
    assert sorted(layout_fields(box, "Account Layout", SECTION)) == sorted(NAMES)


def test_delete_fields_deletes_them_and_their_values(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds)
    sf.provision(OUTPUTS)
    account = box.account_ids()[0]
    box.hand_edit(account, {"Risk_Grade__c": "C"})
    done = sf.unprovision(OUTPUTS, delete_fields=True)
    assert [n.en for n in done][-len(NAMES) :] == [f"field {n} and its values" for n in NAMES]
    assert not set(NAMES) & {f.api_name for f in box.store.fields("Account")}
    record = box.record(account)
    assert record is not None and "Risk_Grade__c" not in record
    assert sf.fields_api().find(NAMES) == {}


def test_check_before_and_after_provision(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds, access={"read_profiles": ["Standard User"]})
    inputs = ["Name", "Industry", "Total_Assets__c"]
    before = {i.item: i for i in sf.check(inputs, NAMES).items}
    assert before["login"].status == CheckStatus.OK
    assert before["API usage"].status == CheckStatus.OK
    assert before["read access"].detail == "3 mapped field(s) readable by the integration user"
    assert before["output field Risk_Grade__c"].status == CheckStatus.TO_CREATE
    assert before["permission set crmqual_Output_Edit"].status == CheckStatus.TO_CREATE
    assert before["layout Account Layout"].status == CheckStatus.TO_CREATE
    assert all(i.status != CheckStatus.FAILED for i in before.values())
    sf.provision(OUTPUTS)
    after = sf.check(inputs, NAMES)
    assert after.ok and after.exit_code == 0
    items = {i.item: i for i in after.items}
    assert items["edit access Credit_Limit__c"].status == CheckStatus.OK
    assert "assigned to 3 user(s)" in items["permission set crmqual_Output_Read"].detail
    assert items["layout Account Layout"].detail == f"all {len(NAMES)} output fields on it"
    assert all(i.detail_zh for i in after.items if i.detail)


def test_check_names_a_hidden_field_a_missing_field_and_lost_access(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds)
    sf.provision(OUTPUTS)
    sf.unprovision(OUTPUTS)  # the permission sets go: the fields stay, hidden
    # an input field that exists, hidden by FLS (one of crmqual's own, used as an input)
    report = sf.check(["Name", "Risk_Grade__c", "No_Such__c"], ["Credit_Limit__c"])
    items = {i.item: i for i in report.items}
    assert items["field No_Such__c"].status == CheckStatus.FAILED
    assert items["field No_Such__c"].kind == ErrorKind.CONFIG
    hidden = items["read access Risk_Grade__c"]
    assert hidden.status == CheckStatus.FAILED and "field-level security" in hidden.detail
    assert "字段级安全" in hidden.detail_zh
    lost = items["edit access Credit_Limit__c"]
    assert lost.status == CheckStatus.FAILED and "crmqual provision" in lost.detail
    assert report.exit_code == 2


def test_check_fails_at_the_api_reserve(tmp_path: Path) -> None:
    make_box(tmp_path / "seeded.db").close()
    box = SalesforceSandbox(tmp_path / "seeded.db", quota=Quota("developer", 100))
    with box.inprocess() as creds:
        items = {i.item: i for i in adapter(creds, reserve=99).check(["Name"], NAMES).items}
    box.close()
    usage = items["API usage"]
    assert usage.status == CheckStatus.FAILED and usage.kind == ErrorKind.QUOTA
    assert "connection.api_reserve" in usage.detail


def test_check_reports_a_refused_login(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    from crmqual.sandbox.salesforce.backend import SalesforceCredentials as Creds

    wrong = Creds(**{**creds.as_dict(), "client_secret": "not-the-secret"})
    report = adapter(wrong).check(["Name"], NAMES)
    first = report.items[0]
    assert first.item == "login" and first.status == CheckStatus.FAILED
    assert report.exit_code == 3
    assert [i.status for i in report.items[1:]] == [CheckStatus.UNVERIFIED] * 3


def test_a_followup_task_is_created_once_per_event(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds)
    account = box.account_ids()[3]
    owner = (box.record(account) or {})["OwnerId"]
    item = FollowUp("a1b2c3d4e5f6a1b2c3d4e5f6", account, "Risk grade down to D", "B -> D")
    first = sf.create_followup(item)
    assert sf.create_followup(item) == first
    assert adapter(creds).create_followup(item) == first  # a later run finds it too
    tasks = _records(box, "Task")
    assert len(tasks) == 1
    task = tasks[0]
    assert task["WhatId"] == account and task["OwnerId"] == owner
    assert str(task["Subject"]).endswith("[crmqual:a1b2c3d4e5f6a1b2c3d4e5f6]")
    other = FollowUp("ffffffffffffffffffffffff", account, "New flag: LITIGATION", "")
    assert sf.create_followup(other) != first
    assert len(_records(box, "Task")) == 2


def test_a_followup_for_a_missing_account_is_recorded_as_such(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    sf = adapter(creds)
    gone = "001" + "0" * 11 + "ZZZZAAA"
    item = FollowUp("0123456789abcdef01234567", gone[:18], "Downgrade", "")
    assert sf.create_followup(item) == "none:account-not-found"
    assert _records(box, "Task") == []


def test_init_writes_the_admin_settings_and_a_bad_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SALESFORCE_CLIENT_ID", "SALESFORCE_USERNAME", "SALESFORCE_PRIVATE_KEY_FILE"):
        monkeypatch.setenv(name, "x")
    assert CliRunner().invoke(main, ["init", "--crm", "salesforce"]).exit_code == 0
    loaded = load_config(tmp_path / "crmqual.yaml")
    connection = dict(loaded.config.connection)
    assert connection_problems("salesforce", connection, "crmqual.yaml") == []
    assert connection["admin"]["access"]["read_profiles"] == ["Standard User"]
    connection["admin"]["access"]["edit_permission_set"] = "crmqual Output"  # a space
    connection["admin"]["layouts"]["wrong"] = 1
    problems = connection_problems("salesforce", connection, "crmqual.yaml")
    keys = sorted(p.key for p in problems)
    assert keys == [
        "connection.admin.access.edit_permission_set",
        "connection.admin.layouts.wrong",
    ]
    with pytest.raises(ConfigError):
        make_adapter("salesforce", connection, "crmqual.yaml", BuildContext(tmp_path))


def test_the_record_address_comes_from_my_domain_only(creds: SalesforceCredentials) -> None:
    sf = adapter(creds)
    account = "001000000000042AAA"
    assert sf.record_url(account) == (
        f"https://crmqual-sandbox.my.salesforce.com/lightning/r/Account/{account}/view"
    )
    shared = sf.connection.model_copy(
        update={"login_url": "https://login.salesforce.com", "flow": "jwt"}
    )
    assert type(sf)(shared).record_url(account) is None


def test_an_output_that_is_no_custom_field_is_a_conflict(
    box: SalesforceSandbox, creds: SalesforceCredentials
) -> None:
    standard = FieldSpec("Description", FieldType.TEXTAREA, "Description")
    plan = adapter(creds).provision([*OUTPUTS, standard])
    assert plan.conflicts == [
        "Description: crmqual creates custom fields, whose API names end in __c: name the "
        "output so in the mapping"
    ]
    assert _changes(box) == []
