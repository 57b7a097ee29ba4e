"""Issue 24: the adapter's layout requests and answers, shaped as zoho.md section 14 and
layouts.json give them (success, a label refused, the scope missing, a layout id that does
not exist)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from responses import matchers
from zoho_payloads import API, FIELDS_URL, connection, error, field_meta

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.config import ZohoLayoutSettings
from crmqual.contract import FieldSpec, FieldType, StepKind
from crmqual.errors import ApiError

LAYOUTS_URL = f"{API}/crm/v8/settings/layouts"
STANDARD, REVIEW = "5725767000000000091", "5725767000000001091"
SPECS = [
    FieldSpec(f"Out_{n}", FieldType.TEXT, f"Out {n}", label_zh=f"输出{n}") for n in range(1, 8)
]
FIELDS = [field_meta(s.api_name, "text", label=s.label) for s in SPECS]
IDS = {f["api_name"]: f["id"] for f in FIELDS}
MODULE = matchers.query_param_matcher({"module": "Accounts"})


def layout(layout_id: str, name: str, sections: list[tuple[str, str, list[str]]]) -> Any:
    """A layout as layouts.json lists it: sections with their fields (ids and names)."""
    return {
        "id": layout_id,
        "name": name,
        "sections": [
            {
                "id": section_id,
                "display_label": label,
                "sequence_number": n,
                "fields": [{"id": IDS.get(f, f), "api_name": f} for f in fields],
            }
            for n, (section_id, label, fields) in enumerate(sections, start=1)
        ],
    }


def updated(layout_id: str) -> Any:
    ok = {"status": "success", "code": "SUCCESS", "message": "layout updated"}
    return {"layouts": [{**ok, "details": {"id": layout_id}}]}


def adapter(sleeps: list[float], **layouts: Any) -> ZohoAdapter:
    return ZohoAdapter(connection(layouts=ZohoLayoutSettings(**layouts)), sleep=sleeps.append)


def sent(call: Any) -> Any:
    return json.loads(call.request.body)["layouts"][0]["sections"]


def test_new_section_then_the_rest_in_requests_of_five(
    rsps: responses.RequestsMock, token: Any, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": FIELDS})
    plain = layout(REVIEW, "Credit Review", [("1", "Account Information", ["Account_Name"])])
    rsps.get(LAYOUTS_URL, json={"layouts": [plain]}, match=[MODULE])  # the plan
    rsps.get(LAYOUTS_URL, json={"layouts": [plain]}, match=[MODULE])  # placing
    patch = rsps.patch(f"{LAYOUTS_URL}/{REVIEW}", json=updated(REVIEW), match=[MODULE])
    with_section = layout(
        REVIEW,
        "Credit Review",
        [("1", "Account Information", []), ("77", "Credit and qualification", ["Out_1"])],
    )
    rsps.get(f"{LAYOUTS_URL}/{REVIEW}", json={"layouts": [with_section]}, match=[MODULE])
    plan = adapter(sleeps).provision(SPECS)
    assert [s.field.api_name for s in plan.of(StepKind.PLACE_ON_LAYOUT)] == [
        s.api_name for s in SPECS
    ]
    first, second = (sent(c) for c in rsps.calls if c.request.method == "PATCH")
    assert first == [
        {
            "display_label": "Credit and qualification",
            "fields": [{"id": IDS[f"Out_{n}"]} for n in range(1, 6)],
        }
    ]
    assert second == [{"id": "77", "fields": [{"id": IDS["Out_6"]}, {"id": IDS["Out_7"]}]}]
    assert patch.call_count == 2


def test_fields_already_on_a_layout_stay_where_the_admin_put_them(
    rsps: responses.RequestsMock, token: Any, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": FIELDS})
    arranged = layout(
        STANDARD,
        "Standard",
        [
            ("1", "Account Information", ["Account_Name", "Out_3"]),
            ("2", "Credit and qualification", [s.api_name for s in SPECS if s.api_name != "Out_3"]),
        ],
    )
    rsps.get(LAYOUTS_URL, json={"layouts": [arranged]}, match=[MODULE])
    plan = adapter(sleeps).provision(SPECS)
    assert plan.of(StepKind.PLACE_ON_LAYOUT) == []  # and no PATCH was registered


def test_a_chinese_label_zoho_refuses_falls_back_to_the_english_one(
    rsps: responses.RequestsMock, token: Any, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": FIELDS})
    plain = layout(STANDARD, "Standard", [("1", "Account Information", [])])
    rsps.get(LAYOUTS_URL, json={"layouts": [plain]})
    rsps.get(LAYOUTS_URL, json={"layouts": [plain]})
    refused = error(
        "INVALID_DATA",
        "invalid data",
        api_name="display_label",
        json_path="$.layouts[0].sections[0].display_label",
    )
    rsps.patch(f"{LAYOUTS_URL}/{STANDARD}", status=400, json={"layouts": [refused]})
    rsps.patch(f"{LAYOUTS_URL}/{STANDARD}", json=updated(STANDARD))
    placed = layout(STANDARD, "Standard", [("9", "Credit and qualification", ["Out_1"])])
    rsps.get(f"{LAYOUTS_URL}/{STANDARD}", json={"layouts": [placed]})
    rsps.patch(f"{LAYOUTS_URL}/{STANDARD}", json=updated(STANDARD))
    ZohoAdapter(
        connection(chinese_labels="label", layouts=ZohoLayoutSettings()), sleep=sleeps.append
    ).provision(SPECS)
    labels = [sent(c)[0].get("display_label") for c in rsps.calls if c.request.method == "PATCH"]
    assert labels == ["信用与资质", "Credit and qualification", None]


def test_without_the_layouts_scope_the_plan_says_which_scope_places_them(
    rsps: responses.RequestsMock, token: Any, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": FIELDS})
    scope = error("OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
    rsps.get(LAYOUTS_URL, status=401, json=scope)
    plan = adapter(sleeps).plan_provision(SPECS)
    assert plan.of(StepKind.PLACE_ON_LAYOUT) == [] and not plan.conflicts
    (note,) = plan.notes
    assert "ZohoCRM.settings.layouts.READ" in note.en and "ZohoCRM.settings.layouts" in note.zh


def test_a_layout_named_in_the_config_that_does_not_exist_is_a_conflict(
    rsps: responses.RequestsMock, token: Any, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": FIELDS})
    rsps.get(LAYOUTS_URL, json={"layouts": [layout(STANDARD, "Standard", [])]})
    plan = adapter(sleeps, names=["Standard", "Sales Desk"]).plan_provision(SPECS)
    assert plan.conflicts == ["layouts.names: Accounts has no layout 'Sales Desk'"]


def test_a_layout_id_zoho_does_not_know_is_an_api_error_naming_the_layout(
    rsps: responses.RequestsMock, token: Any, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": FIELDS})
    gone = layout(STANDARD, "Standard", [("1", "Account Information", [])])
    rsps.get(LAYOUTS_URL, json={"layouts": [gone]})
    rsps.get(LAYOUTS_URL, json={"layouts": [gone]})
    unknown = error("INVALID_DATA", "invalid data", api_name="id", json_path="$.id")
    rsps.patch(f"{LAYOUTS_URL}/{STANDARD}", status=400, json={"layouts": [unknown]})
    with pytest.raises(ApiError, match=r"layout Standard: INVALID_DATA invalid data \$\.id"):
        adapter(sleeps).provision(SPECS)


def test_remove_deletes_only_crmqual_s_section(
    rsps: responses.RequestsMock, token: Any, sleeps: list[float]
) -> None:
    ours = layout(
        STANDARD,
        "Standard",
        [("1", "Account Information", []), ("9", "Credit and qualification", ["Out_1"])],
    )
    rsps.get(LAYOUTS_URL, json={"layouts": [ours, layout(REVIEW, "Credit Review", [])]})
    rsps.patch(f"{LAYOUTS_URL}/{STANDARD}", json=updated(STANDARD))
    removed = adapter(sleeps).unplace()
    assert [n.en for n in removed] == ["layout Standard: section “Credit and qualification”"]
    (patch,) = [c for c in rsps.calls if c.request.method == "PATCH"]
    assert sent(patch) == [{"id": "9", "_delete": {"permanent": True}}]
