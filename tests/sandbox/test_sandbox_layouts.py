"""The Zoho dialect's Layouts API (zoho.md section 14): the Accounts layouts and their
sections, an update creating a section and moving fields into it, the label rules, the
per-request limits, the scopes and errors; answers checked against Zoho's layouts.json."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import Api, narrow

from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.call import ZohoLimits
from crmqual.sandbox.zoho.seed import CUSTOM_FIELDS

LAYOUTS = "/crm/v8/settings/layouts"
MODULE = {"module": "Accounts"}


def layouts(api: Api) -> list[dict[str, Any]]:
    answer = api.get(LAYOUTS, params=MODULE)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["layouts"]
    return found


def field_ids(box: ZohoSandbox, *names: str) -> list[str]:
    by_name = {f.api_name: f.id for f in box.store.fields("Accounts")}
    return [by_name[n] for n in names]


def patch(api: Api, layout_id: str, sections: list[dict[str, Any]]) -> Any:
    return api.patch(
        f"{LAYOUTS}/{layout_id}", params=MODULE, json={"layouts": [{"sections": sections}]}
    )


def test_two_layouts_with_sections_and_profiles(api: Api) -> None:
    found = layouts(api)
    assert [lay["name"] for lay in found] == ["Standard", "Credit Review"]
    standard, review = found
    assert [p["name"] for p in standard["profiles"]] == ["Administrator", "Standard"]
    assert [p["name"] for p in review["profiles"]] == ["Administrator"]
    labels = [s["display_label"] for s in standard["sections"]]
    assert labels[0] == "Account Information" and "Financial Information" in labels
    on_layout = {f["api_name"] for s in standard["sections"] for f in s["fields"]}
    assert "Account_Name" in on_layout
    assert {c.api_name for c in CUSTOM_FIELDS} <= on_layout  # the seeded inputs, placed


def test_one_layout_by_id_and_errors(api: Api) -> None:
    layout_id = layouts(api)[1]["id"]
    answer = api.get(f"{LAYOUTS}/{layout_id}", params=MODULE)
    assert answer.status_code == 200
    assert [lay["name"] for lay in answer.json()["layouts"]] == ["Credit Review"]
    missing = api.get(LAYOUTS)
    assert missing.status_code == 400 and missing.json()["code"] == "REQUIRED_PARAM_MISSING"
    wrong = api.get(LAYOUTS, params={"module": "Nope"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "INVALID_MODULE"
    unknown = api.get(f"{LAYOUTS}/123", params=MODULE)
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "INVALID_DATA"


def test_a_new_field_is_on_no_layout_until_placed(box: ZohoSandbox, api: Api) -> None:
    created = api.post(
        "/crm/v8/settings/fields",
        params=MODULE,
        json={"fields": [{"field_label": "Risk Grade", "data_type": "text", "length": 10}]},
    )
    assert created.status_code == 201, created.text
    for layout in layouts(api):
        assert "Risk_Grade" not in {f["api_name"] for s in layout["sections"] for f in s["fields"]}
    layout_id = layouts(api)[0]["id"]
    (new_id,) = field_ids(box, "Risk_Grade")
    answer = patch(
        api, layout_id, [{"display_label": "Credit and qualification", "fields": [{"id": new_id}]}]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["layouts"][0] == {
        "status": "success",
        "code": "SUCCESS",
        "message": "layout updated",
        "details": {"id": layout_id},
    }
    assert box.layout_fields("Standard")["Credit and qualification"] == ["Risk_Grade"]
    assert "Credit and qualification" not in box.layout_fields("Credit Review")


def test_fields_move_between_sections_and_take_a_position(box: ZohoSandbox, api: Api) -> None:
    standard = layouts(api)[0]
    website, phone = field_ids(box, "Website", "Phone")
    created = patch(
        api, standard["id"], [{"display_label": "Contact", "fields": [{"id": website}]}]
    )
    assert created.status_code == 200
    section = next(s for s in layouts(api)[0]["sections"] if s["display_label"] == "Contact")
    moved = patch(
        api,
        standard["id"],
        [{"id": section["id"], "fields": [{"id": phone, "sequence_number": 1}]}],
    )
    assert moved.status_code == 200, moved.text
    assert box.layout_fields("Standard")["Contact"] == ["Phone", "Website"]
    assert "Phone" not in box.layout_fields("Standard")["Account Information"]


@pytest.mark.parametrize(
    "label",
    ["信用与资质", "Credit & qualification", "", "x" * 51, "Account Information"],
)
def test_section_labels_zoho_refuses(api: Api, label: str) -> None:
    answer = patch(api, layouts(api)[0]["id"], [{"display_label": label}])
    assert answer.status_code == 400
    error = answer.json()["layouts"][0]
    assert error["code"] == "INVALID_DATA"
    assert error["details"]["api_name"] == "display_label"
    assert error["details"]["json_path"] == "$.layouts[0].sections[0].display_label"


def test_a_unicode_label_where_the_sandbox_is_told_zoho_takes_it(tmp_path: Any) -> None:
    box = ZohoSandbox(tmp_path / "z.db", limits=ZohoLimits(layout_label_unicode=True))
    with box.inprocess() as creds:
        api = Api(creds)
        answer = patch(api, layouts(api)[0]["id"], [{"display_label": "信用与资质"}])
    assert answer.status_code == 200, answer.text
    box.close()


def test_per_request_limits_of_sections_and_fields(box: ZohoSandbox, api: Api) -> None:
    layout_id = layouts(api)[0]["id"]
    six = field_ids(box, "Website", "Phone", "Fax", "Rating", "SIC_Code", "Ticker_Symbol")
    answer = patch(api, layout_id, [{"display_label": "Six", "fields": [{"id": i} for i in six]}])
    assert answer.status_code == 400
    assert answer.json()["layouts"][0]["code"] == "LIMIT_EXCEEDED"
    sections = [{"display_label": f"Part {n}"} for n in range(6)]
    assert patch(api, layout_id, sections).json()["layouts"][0]["code"] == "LIMIT_EXCEEDED"
    assert "Six" not in box.layout_fields("Standard")  # nothing of a refused update is kept


def test_unknown_field_and_layout_ids(api: Api) -> None:
    layout_id = layouts(api)[0]["id"]
    answer = patch(api, layout_id, [{"display_label": "New", "fields": [{"id": "42"}]}])
    assert answer.status_code == 400
    assert answer.json()["layouts"][0]["details"]["json_path"] == (
        "$.layouts[0].sections[0].fields[0].id"
    )
    assert patch(api, "42", [{"display_label": "New"}]).status_code == 400


def test_delete_a_section_takes_its_fields_off_the_layout(box: ZohoSandbox, api: Api) -> None:
    layout = layouts(api)[0]
    (website,) = field_ids(box, "Website")
    patch(api, layout["id"], [{"display_label": "Temp", "fields": [{"id": website}]}])
    temp = next(s for s in layouts(api)[0]["sections"] if s["display_label"] == "Temp")
    answer = patch(api, layout["id"], [{"id": temp["id"], "_delete": {"permanent": True}}])
    assert answer.status_code == 200
    assert "Temp" not in box.layout_fields("Standard")
    assert all("Website" not in names for names in box.layout_fields("Standard").values())
    assert "Website" in {f.api_name for f in box.store.fields("Accounts")}


def test_scopes_to_read_and_to_update(box: ZohoSandbox, api: Api) -> None:
    layout_id = layouts(api)[0]["id"]
    reader = narrow(box, api.creds, "ZohoCRM.settings.layouts.READ")
    assert reader.get(LAYOUTS, params=MODULE).status_code == 200
    refused = patch(reader, layout_id, [{"display_label": "New"}])
    assert refused.status_code == 401 and refused.json()["code"] == "OAUTH_SCOPE_MISMATCH"
    writer = narrow(box, api.creds, "ZohoCRM.settings.layouts.ALL")
    assert patch(writer, layout_id, [{"display_label": "New"}]).status_code == 200
    fields_only = narrow(box, api.creds, "ZohoCRM.settings.fields.ALL")
    assert fields_only.get(LAYOUTS, params=MODULE).json()["code"] == "OAUTH_SCOPE_MISMATCH"


def test_a_standard_layout_that_refuses_updates(tmp_path: Any) -> None:
    box = ZohoSandbox(tmp_path / "z.db", limits=ZohoLimits(standard_layout_editable=False))
    with box.inprocess() as creds:
        api = Api(creds)
        standard, review = layouts(api)
        assert patch(api, standard["id"], [{"display_label": "New"}]).status_code == 400
        assert patch(api, review["id"], [{"display_label": "New"}]).status_code == 200
    box.close()


def test_layout_changes_are_kept_in_the_file(box: ZohoSandbox, api: Api) -> None:
    patch(api, layouts(api)[1]["id"], [{"display_label": "Kept"}])
    again = ZohoSandbox(box.db)
    assert "Kept" in again.layout_fields("Credit Review")
    again.close()
