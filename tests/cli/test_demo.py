"""`crmqual demo`: the README's main job, on the embedded Zoho sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crmqual.cli.main import main

pytestmark = pytest.mark.slow


def test_demo_syncs_twice_and_every_grade_shows(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--json", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    first, second = report["first"], report["second"]
    assert (first["status"], first["read"], first["written"], first["failed"]) == (
        "ok",
        2500,
        2500,
        0,
    )
    assert (second["status"], second["written"]) == ("ok", 0)
    for key in ("run_id", "assessed", "changed", "warnings", "api_calls", "duration_s"):
        assert key in first
    assert set(report["grades"]) == set("ABCDE")
    assert all(n > 0 for n in report["grades"].values()), report["grades"]
    assert sum(report["grades"].values()) == 2500
    assert (tmp_path / "state.sqlite").exists()
    # Issue 21: the demo ends by writing the portfolio report; its path is a key of the object.
    assert report["report"] == str(tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('<svg class="plot"') == 8 and "Credit portfolio report" in page


def test_demo_shows_reasons_in_chinese(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--accounts", "300", "--lang", "zh", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.stderr
    assert "销售人员现在在客户上看到的评级" in result.stdout
    assert "Grades salespeople now see" not in result.stdout
    riskiest = result.stdout.split("风险最高的客户")[1]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in riskiest)  # Chinese reason texts
    assert result.stdout.rstrip().endswith(f"组合报告：{tmp_path / 'report.html'}")
    assert "信用组合报告" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_demo_reports_bad_values_when_asked(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--json", "--accounts", "400", "--bad-rate", "0.1", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.stderr
    first = json.loads(result.stdout)["first"]
    # Issue 13: a malformed value no longer fails its account; it is read where it can be
    # (3,389,000, 2409.5万, CNY 3389000) and otherwise left missing, counted per field.
    assert first["failed"] == 0
    assert first["assessed"] == 400
    assert sum(first["unreadable"].values()) > 0
    assert set(first["unreadable"]) <= {"Registered_Capital", "Founding_Date"}


def test_demo_dir_with_an_earlier_demo_is_refused_unless_fresh(tmp_path: Path) -> None:
    """Issue 14: a second demo in the same --dir seeded on top of the first (1,800 of 100
    accounts read, exit 1). It is refused, naming --fresh; --fresh starts clean."""
    args = ["demo", "--json", "--accounts", "100", "--dir", str(tmp_path)]
    assert CliRunner().invoke(main, args).exit_code == 0
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2
    assert "earlier demo" in again.stderr and "--fresh" in again.stderr
    assert again.stdout == ""
    fresh = CliRunner().invoke(main, [*args, "--fresh"])
    assert fresh.exit_code == 0, fresh.stderr
    report = json.loads(fresh.stdout)
    assert (report["first"]["read"], report["first"]["written"]) == (100, 100)
    assert report["second"]["written"] == 0
    assert sum(report["grades"].values()) == 100  # every account graded, none twice
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"  # only its own files


def test_demo_of_a_crm_without_an_installed_adapter_says_which_to_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CRM whose adapter is not installed (a sandbox dialect alone) is refused before
    anything is seeded, naming the CRMs that can be demonstrated."""
    monkeypatch.setattr("crmqual.registry.names", lambda: ["file", "memory", "zoho"])
    result = CliRunner().invoke(main, ["demo", "--crm", "salesforce", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no salesforce adapter" in result.stderr and "--crm zoho" in result.stderr
    assert not (tmp_path / "sandbox.sqlite").exists()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_demo_of_a_crm_whose_extra_is_not_installed_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    """The adapter is installed but a module it needs comes with an extra that is not
    (simple-salesforce without ``crmqual[salesforce]``): refused before anything is
    seeded, with the pip line, instead of a traceback."""
    from dataclasses import replace

    from crmqual import registry

    plugin = replace(registry.plugin("salesforce"), requires=("crmqual_no_such_module",))
    monkeypatch.setattr(registry, "plugin", lambda crm, source="crmqual.yaml": plugin)
    args = ["demo", "--crm", "salesforce", "--dir", str(tmp_path), "--lang", lang]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "crmqual_no_such_module" in result.stderr
    assert "pip install '.[sandbox,salesforce]'" in result.stderr
    assert ("然后重新运行演示" in result.stderr) == (lang == "zh")
    assert "Traceback" not in result.output
    assert not (tmp_path / "sandbox.sqlite").exists()
